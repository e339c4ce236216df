"""Joins between sources give byte-identical Results on polars, DuckDB and PostgreSQL.

With both sources in one database (the harness of tests/backend_support.py loads every source into
the same connection) the join is a ``LEFT JOIN`` pushed down with each query; with the sources in
different places the joined side is fetched and either joined in polars (left side in polars) or
sent to the left side's database as a temporary table. Every arrangement must give the polars Results.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import textwrap
from pathlib import Path
from typing import Any

import pluggy
import polars as pl
import pytest
from backend_support import database_plugin_manager
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.engine.run import evaluate, explain
from metricspec.loader import load_spec
from metricspec.trust import Confinement

# a skip, not an import: importing them at collection costs seconds (docs/contributing.md)
pytestmark = pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ('ibis', 'duckdb')),
                                reason="needs ibis, duckdb: pip install -e '.[test]'")

ROOT = Path(__file__).parent.parent
DATA = ROOT / "specs" / "examples" / "data"
AS_OF = dt.date(2026, 11, 1)

EXAMPLE = """\
name: joins-differential
timezone: Europe/Madrid
grains: [month, week]
sources:
  customers:
    connector: csv
    options: {path: DATA/customers.csv}
    columns: {signup_date: date, exposed_to_social: bool}
    entities: {customer: customer_id}
  leads:
    connector: csv
    options: {path: DATA/leads.csv}
    time_column: created_at
    columns: {created_at: datetime, converted_at: datetime}
    timezone: UTC
  orders:
    connector: csv
    options: {path: DATA/orders.csv}
    time_column: ordered_at
    columns: {ordered_at: datetime, is_cross_sell: bool}
    timezone: UTC
    joins:
      - {source: customers, on: customer_id, columns: [acquisition_channel, exposed_to_social, acquisition_cost],
         prefix: customer_}
kpis:
  revenue: {source: orders, agg: sum, column: amount, segments: [customer_acquisition_channel]}
  exposed_orders: {source: orders, agg: count, filter: customer_exposed_to_social,
                   segments: [customer_acquisition_channel]}
  email_buyers: {source: orders, agg: count_distinct, column: customer_id,
                 scope: {customer_acquisition_channel: email}}
  median_order: {source: orders, agg: median, column: amount, segments: [customer_acquisition_channel]}
  cac_of_orders: {source: orders, agg: mean, column: customer_acquisition_cost}
  revenue_per_exposed: {ratio: {numerator: revenue, denominator: exposed_orders},
                        segments: [customer_acquisition_channel]}
  lead_to_exposed_order:
    funnel:
      window_days: 60
      steps:
        - {name: lead, source: leads, key: customer_id, filter: is_not_null(customer_id)}
        - {name: order, source: orders, key: customer_id, filter: customer_exposed_to_social}
"""


def example(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(EXAMPLE.replace("DATA", str(DATA)))
    return path


def results(path: Path, pm: pluggy.PluginManager | None = None) -> str:
    return evaluate(load_spec(path, Confinement(allow_outside=True)), as_of=AS_OF, plugin_manager=pm).to_json()


@pytest.mark.parametrize("placement", ["both", "orders", "customers"])
def test_example_joins_equal_polars_in_every_database(tmp_path: Path, database_loaders: dict[str, Any],
                                                      placement: str) -> None:
    path = example(tmp_path)
    expected = results(path)
    assert '"segment_value": "email"' in expected
    assert len(database_loaders) == 2 or placement != "both", "PostgreSQL is not available"
    for name, loader in database_loaders.items():
        pm = database_plugin_manager(loader, None if placement == "both" else {placement, "leads"})
        got = results(path, pm)
        assert got == expected, f"{name} ({placement} in the database) differs from polars"


def test_the_join_is_pushed_down_into_the_database(tmp_path: Path, database_loaders: dict[str, Any]) -> None:
    path = example(tmp_path)
    for name, loader in database_loaders.items():
        plan = explain(load_spec(path, Confinement(allow_outside=True)), as_of=AS_OF,
                       plugin_manager=database_plugin_manager(loader))
        orders = [q for q in plan if q["source"] == "orders"]
        assert orders
        for q in orders:
            assert q["runs_in"] == name
            assert "LEFT OUTER JOIN" in str(q["sql"]) and "GROUP BY" in str(q["sql"])
            assert q["joins"][0]["runs_in"] == f"{name} (LEFT JOIN)"  # type: ignore[index]
    plan = explain(load_spec(path, Confinement(allow_outside=True)), as_of=AS_OF,
                   plugin_manager=database_plugin_manager(database_loaders["duckdb"], {"orders"}))
    q = next(q for q in plan if q["source"] == "orders")
    assert "temporary table" in q["joins"][0]["runs_in"]  # type: ignore[index]
    assert "LEFT OUTER JOIN" in str(q["sql"])


def test_fan_out_is_refused_in_the_database_too(tmp_path: Path, database_loaders: dict[str, Any]) -> None:
    from metricspec.errors import MetricSpecError

    (tmp_path / "customers.csv").write_text("customer_id,tier\nc1,gold\nc2,silver\nc2,gold\n")
    (tmp_path / "orders.csv").write_text("customer_id,at,amount\nc1,2026-01-01,1\nc2,2026-01-02,2\n")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""\
        name: fan
        sources:
          customers: {connector: csv, options: {path: customers.csv}}
          orders:
            connector: csv
            options: {path: orders.csv}
            time_column: at
            columns: {at: date}
            joins: [{source: customers, on: customer_id}]
        kpis:
          gold: {source: orders, agg: sum, column: amount, filter: "tier == 'gold'"}
        """))
    for placement in ("both", "customers"):
        for name, loader in database_loaders.items():
            pm = database_plugin_manager(loader, None if placement == "both" else {"customers"})
            with pytest.raises(MetricSpecError) as info:
                evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 2, 1), plugin_manager=pm)
            text = "\n".join(i.format() for i in info.value.issues())
            assert "s.yaml:9:13" in text, (name, text)
            assert "source 'customers' has more than one row per 'customer_id' (e.g. 'c2' appears 2 times)" in text


