"""A KPI's ``vs:`` offset must apply to at least one of its grains (else no headline shows it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec


def validate(loaded: LoadedSpec) -> list[Issue]:
    spec = loaded.spec
    issues = []
    for name, kpi in spec.kpis.items():
        if kpi.vs is None:
            continue
        grains = spec.kpi_grains(kpi)
        if not any(kpi.vs.applies_to(g) for g in grains):
            issues.append(Issue(
                Level.WARNING,
                f"KPI '{name}': vs offset '{kpi.vs.offset}' is not a whole number of periods of its grains "
                f"({', '.join(grains)}), so no headline shows it",
                loaded.where("kpis", name, "vs", "offset"),
                "use days or weeks for day and week grains, months, quarters or years for month, quarter and "
                "year grains (or add a grain it fits to `grains:`)"))
    return issues
