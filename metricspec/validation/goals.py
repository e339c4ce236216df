"""Goals are well-formed: unique ids, dates in order, a target that differs from the baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level
from metricspec.spec.segments import segment_columns

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec


def validate(loaded: LoadedSpec) -> list[Issue]:
    spec = loaded.spec
    issues: list[Issue] = []
    seen: dict[str, str] = {}
    for oname, obj in spec.objectives.items():
        for gname, goal in obj.goals.items():
            base = ("objectives", oname, "goals", gname)
            if gname in seen:
                issues.append(Issue(Level.ERROR, f"goal id '{gname}' is used in objectives '{seen[gname]}' and "
                                    f"'{oname}'", loaded.where(*base, key=True), "goal ids must be unique in a spec"))
            seen.setdefault(gname, oname)
            start = goal.start or (goal.period.start if goal.period else None)
            end = goal.deadline or (goal.period.end if goal.period else None)
            if goal.deadline and goal.period and goal.deadline != goal.period.end:
                issues.append(Issue(Level.ERROR, "goal has both deadline and period with different ends",
                                    loaded.where(*base, "deadline"), "keep one of them"))
            if start and end and end < start:
                issues.append(Issue(Level.ERROR, f"deadline {end} is before the start {start}",
                                    loaded.where(*base, "deadline"), "move the deadline after the start"))
            if goal.baseline is not None and goal.baseline == goal.target:
                issues.append(Issue(Level.WARNING, f"target equals the baseline ({goal.target:g})",
                                    loaded.where(*base, "target"), "set a target that differs from the baseline"))
            kpi = spec.kpis.get(goal.kpi)
            direction = goal.direction or (kpi.direction if kpi else "increase")
            if goal.baseline is not None and kpi is not None:
                wrong = goal.target < goal.baseline if direction == "increase" else goal.target > goal.baseline
                if wrong:
                    issues.append(Issue(
                        Level.WARNING,
                        f"target {goal.target:g} is {'below' if direction == 'increase' else 'above'} the baseline "
                        f"{goal.baseline:g} but the direction is '{direction}'",
                        loaded.where(*base, "target"),
                        "check the target, or set `direction:` on the goal",
                    ))
            if kpi is not None and goal.scope:
                allowed = set(segment_columns(kpi.segments)) | set(kpi.scope)
                for key in goal.scope:
                    if kpi.segment_source(spec) is not None and allowed and key not in allowed:
                        issues.append(Issue(
                            Level.WARNING,
                            f"goal scope key '{key}' is not a segment of KPI '{goal.kpi}'",
                            loaded.where(*base, "scope", key, key=True),
                            f"add '{key}' to the KPI's segments so the scope can be shown on the scorecard",
                        ))
    return issues
