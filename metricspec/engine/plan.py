"""The query plan: base KPIs compiled to fused aggregations, kept as plain data.

Every base (``agg``) KPI request becomes an :class:`Aggregate` in the
:class:`Query` for its (source, time column, grain or window, segments, scope).
All aggregates of one query run in a single ``group_by``; all queries run in one
``polars.collect_all`` so shared scans are read once, reading only the columns
the plan names, with filters pushed down. Because the plan is data (not
lambdas), another backend can translate the same plan to SQL.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

import polars as pl

from metricspec.engine.expressions import filter_expr
from metricspec.engine.periods import period_range, to_date, truncate
from metricspec.errors import UsageError
from metricspec.spec.expr import names, parse
from metricspec.spec.models import ADDITIVE_AGGREGATIONS

Scope = tuple[tuple[str, object], ...]

EngineName = Literal["in-memory", "streaming", "auto"]
ENGINES: tuple[EngineName, ...] = ("in-memory", "streaming", "auto")
DEFAULT_ENGINE: EngineName = "in-memory"
ENGINE_VARIABLE = "METRICSPEC_POLARS_ENGINE"


def polars_engine() -> EngineName:
    """The polars engine for the queries that read the sources: ``$METRICSPEC_POLARS_ENGINE`` or in-memory.

    A run is many small group-bys sharing cached scans. The in-memory engine runs them fastest (the
    default "auto" picks streaming for ``collect_all``: 25-30 % slower on the 1M-row benchmark); the
    streaming engine needs less memory on large data. Figures in docs/performance.md.
    """
    value = os.environ.get(ENGINE_VARIABLE, "").strip() or DEFAULT_ENGINE
    if value in ENGINES:
        return value
    raise UsageError(f"{ENGINE_VARIABLE}={value!r} is not a polars engine",
                     hint=f"set it to one of {', '.join(ENGINES)}, or unset it for {DEFAULT_ENGINE}")


@dataclass(frozen=True)
class Window:
    """A single custom period [start, end] (inclusive dates) used for goal totals."""

    start: dt.date
    end: dt.date


Grainish = str | Window


@dataclass(frozen=True)
class Aggregate:
    """One output value column of a query."""

    output: str
    agg: str
    column: str | None
    filter: str | None
    expression: str | None = None


@dataclass(frozen=True)
class QueryKey:
    source: str
    time_column: str
    grain: Grainish
    segments: tuple[str, ...]
    scope: Scope


@dataclass
class Query:
    key: QueryKey
    aggregates: list[Aggregate] = field(default_factory=list)

    def columns(self) -> list[str]:
        """Every column the query reads (for projection pushdown)."""
        cols = [self.key.time_column, *self.key.segments, *(c for c, _ in self.key.scope)]
        for a in self.aggregates:
            if a.column:
                cols.append(a.column)
            if a.expression:
                cols.extend(names(parse(a.expression)))
            if a.filter:
                cols.extend(names(parse(a.filter)))
        return list(dict.fromkeys(cols))


@dataclass
class Plan:
    """All queries of a run, plus the time range they cover."""

    queries: dict[QueryKey, Query] = field(default_factory=dict)
    _outputs: dict[tuple[QueryKey, str, str | None, str | None], str] = field(default_factory=dict)

    def add(self, key: QueryKey, agg: str, column: str | None, filter_text: str | None,
            expression: str | None = None) -> tuple[QueryKey, str]:
        """Register an aggregate (deduplicated) and return where its values will be."""
        ident = (key, agg, column or expression, filter_text)
        if ident in self._outputs:
            return key, self._outputs[ident]
        query = self.queries.setdefault(key, Query(key))
        output = f"a{len(query.aggregates)}"
        query.aggregates.append(Aggregate(output, agg, column, filter_text, expression))
        self._outputs[ident] = output
        return key, output

    def describe(self) -> list[dict[str, object]]:
        """The plan as JSON-friendly data (for `--explain` and other backends)."""
        out: list[dict[str, object]] = []
        for key, q in self.queries.items():
            grain = key.grain if isinstance(key.grain, str) else f"{key.grain.start}..{key.grain.end}"
            out.append({
                "source": key.source, "time_column": key.time_column, "grain": grain,
                "segments": list(key.segments), "scope": [list(s) for s in key.scope],
                "aggregates": [a.__dict__ for a in q.aggregates], "columns": q.columns(),
            })
        return out


def agg_expr(a: Aggregate, time_column: str) -> pl.Expr:
    """The polars aggregation for one aggregate (filter applied inside the group)."""
    cond = filter_expr(a.filter)
    col = value_expr(a)
    if a.agg == "count":
        if col is not None:
            base = col.is_not_null()
            return (base & cond if cond is not None else base).sum().cast(pl.Float64).alias(a.output)
        return (cond.sum() if cond is not None else pl.len()).cast(pl.Float64).alias(a.output)
    assert col is not None
    if a.agg in ("last", "first"):
        keep = col.is_not_null() if cond is None else (cond & col.is_not_null())
        ordered = col.filter(keep).sort_by(pl.col(time_column).filter(keep))
        picked = ordered.last() if a.agg == "last" else ordered.first()
        return picked.cast(pl.Float64).alias(a.output)
    # polars' aggregations skip nulls; rows outside the filter become nulls. Plain column
    # aggregations keep polars on its fast group-by path (no per-group filtering).
    values = col if cond is None else pl.when(cond).then(col)
    if a.agg == "count_distinct":
        return values.drop_nulls().n_unique().cast(pl.Float64).alias(a.output)
    fn = {"sum": values.sum, "mean": values.mean, "median": values.median, "min": values.min,
          "max": values.max}[a.agg]
    return fn().cast(pl.Float64).alias(a.output)


def value_expr(a: Aggregate) -> pl.Expr | None:
    if a.expression:
        from metricspec.engine.expressions import to_polars

        return to_polars(parse(a.expression))
    return pl.col(a.column) if a.column else None


def null_expr(a: Aggregate) -> pl.Expr | None:
    col = value_expr(a)
    if col is None or a.agg == "count":
        return None
    cond = filter_expr(a.filter)
    nulls = col.is_null()
    return (nulls & cond if cond is not None else nulls).sum().alias(f"{a.output}__nulls")


@dataclass(frozen=True)
class RunRange:
    """Rows with ``start <= date <= end`` (local dates) take part."""

    start: dt.date | None
    end: dt.date
    week_start: str = "monday"


def source_base(source: pl.LazyFrame, columns: list[str], time_column: str, schema: Mapping[str, pl.DataType],
                rng: RunRange) -> pl.LazyFrame:
    """The part every query on one source shares: the columns any of them reads, the local date,
    the run's date range. One identical subplan lets polars read and prepare the source once."""
    date = to_date(pl.col(time_column), schema[time_column]).alias("__date")
    preds = [pl.col("__date") <= rng.end, pl.col("__date").is_not_null()]
    if rng.start is not None:
        preds.append(pl.col("__date") >= rng.start)
    return source.select([pl.col(c) for c in columns]).with_columns(date).filter(pl.all_horizontal(preds))