keys = st.one_of(st.none(), st.integers(1, 12))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    accounts=st.dictionaries(st.integers(1, 10), st.tuples(st.sampled_from(["gold", "silver", None]),
                                                           st.one_of(st.none(), st.integers(0, 5))), max_size=8),
    posts=st.lists(st.tuples(keys, st.integers(0, 47), st.one_of(st.none(), st.integers(0, 99))), max_size=30),
)
def test_random_joins_agree_on_every_backend(tmp_path_factory: pytest.TempPathFactory, database_loaders: dict[str, Any],
                                             accounts: dict[int, tuple[str | None, int | None]],
                                             posts: list[tuple[int | None, int, int | None]]) -> None:
    """Posts by the account's tier: nulls on both sides, unmatched keys, a numeric joined column."""
    d = tmp_path_factory.mktemp("joins")
    pl.DataFrame({"account_id": list(accounts), "tier": [a[0] for a in accounts.values()],
                  "staff": [a[1] for a in accounts.values()],
                  "since": [dt.datetime(2026, 3, 1, 5) + dt.timedelta(hours=29 * k) for k in accounts]},
                 schema={"account_id": pl.Int32, "tier": pl.String, "staff": pl.Int64, "since": pl.Datetime("us")},
                 ).write_parquet(d / "a.parquet")
    pl.DataFrame({"account_id": [p[0] for p in posts],
                  "at": [dt.datetime(2026, 3, 1) + dt.timedelta(hours=7 * p[1]) for p in posts],
                  "likes": [p[2] for p in posts]},
                 schema={"account_id": pl.Int64, "at": pl.Datetime("us"), "likes": pl.Int64},
                 ).write_parquet(d / "p.parquet")
    (d / "s.yaml").write_text(textwrap.dedent("""\
        name: random-joins
        timezone: Europe/Warsaw
        grains: [day, week]
        sources:
          accounts: {connector: parquet, options: {path: a.parquet}, entities: {account: account_id}}
          posts:
            connector: parquet
            options: {path: p.parquet}
            time_column: at
            joins: [{source: accounts, on: account_id}]
        kpis:
          likes: {source: posts, agg: sum, column: likes, segments: [tier]}
          gold_posts: {source: posts, agg: count, scope: {tier: gold}}
          untiered: {source: posts, agg: count, filter: is_null(tier)}
          staff_likes: {source: posts, agg: sum, expression: likes * staff}
          accounts_posting: {source: posts, agg: count_distinct, column: account_id, segments: [tier]}
          since_joined: {source: posts, agg: count, filter: at >= since}
        """))
    as_of = dt.date(2026, 3, 20)
    expected = evaluate(load_spec(d / "s.yaml"), as_of=as_of).to_json()
    assert '"name": "since_joined"' in expected
    for name, loader in database_loaders.items():
        for pm in (database_plugin_manager(loader), database_plugin_manager(loader, {"posts"})):
            got = evaluate(load_spec(d / "s.yaml"), as_of=as_of, plugin_manager=pm).to_json()
            assert got == expected, f"{name} differs from polars"


def test_engine_duckdb_files_join_across_two_connections(tmp_path: Path) -> None:
    """`engine: duckdb` gives each file its own DuckDB: the joined file's key and columns are read from its
    connection (cast checks included) and sent to the other as a temporary table; same Results as polars."""
    path = example(tmp_path)
    expected = results(path)
    text = path.read_text().replace("    connector: csv\n", "    connector: csv\n    engine: duckdb\n")
    assert text.count("engine: duckdb") == 3
    path.write_text(text)
    assert results(path) == expected
    plan = explain(load_spec(path, Confinement(allow_outside=True)), as_of=AS_OF)
    q = next(q for q in plan if q["source"] == "orders")
    assert q["runs_in"] == "duckdb" and "temporary table" in q["joins"][0]["runs_in"]  # type: ignore[index]


def test_a_bad_value_of_a_joined_column_is_reported_by_the_database(tmp_path: Path,
                                                                    database_loaders: dict[str, Any]) -> None:
    """A value that does not convert to the declared type of a column read through the join is an error
    (never a silent null), in the database as on polars."""
    from metricspec.errors import MetricSpecError

    (tmp_path / "customers.csv").write_text("customer_id,rank\nc1,1\nc2,two\n")
    (tmp_path / "orders.csv").write_text("customer_id,at\nc1,2026-01-01\nc2,2026-01-02\n")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""\
        name: casts
        sources:
          customers: {connector: csv, options: {path: customers.csv}, columns: {rank: int}}
          orders:
            connector: csv
            options: {path: orders.csv}
            time_column: at
            columns: {at: date}
            joins: [{source: customers, on: customer_id}]
        kpis:
          ranks: {source: orders, agg: sum, column: rank}
        """))
    messages = []
    for name, pm in [("polars", None), *((n, database_plugin_manager(lo)) for n, lo in database_loaders.items())]:
        with pytest.raises(MetricSpecError) as info:
            evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 2, 1), plugin_manager=pm)
        text = "\n".join(i.format() for i in info.value.issues())
        assert "source 'customers'" in text and "two" in text and "s.yaml:3:" in text, (name, text)
        if name != "postgres":  # PostgreSQL's own cast error names the value, not the column (as without joins)
            assert "column 'rank'" in text and "not int" in text, (name, text)
        messages.append(text)
    assert len(messages) == len(database_loaders) + 1
