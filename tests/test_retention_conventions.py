"""Retention conventions a user could not see (issue 21): what one event is (`per: order_id` counts
orders, not invoice lines: 97.9 % of customers "repeated" from invoice lines against 61.5 % from
invoices) and which day rule applies (`day_rule: elapsed`, 24-hour days from the start's instant, the
default; `calendar`, local dates as tenure and rolling windows count). Checked against a plain-Python
computation on random data, on polars and DuckDB, and printed by `run --explain`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.cli import main
from metricspec.engine.run import evaluate
from metricspec.loader import load_spec

pytest.importorskip("duckdb")
pytest.importorskip("ibis")

from backend_support import DuckDBLoader, database_plugin_manager

AS_OF = dt.date(2026, 4, 1)
START = dt.datetime(2026, 1, 1)
Row = tuple[str, str, dt.datetime]  # customer, order, time

SPEC = """\
name: r
grains: [month]
sources:
  inv: {connector: csv, options: {path: inv.csv}, time_column: at}
kpis:
"""
KPIS = {
    "repeat_lines": ("repeat", None, "elapsed", 10, 30),
    "repeat_orders": ("repeat", "order_id", "elapsed", 10, 30),
    "repeat_orders_cal": ("repeat", "order_id", "calendar", 10, 30),
    "back_elapsed": ("active", None, "elapsed", 2, 3),
    "back_calendar": ("active", None, "calendar", 2, 3),
    "back_orders_calendar": ("active", "order_id", "calendar", 1, 2),
}


def _spec() -> str:
    lines = []
    for name, (mode, per, rule, after, window) in KPIS.items():
        extra = f", per: {per}" if per else ""
        lines.append(f"  {name}: {{retention: {{source: inv, key: customer, after_days: {after}, window_days: "
                     f"{window}, mode: {mode}, day_rule: {rule}{extra}}}, unit: percent}}")
    return SPEC + "\n".join(lines) + "\n"


def _reference(rows: list[Row], mode: str, per: str | None, rule: str, after: int, window: int) -> dict[str, float]:
    """Per month of the cohort's start: the share of customers retained, in plain Python."""
    def day(t: dt.datetime) -> dt.datetime:
        return dt.datetime.combine(t.date(), dt.time()) if rule == "calendar" else t

    events: dict[str, list[dt.datetime]] = {}
    if per:
        first: dict[tuple[str, str], dt.datetime] = {}
        for c, o, t in rows:
            first[(c, o)] = min(first.get((c, o), t), t)
        for (c, _o), t in first.items():
            events.setdefault(c, []).append(day(t))
    else:
        for c, _o, t in rows:
            events.setdefault(c, []).append(day(t))
    cutoff = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
    span = dt.timedelta(days=after + window if mode == "active" else after)
    cohorts: dict[dt.date, list[bool]] = {}
    for c, times in events.items():
        start = min(day(t) for cc, _o, t in rows if cc == c)
        if start + span > cutoff:
            continue
        if mode == "active":
            ok = any(start + dt.timedelta(days=after) <= t < start + span for t in times)
        else:
            ok = sum(start <= t <= start + dt.timedelta(days=after) for t in times) >= 2
        cohorts.setdefault(start.date().replace(day=1), []).append(ok)
    return {m.isoformat(): sum(v) / len(v) for m, v in cohorts.items()}


def _values(results: dict[str, object], name: str) -> dict[str, float]:
    kpi = next(k for k in results["kpis"] if k["name"] == name)  # type: ignore[index]
    return {p["period"]: p["value"] for s in kpi["series"] if s["kind"] == "headline" for p in s["points"]
            if p["value"] is not None}


rows_strategy = st.lists(st.tuples(st.sampled_from(["c1", "c2", "c3", "c4", "c5"]), st.sampled_from(["o1", "o2", "o3"]),
                                   st.integers(0, 60 * 24 * 50)), min_size=1, max_size=30)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=rows_strategy)
def test_retention_by_order_and_by_calendar_day_equals_plain_python(tmp_path_factory: pytest.TempPathFactory,
                                                                   raw: list[tuple[str, str, int]]) -> None:
    d = tmp_path_factory.mktemp("ret")
    rows = [(c, f"{c}-{o}", START + dt.timedelta(minutes=m)) for c, o, m in raw]
    (d / "inv.csv").write_text("customer,order_id,at\n" + "".join(f"{c},{o},{t:%Y-%m-%d %H:%M:%S}\n"
                                                                 for c, o, t in rows), encoding="utf-8")
    (d / "s.yaml").write_text(_spec(), encoding="utf-8")
    for backend in ("polars", "duckdb"):
        pm = database_plugin_manager(DuckDBLoader()) if backend == "duckdb" else None
        results = json.loads(evaluate(load_spec(d / "s.yaml"), as_of=AS_OF, plugin_manager=pm).to_json())
        for name, settings_ in KPIS.items():
            assert _values(results, name) == pytest.approx(_reference(rows, *settings_)), (backend, name)


def test_invoice_lines_are_not_repeat_purchases_with_per(tmp_path: Path) -> None:
    """One two-line first order: a repeat when rows are events, not when an event is an order."""
    rows = [("c1", "o1", START), ("c1", "o1", START + dt.timedelta(seconds=1)), ("c2", "o2", START),
            ("c2", "o3", START + dt.timedelta(days=3))]
    (tmp_path / "inv.csv").write_text("customer,order_id,at\n" + "".join(f"{c},{o},{t:%Y-%m-%d %H:%M:%S}\n"
                                                                         for c, o, t in rows), encoding="utf-8")
    (tmp_path / "s.yaml").write_text(_spec(), encoding="utf-8")
    results = json.loads(evaluate(load_spec(tmp_path / "s.yaml"), as_of=AS_OF).to_json())
    assert _values(results, "repeat_lines") == {"2026-01-01": 1.0}
    assert _values(results, "repeat_orders") == {"2026-01-01": 0.5}


def test_explain_prints_each_kind_s_conventions(tmp_path: Path) -> None:
    (tmp_path / "inv.csv").write_text("customer,order_id,at\nc1,o1,2026-01-01 10:00:00\n", encoding="utf-8")
    (tmp_path / "s.yaml").write_text(_spec() + "  orders: {source: inv, agg: count_distinct, column: order_id}\n"
                                     "  last_7: {rolling: {kpi: orders, days: 7}}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(tmp_path / "s.yaml"), "--explain", "--as-of", "2026-04-01"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "conventions (what an event is, how days are counted, the edges of periods and windows):" in out
    assert "  repeat_lines (retention):\n    event: a row of 'inv' (give `per:`" in out
    assert "event: rows of 'inv' with one 'order_id' per 'customer'" in out
    assert "days: elapsed: 24-hour days from the instant of the entity's start" in out
    assert "days: calendar: calendar days in UTC (the start's date is day 0)" in out
    assert "last_7 (rolling):" in out and "only the current period's ends on the as-of date" in out
    data = json.loads(CliRunner().invoke(main, ["run", str(tmp_path / "s.yaml"), "--explain", "--format", "json",
                                                "--as-of", "2026-04-01"]).output)
    assert {c["kpi"] for c in data[0]["conventions"]} == {*KPIS, "orders", "last_7"}
