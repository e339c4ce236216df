"""Database sources fail with a clear message, never a traceback: file:line, what is wrong, what to do.

Unreachable servers, wrong passwords (masked), missing tables and columns, values that do not convert
to their declared type, what a database cannot do (a `timestamp_format:` on PostgreSQL), PySpark or
Java missing: exit code 2 and a message naming the source and its place in the spec.
"""

from __future__ import annotations

import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("ibis")
duckdb = pytest.importorskip("duckdb")

from metricspec.cli import main  # noqa: E402


def run(spec: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", str(spec), "--as-of", "2026-11-01", "--format", "json", *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    con = duckdb.connect(str(tmp_path / "shop.duckdb"))
    con.execute("CREATE TABLE orders (id INTEGER, ordered_at TIMESTAMPTZ, channel VARCHAR, amount VARCHAR)")
    con.execute("INSERT INTO orders VALUES (1, '2026-03-01 10:00:00+00', 'social', '12.5'), "
                "(2, '2026-03-02 11:00:00+00', 'search', 'n/a'), (3, '2026-04-02 09:00:00+00', 'social', '3')")
    con.close()
    return tmp_path


def write(d: Path, body: str) -> Path:
    (d / "s.yaml").write_text(textwrap.dedent(body))
    return d / "s.yaml"


def test_a_value_that_does_not_convert_names_source_column_and_value(shop: Path) -> None:
    spec = write(shop, """\
        name: shop
        sources:
          orders:
            connector: duckdb
            options: {path: shop.duckdb, table: orders}
            time_column: ordered_at
            columns: {amount: float}
        kpis:
          revenue: {source: orders, agg: sum, column: amount}
    """)
    code, out = run(spec)
    assert code == 2
    assert "s.yaml:4:" in out and "source 'orders': column 'amount' has values that are not float (e.g. 'n/a')" in out


def test_missing_table_and_column_say_what_there_is(shop: Path) -> None:
    spec = write(shop, """\
        name: shop
        sources:
          orders: {connector: duckdb, options: {path: shop.duckdb, table: order}, time_column: ordered_at}
        kpis:
          n: {source: orders, agg: count}
    """)
    code, out = run(spec)
    assert code == 2 and "s.yaml:3:" in out and "no table 'order'" in out and "did you mean 'orders'" in out
    spec = write(shop, """\
        name: shop
        sources:
          orders: {connector: duckdb, options: {path: shop.duckdb, table: orders}, time_column: ordered_at}
        kpis:
          n: {source: orders, agg: sum, column: amont}
    """)
    code, out = run(spec)
    assert code == 2 and "s.yaml:5:" in out and "has no column 'amont'" in out and "did you mean 'amount'" in out


def test_a_failing_query_names_the_source(shop: Path) -> None:
    spec = write(shop, """\
        name: shop
        sources:
          orders: {connector: duckdb, options: {path: shop.duckdb, query: "SELECT * FROM nowhere"},
                   time_column: ordered_at}
        kpis:
          n: {source: orders, agg: count}
    """)
    code, out = run(spec)
    assert code == 2 and "s.yaml:3:" in out and "source 'orders'" in out and "nowhere" in out


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_database_is_named_with_the_password_masked(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("psycopg")
    monkeypatch.setenv("PG_PASSWORD", "hunter2-secret")
    spec = write(tmp_path, f"""\
        name: shop
        sources:
          orders:
            connector: sql
            options: {{uri: "postgresql://shop:${{PG_PASSWORD}}@127.0.0.1:{_closed_port()}/shop", table: orders}}
            time_column: ordered_at
        kpis:
          n: {{source: orders, agg: count}}
    """)
    code, out = run(spec)
    assert code == 2 and "s.yaml:4:" in out and "cannot connect to postgresql://shop:***@127.0.0.1" in out
    assert "hunter2-secret" not in out


def test_an_unset_environment_variable_is_named(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PG_PASSWORD", raising=False)
    spec = write(tmp_path, """\
        name: shop
        sources:
          orders: {connector: sql, options: {uri: "postgresql://shop:${PG_PASSWORD}@db/shop", table: o},
                   time_column: t}
        kpis:
          n: {source: orders, agg: count}
    """)
    code, out = run(spec)
    assert code == 2 and "environment variable PG_PASSWORD is not set" in out and "export PG_PASSWORD" in out


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    pytest.importorskip("psycopg")
    from pg_server import postgres_server

    with postgres_server() as base:
        import psycopg

        with psycopg.connect(f"postgresql://{base}") as con:
            con.execute("CREATE TABLE orders (id integer, ordered_at text, amount numeric)")
            con.execute("INSERT INTO orders VALUES (1, '01/03/2026 10:00', 12.5)")
        yield base


def test_wrong_password_is_masked(tmp_path: Path, postgres: str) -> None:
    user_host = postgres.split(":", 1)[0] + ":wrong-pass@" + postgres.split("@", 1)[1]
    spec = write(tmp_path, f"""\
        name: shop
        sources:
          orders: {{connector: sql, options: {{uri: "postgresql://{user_host}", table: orders}}, time_column: ordered_at}}
        kpis:
          n: {{source: orders, agg: count}}
    """)
    code, out = run(spec)
    assert code == 2 and "s.yaml:3:" in out and "cannot connect" in out and "***" in out
    assert "wrong-pass" not in out


def test_what_postgres_cannot_do_is_said_with_a_way_out(tmp_path: Path, postgres: str) -> None:
    spec = write(tmp_path, f"""\
        name: shop
        sources:
          orders:
            connector: sql
            options: {{uri: "postgresql://{postgres}", table: orders}}
            time_column: ordered_at
            timestamp_format: "%d/%m/%Y %H:%M"
        kpis:
          n: {{source: orders, agg: count}}
    """)
    code, out = run(spec)
    assert code == 2 and "s.yaml:4:" in out and "`timestamp_format:` is only translated for DuckDB" in out
    assert "timestamp type in the database" in out
    # and the way out works: the same source computed in polars
    spec.write_text(spec.read_text().replace("timestamp_format:", "engine: polars\n    timestamp_format:"))
    code, out = run(spec)
    assert code == 0, out


def test_spark_missing_or_java_missing(tmp_path: Path, monkeypatch) -> None:
    import importlib.util
    import shutil

    spec = write(tmp_path, """\
        name: lake
        sources:
          events: {connector: spark, options: {table: analytics.events, master: "local[2]"}, time_column: at}
        kpis:
          n: {source: events, agg: count}
    """)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name, *a))
    code, out = run(spec)
    assert code == 2 and "s.yaml:3:" in out and "needs PySpark" in out and "metricspec-cli[spark]" in out
    monkeypatch.setattr(importlib.util, "find_spec", real)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, out = run(spec)
    assert code == 2 and "needs a Java runtime" in out and "default-jre-headless" in out


def test_engine_duckdb_refuses_connectors_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "x.xlsx").write_bytes(b"")
    spec = write(tmp_path, """\
        name: x
        sources:
          sheet: {connector: excel, options: {path: x.xlsx}, time_column: t, engine: duckdb}
        kpis:
          n: {source: sheet, agg: count}
    """)
    code, out = run(spec)
    assert code == 2 and "`engine: duckdb` reads csv, parquet, ndjson, json files, not the excel connector" in out


