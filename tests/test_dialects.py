"""One object per database (engine/backends/dialects/, issue 26): the capabilities each declares match the
SQL ibis compiles for it, and a KPI a database computes only approximately is refused at the data-time
checks unless the KPI says ``approximate: true``."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from metricspec.engine.approximation import approximation_issues
from metricspec.engine.backends import dialects
from metricspec.engine.backends.dialects import DIALECTS, Capabilities, Dialect, dialect_for
from metricspec.errors import Level, SpecError
from metricspec.loader import load_spec

ibis = pytest.importorskip("ibis")

ROOT = Path(__file__).resolve().parent.parent

APPROXIMATE_SQL = re.compile(r"\b(uniq|uniqHLL12|approx_\w+|quantileTDigest|quantile\(|median\(|"
                             r"APPROX_PERCENTILE\w*|APPROX_QUANTILES)", re.IGNORECASE)
"""The functions of each database that answer approximately (ClickHouse's ``quantile`` samples a reservoir,
its ``median`` is ``quantile(0.5)``)."""

SPEC = """\
name: approx
timezone: UTC
sources:
  events:
    connector: csv
    options: {{path: events.csv}}
    time_column: day
kpis:
  users:
    source: events
    agg: {agg}
    column: {column}{extra}
"""


def _loaded(tmp_path: Path, agg: str = "count_distinct", column: str = "user", extra: str = "") -> object:
    (tmp_path / "events.csv").write_text("day,user,amount\n2026-01-01,a,1\n2026-01-02,b,2\n", encoding="utf-8")
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(agg=agg, column=column, extra=extra), encoding="utf-8")
    return load_spec(path)


def _compiled(dialect: Dialect, which: str) -> str:
    t = ibis.table({"x": "float64", "k": "string", "at": "timestamp"}, name="t")
    value = {"count_distinct": dialect.count_distinct(t.k, None), "quantile": dialect.quantile(t.x, 0.9),
             "median": dialect.median(t.x, None), "first_last": t.x.argmax(t.at)}[which]
    return str(ibis.to_sql(t.aggregate(v=value), dialect=dialect.name))


@pytest.mark.parametrize("name", sorted(set(DIALECTS) - {"pyspark"}))  # ibis compiles Spark SQL only with a session
@pytest.mark.parametrize("which", ["count_distinct", "quantile", "median", "first_last"])
def test_declared_capabilities_match_the_sql_ibis_compiles(name: str, which: str) -> None:
    dialect = DIALECTS[name]
    declared = getattr(dialect.capabilities, "quantiles" if which == "quantile" else which)
    if declared == "missing":
        with pytest.raises(Exception, match=r"(?i)not (defined|supported)|unsupported"):
            _compiled(dialect, which)
        return
    sql = _compiled(dialect, which)
    assert bool(APPROXIMATE_SQL.search(sql)) == (declared == "approximate"), (name, which, declared, sql)


def test_the_exact_databases_compile_what_they_did() -> None:
    """DuckDB and PostgreSQL: the exact operations, as before the dialect objects."""
    t = ibis.table({"x": "float64", "k": "string"}, name="t")
    for name in ("duckdb", "postgres"):
        d = dialect_for(name)
        assert _compiled(d, "count_distinct") == str(ibis.to_sql(t.aggregate(v=t.k.nunique()), dialect=name))
        assert _compiled(d, "quantile") == str(ibis.to_sql(t.aggregate(v=t.x.quantile(0.9)), dialect=name))
        assert _compiled(d, "median") == str(ibis.to_sql(t.aggregate(v=t.x.median()), dialect=name))


def test_an_unknown_database_gets_the_generic_dialect() -> None:
    d = dialect_for("snowflake")
    assert type(d) is Dialect and d.name == "snowflake"
    assert d.capabilities.support("count_distinct") == "exact"
    assert d.capabilities.support("p90") == "exact" and d.capabilities.support("sum") == "exact"


def test_an_approximate_count_distinct_is_refused_with_where_and_how(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path)
    issues = approximation_issues(loaded, {"events": "clickhouse"})  # type: ignore[arg-type]
    assert len(issues) == 1 and issues[0].level is Level.ERROR
    text = issues[0].format()
    assert "spec.yaml:11:10: error: " in text, text  # the KPI's `agg:`
    for part in ("KPI 'users'", "clickhouse", "count_distinct", "only approximately", "approximate: true",
                 "engine: polars"):
        assert part in text, (part, text)
    # exact databases, polars, and an opt-in: nothing to say
    assert approximation_issues(loaded, {"events": "duckdb"}) == []  # type: ignore[arg-type]
    assert approximation_issues(loaded, {}) == []  # type: ignore[arg-type]
    accepted = _loaded(tmp_path, extra="\n    approximate: true")
    assert approximation_issues(accepted, {"events": "clickhouse"}) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(("database", "agg", "refused"), [
    ("bigquery", "p90", True), ("bigquery", "median", True), ("bigquery", "count_distinct", False),
    ("clickhouse", "median", False), ("trino", "p50", True), ("postgres", "p90", False),
    ("mysql", "last", True), ("mssql", "first", True), ("trino", "last", False)])
def test_each_database_refuses_what_it_approximates(tmp_path: Path, database: str, agg: str, refused: bool) -> None:
    loaded = _loaded(tmp_path, agg=agg, column="amount")
    issues = approximation_issues(loaded, {"events": database})  # type: ignore[arg-type]
    assert bool(issues) == refused, [i.format() for i in issues]


def test_a_database_without_the_aggregate_is_refused_even_with_the_opt_in(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path, agg="median", column="amount", extra="\n    approximate: true")
    issues = approximation_issues(loaded, {"events": "mysql"})  # type: ignore[arg-type]
    assert len(issues) == 1 and "cannot compute agg 'median'" in issues[0].message


def _duckdb_spec(tmp_path: Path, extra: str = "") -> Path:
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE OR REPLACE TABLE events AS SELECT DATE '2026-01-01' + (i % 20)::INT AS day, 'u' || (i % 37) AS user "
                "FROM range(500) t(i)")
    con.close()
    path = tmp_path / "spec.yaml"
    path.write_text(
        "name: approx\ntimezone: UTC\ngrains: [month]\nsources:\n  events:\n    connector: duckdb\n"
        "    options: {path: w.duckdb, table: events}\n    time_column: day\n"
        f"kpis:\n  users:\n    source: events\n    agg: count_distinct\n    column: user{extra}\n", encoding="utf-8")
    return path


def test_a_declared_approximate_database_is_refused_when_sources_open_and_runs_with_the_opt_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A DuckDB declared to count distinct values only approximately: the run is refused before any
    statement is sent; with ``approximate: true`` it runs with DuckDB's approx_count_distinct (37 users,
    which HyperLogLog counts exactly at this size)."""
    import datetime as dt

    from metricspec.engine.run import evaluate, explain_run

    approximate = dataclasses.replace(DIALECTS["duckdb"].capabilities, count_distinct="approximate")
    monkeypatch.setitem(DIALECTS, "duckdb", dataclasses.replace(DIALECTS["duckdb"], capabilities=approximate))
    with pytest.raises(SpecError) as raised:
        evaluate(load_spec(_duckdb_spec(tmp_path)), as_of=dt.date(2026, 2, 1))
    assert "spec.yaml:12:" in str(raised.value) and "approximate: true" in str(raised.value)
    loaded = load_spec(_duckdb_spec(tmp_path, "\n    approximate: true"))
    statements = explain_run(loaded, as_of=dt.date(2026, 2, 1))["statements"]
    assert isinstance(statements, list) and any("APPROX_COUNT_DISTINCT" in s for s in statements)
    results = evaluate(loaded, as_of=dt.date(2026, 2, 1))
    values = [p.value for p in results.kpis[0].series[0].points if p.value is not None]
    assert len(values) == 1 and values[0] is not None and abs(values[0] - 37) <= 0.1 * 37  # HyperLogLog: 38
    monkeypatch.undo()  # DuckDB as it is: exact, 37 distinct users ('u0' … 'u36')
    exact = evaluate(load_spec(_duckdb_spec(tmp_path)), as_of=dt.date(2026, 2, 1))
    assert [p.value for p in exact.kpis[0].series[0].points if p.value is not None] == [37.0]


def test_capabilities_are_declared_for_every_database_module() -> None:
    for name, d in DIALECTS.items():
        assert isinstance(d.capabilities, Capabilities) and d.name == name
    assert dialects.dialect_for("duckdb") is DIALECTS["duckdb"]


@pytest.mark.parametrize("name", sorted(set(DIALECTS) - {"pyspark"}))
def test_the_nan_check_is_sent_where_a_float_can_hold_nan(name: str) -> None:
    """Every database whose floats hold NaN and infinities gets the check, and ibis compiles it there; SQL
    Server's float holds neither (it refuses them on insert) and ibis cannot compile the check for it."""
    from metricspec.engine.backends.sql_prepare import finite_check

    t = ibis.table({"x": "float64"}, name="t")
    check = finite_check("x", t, t.x)
    compile_it = lambda: ibis.to_sql(t.aggregate(n=check.bad.sum()), dialect=name)  # noqa: E731
    if DIALECTS[name].stores_non_finite:
        assert compile_it()
    else:
        with pytest.raises(Exception, match="IsNan"):
            compile_it()
