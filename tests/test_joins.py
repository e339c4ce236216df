"""Joins between sources (``joins:`` / ``entities:`` on a source): numbers against independent
computations (DuckDB SQL over the same files, plain Python), properties, and every refusal with its place."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.engine.run import evaluate, explain
from metricspec.errors import MetricSpecError
from metricspec.loader import load_spec
from metricspec.render.explain import explain_text
from metricspec.sources import open_checked

ROOT = Path(__file__).parent.parent
DATA = ROOT / "specs" / "examples" / "data"
AS_OF = dt.date(2026, 11, 1)

CUSTOMERS = [("c1", "social", "gold"), ("c2", "search", "silver"), ("c3", "social", "silver"),
             ("c4", "email", "gold")]
ORDERS = [("o1", "c1", "2026-01-03", 10.5), ("o2", "c2", "2026-01-05", 20.0), ("o3", "c1", "2026-01-20", 5.0),
          ("o4", "c3", "2026-02-02", 7.25), ("o5", "c9", "2026-02-10", 100.0), ("o6", "c4", "2026-02-11", 3.0),
          ("o7", None, "2026-02-12", 1.0)]

SPEC = """\
name: joins
timezone: UTC
sources:
  customers: {connector: csv, options: {path: customers.csv}, entities: {customer: customer_id}}
  orders:
    connector: csv
    options: {path: orders.csv}
    time_column: ordered_at
    columns: {ordered_at: date}
    joins:
      - {source: customers, on: customer_id}
kpis:
  revenue: {source: orders, agg: sum, column: amount, segments: [channel]}
  gold_orders: {source: orders, agg: count, filter: "tier == 'gold'"}
  social_revenue: {source: orders, agg: sum, column: amount, scope: {channel: social}}
  unmatched: {source: orders, agg: count, filter: is_null(tier)}
"""


def write(folder: Path, spec: str = SPEC, customers: list[tuple[object, ...]] | None = None,
          orders: list[tuple[object, ...]] | None = None,
          customer_header: str = "customer_id,channel,tier") -> Path:
    rows = CUSTOMERS if customers is None else customers
    (folder / "customers.csv").write_text(
        customer_header + "\n" + "".join(",".join("" if v is None else str(v) for v in r) + "\n" for r in rows))
    (folder / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\n" + "".join(
        ",".join("" if v is None else str(v) for v in r) + "\n" for r in (ORDERS if orders is None else orders)))
    path = folder / "spec.yaml"
    path.write_text(textwrap.dedent(spec))
    return path


def series(results: object, kpi: str) -> dict[tuple[str | None, str], float | None]:
    """(segment value or None for the headline, period) -> value."""
    out = {}
    for s in results.kpi(kpi).series:  # type: ignore[attr-defined]
        if s.kind == "benchmark":
            continue
        for p in s.points:
            out[(s.segment_value, str(p.period))] = p.value
    return out


def errors_of(path: Path) -> list[str]:
    with pytest.raises(MetricSpecError) as info:
        evaluate(load_spec(path), as_of=dt.date(2026, 3, 1))
    return [i.format() for i in info.value.issues()]


# ---------------------------------------------------------------- numbers


def test_joined_columns_segment_filter_and_scope_against_plain_python(tmp_path: Path) -> None:
    res = evaluate(load_spec(write(tmp_path)), as_of=dt.date(2026, 3, 1))
    channel = {c: ch for c, ch, _ in CUSTOMERS}
    tier = {c: t for c, _, t in CUSTOMERS}
    want: dict[tuple[str | None, str], float] = defaultdict(float)
    gold: dict[str, int] = defaultdict(int)
    social: dict[str, float] = defaultdict(float)
    unmatched: dict[str, int] = defaultdict(int)
    for _o, cust, day, amount in ORDERS:
        month = day[:8] + "01"
        want[(None, month)] += amount
        if cust in channel:
            want[(channel[cust], month)] += amount
        gold[month] += tier.get(cust) == "gold"  # type: ignore[arg-type]
        social[month] += amount if channel.get(cust) == "social" else 0.0  # type: ignore[arg-type]
        unmatched[month] += cust not in tier
    got = series(res, "revenue")
    for key, value in want.items():
        assert got[key] == pytest.approx(value), key
    # an unmatched order (c9, or no customer) is in the total but in no channel
    assert {k[0] for k in got} == {None, "social", "search", "email"}
    assert series(res, "gold_orders") == {(None, m): float(n) for m, n in gold.items()}
    assert series(res, "social_revenue") == {(None, m): pytest.approx(v) for m, v in social.items()}
    assert series(res, "unmatched") == {(None, "2026-01-01"): 0.0, (None, "2026-02-01"): 2.0}


EXAMPLE_SPEC = """\
name: orders-by-channel
timezone: UTC
grains: [month]
sources:
  customers:
    connector: csv
    options: {path: DATA/customers.csv}
    columns: {exposed_to_social: bool}
    entities: {customer: customer_id}
  orders:
    connector: csv
    options: {path: DATA/orders.csv}
    time_column: ordered_at
    columns: {ordered_at: datetime}
    timezone: UTC
    joins:
      - {source: customers, on: customer_id, columns: [acquisition_channel, exposed_to_social], prefix: customer_}
