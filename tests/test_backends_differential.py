"""Every example spec gives byte-identical Results on the SQL backend (DuckDB, PostgreSQL) and on polars.

The harness (tests/backend_support.py) wraps every connector so that what it reads is loaded into a
database table and handed back as an ibis table: the spec file is unchanged (same positions, same
connector names in the Results) but every KPI query runs as SQL in the database, funnels, retention,
control groups and attribution read their columns from it, and the source preparation (renames, text
to numbers, booleans and datetimes, time zones, derived columns) is translated to SQL too. The Results
must equal the golden files of the polars backend byte for byte.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from pathlib import Path

import pluggy
import pytest

from metricspec import sources
from metricspec.engine.run import evaluate, explain
from metricspec.loader import load_spec

# a skip, not an import: importing them at collection costs seconds (docs/contributing.md)
pytestmark = pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ('ibis', 'duckdb')),
                                reason="needs ibis, duckdb: pip install -e '.[test]'")

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden"
SPECS = sorted(p.name for p in (ROOT / "specs" / "examples").glob("*.yaml"))
AS_OF = dt.date(2026, 11, 1)


def results_json(name: str, pm: pluggy.PluginManager | None = None) -> str:
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        return evaluate(load_spec(Path("specs/examples") / name), as_of=AS_OF, plugin_manager=pm).to_json()
    finally:
        os.chdir(cwd)


def assert_golden(name: str, text: str) -> None:
    expected = (GOLDEN / f"{Path(name).stem}.json").read_text(encoding="utf-8")
    if text != expected:
        import difflib

        diff = "".join(list(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "polars",
                                                 "sql", n=2))[:60])
        pytest.fail(f"{name}: the SQL backend's Results differ from the golden file:\n{diff}")


@pytest.mark.parametrize("name", SPECS)
def test_examples_on_duckdb_equal_golden(name: str, duckdb_pm: pluggy.PluginManager) -> None:
    assert_golden(name, results_json(name, duckdb_pm))


def test_every_kpi_query_of_the_examples_runs_in_the_database(duckdb_pm: pluggy.PluginManager) -> None:
    """Not a fallback: each fused query of every example runs in DuckDB, and its SQL is shown."""
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        for name in SPECS:
            plan = explain(load_spec(Path("specs/examples") / name), as_of=AS_OF, plugin_manager=duckdb_pm)
            loaded = load_spec(Path("specs/examples") / name)
            for q in plan:
                if q["source"] == "calendar" and "calendar" not in loaded.spec.sources:
                    assert q["runs_in"].startswith("polars"), q  # the built-in calendar is a polars frame
                    continue
                assert q["runs_in"] == "duckdb", (name, q["source"])
                sql = str(q["sql"])  # a fused statement: grouped by period, or windows' totals in one row
                assert "SELECT" in sql and "m0_a0" in sql and ("GROUP BY" in sql or q["grain"].count("..") == 1)
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("name", SPECS)
def test_examples_on_postgres_equal_golden(name: str, postgres_pm: pluggy.PluginManager) -> None:
    assert_golden(name, results_json(name, postgres_pm))


def test_rows_for_funnels_and_attribution_carry_only_the_columns_they_read(duckdb_pm, monkeypatch) -> None:
    """Funnels, retention, control groups and attribution read rows in polars: from a database source
    they fetch only the columns they use (projection pushed into the SQL), never the whole table."""
    import ibis

    from metricspec.engine.backends import sql_frames

    fetched: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    real = sql_frames.fetch

    def spy(rel, columns, *, limit=None):  # type: ignore[no-untyped-def]
        fetched.append((rel.source, tuple(columns), tuple(rel.schema)))
        frame = real(rel, columns, limit=limit)
        assert "SELECT *" not in str(ibis.to_sql(rel.table.select(columns))).replace("\n", " ")
        return frame

    from metricspec.engine.backends.sql import SqlBackend

    events: list[str] = []
    real_events = SqlBackend.events

    def events_spy(self, query):  # type: ignore[no-untyped-def]
        events.append(query.source)
        return real_events(self, query)

    monkeypatch.setattr(sql_frames, "fetch", spy)
    monkeypatch.setattr(SqlBackend, "events", events_spy)
    assert_golden("customer_value.yaml", results_json("customer_value.yaml", duckdb_pm))
    # funnel steps and retention cohorts are filtered and projected in the database
    assert {"touchpoints", "conversions", "orders"} <= set(events), events
    read = {source for source, _, _ in fetched}
    assert {"touchpoints", "conversions", "customers"} <= read, read
    needed = sources.requirements(load_spec(ROOT / "specs" / "examples" / "customer_value.yaml")).columns
    for source, columns, _every in fetched:
        assert set(columns) <= set(needed[source]), f"{source}: fetched {set(columns) - set(needed[source])}"
    customers = [(cols, every) for source, cols, every in fetched if source == "customers"]
    assert all(len(cols) < len(every) for cols, every in customers)  # 13 columns, far fewer read


def test_postgres_gets_the_fused_statements_plainly(postgres_pm: pluggy.PluginManager,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL is sent the same fused statements as DuckDB, each a plain statement (no server-side
    cursor, which rules out parallel plans; no CTE that several branches would read), as many as
    `--explain` counts."""
    import ibis.backends.postgres

    from metricspec.engine.backends.dialects.postgres import Postgres
    from metricspec.engine.run import explain_run

    sent: list[str] = []
    plain = Postgres.send

    def spy(self, backend, expr, sql):  # type: ignore[no-untyped-def]
        sent.append(sql or str(backend.compile(expr)))
        return plain(self, backend, expr, sql)

    cursors: list[object] = []
    streamed = ibis.backends.postgres.Backend.to_pyarrow_batches

    def cursor_spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        cursors.append(args)
        return streamed(self, *args, **kwargs)

    monkeypatch.setattr(Postgres, "send", spy)
    monkeypatch.setattr(ibis.backends.postgres.Backend, "to_pyarrow_batches", cursor_spy)
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        explained = explain_run(load_spec(Path("specs/examples/trade_fair_campaign.yaml")), as_of=AS_OF,
                                plugin_manager=postgres_pm)
        sent.clear()
        assert_golden("trade_fair_campaign.yaml", results_json("trade_fair_campaign.yaml", postgres_pm))
    finally:
        os.chdir(cwd)
    statements = explained["statements"]
    assert isinstance(statements, list)
    assert len(sent) == len(statements) > 3
    assert not cursors  # every KPI of this spec is an aggregate: no row is streamed through a cursor
    assert all("WITH " not in s and "DECLARE" not in s for s in sent), [s[:200] for s in sent if "WITH " in s]
