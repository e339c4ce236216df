"""The ``sql`` connector against a real PostgreSQL server, through connectorx and SQLAlchemy.

A throwaway cluster is created with ``initdb`` in a temporary directory and started on a free
port (unix socket in the same directory); it is stopped when the module's tests end. The tests are
skipped, with the reason, when the PostgreSQL server binaries or the Python drivers are missing
(``.ci/run`` installs them: Debian package ``postgresql``, pip extras ``metricspec-cli[sql]`` and
``psycopg2-binary`` through ``metricspec-cli[test]``).
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from pg_server import PASSWORD, postgres_server

from metricspec.engine.run import evaluate
from metricspec.errors import DataError
from metricspec.loader import load_spec
from metricspec.plugins import make_plugin_manager
from metricspec.sources.registry import connector_registry

sqlalchemy = pytest.importorskip("sqlalchemy")
pytest.importorskip("psycopg2")
connectorx = pytest.importorskip("connectorx")

ORDERS = [  # id, day, channel, amount (cents), refunded
    (1, dt.date(2026, 1, 3), "search", 1250, False),
    (2, dt.date(2026, 1, 17), "social", 990, False),
    (3, dt.date(2026, 1, 28), "social", 4300, True),
    (4, dt.date(2026, 2, 2), "email", 2000, False),
    (5, dt.date(2026, 2, 14), "social", 1575, False),
    (6, dt.date(2026, 2, 27), "search", None, False),
    (7, dt.date(2026, 3, 9), "search", 3100, False),
]


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A running PostgreSQL with an ``orders`` table; yields its base URI (without scheme)."""
    with postgres_server() as base:
        engine = sqlalchemy.create_engine(f"postgresql+psycopg2://{base}")
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(
                "CREATE TABLE orders (id integer PRIMARY KEY, day date NOT NULL, channel text NOT NULL, "
                "amount_cents integer, refunded boolean NOT NULL)"))
            conn.execute(sqlalchemy.text("CREATE SCHEMA shop"))
            conn.execute(sqlalchemy.text("CREATE VIEW shop.paid AS SELECT * FROM orders WHERE NOT refunded"))
            conn.execute(
                sqlalchemy.text("INSERT INTO orders VALUES (:id, :day, :channel, :amount, :refunded)"),
                [dict(zip(["id", "day", "channel", "amount", "refunded"], row, strict=True)) for row in ORDERS],
            )
        engine.dispose()
        yield base


@pytest.fixture(scope="module")
def sql_connector():  # type: ignore[no-untyped-def]
    return connector_registry(make_plugin_manager())["sql"]


def _read(connector_cls, tmp_path: Path, **options: object) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    from metricspec.connectors.base import SourceContext

    connector = connector_cls()
    opts = connector_cls.Options.model_validate(options)
    frame = connector.scan(opts, SourceContext(source_name="orders", base_dir=tmp_path))
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame.to_polars()


# three ways the sql connector reads PostgreSQL: an ibis table of the database (the KPIs are computed
# there), connectorx (without ibis) and SQLAlchemy (`dialect+driver://` URIs)
PATHS = ["ibis", "connectorx", "sqlalchemy"]


