"""The data-time check that every KPI is computed exactly where its source lives, or that the spec
accepts an approximation (``approximate: true`` on the KPI).

Which database computes a source's KPIs is known only once the source is opened: a ``sql`` source is
computed in its database when ibis and the database's driver are installed, and read into polars
otherwise. So the check runs with the other data-time checks (:func:`metricspec.engine.run.check_sources`,
``metricspec validate --data`` and every run), before any statement is sent, and reads the capabilities
each database declares (:mod:`metricspec.engine.backends.dialects`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from metricspec.engine.backends.dialects import dialect_for
from metricspec.errors import Issue, Level
from metricspec.kinds.aggregate import AggregateKPI

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec


def approximation_issues(loaded: LoadedSpec, dialects: Mapping[str, str]) -> list[Issue]:
    """An error for each aggregation whose database (``dialects``: source -> ibis backend name of the
    sources computed in a database) computes it only approximately, unless the KPI says ``approximate:
    true``, or not at all."""
    issues: list[Issue] = []
    for name, kpi in loaded.spec.kpis.items():
        if not isinstance(kpi, AggregateKPI) or kpi.source not in dialects:
            continue
        dialect = dialect_for(dialects[kpi.source])
        support = dialect.capabilities.support(kpi.agg)
        where = loaded.where("kpis", name, "agg")
        if support == "approximate" and not kpi.approximate:
            issues.append(Issue(
                Level.ERROR,
                f"KPI '{name}': {dialect.name} (source '{kpi.source}') computes agg '{kpi.agg}' only approximately, "
                "so its values would differ from the exact ones",
                where,
                f"accept the approximation with `approximate: true` on KPI '{name}', or read the source with "
                "`engine: polars` (exact, in memory)"))
        elif support == "missing":
            issues.append(Issue(
                Level.ERROR, f"KPI '{name}': {dialect.name} (source '{kpi.source}') cannot compute agg '{kpi.agg}'",
                where, "read the source with `engine: polars` (exact, in memory)"))
    return issues