kpis:
  revenue: {source: orders, agg: sum, column: amount, segments: [customer_acquisition_channel]}
  exposed_orders: {source: orders, agg: count, filter: customer_exposed_to_social, segments: [customer_acquisition_channel]}
"""


def test_example_data_against_duckdb_sql(tmp_path: Path) -> None:
    """Orders by the customer's acquisition channel on the example data, against the same join in DuckDB."""
    import duckdb

    path = tmp_path / "spec.yaml"
    path.write_text(EXAMPLE_SPEC.replace("DATA", str(DATA)))
    from metricspec.trust import Confinement

    res = evaluate(load_spec(path, Confinement(allow_outside=True)), as_of=AS_OF)
    rows = duckdb.sql(f"""
        SELECT date_trunc('month', o.ordered_at)::DATE AS month, c.acquisition_channel AS ch,
               sum(o.amount) AS revenue, count(*) FILTER (WHERE c.exposed_to_social) AS exposed
        FROM read_csv('{DATA}/orders.csv') o LEFT JOIN read_csv('{DATA}/customers.csv') c USING (customer_id)
        WHERE o.ordered_at::DATE <= DATE '{AS_OF}'
        GROUP BY ALL""").fetchall()
    revenue, exposed = series(res, "revenue"), series(res, "exposed_orders")
    assert len(rows) > 50
    for month, ch, rev, n in rows:
        assert revenue[(ch, str(month))] == pytest.approx(rev, rel=1e-12), (ch, month)
        assert exposed[(ch, str(month))] == n, (ch, month)
    channels = {ch for _m, ch, _r, _n in rows}
    assert {k[0] for k in revenue} - {None} == channels


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tiers=st.dictionaries(st.integers(1, 30), st.sampled_from(["gold", "silver", "bronze"]), min_size=1, max_size=12),
    orders=st.lists(st.tuples(st.integers(1, 40), st.integers(1, 28), st.integers(0, 1000)), min_size=1,
                    max_size=40),
)
def test_property_join_is_a_lookup_that_keeps_every_row(tmp_path_factory: pytest.TempPathFactory,
                                                        tiers: dict[int, str],
                                                        orders: list[tuple[int, int, int]]) -> None:
    """Per tier, the sum equals a dictionary lookup's; the tiers' sums plus the unmatched rows' equal the
    total (a many-to-one join neither drops nor repeats a row)."""
    folder = tmp_path_factory.mktemp("prop")
    spec = """\
        name: prop
        sources:
          accounts:
            connector: csv
            options: {path: customers.csv}
            columns: {customer_id: int}
            entities: {account: customer_id}
          orders:
            connector: csv
            options: {path: orders.csv}
            time_column: ordered_at
            columns: {ordered_at: date, customer_id: int}
            joins: [{source: accounts, on: customer_id}]
        kpis:
          amount: {source: orders, agg: sum, column: amount, segments: [tier]}
          rows: {source: orders, agg: count}
        """
    rows = [(f"o{i}", cust, f"2026-01-{day:02d}", amount) for i, (cust, day, amount) in enumerate(orders)]
    path = write(folder, spec, customers=[(k, "x", t) for k, t in sorted(tiers.items())], orders=rows,
                 customer_header="customer_id,channel,tier")
    res = evaluate(load_spec(path), as_of=dt.date(2026, 2, 1))
    got = series(res, "amount")
    want: dict[str, float] = defaultdict(float)
    for _o, cust, _d, amount in rows:
        if cust in tiers:
            want[tiers[cust]] += amount
    total = sum(a for *_x, a in rows)
    for t, v in want.items():
        assert got[(t, "2026-01-01")] == v
    if rows:
        assert got[(None, "2026-01-01")] == total
        assert series(res, "rows")[(None, "2026-01-01")] == len(rows)
        unmatched = sum(a for _o, c, _d, a in rows if c not in tiers)
        assert sum(v for (seg, _p), v in got.items() if seg is not None and v) + unmatched == total


