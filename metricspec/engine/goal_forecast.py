"""A goal's forecast: gather the history its measure needs, ask :mod:`metricspec.engine.forecast`.

Which history (docs/goals.md#models):

* ``total`` of a count or sum: the KPI per day (a running total's daily amounts);
* ``latest`` of a snapshot (followers): the KPI per day, as daily changes of the level;
* ``latest`` of a to-date total (MTD, YTD) of a count or sum: its base KPI per day, from the restart;
* ``latest`` of anything else: the KPI's complete periods in the goal's grain;
* ``total`` of anything else (a rate over the window): the same periods, and how much of the window
  has passed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from metricspec.engine.forecast import Forecast, GoalHistory, forecast
from metricspec.engine.forecast.running_total import WINDOW
from metricspec.engine.kpis import Evaluator
from metricspec.engine.results import Point
from metricspec.kinds import KPI
from metricspec.plan.nodes import Request, Window, make_scope
from metricspec.plan.periods import add_periods, label, period_end, truncate_date

ONE_DAY = dt.timedelta(days=1)
SHARES = frozenset({"share", "retention", "cohort_retention", "funnel"})
"""KPI forms whose values are shares of a whole: they cannot pass 1."""


@dataclass(frozen=True)
class DailyPlan:
    """The per-day series a goal's forecast reads (None: the goal's trend is enough)."""

    request: Request
    kind: str  # "total", "level" or "to_date"
    counts: bool = False  # whole numbers (a count KPI, or the base of a to-date count)
    distinct: Request | None = None  # count_distinct totals: the KPI over the last 28 days, to scale days


def plan_daily(ev: Evaluator, kpi_name: str, kpi: KPI, measure: str, scope: dict[str, object],
               window_end: dt.date) -> DailyPlan | None:
    """Register the daily series a goal on ``kpi`` needs, if any."""
    sc = make_scope(kpi.scope, scope)
    agg = getattr(kpi, "agg", None)
    plan: DailyPlan | None = None
    if measure == "total" and kpi.additive and agg in ("sum", "count", "count_distinct"):
        distinct = None
        if agg == "count_distinct":
            distinct = Request(kpi_name, Window(window_end - dt.timedelta(days=WINDOW - 1), window_end), (), sc)
            ev.request(distinct)
        plan = DailyPlan(Request(kpi_name, "day", (), sc), "total", agg == "count", distinct)
    elif measure == "latest" and kpi.snapshot:
        plan = DailyPlan(Request(kpi_name, "day", (), sc), "level")
    elif measure == "latest" and kpi.form == "to_date":
        base_name = kpi.to_date.kpi  # type: ignore[attr-defined]
        base = ev.spec.kpis[base_name]
        if getattr(base, "agg", None) in ("sum", "count"):
            plan = DailyPlan(Request(base_name, "day", (), make_scope(base.scope, dict(sc))), "to_date",
                             getattr(base, "agg", None) == "count")
    if plan is not None:
        ev.request(plan.request)
    return plan


@dataclass(frozen=True)
class Horizon:
    """When the goal is judged."""

    as_of: dt.date
    start: dt.date | None
    deadline: dt.date
    window_end: dt.date
    grain: str
    week_start: str


def goal_forecast(ev: Evaluator, daily: DailyPlan | None, kpi: KPI, measure: str, current: float,
                  trend: list[Point], hz: Horizon) -> Forecast | None:
    """The forecast of the goal's value at the deadline (the deadline not yet passed)."""
    history = _history(ev, daily, kpi, measure, current, trend, hz)
    return None if history is None else forecast(history)


