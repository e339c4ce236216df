"""SMART lint: is each goal Specific, Measurable, Achievable, Results-focused and Time-bound?"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING

from metricspec.engine.goal_forecast import periods_left
from metricspec.engine.results import GoalResult, ParamValue, SmartCriterion, SmartFinding, english
from metricspec.kinds.alltime import ALL_TIME
from metricspec.plan.periods import period_end
from metricspec.spec.segments import segment_columns

if TYPE_CHECKING:
    from metricspec.engine.goals import GoalPlan
    from metricspec.engine.kpis import Evaluator


def finding(criterion: SmartCriterion, ok: bool, where: str | None, code: str, **params: ParamValue) -> SmartFinding:
    """A finding whose English message is the ``code`` template filled with ``params``."""
    return SmartFinding(criterion=criterion, ok=ok, where=where, message=english(code, params), code=code,
                        params=params)


def smart_findings(ev: Evaluator, gp: GoalPlan, result: GoalResult) -> list[SmartFinding]:
    where = result.where
    goal, kpi = gp.goal, gp.kpi
    out: list[SmartFinding] = []
    # Specific: one KPI (always) and one scope
    unscoped = [s for s in segment_columns(kpi.segments) if s not in goal.scope and s not in kpi.scope]
    snapshot = kpi.snapshot and not getattr(kpi, "per", None)  # a sum over entities (per:) is specific
    if unscoped and snapshot and not kpi.scope and not goal.scope:
        out.append(finding("specific", False, where, "smart_specific_unscoped", kpi=goal.kpi,
                           segments=", ".join(unscoped)))
    elif result.scope:
        out.append(finding("specific", True, where, "smart_specific_scoped", kpi=goal.kpi,
                           scope=", ".join(f"{k}={v}" for k, v in result.scope.items())))
    else:
        out.append(finding("specific", True, where, "smart_specific_all_data", kpi=goal.kpi))
    # Measurable
    if result.current is None:
        out.append(finding("measurable", False, where, "smart_measurable_no_value"))
    else:
        out.append(finding("measurable", True, where, "smart_measurable_current", current=result.current))
    # Achievable: implied change per period vs the best seen in history
    out.append(_achievable(ev, gp, result, where))
    # Results-focused
    if kpi.kind == "activity":
        out.append(finding("results_focused", False, where, "smart_results_activity", kpi=goal.kpi))
    else:
        out.append(finding("results_focused", True, where, "smart_results_outcome"))
    # Time-bound
    if gp.deadline is None:
        out.append(finding("time_bound", False, where, "smart_time_no_deadline"))
    else:
        out.append(finding("time_bound", True, where, "smart_time_deadline", deadline=str(gp.deadline)))
    return out


def _achievable(ev: Evaluator, gp: GoalPlan, result: GoalResult, where: str | None) -> SmartFinding:
    """Advice from the forecast: the goal's chance, and the targets history makes 50 % and 80 % likely;
    without a forecast, the pace needed against the best seen."""
    if result.chance is not None and not result.final and len(result.suggested_targets) == 2:
        t50, t80 = (s.target for s in result.suggested_targets)
        if result.ambition == "not_plausible":
            return finding("achievable", False, where, "smart_achievable_not_plausible", chance=result.chance,
                           target_50=t50, target_80=t80)
        if result.ambition == "not_ambitious":
            return finding("achievable", False, where, "smart_achievable_not_ambitious", chance=result.chance,
                           target_50=t50)
        return finding("achievable", True, where, "smart_achievable_chance", chance=result.chance, target_50=t50,
                       target_80=t80)
    pts = [p for p in result.trend if p.value is not None
           and period_end(p.period, gp.grain) <= ev.as_of + dt.timedelta(days=1)]
    target, current, direction = result.target, result.current, result.direction
    if current is None or gp.deadline is None:
        return finding("achievable", True, where, "smart_achievable_unknown")
    if (current >= target) if direction == "increase" else (current <= target):
        if result.baseline is not None and ((result.baseline >= target) if direction == "increase"
                                            else (result.baseline <= target)):
            return finding("achievable", False, where, "smart_achievable_met_at_baseline")
        return finding("achievable", True, where, "smart_achievable_reached")
    if gp.grain == ALL_TIME:  # no periods: no pace to compare with
        return finding("achievable", True, where, "smart_achievable_unknown")
    left = periods_left(ev.as_of, gp.deadline, gp.grain, ev.range.week_start)
    if left <= 0:
        return finding("achievable", True, where, "smart_achievable_deadline_reached")
    if gp.measure == "total" and gp.kpi.additive:
        needed = (target - current) / left
        best = max((p.value for p in pts if p.value is not None), default=None) if direction == "increase" else None
        if best is None:
            return finding("achievable", True, where, "smart_achievable_pace_no_history", needed=needed,
                           grain=gp.grain)
        return finding("achievable", needed <= best, where, "smart_achievable_pace_left", needed=needed,
                       grain=gp.grain, left=left, best=best)
    if current == 0 or (current < 0) != (target < 0):
        return finding("achievable", True, where, "smart_achievable_no_growth_rate")
    needed_rate = (target / current) ** (1 / left) - 1
    rates = []
    for a, b in itertools.pairwise(pts):
        if a.value and b.value is not None:
            rates.append((b.value - a.value) / abs(a.value))
    if not rates:
        return finding("achievable", True, where, "smart_achievable_growth_no_history", needed_rate=needed_rate,
                       grain=gp.grain)
    best_rate = max(rates) if direction == "increase" else min(rates)
    ok = needed_rate <= best_rate if direction == "increase" else needed_rate >= best_rate
    return finding("achievable", ok, where, "smart_achievable_growth_left", needed_rate=needed_rate, grain=gp.grain,
                   left=left, best_rate=best_rate)
