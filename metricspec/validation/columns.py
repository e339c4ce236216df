"""Column names the spec gives are not empty.

``column: ''`` on a sum validated and then failed inside the engine (an AssertionError): the data
check skips empty names, so nothing said which key was wrong. Every place a spec names a column
is checked here: sources' time columns, the columns each KPI kind declares it reads
(``KPIBase.columns``), control groups and attribution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level

if TYPE_CHECKING:
    from collections.abc import Iterator

    from metricspec.spec.loaded import LoadedSpec

_Path = tuple[str | int, ...]
_ATTRIBUTION = {"touchpoints": ("person", "time", "channel", "campaign", "cost"),
                "conversions": ("person", "time", "value"),
                "paths": ("path", "conversions", "value", "nulls"),
                "spend": ("channel", "amount", "campaign", "time")}
_METRIC = ("column", "numerator", "denominator", "covariate")


def _named(loaded: LoadedSpec) -> Iterator[tuple[object, _Path]]:
    """Every column name the spec gives, with its path."""
    spec = loaded.spec
    for name, source in spec.sources.items():
        yield source.time_column, ("sources", name, "time_column")
    for name, kpi in spec.kpis.items():
        for need in kpi.columns(spec):
            yield need.column, ("kpis", name, *need.path)
    for name, cg in spec.control_groups.items():
        base = ("control_groups", name)
        yield cg.unit, (*base, "unit")
        yield cg.assignment.column, (*base, "assignment", "column")
        yield cg.time_column, (*base, "time_column")
        for i, seg in enumerate(cg.segments):
            yield seg, (*base, "segments", i)
        for mname, metric in cg.metrics.items():
            for attr in _METRIC:
                yield getattr(metric, attr), (*base, "metrics", mname, attr)
    if spec.attribution is not None:
        for part, attrs in _ATTRIBUTION.items():
            model = getattr(spec.attribution, part, None)
            for attr in attrs if model is not None else ():
                yield getattr(model, attr, None), ("attribution", part, attr)


def validate(loaded: LoadedSpec) -> list[Issue]:
    issues = []
    for value, path in _named(loaded):
        if isinstance(value, str) and not value.strip():
            issues.append(Issue(Level.ERROR, f"`{path[-1]}` names no column (it is empty)", loaded.where(*path),
                                "write the column's name, or remove the key"))
    return issues
