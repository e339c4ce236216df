"""Scope values and the columns they pick: every ``scope:`` of a spec, and whether its value can match.

A scope (``scope: {account: brand}`` on a KPI, a goal or a benchmark) keeps the rows whose column
equals the value. A value that cannot equal any value of the column (``5`` against a float column,
``'5'`` against a number, anything against a timestamp) would give an empty series and no error, so
it is refused before anything runs, with the column's type and the value to write: :func:`validate`
checks the types the spec declares (``columns:``), :func:`data_issues` the types the data has when
the sources are opened (``validate --data``, ``run``), both by one rule (:func:`scope_problem`).

How a value matches (the backends compare the same way): a number or ``true``/``false`` against a
column of the same type compares as a value; against a text column, as its text (``5`` matches
``'5'``); a date column is picked by an ISO date written as text (``'2026-01-05'``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metricspec.errors import Issue, Level
from metricspec.sources.needs import base_kpis
from metricspec.sources.prepare import type_name

if TYPE_CHECKING:
    from metricspec.spec.base import Scalar
    from metricspec.spec.loaded import LoadedSpec
    from metricspec.spec.models import Spec

Path = tuple[str | int, ...]


def validate(loaded: LoadedSpec) -> list[Issue]:
    """Scope values that cannot match the type the spec declares for their column."""
    spec = loaded.spec
    issues: list[Issue] = []
    for use in scope_uses(spec):
        src = spec.sources.get(use.source)
        declared = src.columns.get(use.column) if src is not None and use.column not in src.derive else None
        found = None if declared is None else scope_problem(use.column, use.value, declared)
        if found is not None:
            issues.append(Issue(Level.ERROR, f"source '{use.source}': {found[0]}", loaded.where(*use.path), found[1]))
    return issues


def data_issues(loaded: LoadedSpec, schemas: Mapping[str, Mapping[str, Any]]) -> list[Issue]:
    """Scope values that cannot match their column's type in the data (the opened sources' ``schemas``)."""
    issues: list[Issue] = []
    for use in scope_uses(loaded.spec):
        dtype = schemas.get(use.source, {}).get(use.column)
        found = None if dtype is None else scope_problem(use.column, use.value, type_name(dtype))
        if found is not None:
            issues.append(Issue(Level.ERROR, f"source '{use.source}': {found[0]}", loaded.where(*use.path),
                                found[1], code="data"))
    return issues


@dataclass(frozen=True)
class ScopeUse:
    """One scope value: the source whose column it picks, the column, the value and its place."""

    source: str
    column: str
    value: Scalar
    path: Path


def _base_sources(spec: Spec, name: str) -> list[str]:
    sources = (spec.kpis[b].segment_source(spec) for b in base_kpis(spec, name))
    return list(dict.fromkeys(s for s in sources if s))


def scope_uses(spec: Spec) -> list[ScopeUse]:
    """Every scope value of the spec (KPIs, goals, benchmarks) with the source it applies to."""
    out: list[ScopeUse] = []
    for name, kpi in spec.kpis.items():
        at = ("kpis", name, "scope")
        for need in kpi.columns(spec):
            if need.path[:1] == ("scope",) and need.column in kpi.scope:
                out.append(ScopeUse(need.source, need.column, kpi.scope[need.column], (*at, need.column)))
        if kpi.inputs():
            out += [ScopeUse(src, col, value, (*at, col)) for src in _base_sources(spec, name)
                    for col, value in kpi.scope.items()]
    for oname, obj in spec.objectives.items():
        for gname, goal in obj.goals.items():
            if goal.kpi in spec.kpis:
                out += [ScopeUse(src, col, value, ("objectives", oname, "goals", gname, "scope", col))
                        for src in _base_sources(spec, goal.kpi) for col, value in goal.scope.items()]
    for bname, bench in spec.benchmarks.items():
        for kpi in spec.kpis.values():
            source = kpi.segment_source(spec)
            if bname in kpi.benchmarks and source:
                out += [ScopeUse(source, col, value, ("benchmarks", bname, "scope", col))
                        for col, value in bench.scope.items()]
    return list(dict.fromkeys(out))


def scope_problem(column: str, value: object, column_type: str) -> tuple[str, str] | None:
    """(message, fix) when ``value`` can never equal a value of ``column``, whose type is
    ``column_type`` (a ``columns:`` type name: str, int, float, bool, date, datetime, duration); None
    when it can (or the type is not known)."""
    shown = _shown(value)
    what = f"scope value {shown} cannot match column '{column}', which is {column_type}"
    if column_type == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        if isinstance(value, float) and value.is_integer():
            return what, f"write the whole number {int(value)}"
        return what, "write a whole number"
    if column_type == "float":
        if isinstance(value, float):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return what, f"write {float(value)!r} (a float column is matched by a float value)"
        return what, "write a number such as 2.5"
    if column_type == "bool":
        return None if isinstance(value, bool) else (what, "write true or false")
    if column_type == "date":
        if isinstance(value, str) and _iso_date(value):
            return None
        return what, "write the date as 'YYYY-MM-DD' in quotes"
    if column_type in ("datetime", "duration"):
        return what, "a scope picks equal values, which a timestamp or duration hardly has: use a `filter:` instead"
    return None


def _iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)
