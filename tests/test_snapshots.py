"""Semi-additive snapshots: ``agg: last``/``first`` per entity, summed over the entities (``per:``).

* reference computations: plain Python (each entity's last row in the period, summed) and a DuckDB
  window query (``ROW_NUMBER() OVER (PARTITION BY period, entity ORDER BY time DESC)``) on data where
  entities skip days;
* every backend: polars, DuckDB and PostgreSQL give byte-identical Results (fixed data and hypothesis);
* hypothesis: the semi-additive sum equals the sum of each entity's own last value, and is at most the
  sum of all rows for non-negative data;
* ambiguity: an unscoped ``last`` whose latest rows disagree is refused on every backend, with the KPI's
  file:line and the fix (``per:`` or ``scope:``); a bad ``per:`` is a spec error with its line.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import textwrap
from pathlib import Path

import duckdb
import pluggy
import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.cli import main
from metricspec.engine.run import evaluate
from metricspec.errors import DataError, SpecError
from metricspec.loader import load_spec

# a skip, not an import: importing them at collection costs seconds (docs/contributing.md)
pytestmark = pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ('ibis',)),
                                reason="needs ibis: pip install -e '.[test]'")

AS_OF = dt.date(2026, 3, 31)

SPEC = """\
name: snapshots
grains: [week, month]
sources:
  followers: {connector: parquet, options: {path: followers.parquet}, time_column: at}
kpis:
  audience:
    source: followers
    agg: last
    column: followers
    per: account
    unit: count
  audience_by_network:
    source: followers
    agg: last
    column: followers
    per: account
    segments: [network]
  opening_audience:
    source: followers
    agg: first
    column: followers
    per: [account]
  brand_followers:
    source: followers
    agg: last
    column: followers
    scope: {account: brand}
  big_accounts:
    source: followers
    agg: last
    column: followers
    per: account
    filter: followers >= 100
"""


def write(d: Path, rows: list[tuple[str, str, dt.datetime, int | None]], spec: str = SPEC) -> Path:
    pl.DataFrame({"account": [r[0] for r in rows], "network": [r[1] for r in rows], "at": [r[2] for r in rows],
                  "followers": [r[3] for r in rows]},
                 schema={"account": pl.String, "network": pl.String, "at": pl.Datetime("us"),
                         "followers": pl.Int64}).write_parquet(d / "followers.parquet")
    (d / "s.yaml").write_text(spec)
    return d / "s.yaml"


def fixed_rows() -> list[tuple[str, str, dt.datetime, int | None]]:
    """Three accounts on two networks, daily in January-March 2026; rival_b skips weekends and stops
    on 10 March, rival_a's last March value is null (the last row *with a value* counts)."""
    out = []
    day = dt.datetime(2026, 1, 1, 9)
    for i in range(90):
        t = day + dt.timedelta(days=i)
        out.append(("brand", "x", t + dt.timedelta(hours=i % 5), 1000 + 7 * i - (i % 4) * 3))
        out.append(("rival_a", "x", t, None if t.date() == dt.date(2026, 3, 31) else 50 + 2 * i))
        if t.weekday() < 5 and t.date() <= dt.date(2026, 3, 10):
            out.append(("rival_b", "linkedin", t + dt.timedelta(minutes=30), 400 - i))
    return out


def headline(results, kpi: str, grain: str = "month") -> dict[dt.date, float | None]:
    k = results.kpi(kpi)
    s = next(s for s in k.series if s.grain == grain and s.kind == "headline")
    return {p.period: p.value for p in s.points}


def by_segment(results, kpi: str, grain: str = "month") -> dict[tuple[dt.date, str], float | None]:
    k = results.kpi(kpi)
    out = {}
    for s in k.series:
        if s.grain == grain and s.kind == "segment":
            for p in s.points:
                out[(p.period, s.segment_value)] = p.value
    return out


def month(t: dt.datetime) -> dt.date:
    return t.date().replace(day=1)


def week(t: dt.datetime) -> dt.date:
    return t.date() - dt.timedelta(days=t.weekday())


