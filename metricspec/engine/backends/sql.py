"""The SQL backend: a plan's queries compiled to ibis expressions and run in the source's database.

The queries are fused into statements (:mod:`.sql_fuse`): one ``SELECT period, segments, aggregates ...
GROUP BY`` per source, grain and breakdown in the database's dialect (DuckDB, PostgreSQL, Spark SQL,
...), plus one statement per database connection for the sources' freshness; only the aggregated rows
come back. The translation (:mod:`.sql_exprs`) keeps the polars backend's semantics, so both give the
same Results:

* the date of a row is its local date in the spec's time zone (:mod:`.sql_time`), weeks start on the
  spec's ``week_start``;
* a sum over no values is 0 (SQL's is NULL), booleans count as 0/1, ``last``/``first`` pick the value of
  the latest/earliest time among rows with a value;
* segment values are grouped as text; scope values as :func:`.sql_filters.scope_predicate` says.

Known differences (docs/backends.md): ``round()`` of an exact half may round differently; medians and
percentiles (``p90``) are exact, linearly interpolated, on DuckDB, PostgreSQL and Spark. Rows sharing the
latest time of a ``last`` with different values are refused on every backend (``last_ties``, see
kinds/snapshot.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import polars as pl

from metricspec.engine.backends.ibis_expr import to_ibis
from metricspec.engine.backends.sql_exec import (
    Compiled,
    compile_ahead,
    compile_sql,
    run_checks,
    to_frame,
)
from metricspec.engine.backends.sql_exprs import (
    freshness_expr,
    member_output,
    member_rows,
    null_output,
    statement_expr,
)
from metricspec.engine.backends.sql_filters import scope_predicate
from metricspec.engine.backends.sql_fuse import Statement, fuse
from metricspec.engine.backends.work import Answers, Explained, Work, record_nulls
from metricspec.plan.nodes import (
    NO_TIME,
    EventsQuery,
    Freshness,
    FreshnessQuery,
    Query,
    RunRange,
)
from metricspec.plan.periods import HOUR
from metricspec.spec.expr import names

if TYPE_CHECKING:
    from metricspec.engine.backends.relation import Relation


@dataclass
class SqlBackend:
    """Runs the queries of the sources of one database connection."""

    dialect: str
    relations: dict[str, Relation] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.dialect

    def add(self, source: str, rel: Relation) -> None:
        self.relations[source] = rel

    def run(self, work: Work, rng: RunRange) -> Answers:
        """The cast checks of every column read, the sources' freshness in one statement, then one
        statement per fused group of queries (:func:`.sql_fuse.fuse`)."""
        answers = Answers()
        statements = fuse(work.queries, work.null_counts)
        for source, columns in _columns_read(statements, work.freshness).items():
            run_checks(self.relations[source], columns)  # before any answer is used
        if work.freshness:
            self._freshness(work.freshness, answers)
        # ibis builds and compiles the next statement (Python, holding the GIL) while the database runs
        # this one (DuckDB releases the GIL; a server works on its own): 10-30 ms a statement overlapped
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metricspec-sql")
        try:
            ahead = [pool.submit(compiled, self.relations[st.source], st, rng, self.relations) for st in statements]
            for st, expr in zip(statements, ahead, strict=True):
                split(to_frame(self.relations[st.source], expr.result(), small=True), st, answers, rng.timezone)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return answers

    def _freshness(self, queries: list[FreshnessQuery], answers: Answers) -> None:
        """Every source's rows and first and last time, as the branches of one ``UNION ALL`` (cheap
        ungrouped aggregates over different tables: they add no memory, and save round trips)."""
        import ibis  # optional and heavy: ibis, for database sources

        rel = self.relations[queries[0].source]
        branches = [freshness_expr(self.relations[f.source], f).mutate(__q=ibis.literal(i, type="int32"))
                    for i, f in enumerate(queries)]
        union = branches[0] if len(branches) == 1 else ibis.union(*branches, distinct=False)
        frame = to_frame(rel, union, small=True)
        rows = {int(r["__q"]): r for r in frame.iter_rows(named=True)}
        for i, f in enumerate(queries):
            answers.freshness[f.source] = freshness_of(self.relations[f.source], f, rows.get(i, {}))

    def events(self, query: EventsQuery) -> pl.LazyFrame:
        """Filtered and projected in the database; the funnel or retention logic runs on the rows."""
        rel = self.relations[query.source]
        t = rel.table
        run_checks(rel, [query.time_column, *query.keep, *(c for c, _ in query.scope if c in rel.schema),
                         *(names(query.filter) if query.filter is not None else [])])
        preds = [] if query.filter is None else [to_ibis(query.filter, t.__getitem__)]
        preds += [scope_predicate(t[col], value) for col, value in query.scope if col in rel.schema]
        tcol = t[query.time_column]
        ts = tcol if tcol.type().is_timestamp() else tcol.cast("date").cast("timestamp")
        preds.append(ts.notnull())
        if query.days:  # the day's midnight: distinct values per day (a window's distinct count)
            ts = ts.date().cast("timestamp")
        expr = t.filter(*preds).select(*(t[k].cast("string").name(k) for k in query.keep), __t=ts)
        frame = to_frame(rel, expr.distinct() if query.days else expr)
        return frame.select([*(pl.col(k).cast(pl.String) for k in query.keep),
                             pl.col("__t").cast(pl.Datetime("us"))]).lazy()

    def explain(self, work: Work, rng: RunRange) -> Explained:
        """Each query's statement and its SQL; every statement the work sends."""
        out = Explained()
        statements = fuse(work.queries, work.null_counts)
        for source, columns in _columns_read(statements, work.freshness).items():
            if self.relations[source].pending_checks(columns):
                out.statements.append(f"-- the cast checks of source '{source}'")
        if work.freshness:
            out.statements.append("-- the freshness of " + ", ".join(f"'{f.source}'" for f in work.freshness))
        for st in statements:
            rel = self.relations[st.source]
            sql = compile_sql(statement_expr(rel, st, rng, self.relations))
            out.statements.append(sql)
            for m in st.members:
                out.queries[m.query.key] = {"backend": "sql", "runs_in": rel.dialect, "statement": len(out.statements),
                                            "fused": st.describe(), "sql": sql}
        return out


