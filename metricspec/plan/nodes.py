"""The query plan: base KPIs compiled to fused aggregations, kept as plain data.

Every base (``agg``) KPI request becomes an :class:`Aggregate` in the :class:`Query` for its
(source, time column, grain or window, segments, scope). Filters and row-level values are
expression trees (:mod:`metricspec.spec.expr`), parsed once when the plan is built, never text
re-parsed later and never engine objects: a backend (:mod:`metricspec.engine.backends`) translates
the same plan to polars or to SQL. Each query's answer is a small table with one row per period and
segment value: ``period`` (Date; for the ``hour`` grain an aware Datetime in the spec's time zone), one
String column per segment and one Float64 column per aggregate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from metricspec.spec import expr as ex
from metricspec.spec.expr import names

Scope = tuple[tuple[str, object], ...]

NO_TIME = ""
"""The time column of a query on a source without one (``time_column: null``): every row in scope
takes part (no date range, no window) and the answer's ``period`` is null (kinds/alltime.py)."""

TIES = frozenset({"last_ties", "first_ties"})
"""Aggregations that check a ``last``/``first``: how many different values the rows at the group's
latest (earliest) time hold (more than one: which is the period's value is ambiguous)."""


@dataclass(frozen=True)
class Window:
    """A single custom period [start, end] (inclusive dates) used for goal totals."""

    start: dt.date
    end: dt.date


Grainish = str | Window


@dataclass(frozen=True)
class Request:
    """One series to compute: a KPI at a grain (or window), broken down by segments, within a scope."""

    kpi: str
    grain: Grainish
    segments: tuple[str, ...] = ()
    scope: Scope = ()
    extra_filter: str | None = None
    """A filter inside the KPI's aggregation (a share's part): its groups stay, with what matches."""
    where: str | None = None
    """A filter on the rows of every source the KPI reads, before grouping (a query's ``--where``)."""
    scope_types: tuple[str, ...] = field(init=False, default=())
    """Part of the request's identity: 5, 5.0 and true are different scope values (see scope_types)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "scope_types", scope_types(self.scope))


def and_filters(a: str | None, b: str | None) -> str | None:
    """Both row filters (either may be absent)."""
    if a and b:
        return f"({a}) and ({b})"
    return a or b


def make_scope(*scopes: Mapping[str, object]) -> Scope:
    """One scope from several (a later one's value wins), sorted by column."""
    merged: dict[str, object] = {}
    for s in scopes:
        merged.update(s)
    return tuple(sorted(merged.items(), key=lambda kv: kv[0]))


@dataclass(frozen=True)
class Aggregate:
    """One output value column of a query: ``agg`` of ``column`` (or of the row-level ``expression``)
    over the rows where ``filter`` holds (null counts as false)."""

    output: str
    agg: str
    column: str | None
    filter: ex.Node | None
    expression: ex.Node | None = None
    label: str | None = None
    """How the spec wrote the value (the column name or the expression's text), for notes and explain."""
    filter_text: str | None = None

    def columns(self) -> list[str]:
        cols = [self.column] if self.column else []
        if self.expression is not None:
            cols.extend(names(self.expression))
        if self.filter is not None:
            cols.extend(names(self.filter))
        return cols

    def describe(self) -> dict[str, object]:
        return {"output": self.output, "agg": self.agg, "column": self.column, "filter": self.filter_text,
                "expression": None if self.expression is None else self.label}


def scope_types(scope: Scope) -> tuple[str, ...]:
    """The type of each scope value: Python calls 5, 5.0 and True equal, a column does not (a key
    holding them keeps them apart, so a KPI's answer never depends on the KPIs planned before it)."""
    return tuple(type(value).__name__ for _, value in scope)


@dataclass(frozen=True)
class RowFilter:
    """A condition on a query's rows, applied before they are grouped (a query's ``--where``): rows where
    it does not hold (or is null) take no part, and no group appears for them."""

    node: ex.Node
    text: str

    @classmethod
    def of(cls, text: str | None) -> RowFilter | None:
        return None if not text else cls(ex.parse(text), text)


@dataclass(frozen=True)
class EntityInput:
    """A KPI of an entity condition: ``aggregate`` per entity (``key.segments`` is the entity column)
    and per period (``key.grain`` is the filtered query's), in the KPI's own scope."""

    name: str
    key: QueryKey
    aggregate: Aggregate

    def query(self) -> Query:
        return Query(self.key, [self.aggregate])


@dataclass(frozen=True)
class EntityFilter:
    """Keep the rows whose ``column`` value (an entity) satisfies ``condition`` in the row's period: the
    condition reads the :class:`EntityInput` values by their names (kinds/entity_filter.py). A
    backend runs it as a semi-join with the qualifying (period, entity) pairs."""

    column: str
    condition: ex.Node
    text: str
    inputs: tuple[EntityInput, ...]


@dataclass(frozen=True)
class QueryKey:
    source: str
    time_column: str
    grain: Grainish
    segments: tuple[str, ...]
    scope: Scope
    where: RowFilter | None = None
    entities: EntityFilter | None = None
    scope_types: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "scope_types", scope_types(self.scope))