def python_semi_additive(rows, period, *, edge: str = "last", keep=lambda v: True, by=lambda r: ""):
    """Plain Python: per (period, group, entity) the value of the row with the latest (earliest) time among
    rows with a value, then summed per (period, group)."""
    picked: dict[tuple[dt.date, str, str], tuple[dt.datetime, int]] = {}
    for r in rows:
        account, _, t, v = r
        if v is None or not keep(v):
            continue
        k = (period(t), by(r), account)
        if k not in picked or (t > picked[k][0] if edge == "last" else t < picked[k][0]):
            picked[k] = (t, v)
    sums: dict[tuple[dt.date, str], float] = {}
    for (p, g, _), (_, v) in picked.items():
        sums[(p, g)] = sums.get((p, g), 0) + v
    return sums


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("snapshots")
    rows = fixed_rows()
    path = write(d, rows)
    return rows, path, evaluate(load_spec(path), as_of=AS_OF)


def test_per_entity_last_summed_equals_plain_python(fixed) -> None:
    rows, _, results = fixed
    for grain, period in (("month", month), ("week", week)):
        got = headline(results, "audience", grain)
        want = {p: v for (p, _), v in python_semi_additive(rows, period).items()}
        assert {p: v for p, v in got.items() if v is not None} == want, grain
        first = {p: v for (p, _), v in python_semi_additive(rows, period, edge="first").items()}
        assert {p: v for p, v in headline(results, "opening_audience", grain).items() if v is not None} == first
    big = {p: v for (p, _), v in python_semi_additive(rows, month, keep=lambda v: v >= 100).items()}
    assert {p: v for p, v in headline(results, "big_accounts").items() if v is not None} == big
    march = headline(results, "audience")[dt.date(2026, 3, 1)]
    # brand's 31 March, rival_a's 30 March (its 31 March value is null), rival_b's 10 March
    assert march == (1000 + 7 * 89 - 1 * 3) + (50 + 2 * 88) + (400 - 68)


def test_per_entity_last_equals_a_duckdb_window_query(fixed) -> None:
    _, path, results = fixed
    con = duckdb.connect()
    con.register("f", pl.read_parquet(path.parent / "followers.parquet").rename({"at": "ts"}).to_arrow())
    for grain in ("week", "month"):
        want = dict(con.execute(f"""
            SELECT p, sum(followers) FROM (
              SELECT date_trunc('{grain}', ts)::DATE AS p, followers,
                     ROW_NUMBER() OVER (PARTITION BY date_trunc('{grain}', ts), account ORDER BY ts DESC) AS rn
              FROM f WHERE followers IS NOT NULL) WHERE rn = 1 GROUP BY p ORDER BY p""").fetchall())
        got = headline(results, "audience", grain)
        assert {p: v for p, v in got.items() if v is not None} == {p: float(v) for p, v in want.items()}
    seg = {(p, n): float(v) for p, n, v in con.execute("""
        SELECT p, network, sum(v) FROM (
          SELECT date_trunc('month', ts)::DATE AS p, network, account, arg_max(followers, ts) AS v
          FROM f WHERE followers IS NOT NULL GROUP BY ALL) GROUP BY ALL""").fetchall()}
    got_seg = {k: v for k, v in by_segment(results, "audience_by_network").items() if v is not None}
    assert got_seg == seg


def test_a_scoped_last_is_one_entitys_value(fixed) -> None:
    rows, _, results = fixed
    want = {p: v for (p, _), v in python_semi_additive([r for r in rows if r[0] == "brand"], month).items()}
    assert {p: v for p, v in headline(results, "brand_followers").items() if v is not None} == want


def test_periods_without_any_entity_have_no_value(tmp_path: Path) -> None:
    rows = [("a", "x", dt.datetime(2026, 1, 5), 10), ("b", "x", dt.datetime(2026, 3, 5), 4)]
    results = evaluate(load_spec(write(tmp_path, rows)), as_of=AS_OF)
    got = headline(results, "audience")
    assert got == {dt.date(2026, 1, 1): 10.0, dt.date(2026, 2, 1): None, dt.date(2026, 3, 1): 4.0}