def compiled(rel: Relation, st: Statement, rng: RunRange, relations: Mapping[str, Relation]) -> Compiled:
    """A statement's expression, compiled to SQL where it is sent as SQL."""
    return compile_ahead(statement_expr(rel, st, rng, relations), rel.dialect)


def _columns_read(statements: list[Statement], freshness: list[FreshnessQuery]) -> dict[str, list[str]]:
    """Per source, every column its statements and freshness read."""
    out: dict[str, list[str]] = {}
    for st in statements:
        out.setdefault(st.source, []).extend(st.columns())
    for f in freshness:
        out.setdefault(f.source, []).extend([f.time_column] if f.time_column else [])
    return {source: sorted(set(cols)) for source, cols in out.items()}


def split(frame: pl.DataFrame, st: Statement, answers: Answers, timezone: str = "UTC") -> None:
    """A statement's answer as each member query's frame (the polars backend's shape) and null counts."""
    for i, m in enumerate(st.members):
        part = frame.filter(pl.col(member_rows(i)) > 0) if m.counted else frame
        grain = m.query.key.grain
        if st.grain is not None:
            period = pl.col("period")
        else:  # a window's value is dated its first day; an all-time value has no date
            day = grain.start if not isinstance(grain, str) and m.query.key.time_column != NO_TIME else None
            period = pl.lit(day, dtype=pl.Date)
        part = part.select([period.alias("period"), *st.segments,
                            *(pl.col(member_output(i, a)).alias(a.output) for a in m.query.aggregates)])
        answers.frames[m.query.key] = normalise(part, m.query, timezone)
    for j, n in enumerate(st.null_counts):
        for k, a in enumerate(n.query.aggregates):
            column = null_output(j, k)
            if column in frame.columns:
                record_nulls(answers, n.query.source, a.label or "", int(frame[column].sum() or 0))


def freshness_of(rel: Relation, f: FreshnessQuery, row: dict[str, Any]) -> Freshness:
    rows = int(row.get("rows") or 0)
    if f.time_column is None:
        return Freshness(rows=rows, first=None, latest=None)
    is_time = rel.table[f.time_column].type().is_timestamp()

    def value(number: float | None) -> object:
        if number is None:
            return None
        if is_time:
            return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(number))
        return dt.date(1970, 1, 1) + dt.timedelta(days=int(number))

    return Freshness(rows=rows, first=iso(value(row.get("first")), rel, f.time_column),
                     latest=iso(value(row.get("latest")), rel, f.time_column),
                     latest_past=iso(value(row.get("latest_past")), rel, f.time_column),
                     future=int(row.get("future") or 0))


def iso(value: object, rel: Relation, column: str) -> str | None:
    """ISO 8601 as the polars backend writes it: a date, or a datetime to the second with its offset in
    the spec's time zone (the earlier instant of a repeated hour)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        zone = getattr(rel.schema[column], "time_zone", None)
        if not isinstance(rel.schema[column], pl.Datetime) or zone is None:
            return value.strftime("%Y-%m-%dT%H:%M:%S")
        local = value.replace(tzinfo=None, microsecond=0) if value.tzinfo is None else \
            value.astimezone(ZoneInfo(zone)).replace(tzinfo=None, microsecond=0)
        return local.replace(tzinfo=ZoneInfo(zone), fold=0).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def normalise(frame: pl.DataFrame, query: Query, timezone: str = "UTC") -> pl.DataFrame:
    """The polars backend's shape: ``period`` Date (an hour: its instant, aware in ``timezone``), segments
    String, aggregates Float64, sorted."""
    segments = list(query.key.segments)
    period = pl.col("period").cast(pl.Date)
    if query.key.grain == HOUR:
        period = (pl.col("period").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
                  .dt.convert_time_zone(timezone))
    exprs = [period, *(pl.col(s).cast(pl.String) for s in segments),
             *(pl.col(a.output).cast(pl.Float64) for a in query.aggregates)]
    return frame.select(exprs).sort(["period", *segments])