@dataclass
class Query:
    key: QueryKey
    aggregates: list[Aggregate] = field(default_factory=list)

    def columns(self) -> list[str]:
        """Every column the query reads (for projection pushdown)."""
        cols = [self.key.time_column] if self.key.time_column != NO_TIME else []
        cols += [*self.key.segments, *(c for c, _ in self.key.scope)]
        if self.key.where is not None:
            cols += names(self.key.where.node)
        if self.key.entities is not None:
            cols.append(self.key.entities.column)
        for a in self.aggregates:
            cols.extend(a.columns())
        return list(dict.fromkeys(cols))


@dataclass(frozen=True)
class RunRange:
    """Rows with ``start <= date <= end`` (local dates in the spec's time zone) take part."""

    start: dt.date | None
    end: dt.date
    week_start: str = "monday"
    timezone: str = "UTC"
    """The spec's time zone: ``hour`` periods are its clock hours."""


@dataclass(frozen=True)
class NullCountQuery:
    """Per source, time column and scope of the headline queries: for each aggregate (in order), how
    many rows of the run's range it skipped because the value it reads is null (rows outside its
    filter do not count). No grouping: every row in range falls in exactly one period."""

    source: str
    time_column: str
    scope: Scope
    aggregates: tuple[Aggregate, ...]


@dataclass(frozen=True)
class FreshnessQuery:
    """Rows of a source, and the first and last value of its time column (all rows, no range); with
    ``today``, also the last value up to today and how many rows are dated after it."""

    source: str
    time_column: str | None
    today: dt.date | None = None


@dataclass(frozen=True)
class EventsQuery:
    """Rows for a funnel step or a retention cohort: the ``keep`` columns (as text) and the time as
    local wall-clock ``__t``, of the rows where ``filter`` holds, in ``scope`` and with a time. The
    funnel and retention logic runs in polars on these rows; a backend only filters and projects."""

    source: str
    time_column: str
    filter: ex.Node | None
    scope: Scope
    keep: tuple[str, ...]
    days: bool = False
    """One row per distinct ``keep`` values and local date (``__t`` that date's midnight): the day-level
    answer a distinct count over date windows reads (engine/windows.py), computed where the data is."""


@dataclass(frozen=True)
class Freshness:
    rows: int
    first: str | None
    latest: str | None
    latest_past: str | None = None
    """The latest time on or before the query's ``today``."""
    future: int = 0
    """Rows dated after the query's ``today``."""