def test_a_goal_on_a_semi_additive_snapshot_is_specific(tmp_path: Path) -> None:
    """Summed over the entities, a snapshot broken down by segments needs no scope to be specific (a
    plain `last` broken down by account without a scope is refused as ambiguous at run time)."""
    spec = SPEC + textwrap.dedent("""\
        objectives:
          audience:
            type: brand_awareness
            kpis: [audience_by_network]
            goals:
              reach_all: {kpi: audience_by_network, target: 5000, deadline: 2026-06-30}
        """)
    results = evaluate(load_spec(write(tmp_path, fixed_rows(), spec)), as_of=AS_OF)
    (goal,) = results.goals()
    specific = next(f for f in goal.smart if f.criterion == "specific")
    assert specific.ok, specific.message
    # the goal's grain is the spec's first (week); as of Tuesday 31 March the latest complete week is 23 March
    assert goal.current == headline(results, "audience", "week")[dt.date(2026, 3, 23)]


# ------------------------------------------------------------------------------------- backends
def test_postgres_takes_part(databases) -> None:
    """The differential tests below compare with PostgreSQL wherever its server can run (.ci/run installs it)."""
    import glob
    import shutil

    if not (shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb")):
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    assert "postgres" in databases, "psycopg is missing: pip install -e '.[test]'"


def run_on(path: Path, pm: pluggy.PluginManager | None) -> str:
    return evaluate(load_spec(path), as_of=AS_OF, plugin_manager=pm).to_json()


def test_backends_give_identical_results(fixed, databases) -> None:
    _, path, results = fixed
    expected = results.to_json()
    for name, pm in databases.items():
        assert run_on(path, pm) == expected, f"{name} differs from polars"


def test_the_snapshot_queries_run_in_the_database(fixed, databases) -> None:
    from metricspec.engine.run import explain

    _, path, _ = fixed
    for name, pm in databases.items():
        plan = explain(load_spec(path), as_of=AS_OF, plugin_manager=pm)
        assert {q["runs_in"] for q in plan} == {name}
        sql = "\n".join(str(q["sql"]) for q in plan)
        assert "OVER" in sql.upper() and "PARTITION BY" in sql.upper(), name  # the tie check's window
        per_account = [q for q in plan if "account" in q["segments"]]
        assert per_account and all({a["agg"] for a in q["aggregates"]} <= {"last", "first", "last_ties",
                                                                             "first_ties"} for q in per_account)


ENTITIES = ["a", "b", "c", "d"]
snapshot_rows = st.lists(
    st.tuples(st.sampled_from(ENTITIES), st.sampled_from(["x", "y"]), st.integers(0, 60 * 24 - 1),
              st.one_of(st.none(), st.integers(0, 1000))),
    min_size=0, max_size=40, unique_by=lambda r: (r[0], r[2]),  # one row per entity and time
)


def _rows(raw) -> list[tuple[str, str, dt.datetime, int | None]]:
    start = dt.datetime(2026, 1, 1)
    return [(e, n, start + dt.timedelta(hours=h), v) for e, n, h, v in raw]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=snapshot_rows)
def test_properties_and_backends_on_random_data(tmp_path_factory, databases, raw) -> None:
    rows = _rows(raw)
    d = tmp_path_factory.mktemp("prop")
    path = write(d, rows)
    results = evaluate(load_spec(path), as_of=AS_OF)
    got = {p: v for p, v in headline(results, "audience").items() if v is not None}
    # the semi-additive sum is the sum of each entity's own last value in the period
    own = {}
    for e in ENTITIES:
        for (p, _), v in python_semi_additive([r for r in rows if r[0] == e], month).items():
            own[p] = own.get(p, 0) + v
    assert got == own
    # for non-negative data, at most the sum of all rows of the period
    for p, v in got.items():
        assert v <= sum(r[3] for r in rows if r[3] is not None and month(r[2]) == p)
    expected = results.to_json()
    for name, pm in databases.items():
        assert run_on(path, pm) == expected, f"{name} differs from polars"


