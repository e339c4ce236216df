"""Units: a goal on a ``unit: percent`` KPI whose number reads as a whole percent (``target: 8``).

A percent KPI's values are fractions (0.08 is shown as 8 %), so ``target: 8`` asks for 800 %: almost
always a slip for 8 %. The number is checked as the spec wrote it: a percent literal (``8%``, ``150%``)
says what is meant and is never warned about; a plain number above 1 in magnitude is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from metricspec.errors import Issue, Level

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec

GOAL_NUMBERS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("target",), 1), (("baseline",), 1), (("tolerance", "absolute"), 1 - 1e-9))
"""The numbers of a goal in the KPI's unit, and the magnitude above which a plain number reads as a whole
percent: a target may be 1 (100 %), an absolute tolerance of 1 (100 points) is a slip for 1 %. A plain
``tolerance:`` number is relative (a fraction of the target whatever the unit) and is not checked here."""


def _raw_at(raw: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(raw, dict) or part not in raw:
            return None
        raw = raw[part]
    return raw


def _whole_percent(value: Any, limit: float = 1) -> bool:
    """A plain number (not a percent literal, not a bool) that reads as a whole percent: above ``limit`` in
    magnitude."""
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) > limit


def _issue(loaded: LoadedSpec, path: tuple[str, ...], what: str, kpi: str, value: float) -> Issue:
    key = path[-1]
    shown = f"{value:g}"
    return Issue(
        Level.WARNING,
        f"{what} {shown} on KPI '{kpi}' (unit: percent) means {value * 100:g} %: percent values are fractions "
        f"(0.08 is 8 %)",
        loaded.where(*path),
        f"write `{key}: {shown}%` or `{key}: {value / 100:g}`; if {value * 100:g} % is meant, write "
        f"`{key}: {value * 100:g}%`",
    )


def validate(loaded: LoadedSpec) -> list[Issue]:
    spec = loaded.spec
    issues: list[Issue] = []
    for oname, obj in spec.objectives.items():
        for gname, goal in obj.goals.items():
            kpi = spec.kpis.get(goal.kpi)
            if kpi is None or kpi.unit != "percent":
                continue
            base = ("objectives", oname, "goals", gname)
            for sub, limit in GOAL_NUMBERS:
                raw = _raw_at(loaded.raw, base + sub)
                if _whole_percent(raw, limit):
                    issues.append(_issue(loaded, base + sub, "/".join(sub), goal.kpi, float(raw)))
    warned: set[str] = set()
    for kname, kpi in spec.kpis.items():
        if kpi.unit != "percent":
            continue
        for bname in kpi.benchmarks:
            bench = spec.benchmarks.get(bname)
            raw = _raw_at(loaded.raw, ("benchmarks", bname, "value"))
            if bench is not None and bench.kind == "value" and _whole_percent(raw) and bname not in warned:
                warned.add(bname)
                issues.append(_issue(loaded, ("benchmarks", bname, "value"), f"benchmark '{bname}' value", kname,
                                     float(raw)))
    return issues
