"""SMART lint: is each goal Specific, Measurable, Achievable, Results-focused and Time-bound?"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING

from metricspec.engine.periods import period_end
from metricspec.engine.results import GoalResult, SmartFinding

if TYPE_CHECKING:
    from metricspec.engine.goals import GoalPlan
    from metricspec.engine.kpis import Evaluator


def smart_findings(ev: Evaluator, gp: GoalPlan, result: GoalResult) -> list[SmartFinding]:
    where = result.where
    goal, kpi = gp.goal, gp.kpi
    out: list[SmartFinding] = []
    # Specific: one KPI (always) and one scope
    unscoped = [s for s in kpi.segments if s not in goal.scope and s not in kpi.scope]
    snapshot = kpi.form == "agg" and kpi.agg in ("last", "first")
    if unscoped and snapshot and not kpi.scope and not goal.scope:
        out.append(SmartFinding(criterion="specific", ok=False, where=where,
                                message=f"KPI '{goal.kpi}' is broken down by {', '.join(unscoped)} but the goal has "
                                        "no scope; say which segment the goal is for (`scope:`) or confirm the total"))
    else:
        scope = ", ".join(f"{k}={v}" for k, v in result.scope.items()) or "all data"
        out.append(SmartFinding(criterion="specific", ok=True, where=where,
                                message=f"one KPI ({goal.kpi}) and one scope ({scope})"))
    # Measurable
    if result.current is None:
        out.append(SmartFinding(criterion="measurable", ok=False, where=where,
                                message="the KPI produced no value on the data for this scope; check the scope "
                                        "values and the source"))
    else:
        out.append(SmartFinding(criterion="measurable", ok=True, where=where,
                                message=f"the data gives a current value of {result.current:.6g}"))
    # Achievable: implied change per period vs the best seen in history
    out.append(_achievable(ev, gp, result, where))
    # Results-focused
    if kpi.kind == "activity":
        out.append(SmartFinding(criterion="results_focused", ok=False, where=where,
                                message=f"'{goal.kpi}' measures activity (e.g. posting), not an outcome; "
                                        "aim the goal at what the activity should achieve (reach, leads, sales)"))
    else:
        out.append(SmartFinding(criterion="results_focused", ok=True, where=where, message="targets an outcome"))
    # Time-bound
    if gp.deadline is None:
        out.append(SmartFinding(criterion="time_bound", ok=False, where=where,
                                message="no deadline or period; add `deadline: YYYY-MM-DD`"))
    else:
        out.append(SmartFinding(criterion="time_bound", ok=True, where=where, message=f"deadline {gp.deadline}"))
    return out


def _achievable(ev: Evaluator, gp: GoalPlan, result: GoalResult, where: str | None) -> SmartFinding:
    from metricspec.engine.goals import periods_left  # goals imports this module
    pts = [p for p in result.trend if p.value is not None
           and period_end(p.period, gp.grain) <= ev.as_of + dt.timedelta(days=1)]
    target, current, direction = result.target, result.current, result.direction
    if current is None or gp.deadline is None:
        return SmartFinding(criterion="achievable", ok=True, where=where,
                            message="cannot judge: needs a current value and a deadline")
    if (current >= target) if direction == "increase" else (current <= target):
        if result.baseline is not None and ((result.baseline >= target) if direction == "increase"
                                            else (result.baseline <= target)):
            return SmartFinding(criterion="achievable", ok=False, where=where,
                                message="the target was already met at the baseline: not ambitious")
        return SmartFinding(criterion="achievable", ok=True, where=where, message="target already reached")
    left = periods_left(ev.as_of, gp.deadline, gp.grain)
    if left <= 0:
        return SmartFinding(criterion="achievable", ok=True, where=where, message="deadline reached")
    if gp.measure == "total" and gp.kpi.additive:
        needed = (target - current) / left
        best = max((p.value for p in pts), default=None) if direction == "increase" else None
        if best is None:
            return SmartFinding(criterion="achievable", ok=True, where=where,
                                message=f"needs {needed:.4g} per {gp.grain}; no history to compare")
        ok = needed <= best
        return SmartFinding(criterion="achievable", ok=ok, where=where,
                            message=f"needs {needed:.4g} per {gp.grain} for {left} {gp.grain}(s); "
                                    f"best {gp.grain} so far: {best:.4g}")
    if current == 0 or (current < 0) != (target < 0):
        return SmartFinding(criterion="achievable", ok=True, where=where,
                            message="cannot compute a growth rate from the current value")
    needed_rate = (target / current) ** (1 / left) - 1
    rates = []
    for a, b in itertools.pairwise(pts):
        if a.value:
            rates.append((b.value - a.value) / abs(a.value))
    if not rates:
        return SmartFinding(criterion="achievable", ok=True, where=where,
                            message=f"needs {needed_rate:+.2%} per {gp.grain}; too little history to compare")
    best_rate = max(rates) if direction == "increase" else min(rates)
    ok = needed_rate <= best_rate if direction == "increase" else needed_rate >= best_rate
    return SmartFinding(criterion="achievable", ok=ok, where=where,
                        message=f"needs {needed_rate:+.2%} per {gp.grain} for {left} {gp.grain}(s); best "
                                f"{gp.grain}-over-{gp.grain} change seen: {best_rate:+.2%}")