def build_lazy(query: Query, base: pl.LazyFrame, rng: RunRange) -> pl.LazyFrame:
    """One fused lazy query over the source's shared base: scope, period, one group-by for all aggregates."""
    key = query.key
    preds = []
    if isinstance(key.grain, Window):
        preds += [pl.col("__date") >= key.grain.start, pl.col("__date") <= key.grain.end]
    lf = in_scope(base.filter(pl.all_horizontal(preds)) if preds else base, key.scope)
    if isinstance(key.grain, Window):
        period = pl.lit(key.grain.start, dtype=pl.Date).alias("period")
    else:
        period = truncate(pl.col("__date"), key.grain, rng.week_start).alias("period")
    aggs = [agg_expr(a, key.time_column) for a in query.aggregates]
    seg_exprs = [pl.col(s).cast(pl.String) for s in key.segments]
    return lf.group_by([period, *seg_exprs]).agg(aggs).sort(["period", *key.segments])


def in_scope(lf: pl.LazyFrame, scope: Scope) -> pl.LazyFrame:
    preds = [pl.col(col).cast(pl.String) == scope_text(value) for col, value in scope]
    return lf.filter(pl.all_horizontal(preds)) if preds else lf


def null_count_queries(plan: Plan, bases: Mapping[tuple[str, str], pl.LazyFrame],
                       ) -> list[tuple[str, list[Aggregate], pl.LazyFrame]]:
    """``(source, aggregates, query)``: per source, time column and scope of the headline queries, one
    row with, for each aggregate (in order), how many rows of the run's range it skipped because the
    value it reads is null (rows outside its filter do not count). No grouping: every row in range
    falls in exactly one period, so this is the sum over the periods of any grain."""
    groups: dict[tuple[str, str, Scope], dict[tuple[object, ...], Aggregate]] = {}
    for key, query in plan.queries.items():
        if key.segments == () and not isinstance(key.grain, Window):
            group = groups.setdefault((key.source, key.time_column, key.scope), {})
            for a in query.aggregates:
                group.setdefault((a.agg == "count", a.column, a.expression, a.filter), a)
    out = []
    for (source, time_column, scope), group in groups.items():
        aggregates = list(group.values())
        exprs = [e.alias(f"n{i}") for i, a in enumerate(aggregates) if (e := null_expr(a)) is not None]
        if exprs:
            out.append((source, aggregates, in_scope(bases[(source, time_column)], scope).select(exprs)))
    return out


def fill_periods(
    frame: pl.DataFrame, key: QueryKey, outputs: list[Aggregate], rng: RunRange, last_period: dt.date
) -> tuple[pl.LazyFrame, list[dt.date]]:
    """Add missing periods (and segment combinations): additive aggregates as 0, others null.

    Returns the filled frame as a lazy query (every frame is filled in one ``collect_all``) and
    the periods it will hold, in order.
    """
    additive = [pl.col(a.output).fill_null(0.0) for a in outputs if a.agg in ADDITIVE_AGGREGATIONS]
    if isinstance(key.grain, Window):
        if frame.height == 0:
            frame = pl.DataFrame({"period": [key.grain.start], **{a.output: [None] for a in outputs}},
                                 schema={"period": pl.Date, **{a.output: pl.Float64 for a in outputs}})
        return frame.lazy().with_columns(additive), [key.grain.start]
    if frame.height == 0:
        return frame.lazy(), []
    first = cast(dt.date, frame["period"].min())
    if rng.start is not None:
        first = min(first, truncate_py(rng.start, key.grain, rng.week_start))
    days = period_range(first, last_period, key.grain)
    grid = pl.LazyFrame({"period": days}, schema={"period": pl.Date})
    if key.segments:
        combos = frame.lazy().select(list(key.segments)).unique()
        grid = grid.join(combos, how="cross")
    filled = grid.join(frame.lazy(), on=["period", *key.segments], how="left", nulls_equal=True)
    return filled.with_columns(additive).sort(["period", *key.segments]), days


def scope_text(value: object) -> str:
    """Scope values are compared as text, so `true`, 5 and 'x' match any column type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def truncate_py(day: dt.date, grain: str, week_start: str) -> dt.date:
    from metricspec.engine.periods import truncate_date

    return truncate_date(day, grain, week_start)
