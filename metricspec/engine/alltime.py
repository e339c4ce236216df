"""All-time KPIs in a run: one value over every row of a source without a time column.

The value is one window request (a :class:`~metricspec.plan.nodes.Window`, so that goals and
derived kinds treat it as one period); its query reads every row of the source in scope, with no
date range, and answers with a null period (``plan.NO_TIME``). The Results carry it as a headline of grain
``all`` with no period, no label and no series: no date appears that the data did not give.
Competitor benchmarks are the same value in the benchmark's scope; fixed-value benchmarks compare
with their value (period benchmarks are refused by validation).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from metricspec.engine.results import BenchmarkValue, Headline, KpiResult
from metricspec.kinds.alltime import ALL_TIME
from metricspec.plan.nodes import Request, Scope, Window, make_scope

if TYPE_CHECKING:
    from metricspec.engine.kpis import Evaluator

EARLIEST_DAY = dt.date(1900, 1, 1)
ALL_TIME_LABEL = "all time"
"""The headline's label (scorecards translate it: ``period_all_time``)."""


def window(ev: Evaluator) -> Window:
    """The all-time request's grain (engine-internal: its dates filter nothing and are never shown)."""
    return Window(EARLIEST_DAY, ev.range.end)


def request(ev: Evaluator, name: str, scope: Scope) -> Request:
    return Request(name, window(ev), (), scope)


def plan(ev: Evaluator, name: str) -> None:
    """Register the all-time KPI's value and its benchmarks' values."""
    kpi = ev.spec.kpis[name]
    ev.request(request(ev, name, make_scope(kpi.scope)))
    for bname in kpi.benchmarks:
        bench = ev.spec.benchmarks[bname]
        if bench.scope:
            ev.request(request(ev, name, make_scope(kpi.scope, bench.scope)))


def value(ev: Evaluator, req: Request) -> float | None:
    frame = ev.series(req)
    if frame.height == 0:
        return None
    v = frame["value"][0]
    return None if v is None else float(v)


def kpi_result(ev: Evaluator, name: str) -> KpiResult:
    """The KPI's Results: one headline of grain ``all`` (no period, no series)."""
    spec = ev.spec
    kpi = spec.kpis[name]
    scope = make_scope(kpi.scope)
    current = value(ev, request(ev, name, scope))
    benches = []
    for bname in kpi.benchmarks:
        bench = spec.benchmarks[bname]
        bv = value(ev, request(ev, name, make_scope(kpi.scope, bench.scope))) if bench.scope else bench.value
        diff = rel = None
        if current is not None and bv is not None:
            diff, rel = current - bv, ((current - bv) / abs(bv) if bv else None)
        benches.append(BenchmarkValue(name=bname, title=bench.title or bname, value=bv, difference=diff,
                                      relative=rel))
    head = Headline(grain=ALL_TIME, period=None, label=ALL_TIME_LABEL, value=current, previous=None, change=None,
                    change_pct=None, previous_year=None, yoy_change=None, yoy_change_pct=None, benchmarks=benches)
    return KpiResult(name=name, title=kpi.title or name, description=kpi.description, unit=kpi.unit,
                     currency=kpi.currency or (spec.currency if kpi.unit == "currency" else None),
                     axis_from_zero=kpi.axis_from_zero,
                     complete_after_days=kpi.complete_after_days, direction=kpi.direction, kind=kpi.kind, form=kpi.form,
                     scope=dict(scope), headlines=[head], series=[])