def test_chained_joins_and_integer_keys_of_different_widths(tmp_path: Path) -> None:
    """orders -> customers -> regions; customers' key read as int, orders' as float-free int64."""
    (tmp_path / "regions.csv").write_text("region_id,region\n1,north\n2,south\n")
    spec = """\
        name: chain
        sources:
          regions: {connector: csv, options: {path: regions.csv}, columns: {region_id: int}, entities: {region: region_id}}
          customers:
            connector: csv
            options: {path: customers.csv}
            joins: [{source: regions, on: region_id}]
          orders:
            connector: csv
            options: {path: orders.csv}
            time_column: ordered_at
            columns: {ordered_at: date}
            joins: [{source: customers, on: customer_id, columns: [region]}]
        kpis:
          revenue: {source: orders, agg: sum, column: amount, segments: [region]}
        """
    customers = [("c1", 1), ("c2", 2), ("c3", 1), ("c4", 3)]
    path = write(tmp_path, spec, customers=customers, customer_header="customer_id,region_id")
    got = series(evaluate(load_spec(path), as_of=dt.date(2026, 3, 1)), "revenue")
    assert got[("north", "2026-01-01")] == 15.5 and got[("south", "2026-01-01")] == 20.0
    assert got[("north", "2026-02-01")] == 7.25 and ("south", "2026-02-01") in got
    opened = open_checked(load_spec(path))
    assert not opened.issues
    # the column read through two joins is required of the source that has it
    assert opened.needed["regions"] == ["region"] and "region" in opened.needed["orders"]


def test_results_are_byte_identical_across_runs(tmp_path: Path) -> None:
    path = write(tmp_path)
    one = evaluate(load_spec(path), as_of=dt.date(2026, 3, 1)).to_json()
    two = evaluate(load_spec(path), as_of=dt.date(2026, 3, 1)).to_json()
    assert one == two


def test_explain_shows_the_join(tmp_path: Path) -> None:
    path = write(tmp_path)
    plan = explain(load_spec(path), as_of=dt.date(2026, 3, 1))
    joins = [q["joins"] for q in plan if q["source"] == "orders"]
    assert joins and all(j == [{"source": "orders", "joined": "customers", "on": "customer_id",
                                "key": "customer_id", "how": "left, many-to-one",
                                "columns": {"channel": "channel", "tier": "tier"}, "runs_in": "polars"}]
                         for j in joins)
    text = explain_text([{"spec": "spec.yaml", "queries": plan}])
    assert ("join: customers on orders.customer_id = customers.customer_id (left, many-to-one; in polars): "
            "channel, tier") in text


def test_requirements_follow_the_join(tmp_path: Path) -> None:
    opened = open_checked(load_spec(write(tmp_path)))
    assert not opened.issues
    assert {"channel", "tier"} <= set(opened.needed["customers"])
    assert {"amount", "channel", "tier"} <= set(opened.needed["orders"])  # read through the join, from orders
    assert "amount" not in opened.needed["customers"]  # a column of orders is not asked of customers
    assert set(opened.columns_read(load_spec(write(tmp_path)), "customers")) >= {"channel", "tier"}


# ---------------------------------------------------------------- refusals


def test_fan_out_is_refused_at_run_time_and_by_validate_data(tmp_path: Path) -> None:
    from metricspec.cli.datacheck import check_data

    customers = [*CUSTOMERS, ("c3", "email", "gold"), ("c4", "email", "gold"), ("c4", "email", "gold")]
    path = write(tmp_path, customers=customers)
    errs = errors_of(path)
    assert len(errs) == 1, errs
    assert "spec.yaml:11:9" in errs[0]
    assert "source 'customers' has more than one row per 'customer_id' (e.g. 'c3' appears 2 times; " \
           "2 key values repeat)" in errs[0]
    assert "deduplicate 'customers'" in errs[0]
    issues = [i.format() for i in check_data(load_spec(path))]
    assert any("more than one row per 'customer_id'" in i and "spec.yaml:11:9" in i for i in issues), issues


