"""The aggregation kind: ``agg`` of a column (or a row-level expression) over a source's rows.

The base of every other kind. A request becomes one :class:`~metricspec.plan.nodes.Aggregate` of
the fused query for its source, time column, grain, segments and scope; the backend that holds the
source computes it (polars, or SQL in the database).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, model_validator

from metricspec.errors import DataError
from metricspec.kinds import entity_filter
from metricspec.kinds.alltime import is_all_time
from metricspec.kinds.base import (
    ColumnNeed,
    ExpressionSite,
    FromAggregates,
    FromQuery,
    KindIssue,
    KPIBase,
    SourceRef,
    query_time_column,
)
from metricspec.kinds.entity_filter import EntityFilterSpec, condition_kpis
from metricspec.kinds.snapshot import plan_snapshot
from metricspec.plan.nodes import QueryKey, RowFilter
from metricspec.spec.expr import columns_of
from metricspec.spec.segments import column_paths
from metricspec.spec.source import HasSources, time_column_of

if TYPE_CHECKING:
    from metricspec.kinds.context import PlanContext, SpecView
    from metricspec.plan.nodes import Request

Aggregation = Literal["count", "count_distinct", "sum", "mean", "median", "p25", "p50", "p75", "p90", "p95", "p99", "min",
                      "max", "last", "first"]
ADDITIVE_AGGREGATIONS = frozenset({"count", "count_distinct", "sum"})
QUANTILES: dict[str, float] = {"p25": 0.25, "p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99}
"""The percentile aggregations and their fraction: linear interpolation between the two nearest values
(numpy's default, DuckDB's ``quantile_cont``, PostgreSQL's ``percentile_cont``); ``p50`` equals ``median``."""
NUMERIC_AGGREGATIONS = frozenset({"sum", "mean", "median", "min", "max", *QUANTILES})
"""Aggregations whose column must be numeric (or boolean): a KPI's value is a number, and the smallest
or largest date is not one (its days since 1970 would be shown as a count)."""


def _and(a: str | None, b: str | None) -> str | None:
    if a and b:
        return f"({a}) and ({b})"
    return a or b


def _names(value: Any) -> Any:
    """``per: account`` or ``per: [account, network]``."""
    return [value] if isinstance(value, str) else value


def _declared_type(spec: HasSources, source: str, column: str | None) -> str | None:
    """The type the spec declares for a column: its source's `columns:` entry, ``datetime`` for the time
    column (the column's value becomes a date or datetime); None when the data decides."""
    src = spec.sources.get(source)
    if src is None or column is None or column in src.derive:
        return None
    if column in src.columns:
        return src.columns[column]
    return "datetime" if column == src.time_column else None


class AggregateKPI(KPIBase):
    """``agg`` of ``column`` (or ``expression``) over the rows of ``source`` dated in the period."""

    FORM: ClassVar[str] = "agg"
    SUMMARY: ClassVar[tuple[str, str]] = (
        "`source`, `agg`, `column` or `expression`, `filter`, `time_column`",
        "the aggregate of the rows dated in the period")
    DOCS: ClassVar[str] = "spec-reference.md#aggregations"

    source: str = Field(description="The source to read.")
    agg: Aggregation
    column: str | None = None
    expression: str | None = Field(None, description="Row-level expression to aggregate instead of a column.")
    filter: str | None = None
    time_column: str | None = None
    per: Annotated[list[str], BeforeValidator(_names)] = Field(
        default_factory=list,
        description="Snapshots (agg: last or first) over several entities: the entity column(s); the value is "
        "each entity's last (first) value in the period, summed over the entities, e.g. per: account.")
    approximate: bool = Field(
        False, description="Accept an approximate count_distinct, median or percentile where the source's database "
        "computes it only approximately (ClickHouse's uniq, BigQuery's APPROX_QUANTILES); without it such a KPI is "
        "refused. Exact databases (DuckDB, PostgreSQL, Spark, polars) stay exact.")
    filter_entities: EntityFilterSpec | None = Field(
        None, description="Only the rows of the entities whose KPIs satisfy a condition in the period, e.g. "
        "{entity: customer_id, where: \"orders_count >= 10\"} (a semi-join where the data is).")

    @model_validator(mode="after")
    def _value(self) -> AggregateKPI:
        if self.column is not None and self.expression is not None:
            raise ValueError("give either column or expression, not both")
        if self.per and self.agg not in ("last", "first"):
            raise ValueError(f"`per:` sums each entity's last (or first) value: it goes with agg: last or first, "
                             f"not '{self.agg}'; drop `per:` or use agg: last")
        if self.agg != "count" and self.column is None and self.expression is None:
            raise ValueError(f"agg '{self.agg}' needs a column; add `column: <name>` (or `expression:`)")
        return self

    # ------------------------------------------------------------ what it reads
    def sources_read(self) -> list[SourceRef]:
        return [SourceRef(self.source, ("source",))]

    def segment_source(self, spec: SpecView) -> str | None:
        return self.source

    def sources_needed(self, spec: SpecView) -> list[str]:
        if self.filter_entities is None:
            return [self.source]
        conditions = [spec.kpis[n] for n in condition_kpis(self.filter_entities.where) if n in spec.kpis]
        return list(dict.fromkeys([self.source, *(s for k in conditions for s in k.sources_needed(spec))]))

    def spec_time_column(self, spec: SpecView) -> str | None:
        """The time column the spec gives (the KPI's, else its source's; ``date`` for the calendar)."""
        return time_column_of(spec, self.source, self.time_column)

    def columns(self, spec: SpecView) -> list[ColumnNeed]:
        kind = "numeric" if self.agg in NUMERIC_AGGREGATIONS else None
        out = [ColumnNeed(self.source, self.column, kind, ("column",))]
        out += [ColumnNeed(self.source, c, None, ("expression",)) for c in columns_of(self.expression)]
        out.append(ColumnNeed(self.source, self.spec_time_column(spec), "temporal", ("time_column",)))
        out += [ColumnNeed(self.source, c, None, ("filter",)) for c in columns_of(self.filter)]
        out += [ColumnNeed(self.source, c, None, path) for c, path in column_paths(self.segments)]
        out += [ColumnNeed(self.source, c, None, ("scope", c), key=True) for c in self.scope]
        out += [ColumnNeed(self.source, c, None, ("per", i)) for i, c in enumerate(self.per)]
        if self.filter_entities is not None:
            out += entity_filter.columns(spec, self.source, self.filter_entities)
        return out

    def expressions(self, spec: SpecView) -> list[ExpressionSite]:
        out = []
        if self.filter:
            out.append(ExpressionSite(("filter",), self.filter, "filter", self.source))
        if self.expression:
            numeric = self.agg in NUMERIC_AGGREGATIONS
            out.append(ExpressionSite(("expression",), self.expression, "number" if numeric else "value", self.source))
        return out

    def check(self, spec: SpecView, name: str) -> list[KindIssue]:
        src = spec.sources.get(self.source)
        if src is not None and query_time_column(spec, self.source, self.time_column) is None:
            return [KindIssue(f"KPI '{name}' has no time column", (), f"add `time_column: <column>` to the KPI or to source "
                              f"'{self.source}'", key=True)]
        declared = _declared_type(spec, self.source, self.column)
        if self.agg in NUMERIC_AGGREGATIONS and declared in ("date", "datetime", "duration", "str"):
            what = {"date": "dates", "datetime": "dates", "duration": "durations", "str": "text"}[declared]
            return [KindIssue(
                f"agg '{self.agg}' needs a number, but column '{self.column}' of source '{self.source}' holds {what}",
                ("column",),
                "a date is not a number to add up or average: count the rows, use agg: last/first of a value, or "
                "aggregate days_between(a, b) in `expression:`" if declared != "str" else
                f"declare the column's type under the source's `columns:`, e.g. {{{self.column}: float}}")]
        if self.filter_entities is not None:
            return entity_filter.check(spec, name, self.filter_entities, not is_all_time(spec, name))
        return []

    def conventions(self, spec: SpecView) -> list[str]:
        tcol = self.spec_time_column(spec)
        what = {"count": "counts rows" if not (self.column or self.expression) else "counts rows with a value",
                "count_distinct": "counts distinct non-null values"}.get(self.agg, f"takes the {self.agg} of the values")
        out = [f"event: a row of '{self.source}'; the KPI {what} (null values skipped, and noted)"]
        if tcol is None:
            return [*out, "days: none: the source has no time column, every row counts (all time)"]
        out.append(f"days: calendar: a row falls in the period of its '{tcol}' local date in {spec.timezone} "
                   f"(weeks start on {spec.week_start}; per hour: its local clock hour)")
        if self.snapshot:
            out.append(f"edges: the {'latest' if self.agg == 'last' else 'earliest'} row with a value in the period"
                       + (f", per '{', '.join(self.per)}', summed" if self.per else "") +
                       "; rows tied at that time with different values are refused")
        else:
            out.append("edges: calendar periods; the current one runs to the as-of date (partial)")
        return out

    # ------------------------------------------------------------ how it behaves
    @property
    def additive(self) -> bool:
        return self.agg in ADDITIVE_AGGREGATIONS

    @property
    def default_measure(self) -> Literal["total", "latest"]:
        return "total" if self.additive else "latest"

    @property
    def snapshot(self) -> bool:
        return self.agg in ("last", "first")

    # ------------------------------------------------------------ how it is computed
    def plan(self, ev: PlanContext, req: Request) -> FromQuery | FromAggregates:
        entities = None
        if self.filter_entities is not None:
            entities = entity_filter.plan(ev, req, self.filter_entities)
        key = QueryKey(self.source, self.time_column_for(ev, req.kpi), req.grain, req.segments, req.scope,
                       RowFilter.of(req.where), entities)
        if req.grain == "hour":
            self._check_hourly(ev, req.kpi, key.time_column)
        if self.snapshot:  # checked for ambiguity, summed over `per` (kinds/snapshot.py)
            return plan_snapshot(self, ev, req, key, _and(self.filter, req.extra_filter))
        key, output = ev.plan.add(key, self.agg, self.column, _and(self.filter, req.extra_filter), self.expression)
        return FromQuery(key, output)

    def _check_hourly(self, ev: PlanContext, name: str, time_column: str) -> None:
        """Hours need times: a time column of dates cannot be split into them."""
        import polars as pl  # heavy: loaded when a KPI is planned, never when a spec is loaded

        dtype = ev.schemas.get(self.source, {}).get(time_column)
        if dtype is None or isinstance(dtype, pl.Datetime):
            return
        raise DataError(f"KPI '{name}' cannot be computed per hour: time column '{time_column}' of source "
                        f"'{self.source}' holds {dtype}, not date and time", where=ev.where("kpis", name),
                        hint="use a grain of a day or longer for it, or a time column with times of day")

    def time_column_for(self, ev: PlanContext, name: str) -> str:
        """The time column of the query (``NO_TIME`` for an all-time KPI, see kinds/alltime.py)."""
        tcol = query_time_column(ev.spec, self.source, self.time_column)
        if tcol is not None:
            return tcol
        raise DataError(f"KPI '{name}' has no time column", where=ev.where("kpis", name),
                        hint=f"add `time_column: <column>` to the KPI or to source '{self.source}'")
