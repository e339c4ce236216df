"""Databases reached by URI run read-only sessions (issue 21): on PostgreSQL a SELECT that calls a
writing function fails, whichever way the connector reads (ibis, connectorx, SQLAlchemy), and a
SQLite file opened through any driver cannot be written. Uses a throwaway PostgreSQL server."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from metricspec.cli import main

pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    from pg_server import postgres_server

    with postgres_server() as url:
        import psycopg

        with psycopg.connect(f"postgresql://{url}", autocommit=True) as conn:
            conn.execute("CREATE TABLE visits (n int)")
            conn.execute("CREATE FUNCTION bump() RETURNS int LANGUAGE sql AS "
                         "'INSERT INTO visits VALUES (1) RETURNING n'")  # a function the check cannot know
        yield url


def _spec(tmp_path: Path, uri: str, query: str) -> Path:
    spec = tmp_path / "s.yaml"
    spec.write_text(f'name: s\nsources:\n  db:\n    connector: sql\n    options: {{uri: "{uri}", query: "{query}"}}\n'
                    "    time_column: day\nkpis:\n  n: {source: db, agg: sum, column: n}\n", encoding="utf-8")
    return spec


@pytest.mark.parametrize("route", ["connectorx", "sqlalchemy"])
def test_a_select_that_writes_fails_on_postgres(postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                route: str) -> None:
    """Read into polars, a query runs in a read-only session: even a function the SELECT check cannot
    know fails. (Computed in the database through ibis, the session cannot be read-only, as a join
    sends local keys as a temporary table: there the SELECT check and a read-only user protect.)"""
    import psycopg

    from metricspec.connectors import sql

    monkeypatch.setattr(sql, "IBIS_BACKENDS", {})
    scheme = "postgresql+psycopg2" if route == "sqlalchemy" else "postgresql"  # `+driver`: SQLAlchemy
    spec = _spec(tmp_path, f"{scheme}://{postgres}", "SELECT bump() AS n, DATE '2026-01-05' AS day")
    result = CliRunner().invoke(main, ["run", str(spec), "--as-of", "2026-01-31"])
    assert result.exit_code == 2, result.output
    assert "read-only transaction" in result.output, result.output
    with psycopg.connect(f"postgresql://{postgres}") as conn:
        assert conn.execute("SELECT count(*) FROM visits").fetchone() == (0,)
    reads = _spec(tmp_path, f"{scheme}://{postgres}", "SELECT 5 AS n, DATE '2026-01-05' AS day")
    ok = CliRunner().invoke(main, ["run", str(reads), "--as-of", "2026-01-31", "--format", "json", "-q"])
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize("call", ["nextval('s')", "set_config('default_transaction_read_only', 'off', false)",
                                  "lo_import('/etc/passwd')", "pg_read_file('/etc/passwd')"])
def test_functions_that_write_or_reach_files_are_refused_before_connecting(tmp_path: Path, call: str) -> None:
    spec = _spec(tmp_path, "postgresql://me@127.0.0.1:1/shop", f"SELECT {call} AS n, now() AS day")
    result = CliRunner().invoke(main, ["run", str(spec), "--as-of", "2026-01-31"])
    assert result.exit_code == 2 and "the query may only SELECT, but it holds" in result.output, result.output


def test_every_sqlite_driver_opens_the_file_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``sqlite+pysqlite://`` went to SQLAlchemy, which opened the file for writing (``?mode=rwc``
    even creates it); every SQLite URI now opens read-only and locked down through the standard library."""
    from metricspec.connectors import sandbox, sqlite_read

    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (day TEXT, n INT)")
        conn.execute("INSERT INTO t VALUES ('2026-01-05', 2)")
    # every sqlite3 connection the run opens is locked down (the sqlite connector opens one to check the
    # query and learn its columns, and the lazy read may open more; connectorx reads the checked query)
    events: list[str] = []
    lockdown, connect = sandbox.sqlite_lockdown, sqlite3.connect
    monkeypatch.setattr(sqlite_read, "sqlite_lockdown", lambda conn: (events.append("locked"), lockdown(conn)))
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: (events.append("opened"), connect(*a, **k))[1])
    monkeypatch.chdir(tmp_path)
    for uri in ("sqlite+pysqlite:///app.db?mode=rwc", "sqlite:///app.db?mode=rw"):
        events.clear()
        spec = _spec(tmp_path, uri, "SELECT day, n FROM t")
        result = CliRunner().invoke(main, ["run", str(spec), "--as-of", "2026-01-31", "--format", "json", "-q"])
        assert result.exit_code == 0, result.output
        assert events and events.count("opened") == events.count("locked"), (uri, events)
        assert all(events[i:i + 2] == ["opened", "locked"] for i in range(0, len(events), 2)), (uri, events)
    monkeypatch.undo()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_a_local_source_joined_to_a_postgres_source_still_works(postgres: str, tmp_path: Path) -> None:
    """The join sends the local source's keys as a temporary table: the read-only session must allow it."""
    import psycopg

    with psycopg.connect(f"postgresql://{postgres}", autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (day date, customer_id int, amount int)")
        conn.execute("INSERT INTO orders VALUES ('2026-01-05', 1, 10), ('2026-01-06', 2, 20), ('2026-01-07', 1, 5)")
    (tmp_path / "customers.csv").write_text("customer_id,channel\n1,ads\n2,organic\n", encoding="utf-8")
    spec = tmp_path / "j.yaml"
    spec.write_text(
        "name: j\nsources:\n"
        "  customers: {connector: csv, options: {path: customers.csv}, entities: {customer: customer_id},"
        " time_column: null}\n"
        f"  orders:\n    connector: sql\n    options: {{uri: 'postgresql://{postgres}', table: orders}}\n"
        "    time_column: day\n    joins: [{source: customers, on: customer_id, columns: [channel]}]\n"
        "kpis:\n  revenue: {source: orders, agg: sum, column: amount, segments: [channel]}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(spec), "--as-of", "2026-01-31", "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    assert '"ads"' in result.stdout and '"organic"' in result.stdout