# ------------------------------------------------------------------------------------ ambiguity
AMBIGUOUS = """\
name: ambiguous
grains: [month]
sources:
  followers: {connector: parquet, options: {path: followers.parquet}, time_column: at}
kpis:
  followers:
    source: followers
    agg: last
    column: followers
"""


def test_an_unscoped_last_over_several_entities_is_refused_on_every_backend(tmp_path: Path, databases) -> None:
    t = dt.datetime(2026, 2, 27, 23)
    rows = [("brand", "x", t, 900), ("rival", "x", t, 300), ("brand", "x", t - dt.timedelta(days=40), 800)]
    path = write(tmp_path, rows, AMBIGUOUS)
    for name, pm in [("polars", None), *databases.items()]:
        with pytest.raises(DataError) as info:
            evaluate(load_spec(path), as_of=AS_OF, plugin_manager=pm)
        err = info.value
        assert "KPI 'followers' (agg: last) is ambiguous" in err.message, name
        assert "the month of 2026-02-01" in err.message and "2 rows at the latest time" in err.message
        assert err.where is not None and err.where.line == 8, name
        assert "per: <entity column>" in (err.hint or "") and "scope:" in (err.hint or "")


def test_the_cli_reports_the_ambiguity_with_file_line_and_fix(tmp_path: Path) -> None:
    t = dt.datetime(2026, 2, 27, 23)
    path = write(tmp_path, [("brand", "x", t, 900), ("rival", "x", t, 300)], AMBIGUOUS)
    result = CliRunner().invoke(main, ["run", str(path), "--as-of", str(AS_OF), "--format", "json"])
    assert result.exit_code == 2, result.output
    assert "s.yaml:8" in result.output and "ambiguous" in result.output and "per:" in result.output
    assert "Traceback" not in result.output


def test_rows_sharing_the_latest_time_with_one_value_are_not_ambiguous(tmp_path: Path) -> None:
    t = dt.datetime(2026, 2, 27, 23)
    path = write(tmp_path, [("brand", "x", t, 900), ("brand-copy", "x", t, 900), ("rival", "x", t, None)],
                 AMBIGUOUS)
    assert headline(evaluate(load_spec(path), as_of=AS_OF), "followers")[dt.date(2026, 2, 1)] == 900


def test_per_fixes_the_ambiguity_and_a_duplicate_within_an_entity_is_refused(tmp_path: Path) -> None:
    t = dt.datetime(2026, 2, 27, 23)
    rows = [("brand", "x", t, 900), ("rival", "x", t, 300)]
    path = write(tmp_path, rows, AMBIGUOUS + "    per: account\n")
    assert headline(evaluate(load_spec(path), as_of=AS_OF), "followers")[dt.date(2026, 2, 1)] == 1200
    path = write(tmp_path, [*rows, ("brand", "linkedin", t, 950)], AMBIGUOUS + "    per: account\n")
    with pytest.raises(DataError) as info:
        evaluate(load_spec(path), as_of=AS_OF)
    assert "(account=brand)" in info.value.message and "`per:`" in (info.value.hint or "")


@pytest.mark.parametrize(("extra", "message", "hint"), [
    ("    agg: sum\n", "`per:` sums each entity's last (or first) value", "drop `per:` or use agg: last"),
])
def test_per_on_an_additive_aggregation_is_a_spec_error(tmp_path: Path, extra: str, message: str,
                                                        hint: str) -> None:
    spec = AMBIGUOUS.replace("    agg: last\n", extra) + "    per: account\n"
    write(tmp_path, [], spec)
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "s.yaml")
    issues = info.value.issues()
    issue = next(i for i in issues if message in i.message)
    assert issue.where is not None and issue.where.line == 7, issue.format()
    assert hint in issue.message + (issue.hint or "")


def test_a_missing_per_column_is_reported_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, [("a", "x", dt.datetime(2026, 1, 1), 1)], AMBIGUOUS + "    per: acount\n")
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "s.yaml"), "--data"])
    assert result.exit_code == 2, result.output
    assert "s.yaml:10" in result.output and "acount" in result.output
