"""Judge SMART goals: current value, pacing, forecast and status.

Methods (also in docs/goals.md):

* **current** — ``total``: the KPI over the goal window [start, min(as-of, deadline)];
  ``latest``: the KPI in the latest complete period of the goal grain.
* **expected today** — on the straight line from baseline (at start) to target (at deadline).
* **forecast at deadline** — ``total`` of an additive KPI: current + the daily run rate of
  the last 28 days × days left; ``latest``: least-squares linear trend over the last (up to)
  8 complete periods, extrapolated to the deadline's period (fewer than 3 periods: the
  current value is assumed to hold); ``total`` of a rate: the current rate is assumed to hold.
* **status** — achieved (target met), missed (deadline passed, not met), on track (forecast
  meets the target), at risk (forecast within tolerance of the target — default: 90 % of
  the way from baseline — or current at or ahead of the expected value), off track
  (otherwise), no data.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from metricspec.engine.kpis import Evaluator
from metricspec.engine.results import GoalResult, MessageParams, Point, english
from metricspec.kinds import KPI
from metricspec.kinds.alltime import ALL_TIME, is_all_time
from metricspec.plan.nodes import Request, Window, make_scope
from metricspec.plan.periods import HOUR, ends_after, fixed, label, period_end, truncate_date
from metricspec.spec.models import Goal, ToleranceSpec

EARLIEST = dt.date(1900, 1, 1)
RUN_RATE_DAYS = 28
TREND_PERIODS = 8


@dataclass(frozen=True)
class GoalPlan:
    objective: str
    goal_id: str
    goal: Goal
    kpi: KPI
    grain: str
    measure: str
    direction: str
    start: dt.date | None
    deadline: dt.date | None
    window_end: dt.date
    trend: Request
    current: Request | None
    baseline: Request | None
    recent: Request | None


def default_measure(kpi: KPI) -> str:
    return kpi.default_measure


def plan_goal(ev: Evaluator, objective: str, goal_id: str, goal: Goal) -> GoalPlan:
    spec = ev.spec
    kpi = spec.kpis[goal.kpi]
    if is_all_time(spec, goal.kpi):
        return _plan_all_time_goal(ev, objective, goal_id, goal)
    grain: str = goal.grain or next((g for g in spec.kpi_grains(kpi) if g != HOUR), "day")  # paced in days at least
    measure = goal.measure or default_measure(kpi)
    campaign = spec.campaigns.get(goal.campaign) if goal.campaign else None
    start = goal.start or (goal.period.start if goal.period else None) or (campaign.start if campaign else None) \
        or (spec.period.start if spec.period else None)
    deadline = goal.deadline or (goal.period.end if goal.period else None) or (campaign.end if campaign else None)
    window_end = min(ev.as_of, deadline) if deadline else ev.as_of
    scope = make_scope(kpi.scope, goal.scope)
    trend = Request(goal.kpi, grain, (), scope)
    ev.request(trend)
    current = baseline = recent = None
    if measure == "total":
        current = Request(goal.kpi, Window(start or EARLIEST, window_end), (), scope)
        ev.request(current)
        if kpi.additive and measure == "total":
            recent = Request(goal.kpi, Window(max(start or EARLIEST, window_end - dt.timedelta(days=RUN_RATE_DAYS - 1)),
                                              window_end), (), scope)
            ev.request(recent)
        elif goal.baseline is None and start is not None:
            length = (window_end - start).days + 1
            baseline = Request(goal.kpi, Window(start - dt.timedelta(days=max(length, 1)),
                                                start - dt.timedelta(days=1)), (), scope)
            ev.request(baseline)
    return GoalPlan(objective, goal_id, goal, kpi, grain, measure, goal.direction or kpi.direction, start, deadline,
                    window_end, trend, current, baseline, recent)


def _plan_all_time_goal(ev: Evaluator, objective: str, goal_id: str, goal: Goal) -> GoalPlan:
    """A goal on an all-time KPI: judged by its total, no trend (kinds/alltime.py)."""
    from metricspec.engine import alltime

    spec = ev.spec
    kpi = spec.kpis[goal.kpi]
    campaign = spec.campaigns.get(goal.campaign) if goal.campaign else None
    start = goal.start or (goal.period.start if goal.period else None) or (campaign.start if campaign else None)
    deadline = goal.deadline or (goal.period.end if goal.period else None) or (campaign.end if campaign else None)
    current = alltime.request(ev, goal.kpi, make_scope(kpi.scope, goal.scope))
    ev.request(current)
    return GoalPlan(objective, goal_id, goal, kpi, ALL_TIME, "total", goal.direction or kpi.direction, start,
                    deadline, min(ev.as_of, deadline) if deadline else ev.as_of, current, current, None, None)


def _value(frame: pl.DataFrame) -> float | None:
    if frame.height == 0:
        return None
    v = frame["value"][0]
    return None if v is None else float(v)


@functools.lru_cache(maxsize=4096)
def _period_info(period: dt.date, grain: str, as_of: dt.date, offset: object = None) -> tuple[str, bool]:
    """(label, partial) of a period; ``offset``: an hour's UTC offset, part of the cache key (one instant
    at two offsets, from specs in two time zones, has two labels)."""
    return label(period, grain), ends_after(period, grain, as_of)


_new_point = Point.__new__
# the slots' own setters: they skip the frozen dataclass's __setattr__ guard, as its __init__ does
_set_period, _set_label, _set_value, _set_partial = (
    Point.__dict__[name].__set__ for name in ("period", "label", "value", "partial"))


def make_points(periods: Iterable[dt.date], values: Iterable[float | None], grain: str, as_of: dt.date,
                ) -> list[Point]:
    """Points from values polars already typed (dates, floats or None), without re-validation.

    A run builds tens of thousands of points; this does what ``Point(...)`` does at about half the
    cost. ``tests/test_engine_kpis.py`` checks the result equals points built the ordinary way.
    """
    info: dict[dt.date, tuple[str, bool]] = {}
    out: list[Point] = []
    append = out.append
    for period, value in zip(periods, values, strict=True):
        period = fixed(period)  # an hour: its own UTC offset (the two 02:00 of a 25-hour day are two keys)
        known = info.get(period)
        if known is None:
            offset = period.utcoffset() if isinstance(period, dt.datetime) else None
            known = info[period] = _period_info(period, grain, as_of, offset)
        point = _new_point(Point)
        _set_period(point, period)
        _set_label(point, known[0])
        _set_value(point, value)
        _set_partial(point, known[1])
        append(point)
    return out


def trend_points(frame: pl.DataFrame, grain: str, as_of: dt.date) -> list[Point]:
    """Series rows as Points."""
    return make_points(frame["period"].to_list(), frame["value"].to_list(), grain, as_of)


def latest_complete(points: list[Point], until: dt.date, grain: str) -> Point | None:
    """Latest non-null point whose period ended by ``until`` (else the latest non-null one)."""
    done = [p for p in points if p.value is not None and period_end(p.period, grain) <= until + dt.timedelta(days=1)]
    if done:
        return done[-1]
    anyp = [p for p in points if p.value is not None and p.period <= until]
    return anyp[-1] if anyp else None


def _met(value: float, target: float, direction: str) -> bool:
    return value >= target if direction == "increase" else value <= target


def linear_forecast(points: list[Point], grain: str, deadline: dt.date) -> tuple[float | None, int]:
    """Least-squares line through the last points, evaluated at the deadline's period."""
    pts = [p for p in points if p.value is not None][-TREND_PERIODS:]
    if len(pts) < 3:
        return None, len(pts)
    first = pts[0].period
    xs = [_index(first, p.period, grain) for p in pts]
    ys = [float(p.value) for p in pts if p.value is not None]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    x_deadline = _index(first, truncate_date(deadline, grain), grain)
    return my + slope * (x_deadline - mx), n


