"""Targets suggested from history (``metricspec suggest``): for every goal, and for every KPI that has
none, the targets that history makes 50 % and 80 % likely by the deadline.

Goals keep their deadline, scope and measure; their suggestions are the ones the goal's own judgement
reports (:attr:`~metricspec.engine.results.GoalResult.suggested_targets`). A KPI without a goal gets
a goal drafted on its own series: measured as its kind measures goals (a total for counts and sums,
the latest period otherwise) from the as-of date to ``deadline`` (90 days later by default), judged
by the same engine; KPIs on a source without dates, and those whose history cannot be forecast, are
listed without a target.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from metricspec.engine.results import GoalResult
from metricspec.engine.run import evaluate
from metricspec.kinds.alltime import is_all_time
from metricspec.spec.loaded import LoadedSpec
from metricspec.spec.models import Goal, Objective

DEFAULT_DAYS = 90
UNREACHABLE = 1e300
DRAFTS = "suggested"
"""The objective drafted goals are evaluated under (never written to the spec)."""


@dataclass(frozen=True)
class Suggestion:
    objective: str | None  # None: a KPI without a goal
    goal: str | None
    kpi: str
    unit: str
    result: GoalResult | None  # None: the KPI cannot have a drafted goal (no dates)
    reason: str | None = None  # why there is no suggestion


@dataclass(frozen=True)
class Suggestions:
    spec: str
    path: str
    as_of: dt.date
    deadline: dt.date  # of the drafted goals
    goals: list[Suggestion]
    kpis: list[Suggestion]


def suggest(loaded: LoadedSpec, *, as_of: dt.date | None = None, deadline: dt.date | None = None) -> Suggestions:
    """Evaluate the spec once with its own goals and a drafted goal for each KPI without one."""
    spec = loaded.spec
    first = evaluate(loaded, as_of=as_of)
    end = deadline or first.as_of + dt.timedelta(days=DEFAULT_DAYS)
    with_goals = {g.kpi for _, _, g in spec.goals()}
    drafts: dict[str, Goal] = {}
    skipped: list[Suggestion] = []
    for name, kpi in spec.kpis.items():
        if name in with_goals:
            continue
        if is_all_time(spec, name) or end <= first.as_of:
            skipped.append(Suggestion(None, None, name, kpi.unit, None, "no dates" if end > first.as_of
                                      else "the deadline is not after the as-of date"))
            continue
        # a target out of reach, so the draft is never final: its suggestions come from the forecast alone
        unreachable = UNREACHABLE if kpi.direction == "increase" else -UNREACHABLE
        drafts[name] = Goal(kpi=name, target=unreachable, start=first.as_of, deadline=end)
    drafted: dict[str, GoalResult] = {}
    if drafts:
        objectives = {DRAFTS: Objective(goals=drafts)}
        results = evaluate(dataclasses.replace(loaded, spec=spec.model_copy(update={"objectives": objectives})),
                           as_of=first.as_of)
        drafted = {g.kpi: g for g in results.goals()}
    units = {k.name: k.unit for k in first.kpis}
    goals = [Suggestion(g.objective, g.id, g.kpi, units.get(g.kpi, "number"), g,
                        None if g.suggested_targets else _why_not(g)) for g in first.goals()]
    kpis = [Suggestion(None, None, n, units.get(n, "number"), drafted[n],
                       None if drafted[n].suggested_targets else _why_not(drafted[n])) for n in drafts]
    return Suggestions(spec.name, str(loaded.path), first.as_of, end, goals, kpis + skipped)


def _why_not(g: GoalResult) -> str:
    if g.final:
        return "final: a running total that meets its target for good" \
            if g.status_reason_code == "reason_achieved_cannot_fall" else "final: the deadline has passed"
    if g.current is None:
        return "no value yet"
    if g.deadline is None:
        return "no deadline"
    return "too little history to forecast"