@dataclass
class Plan:
    """All queries of a run. Built by the evaluator, executed by a backend."""

    queries: dict[QueryKey, Query] = field(default_factory=dict)
    _outputs: dict[tuple[QueryKey, str, object, ex.Node | None], str] = field(default_factory=dict)

    def add(self, key: QueryKey, agg: str, column: str | None, filter_text: str | None,
            expression_text: str | None = None) -> tuple[QueryKey, str]:
        """Register an aggregate (deduplicated) and return where its values will be."""
        filter_node = ex.parse(filter_text) if filter_text else None
        expression = ex.parse(expression_text) if expression_text else None
        ident = (key, agg, column or expression, filter_node)
        if ident in self._outputs:
            return key, self._outputs[ident]
        query = self.queries.setdefault(key, Query(key))
        output = f"a{len(query.aggregates)}"
        query.aggregates.append(Aggregate(output, agg, column, filter_node, expression,
                                          label=column or expression_text, filter_text=filter_text))
        self._outputs[ident] = output
        return key, output

    def shared_columns(self) -> dict[tuple[str, str], list[str]]:
        """(source, time column) -> every column any query on it reads, sorted: the one prepared base
        those queries share."""
        shared: dict[tuple[str, str], list[str]] = {}
        for key, query in self.queries.items():
            cols = shared.setdefault((key.source, key.time_column), [])
            cols.extend(c for c in query.columns() if c not in cols)
        return {k: sorted(v) for k, v in shared.items()}

    def null_count_queries(self) -> list[NullCountQuery]:
        groups: dict[tuple[str, str, Scope, tuple[str, ...]], dict[tuple[object, ...], Aggregate]] = {}
        for key, query in self.queries.items():
            if key.segments == () and key.where is None and key.entities is None and (
                    not isinstance(key.grain, Window) or key.time_column == NO_TIME):
                group = groups.setdefault((key.source, key.time_column, key.scope, key.scope_types), {})
                for a in query.aggregates:
                    group.setdefault((a.agg == "count", a.column, a.expression, a.filter), a)
        return [NullCountQuery(source, tcol, scope, tuple(group.values()))
                for (source, tcol, scope, _types), group in groups.items()
                if any(counts_nulls(a) for a in group.values())]

    def by_source(self) -> Iterator[tuple[str, list[Query]]]:
        sources: dict[str, list[Query]] = {}
        for key, query in self.queries.items():
            sources.setdefault(key.source, []).append(query)
        yield from sources.items()

    def describe(self) -> list[dict[str, object]]:
        """The plan as JSON-friendly data (for `--explain`)."""
        out: list[dict[str, object]] = []
        for key, q in self.queries.items():
            grain = key.grain if isinstance(key.grain, str) else f"{key.grain.start}..{key.grain.end}"
            if key.time_column == NO_TIME:  # a source without dates: all rows, no window to show
                grain = "all"
            out.append({
                "source": key.source, "time_column": key.time_column or None, "grain": grain,
                "segments": list(key.segments), "scope": [list(s) for s in key.scope],
                **({"where": key.where.text} if key.where is not None else {}),
                **({"filter_entities": {"entity": key.entities.column, "where": key.entities.text}}
                   if key.entities is not None else {}),
                "aggregates": [a.describe() for a in q.aggregates], "columns": q.columns(),
            })
        return out


def scope_as_value(value: object, numeric: bool, boolean: bool) -> bool:
    """Whether a scope value is compared as a value (a number with a numeric column, true/false with
    a bool column) rather than as text."""
    if isinstance(value, bool):
        return boolean
    return numeric and isinstance(value, int | float)


def counts_nulls(a: Aggregate) -> bool:
    """Whether an aggregate skips rows whose value is null (every one but a plain count)."""
    return a.agg != "count" and (a.column is not None or a.expression is not None)


def scope_text(value: object) -> str:
    """A scope value as text: how it is compared with a text (or date) column. Against a column of its
    own type (a number, true/false) a value is compared as a value; validation refuses the rest
    (:mod:`metricspec.validation.scopes`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
