"""Judge SMART goals: current value, baseline, progress, forecast, chance of success and status.

Methods (also in docs/goals.md):

* **current** — ``total``: the KPI over the goal window [start, min(as-of, deadline)];
  ``latest``: the KPI in the latest complete period of the goal grain.
* **expected today** — on the straight line from baseline (at start) to target (at deadline).
* **forecast at deadline** — a probability distribution from the model the measure calls for
  (:mod:`metricspec.engine.goal_forecast`, :mod:`metricspec.engine.forecast`): its median-free point
  forecast, 80 % and 95 % intervals, the chance of meeting the target, and the targets that are 50 %
  and 80 % likely.
* **status** — one judgement (:mod:`metricspec.engine.judgement`) from the chance and the thresholds.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import polars as pl

from metricspec.engine import alltime
from metricspec.engine.forecast import Forecast, chance_of, target_with_chance
from metricspec.engine.goal_forecast import (
    DailyPlan,
    Horizon,
    goal_forecast,
    periods_left,
    plan_daily,
    plan_windows,
    running_points,
    window_points,
)
from metricspec.engine.judgement import Situation, ambition, attainment, judge
from metricspec.engine.kpis import Evaluator
from metricspec.engine.maturity import still_arriving
from metricspec.engine.points import latest_complete as latest_complete
from metricspec.engine.points import make_points as make_points
from metricspec.engine.points import trend_points
from metricspec.engine.results import (
    DataNote,
    ForecastInterval,
    GoalResult,
    MessageParams,
    Point,
    SuggestedTarget,
    english,
)
from metricspec.engine.smart import smart_findings
from metricspec.kinds import KPI
from metricspec.kinds.alltime import ALL_TIME, is_all_time
from metricspec.plan.nodes import Request, Window, make_scope
from metricspec.plan.periods import HOUR, label, period_end
from metricspec.spec.models import Goal, ToleranceSpec

EARLIEST = dt.date(1900, 1, 1)
INTERVALS = (0.8, 0.95)
SUGGESTED_CHANCES = (0.5, 0.8)


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
    daily: DailyPlan | None
    windows: tuple[tuple[dt.date, Request], ...] = ()  # a rate over the window: the window to each period's end
    left_out: tuple[dt.date, ...] = ()  # ended periods whose values still arrive (engine/maturity.py)

    @property
    def judged_end(self) -> dt.date:
        """The last day the goal is judged on: the window's end, or the day before the first period left out."""
        return self.left_out[0] - dt.timedelta(days=1) if self.left_out else self.window_end


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
    left_out = tuple(still_arriving(ev.as_of, window_end, grain, kpi.complete_after_days, ev.range.week_start))
    judged_end = left_out[0] - dt.timedelta(days=1) if left_out else window_end  # as GoalPlan.judged_end
    scope = make_scope(kpi.scope, goal.scope)
    trend = Request(goal.kpi, grain, (), scope)
    ev.request(trend)
    current = baseline = None
    if measure == "total":
        current = Request(goal.kpi, Window(start or EARLIEST, judged_end), (), scope)
        ev.request(current)
        if not kpi.additive and goal.baseline is None and start is not None:
            length = (judged_end - start).days + 1
            baseline = Request(goal.kpi, Window(start - dt.timedelta(days=max(length, 1)),
                                                start - dt.timedelta(days=1)), (), scope)
            ev.request(baseline)
    daily = plan_daily(ev, goal.kpi, kpi, measure, dict(goal.scope), judged_end)
    windows: tuple[tuple[dt.date, Request], ...] = ()
    if measure == "total" and start is not None and (daily is None or daily.distinct is not None):
        windows = plan_windows(ev, goal.kpi, scope, start, judged_end, grain, deadline is not None
                               and ev.as_of >= deadline)
    return GoalPlan(objective, goal_id, goal, kpi, grain, measure, goal.direction or kpi.direction, start, deadline,
                    window_end, trend, current, baseline, daily, windows, left_out)


def _plan_all_time_goal(ev: Evaluator, objective: str, goal_id: str, goal: Goal) -> GoalPlan:
    """A goal on an all-time KPI: judged by its total, no trend (kinds/alltime.py)."""
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


def tolerance_of(goal: Goal) -> tuple[float | None, float | None]:
    tol = goal.tolerance
    if tol is None:
        return None, None
    if isinstance(tol, ToleranceSpec):
        return tol.absolute, tol.relative
    return None, float(tol)