def test_null_keys_on_the_right_are_not_fan_out(tmp_path: Path) -> None:
    path = write(tmp_path, customers=[*CUSTOMERS, (None, "x", "gold"), (None, "y", "gold")])
    assert series(evaluate(load_spec(path), as_of=dt.date(2026, 3, 1)), "unmatched")[(None, "2026-02-01")] == 2


def test_column_clash_is_refused_with_the_fix_and_prefix_resolves_it(tmp_path: Path) -> None:
    clash = SPEC.replace("customer_id,channel,tier", "")
    path = write(tmp_path, clash, customer_header="customer_id,channel,tier,amount",
                 customers=[(*c, 1) for c in CUSTOMERS])
    errs = errors_of(path)
    assert len(errs) == 1 and "spec.yaml:11:9" in errs[0], errs
    assert "source 'orders' and the source it joins, 'customers', both have a column 'amount'" in errs[0]
    assert "add `prefix: customers_` to the join" in errs[0] and "`columns: [...]`" in errs[0]
    fixed = SPEC.replace("{source: customers, on: customer_id}", "{source: customers, on: customer_id, prefix: c_}")
    fixed = fixed.replace("segments: [channel]", "segments: [c_channel]").replace("tier ==", "c_tier ==")
    fixed = fixed.replace("{channel: social}", "{c_channel: social}").replace("is_null(tier)", "is_null(c_tier)")
    path = write(tmp_path, fixed, customer_header="customer_id,channel,tier,amount",
                 customers=[(*c, 1) for c in CUSTOMERS])
    got = series(evaluate(load_spec(path), as_of=dt.date(2026, 3, 1)), "revenue")
    assert got[(None, "2026-01-01")] == 35.5 and got[("social", "2026-01-01")] == 15.5  # orders' own amount


def test_unknown_columns_and_keys_are_refused_with_their_place(tmp_path: Path) -> None:
    spec = SPEC.replace("{source: customers, on: customer_id}",
                        "{source: customers, on: customer_id, columns: [chanel, tier]}")
    errs = errors_of(write(tmp_path, spec))
    assert any("spec.yaml:11:56" in e and "source 'customers' (joined by 'orders') has no column 'chanel' "
               "(did you mean 'channel'?)" in e for e in errs), errs
    spec = SPEC.replace("on: customer_id}", "on: cust}")
    errs = errors_of(write(tmp_path, spec))
    assert any("spec.yaml:11:33" in e and "source 'orders' has no column 'cust' to join 'customers' on" in e
               for e in errs), errs
    spec = SPEC.replace("entities: {customer: customer_id}", "entities: {customer: id}")
    errs = errors_of(write(tmp_path, spec))
    assert any("source 'customers' (joined by 'orders') has no key column 'id'" in e for e in errs), errs


def test_column_read_through_no_join_names_the_source(tmp_path: Path) -> None:
    errs = errors_of(write(tmp_path, SPEC.replace("segments: [channel]", "segments: [chanel]")))
    assert any("source 'orders' has no column 'chanel' (did you mean 'channel'?)" in e for e in errs), errs


def test_key_types_must_match(tmp_path: Path) -> None:
    spec = SPEC.replace("entities: {customer: customer_id}", "entities: {customer: customer_id}, "
                        "columns: {customer_id: int}")
    path = write(tmp_path, spec, customers=[(1, "social", "gold")])
    errs = errors_of(path)
    assert any("joins 'customers' on customer_id = customer_id, but they have different types (str and int)"
               in e and "columns: {customer_id: int} on 'orders'" in e for e in errs), errs


JOIN_A = "  a: {connector: csv, options: {path: orders.csv}, time_column: ordered_at, joins: [{source: %s, on: x}]}"


