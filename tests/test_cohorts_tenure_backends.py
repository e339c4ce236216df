"""cohort_retention and tenure give the same Results on polars, DuckDB and PostgreSQL.

The data is loaded into the database by the harness of tests/backend_support.py (the spec is
unchanged; its sources become database tables), so the kinds read their rows through the SQL
backend's ``events`` (filter, scope and projection run in the database). The cohort table, the series
and the tenure statistics must be byte-identical to the polars run's.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import textwrap
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from metricspec.engine.run import evaluate
from metricspec.loader import load_spec

# a skip, not an import: importing them at collection costs seconds (docs/contributing.md)
pytestmark = pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ('ibis', 'duckdb')),
                                reason="needs ibis, duckdb: pip install -e '.[test]'")

AS_OF = dt.date(2026, 10, 20)
SPEC = """
name: cohorts-and-tenure
grains: [month]
week_start: sunday
timezone: Europe/Madrid
sources:
  orders: {connector: csv, options: {path: orders.csv}, time_column: ordered_at,
           columns: {ordered_at: datetime, amount: float}, timezone: UTC}
  customers: {connector: csv, options: {path: customers.csv}, time_column: signed_up_at,
              columns: {signed_up_at: datetime, churned_at: date, trial_end: date}}
kpis:
  month_1:
    cohort_retention: {source: orders, key: customer_id, period: month, age: 1, max_age: 6}
    segments: [channel]
    unit: percent
  month_2_big:
    cohort_retention: {source: orders, key: customer_id, period: month, age: 2, filter: "amount >= 20"}
    scope: {channel: x}
  week_3:
    cohort_retention: {source: orders, key: customer_id, period: week, age: 3, max_age: 8}
  median_tenure:
    tenure: {source: customers, key: customer_id, churn_column: churned_at}
    segments: [plan]
  mean_tenure_from_trial:
    tenure: {source: customers, key: customer_id, start_column: trial_end, churn_column: churned_at, measure: mean}
  buying_tenure:
    tenure: {source: orders, key: customer_id, inactivity_days: 40, measure: mean, filter: "amount >= 10"}
    segments: [channel]
objectives:
  loyalty:
    kpis: [month_1, median_tenure]
    goals:
      keep:
        kpi: month_1
        target: 0.3
        start: 2026-03-01
        deadline: 2026-08-31
        measure: total
"""


def write_world(d: Path) -> Path:
    rng = np.random.default_rng(21)
    orders, customers = [], []
    for i in range(250):
        key = f"c{i:04d}"
        start = dt.datetime(2026, 1, 1) + dt.timedelta(minutes=int(rng.integers(0, 260 * 24 * 60)))
        churn = (start + dt.timedelta(days=int(rng.integers(15, 200)))).date() if rng.random() < 0.55 else None
        trial = (start + dt.timedelta(days=14)).date()
        customers.append({"customer_id": key, "signed_up_at": start, "churned_at": churn, "trial_end": trial,
                          "plan": str(rng.choice(["free", "pro"]))})
        t = start
        if i % 20 == 0:  # two first orders at the same instant: the segment must not depend on row order
            orders.append({"customer_id": key, "ordered_at": t, "amount": 30.0, "channel": "x"})
        for _ in range(int(rng.integers(1, 7))):
            orders.append({"customer_id": key, "ordered_at": t, "amount": float(rng.integers(1, 60)),
                           "channel": str(rng.choice(["x", "instagram"]))})
            t += dt.timedelta(minutes=int(rng.integers(60, 60 * 24 * 50)))
    pl.DataFrame(orders).write_csv(d / "orders.csv")
    pl.DataFrame(customers).write_csv(d / "customers.csv")
    (d / "spec.yaml").write_text(textwrap.dedent(SPEC))
    return d / "spec.yaml"


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_world(tmp_path_factory.mktemp("kinds_backends"))


@pytest.fixture(scope="module")
def on_polars(spec: Path) -> str:
    results = evaluate(load_spec(spec), as_of=AS_OF)
    k = results.kpi("month_1")
    assert k.cohorts is not None and len(k.cohorts.rows) >= 8
    assert any(p.value for p in results.kpi("median_tenure").series[0].points)
    assert any(p.value for p in results.kpi("buying_tenure").series[0].points)
    assert results.goals()[0].current is not None
    return results.to_json()


def _differs(a: str, b: str) -> str:
    import difflib

    return "".join(list(difflib.unified_diff(a.splitlines(True), b.splitlines(True), "polars", "sql", n=2))[:60])


def test_duckdb_equals_polars(spec: Path, on_polars: str, duckdb_pm, monkeypatch: pytest.MonkeyPatch) -> None:
    from metricspec.engine.backends.sql import SqlBackend

    read: list[str] = []
    real = SqlBackend.events

    def spy(self, query):  # type: ignore[no-untyped-def]
        read.append(query.source)
        return real(self, query)

    monkeypatch.setattr(SqlBackend, "events", spy)
    text = evaluate(load_spec(spec), as_of=AS_OF, plugin_manager=duckdb_pm).to_json()
    assert {"orders", "customers"} <= set(read), read  # the rows came from the database
    assert text == on_polars, _differs(on_polars, text)


def test_postgres_equals_polars(spec: Path, on_polars: str, postgres_pm) -> None:
    text = evaluate(load_spec(spec), as_of=AS_OF, plugin_manager=postgres_pm).to_json()
    assert text == on_polars, _differs(on_polars, text)