def _index(first: dt.date, period: dt.date, grain: str) -> int:
    if grain == "day":
        return (period - first).days
    if grain == "week":
        return (period - first).days // 7
    months = (period.year - first.year) * 12 + period.month - first.month
    return months // {"month": 1, "quarter": 3, "year": 12}[grain]


def tolerance_of(goal: Goal) -> tuple[float | None, float | None]:
    tol = goal.tolerance
    if tol is None:
        return None, None
    if isinstance(tol, ToleranceSpec):
        return tol.absolute, tol.relative
    return None, float(tol)


def evaluate_goal(ev: Evaluator, gp: GoalPlan) -> GoalResult:
    from metricspec.engine.smart import smart_findings

    goal, as_of = gp.goal, ev.as_of
    trend = [] if gp.grain == ALL_TIME else trend_points(ev.series(gp.trend), gp.grain, as_of)
    if gp.start is not None:
        trend_in_range = [p for p in trend if period_end(p.period, gp.grain) > gp.start]
    else:
        trend_in_range = trend
    # current
    if gp.current is not None:
        current = _value(ev.series(gp.current))
    else:
        point = latest_complete(trend, gp.window_end, gp.grain)
        current = point.value if point else None
    # baseline
    baseline_source = "spec"
    baseline = goal.baseline
    if baseline is None:
        baseline_source = "data"
        if gp.measure == "total" and gp.kpi.additive:
            baseline = 0.0
        elif gp.baseline is not None:
            baseline = _value(ev.series(gp.baseline))
        else:
            before = [p for p in trend if p.value is not None and gp.start is not None
                      and period_end(p.period, gp.grain) <= gp.start + dt.timedelta(days=1)]
            pool = before or [p for p in trend if p.value is not None]
            baseline = (pool[-1] if before else pool[0]).value if pool else None
        if baseline is None:
            baseline_source = "none"
    target, direction = goal.target, gp.direction
    span = target - baseline if baseline is not None else None
    progress = (current - baseline) / span if current is not None and baseline is not None and span else None
    expected = expected_progress = None
    if gp.start and gp.deadline and baseline is not None:
        total_days = (gp.deadline - gp.start).days
        frac = 1.0 if total_days <= 0 else min(max((as_of - gp.start).days / total_days, 0.0), 1.0)
        expected_progress = frac
        expected = baseline + (target - baseline) * frac
    # forecast
    forecast: float | None = None
    method: MessageParams = {}
    method_code = "forecast_none_no_deadline"
    passed = gp.deadline is not None and as_of >= gp.deadline
    if current is None:
        method_code = "forecast_none_no_data"
    elif passed:
        forecast, method_code = current, "forecast_final_value"
    elif gp.grain == ALL_TIME:
        method_code = "forecast_none_all_time"
    elif gp.deadline is not None:
        if gp.measure == "total" and gp.kpi.additive and gp.recent is not None:
            recent = _value(ev.series(gp.recent)) or 0.0
            days = min(RUN_RATE_DAYS, (gp.window_end - (gp.start or EARLIEST)).days + 1)
            rate = recent / days if days > 0 else 0.0
            left = (gp.deadline - gp.window_end).days
            forecast = current + rate * left
            method_code, method = "forecast_run_rate", {"days": days, "rate": rate, "left": left}
        elif gp.measure == "latest" and gp.kpi.form == "to_date":
            forecast, method_code, method = _to_date_forecast(ev, gp, current)
        elif gp.measure == "latest":
            complete = [p for p in (trend_in_range or trend)
                        if period_end(p.period, gp.grain) <= gp.window_end + dt.timedelta(days=1)]
            fc, n = linear_forecast(complete, gp.grain, gp.deadline)
            if fc is None:
                forecast, method_code, method = current, "forecast_short_history", {"n": n}
            else:
                forecast, method_code, method = fc, "forecast_linear_trend", {"n": n, "grain": gp.grain}
        else:
            forecast, method_code = current, "forecast_rate_holds"
    tol_abs, tol_rel = tolerance_of(goal)
    status, reason_code, reason = _status(current, target, direction, forecast, expected, baseline, passed,
                                          gp.deadline, tol_abs, tol_rel)
    loc = ev.loaded.where("objectives", gp.objective, "goals", gp.goal_id, key=True)
    result = GoalResult(
        id=gp.goal_id, objective=gp.objective, title=goal.title or gp.goal_id, kpi=goal.kpi,
        scope=dict(make_scope(gp.kpi.scope, goal.scope)), grain=gp.grain, measure=gp.measure, direction=direction,
        start=gp.start, deadline=gp.deadline, baseline=baseline, baseline_source=baseline_source,
        target=target, current=current, progress=progress, expected=expected, expected_progress=expected_progress,
        forecast=forecast, forecast_method=english(method_code, method), forecast_method_code=method_code,
        forecast_method_params=method, status=status,
        status_reason=english(reason_code, reason), status_reason_code=reason_code, status_reason_params=reason,
        tolerance_absolute=tol_abs, tolerance_relative=tol_rel, measured_by=goal.measured_by or gp.kpi.measured_by or ev.spec.measured_by,
        responsible=goal.responsible or ev.spec.objectives[gp.objective].owner or gp.kpi.owner or ev.spec.owner,
        campaign=goal.campaign, where=str(loc) if loc else None, smart=[], trend=trend,
    )
    return result.model_copy(update={"smart": smart_findings(ev, gp, result)})


