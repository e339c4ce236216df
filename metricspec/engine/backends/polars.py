"""The polars backend: a plan's queries as lazy polars queries, all run in one ``collect_all``.

Every query on one (source, time column) reads one shared base (the columns any of them reads, the
local date, the run's date range), so polars reads and prepares the source once; each query adds its
scope and period and one ``group_by`` for all its aggregates. Null counts and freshness run in the
same ``collect_all`` and share the scans.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import polars as pl

from metricspec.engine.backends.work import Answers, Explained, Work, record_nulls
from metricspec.errors import UsageError
from metricspec.kinds.aggregate import QUANTILES
from metricspec.plan.expressions import to_polars
from metricspec.plan.nodes import (
    NO_TIME,
    TIES,
    Aggregate,
    EntityFilter,
    EventsQuery,
    Freshness,
    FreshnessQuery,
    Query,
    QueryKey,
    RunRange,
    Scope,
    Window,
    counts_nulls,
    scope_as_value,
    scope_text,
)
from metricspec.plan.periods import HOUR, hour_dtype, hour_start, to_date, truncate
from metricspec.sources.dataerrors import collect_all_checked
from metricspec.spec import expr as ex

if TYPE_CHECKING:
    from metricspec.sources.prepare import PreparedFrame

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


@dataclass
class PolarsBackend:
    """Runs queries on polars LazyFrames (files, in-memory frames, third-party connectors)."""

    sources: Mapping[str, pl.LazyFrame]
    schemas: Mapping[str, Mapping[str, pl.DataType]]
    prepared: Mapping[str, PreparedFrame] = field(default_factory=dict)
    """Per source, what explains a value that does not convert (:mod:`metricspec.sources.dataerrors`)."""
    name: str = "polars"

    def run(self, work: Work, rng: RunRange) -> Answers:
        bases = self._bases(with_entity_inputs(work.queries), rng)
        lazies = [build_lazy(q, bases[(q.key.source, q.key.time_column)], rng, self.schemas, bases)
                  for q in work.queries]
        nulls = [null_count_lazy(n.aggregates, in_scope(bases[(n.source, n.time_column)], n.scope,
                                                        self.schemas[n.source]))
                 for n in work.null_counts]
        fresh = [self._freshness_lazy(f) for f in work.freshness]
        everything = [*lazies, *nulls, *fresh]
        # grouped by source: the streaming engine runs each source's queries in a collect_all of their
        # own (memory); every polars error becomes a DataError naming the source, column and row
        groups = [*(q.key.source for q in work.queries), *(n.source for n in work.null_counts),
                  *(f.source for f in work.freshness)]
        collected = collect_all_checked(everything, self.prepared, engine=polars_engine(), groups=groups) \
            if everything else []
        answers = Answers()
        it = iter(collected)
        for q in work.queries:
            answers.frames[q.key] = hourly(next(it), rng.timezone) if q.key.grain == HOUR else next(it)
        for n in work.null_counts:
            frame = next(it)
            for i, a in enumerate(n.aggregates):
                if f"n{i}" in frame.columns:
                    record_nulls(answers, n.source, a.label or "", int(frame[0, f"n{i}"] or 0))
        for f in work.freshness:
            answers.freshness[f.source] = freshness_row(next(it))
        return answers

    def explain(self, work: Work, rng: RunRange) -> Explained:
        """Every query runs in this process (one ``collect_all``): no statement is sent."""
        return Explained({q.key: {"backend": self.name, "runs_in": "polars (in this process)"} for q in work.queries})

    def events(self, query: EventsQuery) -> pl.LazyFrame:
        lf = self.sources[query.source]
        schema = self.schemas[query.source]
        cond = condition(query.filter)
        if cond is not None:
            lf = lf.filter(cond)
        scoped = [(col, value) for col, value in query.scope if col in schema]
        if scoped:
            lf = in_scope(lf, tuple(scoped), schema)
        ts = pl.col(query.time_column)
        if not isinstance(schema[query.time_column], pl.Datetime):
            ts = ts.cast(pl.Datetime("us"))
        else:
            ts = ts.dt.replace_time_zone(None)
        out = lf.select([*[pl.col(k).cast(pl.String) for k in query.keep], ts.alias("__t")]).filter(
            pl.col("__t").is_not_null())
        if query.days:  # the day's midnight: distinct values per day (a window's distinct count)
            return out.with_columns(pl.col("__t").dt.truncate("1d")).unique()
        return out

    def _bases(self, queries: list[Query], rng: RunRange) -> dict[tuple[str, str], pl.LazyFrame]:
        shared: dict[tuple[str, str], list[str]] = {}
        for q in queries:
            cols = shared.setdefault((q.key.source, q.key.time_column), [])
            cols.extend(c for c in q.columns() if c not in cols)
        return {sk: source_base(self.sources[sk[0]], sorted(cols), sk[1], self.schemas[sk[0]], rng)
                for sk, cols in shared.items()}

    def _freshness_lazy(self, f: FreshnessQuery) -> pl.LazyFrame:
        exprs = [pl.len().alias("rows")]
        if f.time_column is not None:
            dtype = self.schemas[f.source][f.time_column]
            col = pl.col(f.time_column)
            exprs += [_iso(col.min(), dtype).alias("first"), _iso(col.max(), dtype).alias("latest")]
            if f.today is not None:
                day = col if isinstance(dtype, pl.Date) else col.dt.date()
                past = day <= pl.lit(f.today)
                exprs += [_iso(col.filter(past).max(), dtype).alias("latest_past"), (~past).sum().alias("future")]
        return self.sources[f.source].select(exprs)


def freshness_row(frame: pl.DataFrame) -> Freshness:
    row = frame.row(0, named=True)
    return Freshness(rows=int(row["rows"]), first=row.get("first"), latest=row.get("latest"),
                     latest_past=row.get("latest_past"), future=int(row.get("future") or 0))


def _iso(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """ISO 8601 text: dates as YYYY-MM-DD, datetimes to the second with their UTC offset."""
    if isinstance(dtype, pl.Datetime):
        fmt = "%Y-%m-%dT%H:%M:%S%:z" if dtype.time_zone else "%Y-%m-%dT%H:%M:%S"
        return expr.dt.to_string(fmt)
    return expr.cast(pl.String)


def source_base(source: pl.LazyFrame, columns: list[str], time_column: str, schema: Mapping[str, pl.DataType],
                rng: RunRange) -> pl.LazyFrame:
    """The part every query on one source shares: the columns any of them reads, the local date,
    the run's date range. One identical subplan lets polars read and prepare the source once."""
    if time_column == NO_TIME:  # a source without dates: every row takes part (a count reads no column)
        return source.select([pl.col(c) for c in columns or list(schema)[:1]])
    date = to_date(pl.col(time_column), schema[time_column]).alias("__date")
    preds = [pl.col("__date") <= rng.end, pl.col("__date").is_not_null()]
    if rng.start is not None:
        preds.append(pl.col("__date") >= rng.start)
    return source.select([pl.col(c) for c in columns]).with_columns(date).filter(pl.all_horizontal(preds))