def _history(ev: Evaluator, daily: DailyPlan | None, kpi: KPI, measure: str, current: float,
             trend: list[Point], hz: Horizon) -> GoalHistory | None:
    if daily is not None:
        frame = ev.series(daily.request)
        if daily.kind == "total":
            return _running_total(ev, daily, frame, kpi, current, hz)
        if daily.kind == "level":
            return _level(frame, current, trend, hz)
        return _to_date(frame, daily, kpi, current, hz)
    values, last = complete_values(trend, hz)
    floor = 0.0 if len(values) and float(values.min()) >= 0 else None
    ceiling = 1.0 if kpi.form in SHARES and len(values) and float(values.max()) <= 1 else None
    if measure == "latest":
        if last is None:
            return None
        ahead = _index(last, target_period(hz), hz.grain)
        return GoalHistory("period", current, values=values, ahead=max(ahead, 0), floor=floor, ceiling=ceiling)
    first = hz.start or (trend[0].period if trend else None)
    if first is None:
        return None
    seen = (hz.window_end - first).days + 1
    share = min(max(seen / ((hz.deadline - first).days + 1), 0.0), 1.0)
    left = periods_left(hz.as_of, hz.deadline, hz.grain, hz.week_start)
    return GoalHistory("window", current, values=values, ahead=left, share=share, floor=floor, ceiling=ceiling)


def running_points(ev: Evaluator, daily: DailyPlan | None, start: dt.date | None, window_end: dt.date,
                   final: bool, grain: str) -> list[Point]:
    """A running total goal's value at the end of each period since its start: the days from the start
    to the period's last day (or to the window's end). Periods still running are left out, unless the
    window has ended (then the last one ends with it). Empty for other goals."""
    if daily is None or daily.kind != "total" or daily.distinct is not None:
        return []
    rows = ev.series(daily.request).drop_nulls("value")
    first = start or (rows["period"].min() if rows.height else None)
    if not isinstance(first, dt.date):
        return []
    rows = rows.filter((pl.col("period") >= first) & (pl.col("period") <= window_end))
    days, values = rows["period"].to_list(), rows["value"].to_list()
    out, total, i = [], 0.0, 0
    period = truncate_date(first, grain, ev.range.week_start)
    while period <= window_end:
        end = period_end(period, grain)
        if end > window_end + ONE_DAY and not final:
            break
        while i < len(days) and days[i] < end:
            total += float(values[i])
            i += 1
        out.append(Point(period=period, label=label(period, grain), value=total, partial=False))
        period = end
    return out


MAX_WINDOWS = 60
"""A rate over a goal window is computed to the end of at most this many periods (the latest)."""


def plan_windows(ev: Evaluator, kpi_name: str, scope: tuple[tuple[str, object], ...], start: dt.date,
                 window_end: dt.date, grain: str, final: bool) -> tuple[tuple[dt.date, Request], ...]:
    """Register the goal's KPI over [start, end of each period complete by the window's end]."""
    out = []
    period = truncate_date(start, grain, ev.range.week_start)
    while period <= window_end:
        end = period_end(period, grain)
        if end > window_end + ONE_DAY and not final:
            break
        out.append((period, Request(kpi_name, Window(start, min(end - ONE_DAY, window_end)), (), scope)))
        period = end
    out = out[-MAX_WINDOWS:]
    for _, request in out:
        ev.request(request)
    return tuple(out)


def window_points(ev: Evaluator, windows: tuple[tuple[dt.date, Request], ...], grain: str) -> list[Point]:
    """The goal's value over the window to each period's end (None where the KPI has no value)."""
    out = []
    for period, request in windows:
        frame = ev.series(request)
        value = frame["value"][0] if frame.height else None
        out.append(Point(period=period, label=label(period, grain), value=None if value is None else float(value),
                         partial=False))
    return out


def complete_values(trend: list[Point], hz: Horizon) -> tuple[np.ndarray, dt.date | None]:
    """The values of the periods complete by the as-of date (empty periods left out), and the last one."""
    done = [p for p in trend if p.value is not None and period_end(p.period, hz.grain) <= hz.window_end + ONE_DAY]
    return np.asarray([p.value for p in done], dtype=float), (done[-1].period if done else None)


def target_period(hz: Horizon) -> dt.date:
    """The period whose value is the goal's value at the deadline: the last one complete by then."""
    period = truncate_date(hz.deadline, hz.grain, hz.week_start)
    return period if period_end(period, hz.grain) <= hz.deadline + ONE_DAY else add_periods(period, hz.grain, -1)


def periods_left(as_of: dt.date, deadline: dt.date, grain: str, week_start: str = "monday") -> int:
    """Periods of ``grain`` not complete by the as-of date that start on or before the deadline."""
    if deadline < as_of:
        return 0
    first = truncate_date(as_of, grain, week_start)
    if period_end(first, grain) <= as_of + ONE_DAY:
        first = add_periods(first, grain, 1)
    last = truncate_date(deadline, grain, week_start)
    return max(_index(first, last, grain) + 1, 0)