def evaluate_goal(ev: Evaluator, gp: GoalPlan) -> GoalResult:
    goal, as_of = gp.goal, ev.as_of
    trend = [] if gp.grain == ALL_TIME else trend_points(ev.series(gp.trend), gp.grain, as_of)
    if gp.current is not None:
        current = _value(ev.series(gp.current))
    else:
        point = latest_complete(trend, gp.judged_end, gp.grain)
        current = point.value if point else None
    baseline, baseline_source = _baseline(ev, gp, trend)
    target, direction = goal.target, gp.direction
    span = target - baseline if baseline is not None else None
    progress = (current - baseline) / span if current is not None and baseline is not None and span else None
    expected = expected_progress = None
    if gp.start and gp.deadline and baseline is not None:
        total_days = (gp.deadline - gp.start).days
        frac = 1.0 if total_days <= 0 else min(max((as_of - gp.start).days / total_days, 0.0), 1.0)
        expected_progress = frac
        expected = baseline + (target - baseline) * frac
    passed = gp.deadline is not None and as_of >= gp.deadline
    fc = _forecast(ev, gp, current, trend, passed)
    outlook = _outlook(gp, fc, current, passed)
    thresholds = goal.thresholds or ev.spec.goal_thresholds
    verdict = judge(Situation(
        current=current, target=target, direction=direction, passed=passed,
        deadline=str(gp.deadline) if gp.deadline else None, cannot_fall=_cannot_fall(gp, fc),
        expected=expected, chance=outlook.chance, chance_within_tolerance=outlook.chance_tolerance,
        on_track=thresholds.on_track, at_risk=thresholds.at_risk,
        pending=", ".join(label(p, gp.grain) for p in gp.left_out) if passed and gp.left_out else None))
    chance = outlook.chance if not verdict.final else (1.0 if verdict.status == "achieved" else 0.0)
    # the periods not complete yet up to the deadline: those still to come and those whose values still arrive
    left = periods_left(as_of, gp.deadline, gp.grain, ev.range.week_start) + len(gp.left_out) \
        if gp.deadline and gp.grain != ALL_TIME else None
    tol_abs, tol_rel = tolerance_of(goal)
    loc = ev.loaded.where("objectives", gp.objective, "goals", gp.goal_id, key=True)
    result = GoalResult(
        id=gp.goal_id, objective=gp.objective, title=goal.title or gp.goal_id, kpi=goal.kpi,
        scope=dict(make_scope(gp.kpi.scope, goal.scope)), grain=gp.grain, measure=gp.measure, direction=direction,
        start=gp.start, deadline=gp.deadline, baseline=baseline, baseline_source=baseline_source,
        target=target, current=current, progress=progress, expected=expected, expected_progress=expected_progress,
        forecast=outlook.point, forecast_method=english(outlook.code, outlook.params),
        forecast_method_code=outlook.code, forecast_method_params=outlook.params, status=verdict.status,
        status_reason=english(verdict.reason_code, verdict.reason), status_reason_code=verdict.reason_code,
        status_reason_params=verdict.reason, tolerance_absolute=tol_abs, tolerance_relative=tol_rel,
        measured_by=goal.measured_by or gp.kpi.measured_by or ev.spec.measured_by,
        responsible=goal.responsible or ev.spec.objectives[gp.objective].owner or gp.kpi.owner or ev.spec.owner,
        campaign=goal.campaign, where=str(loc) if loc else None, smart=[], trend=trend,
        final=verdict.final, attainment=attainment(current, target, direction, progress), chance=chance,
        forecast_model=fc.model if fc is not None else None,
        forecast_intervals=[] if verdict.final else outlook.intervals,
        suggested_targets=[] if verdict.final else outlook.suggested, ambition=ambition(chance, verdict.final),
        periods_left=left, needed_per_period=_needed(current, target, direction, left, verdict.final),
        on_track_threshold=thresholds.on_track, at_risk_threshold=thresholds.at_risk,
        left_out=list(gp.left_out), notes=_notes(gp), **_so_far(ev, gp, passed),
    )
    return result.model_copy(update={"smart": smart_findings(ev, gp, result)})


def _baseline(ev: Evaluator, gp: GoalPlan, trend: list[Point]) -> tuple[float | None, str]:
    """The goal's baseline and where it came from: the spec, the data, or nowhere."""
    if gp.goal.baseline is not None:
        return gp.goal.baseline, "spec"
    baseline: float | None
    if gp.measure == "total" and gp.kpi.additive:
        baseline = 0.0
    elif gp.baseline is not None:
        baseline = _value(ev.series(gp.baseline))
    else:
        before = [p for p in trend if p.value is not None and gp.start is not None
                  and period_end(p.period, gp.grain) <= gp.start + dt.timedelta(days=1)]
        pool = before or [p for p in trend if p.value is not None]
        baseline = (pool[-1] if before else pool[0]).value if pool else None
    return baseline, "data" if baseline is not None else "none"