Bases = Mapping[tuple[str, str], pl.LazyFrame]
Schemas = Mapping[str, Mapping[str, pl.DataType]]


def build_lazy(query: Query, base: pl.LazyFrame, rng: RunRange, schemas: Schemas,
               bases: Bases | None = None) -> pl.LazyFrame:
    """One fused lazy query over the source's shared base: scope, period, one group-by for all aggregates.
    ``schemas``: each source's column types (a scope value compares as a value with a column of its
    type); ``bases``: every (source, time column)'s base, for the sources an entity condition reads."""
    key = query.key
    preds = []
    if isinstance(key.grain, Window) and key.time_column != NO_TIME:
        preds += [pl.col("__date") >= key.grain.start, pl.col("__date") <= key.grain.end]
    if key.where is not None:  # a query's --where: rows outside it take no part at all
        preds.append(to_polars(key.where.node).fill_null(False))
    lf = in_scope(base.filter(pl.all_horizontal(preds)) if preds else base, key.scope, schemas[key.source])
    period = period_expr(key, rng).alias("period")
    if key.entities is not None:  # a semi-join with the (period, entity) pairs that satisfy the condition
        pairs = entity_pairs(key.entities, rng, schemas, bases or {})
        lf = lf.with_columns(period.alias("__p"), pl.col(key.entities.column).cast(pl.String).alias("__e")).join(
            pairs, left_on=["__p", "__e"], right_on=["period", "__e"], how="semi", nulls_equal=True)
    aggs = [agg_expr(a, key.time_column, _integer_values(lf, a, schemas[key.source])) for a in query.aggregates]
    seg_exprs = [pl.col(s).cast(pl.String) for s in key.segments]
    return lf.group_by([period, *seg_exprs]).agg(aggs).sort(["period", *key.segments])


def period_expr(key: QueryKey, rng: RunRange) -> pl.Expr:
    """The period of each row of a query's base."""
    if key.time_column == NO_TIME:  # all rows, no period (kinds/alltime.py)
        return pl.lit(None, dtype=pl.Date)
    if isinstance(key.grain, Window):
        return pl.lit(key.grain.start, dtype=pl.Date)
    if key.grain == HOUR:  # a local clock hour of the (time-zone aware) time column
        return hour_start(pl.col(key.time_column))
    return truncate(pl.col("__date"), key.grain, rng.week_start)


def entity_pairs(ef: EntityFilter, rng: RunRange, schemas: Schemas, bases: Bases) -> pl.LazyFrame:
    """``period, __e``: the entities whose condition KPIs (each per entity and period) satisfy it."""
    joined: pl.LazyFrame | None = None
    columns: dict[str, str] = {}
    for i, inp in enumerate(ef.inputs):
        q = inp.query()
        part = build_lazy(q, bases[(q.key.source, q.key.time_column)], rng, schemas).select(
            "period", pl.col(ef.column).alias("__e"), pl.col(inp.aggregate.output).alias(f"__k{i}"))
        columns[inp.name] = f"__k{i}"
        joined = part if joined is None else joined.join(part, on=["period", "__e"], how="full", coalesce=True,
                                                         nulls_equal=True)
    assert joined is not None
    cond = to_polars(ef.condition, lambda n: pl.col(columns[n])).fill_null(False)
    return joined.filter(cond & pl.col("__e").is_not_null()).select("period", "__e")


