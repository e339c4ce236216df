"""A KPI must be computable at each of its grains: ``hour`` only for kinds that aggregate rows per clock
hour (and the kinds combining them), not for funnels, retention or day windows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec


def validate(loaded: LoadedSpec) -> list[Issue]:
    spec = loaded.spec
    issues = []
    for name, kpi in spec.kpis.items():
        grains = spec.kpi_grains(kpi)
        if "hour" not in grains:
            continue
        problem = kpi.grain_problem(spec, "hour")
        if problem is None:
            continue
        own = bool(kpi.grains)
        others = [g for g in grains if g != "hour"]
        fix = f"grains: [{', '.join(others)}]" if others else "grains: [day]"
        issues.append(Issue(
            Level.ERROR, f"KPI '{name}' cannot be computed per hour: {problem}",
            loaded.where("kpis", name, "grains") if own else loaded.where("kpis", name),
            f"give the KPI `{fix}`" + ("" if own else " (the spec's `grains:` include hour)")))
    return issues
