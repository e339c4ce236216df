"""Every filter and formula parses and type-checks (see :mod:`metricspec.spec.exprtypes`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level, Location
from metricspec.spec.expr import ExprError, parse
from metricspec.spec.exprtypes import Kind, Type, check

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec, PathKey
    from metricspec.spec.models import Spec

DECLARED: dict[str, Type] = {"str": "string", "int": "number", "float": "number", "bool": "bool",
                             "date": "temporal", "datetime": "temporal", "duration": "duration"}


@dataclass(frozen=True)
class ExpressionAt:
    """One expression of a spec: where it is, its text, how it is used and the source it reads."""

    path: PathKey
    text: str
    kind: Kind
    source: str | None


def expressions(loaded: LoadedSpec) -> list[ExpressionAt]:
    """Every expression in the spec, with the source whose columns it names (None: KPIs)."""
    spec = loaded.spec
    found: list[ExpressionAt] = []
    for name, kpi in spec.kpis.items():
        for site in kpi.expressions(spec):
            found.append(ExpressionAt(("kpis", name, *site.path), site.text, site.use, site.source))
    for name, source in spec.sources.items():
        for col, text in source.derive.items():
            found.append(ExpressionAt(("sources", name, "derive", col), text, "value", name))
    for name, cg in spec.control_groups.items():
        if cg.filter:
            found.append(ExpressionAt(("control_groups", name, "filter"), cg.filter, "filter", cg.source))
    return found


def at_offset(where: Location | None, offset: int) -> Location | None:
    """Shift a value's location by a column offset inside a one-line expression."""
    if where is None or where.column is None:
        return where
    return Location(where.file, where.line, where.column + offset)


def declared_types(spec: Spec, source: str | None) -> Callable[[str], Type]:
    """Column types a spec declares for ``source`` (``columns:``, its time column); others unknown."""
    src = spec.sources.get(source) if source else None
    types: dict[str, Type] = {}
    if src is not None:
        if src.time_column and src.time_column not in src.derive:
            types[src.time_column] = "temporal"
        types.update({col: DECLARED[t] for col, t in src.columns.items()})
    return lambda name: types.get(name, "unknown")


def schema_types(schema: Mapping[str, object]) -> Callable[[str], Type]:
    """Column types of an opened source (polars dtypes), for the same checks with the data's types."""
    import polars as pl  # polars: data checks only; validate runs without it

    def kind(dtype: object) -> Type:
        if isinstance(dtype, pl.Date | pl.Datetime | pl.Time):
            return "temporal"
        if isinstance(dtype, pl.Duration):
            return "duration"
        if isinstance(dtype, pl.Boolean):
            return "bool"
        if isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
            return "string"
        if isinstance(dtype, pl.DataType) and dtype.is_numeric():
            return "number"
        return "unknown"

    return lambda name: kind(schema[name]) if name in schema else "unknown"


def data_issues(loaded: LoadedSpec, schemas: Mapping[str, Mapping[str, object]]) -> list[Issue]:
    """Type errors that only the data's column types reveal (``validate --data`` and ``run``)."""
    issues: list[Issue] = []
    for found in expressions(loaded):
        if found.source is not None and found.source in schemas:
            issues.extend(expression_issues(loaded, found, schema_types(schemas[found.source])))
    return issues


def expression_issues(loaded: LoadedSpec, found: ExpressionAt, column_type: Callable[[str], Type]) -> list[Issue]:
    """Parse and type-check one expression; issues point at the offending column of its text."""
    where = loaded.positions.where(found.path)
    quoted = 1 if found.path in loaded.positions.quoted else 0
    try:
        tree = parse(found.text)
    except ExprError as exc:
        return [Issue(Level.ERROR, f"{exc.message} in `{_short(found.text)}`", at_offset(where, exc.offset + quoted),
                      exc.hint)]
    return [Issue(Level.ERROR, f"{p.message} in `{_short(found.text)}`", at_offset(where, p.offset + quoted), p.hint)
            for p in check(tree, found.kind, column_type)]


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def validate(loaded: LoadedSpec) -> list[Issue]:
    issues: list[Issue] = []
    for found in expressions(loaded):
        issues.extend(expression_issues(loaded, found, declared_types(loaded.spec, found.source)))
    return issues
