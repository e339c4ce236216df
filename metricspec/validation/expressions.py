"""Every filter and formula parses, and formulas only name KPIs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level, Location
from metricspec.spec.expr import ExprError, parse

if TYPE_CHECKING:
    from metricspec.loader import LoadedSpec, PathKey


def expression_paths(loaded: LoadedSpec) -> list[tuple[PathKey, str, str]]:
    """(path, text, kind) of every expression in the spec; kind is 'filter' or 'formula'."""
    spec = loaded.spec
    found: list[tuple[PathKey, str, str]] = []
    for name, kpi in spec.kpis.items():
        if kpi.filter:
            found.append((("kpis", name, "filter"), kpi.filter, "filter"))
        if kpi.formula:
            found.append((("kpis", name, "formula"), kpi.formula, "formula"))
        if kpi.expression:
            found.append((("kpis", name, "expression"), kpi.expression, "filter"))
        if kpi.share:
            found.append((("kpis", name, "share", "where"), kpi.share.where, "filter"))
        if kpi.funnel:
            for i, step in enumerate(kpi.funnel.steps):
                if step.filter:
                    found.append((("kpis", name, "funnel", "steps", i, "filter"), step.filter, "filter"))
        if kpi.retention and kpi.retention.filter:
            found.append((("kpis", name, "retention", "filter"), kpi.retention.filter, "filter"))
    for name, source in spec.sources.items():
        for col, text in source.derive.items():
            found.append((("sources", name, "derive", col), text, "filter"))
    for name, cg in spec.control_groups.items():
        if cg.filter:
            found.append((("control_groups", name, "filter"), cg.filter, "filter"))
    return found


def at_offset(where: Location | None, offset: int) -> Location | None:
    """Shift a value's location by a column offset inside a one-line expression."""
    if where is None or where.column is None:
        return where
    return Location(where.file, where.line, where.column + offset)


def validate(loaded: LoadedSpec) -> list[Issue]:
    issues: list[Issue] = []
    for path, text, _kind in expression_paths(loaded):
        try:
            parse(text)
        except ExprError as exc:
            where = loaded.positions.where(path)
            quoted = 1 if path in loaded.positions.quoted else 0
            issues.append(Issue(Level.ERROR, f"{exc.message} in `{text}`", at_offset(where, exc.offset + quoted),
                                exc.hint))
    return issues