@pytest.mark.parametrize(("sources_yaml", "message", "marker"), [
    (JOIN_A % "b" + "\n  b: {connector: csv, options: {path: customers.csv}, joins: [{source: a, on: x}]}",
     "sources join each other in a cycle: a -> b -> a", "b, on"),
    (JOIN_A % "customer" + "\n  customers: {connector: csv, options: {path: customers.csv}}",
     "source 'a' joins unknown source 'customer' (did you mean 'customers'?)", "customer, on"),
    (JOIN_A % "a", "source 'a' joins itself", "a, on"),
    (JOIN_A % "b" + "\n  b: {connector: csv, options: {path: customers.csv}, entities: {c: customer_id, t: tier}}",
     "source 'b' has several entities (c (customer_id), t (tier)): which one does 'a' join on?", "{source"),
])
def test_spec_errors_have_file_line_and_hint(tmp_path: Path, sources_yaml: str, message: str, marker: str) -> None:
    write(tmp_path)
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\nsources:\n{sources_yaml}\nkpis:\n  n: {{source: a, agg: count}}\n")
    line = sources_yaml.splitlines()[0]
    place = f"bad.yaml:3:{line.index(marker) + 1}:"
    with pytest.raises(MetricSpecError) as info:
        load_spec(path)
    found = [i.format() for i in info.value.issues()]
    assert any(message in f and place in f and " — " in f for f in found), found


def test_bad_join_keys_are_schema_errors(tmp_path: Path) -> None:
    write(tmp_path)
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nsources:\n  a: {connector: csv, options: {path: orders.csv}, time_column: ordered_at,"
                    " joins: [{source: b, on: x, how: inner}]}\nkpis:\n  n: {source: a, agg: count}\n")
    with pytest.raises(MetricSpecError) as info:
        load_spec(path)
    assert any("how" in i.format() and "bad.yaml:3:" in i.format() for i in info.value.issues())


def test_results_json_names_both_sources(tmp_path: Path) -> None:
    res = json.loads(evaluate(load_spec(write(tmp_path)), as_of=dt.date(2026, 3, 1)).to_json())
    assert [s["name"] for s in res["sources"]] == ["customers", "orders"]
    assert [s["rows"] for s in res["sources"]] == [4, 7]


def test_a_changed_join_redefines_the_kpis_of_the_source(tmp_path: Path) -> None:
    """The CI gate: a KPI whose source's join (or joined source) changes is not comparable with its history;
    a source without joins keeps its fingerprint."""
    from metricspec.check.specdiff import compare_specs, kpi_definition

    old = load_spec(write(tmp_path)).spec
    assert "joins" not in kpi_definition(load_spec(write(tmp_path, SPEC.replace(
        "    joins:\n      - {source: customers, on: customer_id}\n", ""))).spec, "revenue")["source_definition"]
    for change in ("{source: customers, on: customer_id, columns: [channel, tier]}",
                   "{source: customers, on: customer_id, key: customer_id, prefix: c_}"):
        new = load_spec(write(tmp_path, SPEC.replace("{source: customers, on: customer_id}", change).replace(
            "segments: [channel]", "segments: [c_channel]" if "prefix" in change else "segments: [channel]"))).spec
        found = [(f.rule, f.subject) for f in compare_specs(old, new)]
        if "prefix" in change:
            assert ("kpi_redefined", "kpi gold_orders") in found, found
        else:
            assert ("kpi_redefined", "kpi revenue") in found, found
    moved = load_spec(write(tmp_path, SPEC.replace("path: customers.csv", "path: other.csv"))).spec
    assert ("kpi_redefined", "kpi revenue") in [(f.rule, f.subject) for f in compare_specs(old, moved)]
    assert compare_specs(old, load_spec(write(tmp_path)).spec) == []


def test_a_wrong_type_through_the_join_is_reported_once(tmp_path: Path) -> None:
    errs = errors_of(write(tmp_path, SPEC.replace("agg: sum, column: amount, segments: [channel]",
                                                  "agg: sum, column: tier, segments: [channel]")))
    assert len(errs) == 1 and "'tier'" in errs[0] and "numeric" in errs[0], errs


def test_an_unreadable_joined_source_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path)
    (tmp_path / "customers.csv").write_bytes(b"customer_id,channel,tier\nc1,social,gold\nc2,\"x\n")
    errs = errors_of(path)
    assert errs and all("spec.yaml:" in e and " — " in e for e in errs), errs