def _to_date_forecast(ev: Evaluator, gp: GoalPlan, current: float) -> tuple[float, str, MessageParams]:
    """A to-date total (MTD, YTD, …) at the deadline: this period's daily rate so far over the days from
    the restart before the deadline (a sum or count; a trend through a series that drops back at every
    restart would overshoot). A to-date mean or distinct count is assumed to hold."""
    period = gp.kpi.to_date.period  # type: ignore[attr-defined]
    base = ev.spec.kpis[gp.kpi.to_date.kpi]  # type: ignore[attr-defined]
    assert gp.deadline is not None
    if getattr(base, "agg", None) not in ("sum", "count"):
        return current, "forecast_rate_holds", {}
    week_start = ev.range.week_start
    restart = truncate_date(gp.window_end, period, week_start)
    days = (gp.window_end - restart).days + 1
    rate = current / days
    end_restart = truncate_date(gp.deadline, period, week_start)
    if end_restart == restart:
        left = (gp.deadline - gp.window_end).days
        return current + rate * left, "forecast_run_rate", {"days": days, "rate": rate, "left": left}
    left = (gp.deadline - end_restart).days + 1  # the deadline's own period, from its restart
    return rate * left, "forecast_to_date_rate", {"days": days, "rate": rate, "left": left}


def _within(value: float, target: float, direction: str, tol_abs: float | None, tol_rel: float | None,
            baseline: float | None) -> bool:
    if tol_abs is None and tol_rel is None:
        if baseline is None or target == baseline:
            return False
        return (value - baseline) / (target - baseline) >= 0.9
    band = max(tol_abs or 0.0, abs(target) * (tol_rel or 0.0))
    return value >= target - band if direction == "increase" else value <= target + band