def test_results_and_explain_never_carry_the_connection_string(shop: Path) -> None:
    spec = write(shop, """\
        name: shop
        sources:
          orders: {connector: duckdb, options: {path: shop.duckdb, table: orders}, time_column: ordered_at}
        kpis:
          n: {source: orders, agg: count}
    """)
    code, out = run(spec)
    assert code == 0, out
    assert "shop.duckdb" not in out


def test_the_database_file_is_free_after_a_run(shop: Path) -> None:
    """Sources on one DuckDB file share one sandboxed connection during a run; afterwards the file can
    be opened again with any settings (DuckDB refuses a second configuration while one is open)."""
    spec = write(shop, """\
        name: shop
        sources:
          orders: {connector: duckdb, options: {path: shop.duckdb, table: orders}, time_column: ordered_at}
          same: {connector: duckdb, options: {path: shop.duckdb, query: "SELECT * FROM orders"},
                 time_column: ordered_at}
        kpis:
          n: {source: orders, agg: count}
          m: {source: same, agg: count}
    """)
    code, out = run(spec)
    assert code == 0, out
    con = duckdb.connect(str(shop / "shop.duckdb"), config={"threads": 1})
    assert con.execute("SELECT count(*) FROM orders").fetchone() == (3,)
    con.close()


def test_a_bad_value_read_by_a_control_group_keeps_its_place(shop: Path) -> None:
    """Rows a control group reads come through polars from the database (an IO source): a value that
    does not convert is still reported with the source's place in the spec and the hint."""
    con = duckdb.connect(str(shop / "shop.duckdb"))
    con.execute("CREATE TABLE units AS SELECT * FROM (VALUES ('u1', 'social', '12.5', DATE '2026-03-01'), "
                "('u2', 'control', 'n/a', DATE '2026-03-02')) t(unit, arm, spend, day)")
    con.close()
    spec = write(shop, """\
        name: shop
        sources:
          units:
            connector: duckdb
            options: {path: shop.duckdb, table: units}
            time_column: day
            columns: {spend: float}
        control_groups:
          social:
            source: units
            unit: unit
            assignment: {column: arm, treatment: social, control: control}
            metrics:
              spend: {kind: mean, column: spend}
    """)
    code, out = run(spec)
    assert code == 2, out
    assert "s.yaml:4:" in out and "column 'spend' has values that are not float (e.g. 'n/a')" in out
    assert "null_values" in out or "columns:" in out  # the hint survived polars
