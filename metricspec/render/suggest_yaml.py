"""``metricspec suggest`` output: YAML to paste into a spec, the reasoning in comments.

Every existing goal appears under its objective with the target history makes 50 % likely by its
deadline (the 80 % one and the declared target's chance in the comment); KPIs without a goal get a
drafted goal under a ``suggested`` objective. Goals without a suggestion are listed as comments.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from metricspec.engine.results import GoalResult, chance_text
from metricspec.engine.suggest import DRAFTS, Suggestion, Suggestions


def number(value: float, unit: str) -> str:
    """A target as the spec writes it: ``12200``, ``4.71%``, ``0.0183``."""
    if unit == "percent":
        return f"{float(f'{value * 100:.10g}'):g}%"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _targets(g: GoalResult) -> tuple[float, float] | None:
    found = {s.chance: s.target for s in g.suggested_targets}
    return (found[0.5], found[0.8]) if 0.5 in found and 0.8 in found else None


def _goal_lines(s: Suggestion, indent: str) -> list[str]:
    g = s.result
    assert g is not None
    pair = _targets(g)
    if pair is None:
        return [f"{indent}# {s.goal}: no suggestion ({s.reason})"]
    t50, t80 = pair
    note = (f"50% likely by {g.deadline}; 80% likely: {number(t80, s.unit)}; the declared "
            f"{number(g.target, s.unit)} is {chance_text(g.chance or 0.0)} likely")
    if g.ambition:
        note += f" ({g.ambition.replace('_', ' ')})"
    return [f"{indent}{s.goal}:", f"{indent}  target: {number(t50, s.unit)}  # {note}"]


def _draft_lines(s: Suggestion, as_of: str, indent: str) -> list[str]:
    g = s.result
    pair = _targets(g) if g is not None else None
    if g is None or pair is None:
        return [f"{indent}# {s.kpi}: no suggestion ({s.reason})"]
    t50, t80 = pair
    return [f"{indent}{s.kpi}:", f"{indent}  kpi: {s.kpi}",
            f"{indent}  target: {number(t50, s.unit)}  # 50% likely; 80% likely: {number(t80, s.unit)}",
            f"{indent}  measure: {g.measure}", f"{indent}  start: {as_of}", f"{indent}  deadline: {g.deadline}"]


def _goals_block(entries: list[list[str]]) -> list[str]:
    """``goals:`` and its entries; ``goals: {}`` when every entry is a comment (YAML would read null)."""
    lines = [line for entry in entries for line in entry]
    if all(line.lstrip().startswith("#") for line in lines):
        return ["    goals: {}", *lines]
    return ["    goals:", *lines]


def suggestions_yaml(all_suggestions: Iterable[Suggestions]) -> str:
    out: list[str] = []
    for sg in all_suggestions:
        out += [f"# {sg.spec} ({sg.path}), as of {sg.as_of}: targets history makes 50% likely by each deadline",
                "# (the 80% likely one is safer). Paste a target into the spec; see docs/goals.md.",
                "objectives:"]
        by_objective: dict[str, list[Suggestion]] = {}
        for s in sg.goals:
            by_objective.setdefault(s.objective or "", []).append(s)
        for objective, goals in by_objective.items():
            out += [f"  {objective}:", *_goals_block([_goal_lines(s, "      ") for s in goals])]
        if sg.kpis:
            title = json.dumps(f"Suggested goals to {sg.deadline}")
            out += [f"  # KPIs without a goal: drafted from {sg.as_of} to {sg.deadline}", f"  {DRAFTS}:",
                    f"    title: {title}", *_goals_block([_draft_lines(s, str(sg.as_of), "      ") for s in sg.kpis])]
        out.append("")
    return "\n".join(out)