def _status(current: float | None, target: float, direction: str, forecast: float | None, expected: float | None,
            baseline: float | None, passed: bool, deadline: dt.date | None, tol_abs: float | None,
            tol_rel: float | None) -> tuple[str, str, MessageParams]:
    """The status, and the code and params of the message saying why (see ``ENGINE_MESSAGES``)."""
    if current is None:
        return "no_data", "reason_no_data", {}
    if _met(current, target, direction):
        code = "reason_achieved_increase" if direction == "increase" else "reason_achieved_decrease"
        return "achieved", code, {"current": current, "target": target}
    if passed:
        return "missed", "reason_missed", {"deadline": str(deadline), "current": current, "target": target}
    if deadline is None:
        return "at_risk", "reason_no_deadline", {}
    if forecast is not None and _met(forecast, target, direction):
        return "on_track", "reason_on_track", {"forecast": forecast, "target": target}
    if forecast is not None and _within(forecast, target, direction, tol_abs, tol_rel, baseline):
        return "at_risk", "reason_within_tolerance", {"forecast": forecast, "target": target}
    if expected is not None and _met(current, expected, direction):
        return "at_risk", "reason_on_pace", {"current": current, "expected": expected}
    if forecast is not None:
        return "off_track", "reason_forecast_misses", {"forecast": forecast, "target": target}
    return "off_track", "reason_behind", {}


def periods_left(as_of: dt.date, deadline: dt.date, grain: str) -> int:
    """Whole periods from the as-of period to the deadline's period (0 once it is reached)."""
    return max(_index(truncate_date(as_of, grain), truncate_date(deadline, grain), grain), 0)