def _index(first: dt.date, period: dt.date, grain: str) -> int:
    if grain == "day":
        return (period - first).days
    if grain == "week":
        return (period - first).days // 7
    months = (period.year - first.year) * 12 + period.month - first.month
    return months // {"month": 1, "quarter": 3, "year": 12}[grain]


def _days(frame: pl.DataFrame, until: dt.date, fill: float | None) -> tuple[list[dt.date], np.ndarray]:
    """Daily values from the first day with a non-zero value to ``until`` or the last day with data
    (after a source's latest date days are unknown, not zero); missing days are ``fill`` (None: the
    last value carried forward)."""
    rows = frame.filter(pl.col("period") <= until).drop_nulls("value")
    if rows.height == 0:
        return [], np.asarray([], dtype=float)
    until = rows["period"].max()  # type: ignore[assignment]
    if fill is not None:
        rows = rows.filter(pl.col("value") != 0)
    if rows.height == 0:
        return [], np.asarray([], dtype=float)
    known = dict(zip(rows["period"].to_list(), rows["value"].to_list(), strict=True))
    first = min(known)
    days = [first + dt.timedelta(days=i) for i in range((until - first).days + 1)]
    out, last = [], 0.0
    for day in days:
        value = known.get(day)
        last = float(value) if value is not None else (last if fill is None else fill)
        out.append(last)
    return days, np.asarray(out, dtype=float)


def _running_total(ev: Evaluator, daily: DailyPlan, frame: pl.DataFrame, kpi: KPI, current: float,
                   hz: Horizon) -> GoalHistory:
    days, values = _days(frame, hz.window_end, 0.0)
    known_until = days[-1] if days else hz.window_end  # a source may stop before the as-of date
    if daily.distinct is not None and len(values):  # distinct over 28 days is less than the days' sum
        window = ev.series(daily.distinct)
        distinct = float(window["value"][0]) if window.height and window["value"][0] is not None else None
        summed = float(values[-WINDOW:].sum())
        if distinct is not None and summed > 0:
            values = values * min(distinct / summed, 1.0)
    counting = daily.counts or daily.distinct is not None
    nonnegative = counting or (len(values) > 0 and float(values.min()) >= 0)
    return GoalHistory("running_total", current, daily=values, days_left=(hz.deadline - known_until).days,
                       offset=current, counts=daily.counts, floor=current if nonnegative else None)


def _level(frame: pl.DataFrame, current: float, trend: list[Point], hz: Horizon) -> GoalHistory | None:
    days, levels = _days(frame, hz.window_end, None)
    if len(levels) == 0:
        return None
    target = target_period(hz)
    _, last = complete_values(trend, hz)
    if last is not None and target <= last:
        return GoalHistory("period", current, values=np.asarray([current]), ahead=0)
    until = period_end(target, hz.grain) - ONE_DAY
    return GoalHistory("level", current, daily=np.diff(levels), days_left=max((until - days[-1]).days, 0),
                       offset=float(levels[-1]), floor=0.0 if float(levels.min()) >= 0 else None)


def _to_date(frame: pl.DataFrame, daily: DailyPlan, kpi: KPI, current: float, hz: Horizon) -> GoalHistory:
    """A to-date total at the deadline: the days since its restart, plus the days to the deadline."""
    period = kpi.to_date.period  # type: ignore[attr-defined]
    _, values = _days(frame, hz.window_end, 0.0)
    restart = truncate_date(hz.window_end, period, hz.week_start)
    end_restart = truncate_date(hz.deadline, period, hz.week_start)
    if end_restart == restart:
        since = min((hz.window_end - restart).days + 1, len(values))
        offset = float(values[-since:].sum()) if since > 0 else 0.0
        left = (hz.deadline - hz.window_end).days
    else:
        offset, left = 0.0, (hz.deadline - end_restart).days + 1
    nonnegative = daily.counts or float(values.min(initial=0.0)) >= 0
    return GoalHistory("running_total", current, daily=values, days_left=left, offset=offset, counts=daily.counts,
                       floor=offset if nonnegative else None)