def _forecast(ev: Evaluator, gp: GoalPlan, current: float | None, trend: list[Point], passed: bool,
              ) -> Forecast | None:
    if current is None or passed or gp.deadline is None or gp.grain == ALL_TIME:
        return None
    # judged as of the end of the last period complete (values arriving later are not data yet)
    judged = gp.judged_end if gp.left_out else ev.as_of
    hz = Horizon(judged, gp.start, gp.deadline, gp.judged_end, gp.grain, ev.range.week_start)
    return goal_forecast(ev, gp.daily, gp.kpi, gp.measure, current, trend, hz)


@dataclass(frozen=True)
class Outlook:
    """What the forecast says about the goal (all None/empty without a forecast)."""

    point: float | None
    code: str
    params: MessageParams
    chance: float | None = None
    chance_tolerance: float | None = None
    intervals: list[ForecastInterval] = field(default_factory=list)
    suggested: list[SuggestedTarget] = field(default_factory=list)


def _outlook(gp: GoalPlan, fc: Forecast | None, current: float | None, passed: bool) -> Outlook:
    if current is None:
        return Outlook(None, "forecast_none_no_data", {})
    if passed:
        return Outlook(current, "forecast_final_value", {})
    if gp.grain == ALL_TIME:
        return Outlook(None, "forecast_none_all_time", {})
    if gp.deadline is None:
        return Outlook(None, "forecast_none_no_deadline", {})
    if fc is None:
        return Outlook(None, "forecast_none_short_history", {})
    target, direction, dist = gp.goal.target, gp.direction, fc.distribution
    code = "forecast_final_period" if fc.model == "final_period" else f"forecast_model_{fc.model}"
    tol_abs, tol_rel = tolerance_of(gp.goal)
    chance_tolerance = None
    if tol_abs is not None or tol_rel is not None:
        band = max(tol_abs or 0.0, abs(target) * (tol_rel or 0.0))
        chance_tolerance = chance_of(dist, target - band if direction == "increase" else target + band, direction)
    whole = gp.kpi.unit == "count"  # counts are forecast in whole numbers

    def shown(value: float) -> float:
        return float(round(value)) if whole else value

    intervals = [ForecastInterval(level=level, low=shown(dist.quantile((1 - level) / 2)),
                                  high=shown(dist.quantile((1 + level) / 2))) for level in INTERVALS]
    suggested = [SuggestedTarget(chance=p, target=safe_round(target_with_chance(dist, p, direction), direction, whole))
                 for p in SUGGESTED_CHANCES]
    return Outlook(shown(fc.point), code, dict(fc.params), chance_of(dist, target, direction), chance_tolerance,
                   intervals, suggested)


def safe_round(value: float, direction: str, whole: bool, digits: int = 3) -> float:
    """``value`` to ``digits`` significant digits (whole numbers for counts), rounded towards the easier
    target: down for ``increase``, up for ``decrease`` — so the rounded target is at least as likely."""
    if value == 0 or not math.isfinite(value):
        return value
    step = 10.0 ** (math.floor(math.log10(abs(value))) - digits + 1)
    if whole:
        step = max(step, 1.0)
    if not step or not math.isfinite(value / step):  # magnitudes near the float limits: as they are
        return value
    scaled = value / step
    rounded = math.floor(scaled) if direction == "increase" else math.ceil(scaled)
    return float(f"{rounded * step:.12g}")


def _cannot_fall(gp: GoalPlan, fc: Forecast | None) -> bool:
    """A running total of non-negative values, judged on ``increase``: once met, met for good."""
    if gp.direction != "increase" or gp.measure != "total" or not gp.kpi.additive:
        return False
    if getattr(gp.kpi, "agg", None) in ("count", "count_distinct"):
        return True
    return fc is not None and getattr(fc.distribution, "floor", None) is not None


def _needed(current: float | None, target: float, direction: str, left: int | None, final: bool) -> float | None:
    """The change per period left that would just meet the target (None once met or final)."""
    if current is None or final or not left:
        return None
    if (current >= target) if direction == "increase" else (current <= target):
        return None
    return (target - current) / left


def _notes(gp: GoalPlan) -> list[DataNote]:
    """Why the periods left out were left out."""
    if not gp.left_out:
        return []
    lag = gp.kpi.complete_after_days or 0.0
    params: MessageParams = {"periods": ", ".join(label(p, gp.grain) for p in gp.left_out),
                             "days": int(lag) if float(lag).is_integer() else lag}
    return [DataNote(level="info", message=english("note_goal_left_out", params), code="note_goal_left_out",
                     params=params)]


def _so_far(ev: Evaluator, gp: GoalPlan, passed: bool) -> dict[str, object]:
    """The ``so_far`` points of a ``total`` goal and what they are."""
    running = running_points(ev, gp.daily, gp.start, gp.judged_end, passed, gp.grain)
    if running:
        return {"so_far": running, "so_far_kind": "running_total"}
    window = window_points(ev, gp.windows, gp.grain)
    return {"so_far": window, "so_far_kind": "window"} if window else {}