def with_entity_inputs(queries: list[Query]) -> list[Query]:
    """The queries and the per-entity queries of their entity conditions (their sources need bases)."""
    return [*queries, *(inp.query() for q in queries if q.key.entities is not None for inp in q.key.entities.inputs)]


def hourly(frame: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """An hour query's answer with its periods aware in the spec's zone (a naive time column, from a
    frame the source preparation did not convert, holds wall-clock times of that zone)."""
    dtype = frame.schema["period"]
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        period = pl.col("period").dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        return frame.with_columns(period.dt.cast_time_unit("us"))
    return frame.with_columns(pl.col("period").cast(hour_dtype(timezone)))


def _integer_values(lf: pl.LazyFrame, a: Aggregate, schema: Mapping[str, pl.DataType]) -> bool:
    """Whether a sum adds integers (from the source's schema, or the expression's; no data is read)."""
    if a.agg != "sum" or (a.column is None and a.expression is None):
        return False
    if a.column is not None:
        return a.column in schema and schema[a.column].is_integer()
    value = value_expr(a)
    assert value is not None
    return lf.select(value.alias("v")).collect_schema()["v"].is_integer()


def in_scope(lf: pl.LazyFrame, scope: Scope, schema: Mapping[str, pl.DataType]) -> pl.LazyFrame:
    """The rows where each scope column equals its value: as a value when the column has the value's
    type (numbers, true/false), else as text (see plan.scope_as_value)."""
    preds = [scope_predicate(pl.col(col), schema.get(col), value) for col, value in scope]
    return lf.filter(pl.all_horizontal(preds)) if preds else lf


def scope_predicate(col: pl.Expr, dtype: pl.DataType | None, value: object) -> pl.Expr:
    numeric = dtype is not None and dtype.is_numeric()
    if scope_as_value(value, numeric, dtype == pl.Boolean):
        return col == pl.lit(value)
    return col.cast(pl.String) == scope_text(value)


def condition(node: ex.Node | None) -> pl.Expr | None:
    """A boolean row filter (nulls count as false)."""
    return None if node is None else to_polars(node).fill_null(False)


def value_expr(a: Aggregate) -> pl.Expr | None:
    if a.expression is not None:
        return to_polars(a.expression)
    return pl.col(a.column) if a.column else None


def agg_expr(a: Aggregate, time_column: str, integers: bool = False) -> pl.Expr:
    """The polars aggregation for one aggregate (filter applied inside the group).

    A sum of ``integers`` adds them as 128-bit integers before the float the answer holds: an int64
    sum wraps around silently past 9.2e18 (as DuckDB's HUGEINT and PostgreSQL's numeric sums do not),
    and it is exact, so both backends round the same total once."""
    cond = condition(a.filter)
    col = value_expr(a)
    if a.agg == "count":
        if col is not None:
            base = col.is_not_null()
            return (base & cond if cond is not None else base).sum().cast(pl.Float64).alias(a.output)
        return (cond.sum() if cond is not None else pl.len()).cast(pl.Float64).alias(a.output)
    assert col is not None
    if a.agg in TIES:  # how many different values the rows at the latest (earliest) time hold
        keep = col.is_not_null() if cond is None else (cond & col.is_not_null())
        t = pl.col(time_column)
        edge = t.filter(keep).max() if a.agg == "last_ties" else t.filter(keep).min()
        return col.filter(keep & (t == edge)).n_unique().cast(pl.Float64).alias(a.output)
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
    if a.agg in QUANTILES:  # numpy's default interpolation, as DuckDB's quantile_cont, PostgreSQL's percentile_cont
        return values.cast(pl.Float64).quantile(QUANTILES[a.agg], interpolation="linear").alias(a.output)
    if a.agg == "sum" and integers:
        values = values.cast(pl.Int128)
    fn = {"sum": values.sum, "mean": values.mean, "median": values.median, "min": values.min,
          "max": values.max}[a.agg]
    return fn().cast(pl.Float64).alias(a.output)


def null_count_lazy(aggregates: tuple[Aggregate, ...], lf: pl.LazyFrame) -> pl.LazyFrame:
    """One row: ``n{i}`` = rows where aggregate ``i``'s value is null and its filter holds."""
    exprs = []
    for i, a in enumerate(aggregates):
        col = value_expr(a)
        if col is None or not counts_nulls(a):
            continue
        cond = condition(a.filter)
        nulls = col.is_null()
        exprs.append((nulls & cond if cond is not None else nulls).sum().alias(f"n{i}"))
    return lf.select(exprs)