@pytest.fixture
def scheme(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    from metricspec.connectors import sql as sql_module

    if request.param == "ibis":
        pytest.importorskip("ibis")
        pytest.importorskip("psycopg")
        return "postgresql"
    if request.param == "connectorx":
        monkeypatch.setattr(sql_module, "IBIS_BACKENDS", {})
        return "postgresql"
    return "postgresql+psycopg2"


@pytest.mark.parametrize("scheme", PATHS, indirect=True)
def test_reads_table_and_query(postgres: str, sql_connector, tmp_path: Path, scheme: str) -> None:
    """ibis, connectorx and SQLAlchemy all return the rows and types that are in the database."""
    uri = f"{scheme}://{postgres}"
    table = _read(sql_connector, tmp_path, uri=uri, table="orders").sort("id")
    assert table.height == len(ORDERS)
    assert table["id"].to_list() == [r[0] for r in ORDERS]
    assert table["day"].cast(pl.Date).to_list() == [r[1] for r in ORDERS]
    assert table["amount_cents"].to_list() == [r[3] for r in ORDERS]
    assert table["refunded"].to_list() == [r[4] for r in ORDERS]
    grouped = _read(sql_connector, tmp_path, uri=uri,
                    query="SELECT channel, SUM(amount_cents) AS total FROM orders GROUP BY channel ORDER BY channel")
    expected: dict[str, int] = {}
    for _, _, channel, amount, _ in ORDERS:
        expected[channel] = expected.get(channel, 0) + (amount or 0)
    assert dict(zip(grouped["channel"].to_list(), [int(v) for v in grouped["total"].to_list()], strict=True)) \
        == expected
    view = _read(sql_connector, tmp_path, uri=uri, table="shop.paid")  # a dotted (schema.view) name
    assert sorted(view["id"].to_list()) == [r[0] for r in ORDERS if not r[4]]


def test_every_path_agrees(postgres: str, sql_connector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from metricspec.connectors import sql as sql_module

    via_ibis = _read(sql_connector, tmp_path, uri=f"postgresql://{postgres}", table="orders").sort("id")
    via_sa = _read(sql_connector, tmp_path, uri=f"postgresql+psycopg2://{postgres}", table="orders").sort("id")
    monkeypatch.setattr(sql_module, "IBIS_BACKENDS", {})
    via_cx = _read(sql_connector, tmp_path, uri=f"postgresql://{postgres}", table="orders").sort("id")
    assert via_cx.columns == via_sa.columns == via_ibis.columns
    for column in via_cx.columns:
        expected = via_sa[column].cast(pl.String).to_list()
        assert via_cx[column].cast(pl.String).to_list() == expected, column
        assert via_ibis[column].cast(pl.String).to_list() == expected, column


@pytest.mark.parametrize("scheme", PATHS, indirect=True)
def test_database_errors_are_clear_and_hide_the_password(postgres: str, sql_connector, tmp_path: Path,
                                                        scheme: str, request: pytest.FixtureRequest) -> None:
    uri = f"{scheme}://{postgres}"
    with pytest.raises(DataError) as bad_query:
        _read(sql_connector, tmp_path, uri=uri, query="SELECT no_such_column FROM orders")
    assert "query failed" in bad_query.value.message and "no_such_column" in bad_query.value.message
    assert PASSWORD not in str(bad_query.value) and "***" in bad_query.value.message
    # connectorx keeps retrying a refused login for 30 s (its pool's timeout): not on that path
    if request.node.callspec.params["scheme"] != "connectorx":
        with pytest.raises(DataError) as bad_login:
            _read(sql_connector, tmp_path, uri=uri.replace(PASSWORD, "wrong-password"), table="orders")
        assert "wrong-password" not in str(bad_login.value) and "password authentication failed" in str(
            bad_login.value)
        assert bad_login.value.hint and ("credentials" in bad_login.value.hint or "password" in bad_login.value.hint)


def test_spec_on_postgres_matches_hand_computed_kpis(postgres: str, tmp_path: Path) -> None:
    """End to end: a spec whose source is the PostgreSQL table; monthly KPIs against plain Python."""
    (tmp_path / "spec.yaml").write_text(textwrap.dedent(f"""
        name: shop
        sources:
          orders:
            connector: sql
            options: {{uri: "postgresql://{postgres}", table: orders}}
            time_column: day
        kpis:
          revenue: {{source: orders, agg: sum, column: amount_cents, filter: "not refunded", segments: [channel]}}
          orders: {{source: orders, agg: count}}
          aov: {{ratio: {{numerator: revenue, denominator: orders}}}}
    """))
    results = evaluate(load_spec(tmp_path / "spec.yaml"), as_of=dt.date(2026, 3, 31))

    def monthly(kpi: str) -> dict[dt.date, float | None]:
        series = next(s for s in results.kpi(kpi).series if s.grain == "month" and s.kind == "headline")
        return {p.period: p.value for p in series.points}

    months = [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    revenue = {m: float(sum(r[3] or 0 for r in ORDERS if r[1].replace(day=1) == m and not r[4])) for m in months}
    count = {m: float(sum(1 for r in ORDERS if r[1].replace(day=1) == m)) for m in months}
    assert monthly("revenue") == revenue
    assert monthly("orders") == count
    assert monthly("aov") == pytest.approx({m: revenue[m] / count[m] for m in months}, rel=1e-10)
    # the null amount (order 6) is skipped and reported
    assert any("null 'amount_cents'" in n.message for n in results.notes)


def test_sources_on_one_server_share_a_connection(postgres: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Two sources on one server: one connection for the run (one freshness statement, one backend),
    closed when the run ends; the KPIs as each source alone gives them."""
    from metricspec.connectors import shared

    opened: list[object] = []
    real = shared._postgres

    def connect(url: str) -> object:
        con = real(url)
        opened.append(con)
        return con

    monkeypatch.setattr(shared, "_postgres", connect)
    (tmp_path / "spec.yaml").write_text(textwrap.dedent(f"""
        name: shop
        sources:
          orders: {{connector: sql, options: {{uri: "postgresql://{postgres}", table: orders}}, time_column: day}}
          paid: {{connector: sql, options: {{uri: "postgresql://{postgres}", table: shop.paid}}, time_column: day}}
        kpis:
          orders: {{source: orders, agg: count}}
          paid_orders: {{source: paid, agg: count}}
    """))
    results = evaluate(load_spec(tmp_path / "spec.yaml"), as_of=dt.date(2026, 3, 31))
    assert len(opened) == 1
    assert not shared._SERVERS  # closed with the run
    with pytest.raises(Exception):  # noqa: B017 (psycopg's own error type)
        opened[0].raw_sql("SELECT 1")  # type: ignore[attr-defined]

    def total(kpi: str) -> float:
        series = next(s for s in results.kpi(kpi).series if s.grain == "month" and s.kind == "headline")
        return sum(p.value or 0 for p in series.points)

    assert total("orders") == len(ORDERS)
    assert total("paid_orders") == sum(1 for r in ORDERS if not r[4])


def test_a_postgres_run_does_not_import_pandas(postgres: str, tmp_path: Path) -> None:
    """ibis' PostgreSQL backend imports pandas when it connects (for a dumper metricspec never uses);
    metricspec's connection does not: a fresh process evaluates a spec on PostgreSQL without pandas, and
    the server session is in UTC as ibis sets it."""
    import subprocess
    import sys

    (tmp_path / "spec.yaml").write_text(textwrap.dedent(f"""
        name: shop
        sources:
          orders: {{connector: sql, options: {{uri: "postgresql://{postgres}", table: orders}}, time_column: day}}
        kpis:
          orders: {{source: orders, agg: count}}
    """))
    program = textwrap.dedent(f"""
        import datetime as dt, sys
        from pathlib import Path
        from metricspec.connectors.shared import server_connection
        from metricspec.engine.run import evaluate
        from metricspec.loader import load_spec
        results = evaluate(load_spec(Path({str(tmp_path / "spec.yaml")!r})), as_of=dt.date(2026, 3, 31))
        points = [p for s in results.kpi("orders").series if s.grain == "month" and s.kind == "headline"
                  for p in s.points]
        zone = server_connection("postgres://{postgres}").raw_sql("SHOW TIMEZONE").fetchone()[0]
        print(sum(p.value or 0 for p in points), "pandas" in sys.modules, zone)
    """)
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.split() == [f"{float(len(ORDERS))}", "False", "UTC"]
