"""The SQL backend: a plan's queries compiled to ibis expressions and run in the source's database.

Each query becomes one ``SELECT period, segments, aggregates ... GROUP BY`` in the database's dialect
(DuckDB, PostgreSQL, Spark SQL, ...); only the aggregated rows come back. The translation keeps the
polars backend's semantics, so both give the same Results:

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
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from metricspec.engine.backends import Answers, Work, record_nulls
from metricspec.engine.backends.ibis_expr import UntranslatableError, to_ibis
from metricspec.engine.backends.sql_filters import filtered, scope_predicate
from metricspec.engine.backends.sql_time import hour_instant
from metricspec.errors import DataError, MetricSpecError
from metricspec.kinds.aggregate import QUANTILES
from metricspec.plan.nodes import (
    NO_TIME,
    TIES,
    Aggregate,
    EventsQuery,
    Freshness,
    FreshnessQuery,
    NullCountQuery,
    Query,
    RunRange,
    Window,
    counts_nulls,
)
from metricspec.plan.periods import HOUR, WEEKDAYS
from metricspec.spec.expr import names

if TYPE_CHECKING:
    import polars as pl

    from metricspec.engine.backends.relation import Relation

_UNITS = {"month": "M", "quarter": "Q", "year": "Y"}


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
        """One statement per source: its queries, null counts and freshness as the branches of a
        ``UNION ALL`` (each database round trip costs: a remote warehouse or a Spark job takes a second
        or more)."""
        answers = Answers()
        items: dict[str, list[Item]] = {}
        for q in work.queries:
            items.setdefault(q.key.source, []).append(q)
        for n in work.null_counts:
            items.setdefault(n.source, []).append(n)
        for f in work.freshness:
            items.setdefault(f.source, []).append(f)
        for source, todo in items.items():
            rel = self.relations[source]
            checks = rel.columns_checked(sorted({c for item in todo for c in _columns(item)}))
            chunks = _chunks(todo, branches_per_statement(self.dialect))
            if checks:  # checked in the first statement, before any of its answers is used
                chunks[0] = [Checks(tuple(checks)), *chunks[0]]
            for chunk in chunks:
                self._run_batch(rel, chunk, rng, answers)
        return answers

    def _run_batch(self, rel: Relation, batch: list[Item], rng: RunRange, answers: Answers) -> None:
        import ibis

        branches = [branch_expr(rel, item, rng, self.relations) for item in batch]
        width_s = max(len(b[1]) for b in branches)
        width_v = max(len(b[2]) for b in branches)
        # hour periods are instants (timestamps): the union's period column is then one for every branch
        hourly = any(isinstance(item, Query) and item.key.grain == HOUR for item in batch)
        selects = []
        for i, (expr, segs, values) in enumerate(branches):
            period = expr["period"].cast("timestamp") if hourly else expr["period"]
            cols: dict[str, Any] = {"__q": ibis.literal(i, type="int32"), "period": period}
            for j in range(width_s):
                cols[f"__s{j}"] = expr[segs[j]].cast("string") if j < len(segs) else ibis.null("string")
            for j in range(width_v):
                cols[f"__v{j}"] = expr[values[j]].cast("float64") if j < len(values) else ibis.null("float64")
            selects.append(expr.select(**cols))
        union = selects[0] if len(selects) == 1 else ibis.union(*selects, distinct=False)
        frame = to_frame(rel, union)
        parts = frame.partition_by("__q", as_dict=True, include_key=False)
        for i, item in enumerate(batch):
            part = parts.get((i,), frame.clear().drop("__q"))
            _, segs, values = branches[i]
            names = {f"__s{j}": s for j, s in enumerate(segs)} | {f"__v{j}": v for j, v in enumerate(values)}
            part = part.select(["period", *names]).rename(names)
            if isinstance(item, Query):
                answers.frames[item.key] = normalise(part, item, rng.timezone)
                continue
            row = part.row(0, named=True) if part.height else {}
            if isinstance(item, Checks):
                item.raise_first(rel, [row.get(f"c{j}") for j in range(len(item.checks))])
                continue
            if isinstance(item, FreshnessQuery):
                answers.freshness[item.source] = freshness_of(rel, item, row)
                continue
            for j, a in enumerate(item.aggregates):
                if f"n{j}" in row:
                    record_nulls(answers, item.source, a.label or "", int(row[f"n{j}"] or 0))

    def events(self, query: EventsQuery) -> pl.LazyFrame:
        """Filtered and projected in the database; the funnel or retention logic runs on the rows."""
        import polars as pl

        rel = self.relations[query.source]
        t = rel.table
        run_checks(rel, [query.time_column, *query.keep, *(c for c, _ in query.scope if c in rel.schema),
                         *(names(query.filter) if query.filter is not None else [])])
        preds = [] if query.filter is None else [to_ibis(query.filter, t.__getitem__)]
        preds += [scope_predicate(t[col], value) for col, value in query.scope if col in rel.schema]
        tcol = t[query.time_column]
        ts = tcol if tcol.type().is_timestamp() else tcol.cast("date").cast("timestamp")
        preds.append(ts.notnull())
        expr = t.filter(*preds).select(*(t[k].cast("string").name(k) for k in query.keep), __t=ts)
        frame = to_frame(rel, expr)
        return frame.select([*(pl.col(k).cast(pl.String) for k in query.keep),
                             pl.col("__t").cast(pl.Datetime("us"))]).lazy()

    def explain(self, query: Query, rng: RunRange) -> dict[str, object]:
        import ibis

        rel = self.relations[query.key.source]
        sql = ibis.to_sql(query_expr(rel, query, rng, self.relations))
        return {"backend": "sql", "runs_in": rel.dialect, "sql": str(sql)}


MAX_BRANCHES = 64
"""Queries sent in one statement at most."""

IN_PROCESS = frozenset({"duckdb"})
"""Dialects whose database runs inside this process: a statement costs no round trip, and the
branches of a ``UNION ALL`` run at once, their hash tables (a count distinct's above all) adding up in
this process's memory: 2.3 GiB against 0.7 GiB for one statement per query on the 23-KPI benchmark at
10M rows (benchmarks/bench_pushdown.py)."""


def branches_per_statement(dialect: str) -> int:
    """Queries per statement: one for an in-process database, else up to :data:`MAX_BRANCHES`
    (a warehouse or a Spark job pays a second or more per round trip)."""
    return 1 if dialect in IN_PROCESS else MAX_BRANCHES


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class Checks:
    """The cast checks of a source's columns, as one branch: the first bad value of each, as text."""

    checks: tuple[Any, ...]

    def expr(self) -> Any:
        import ibis

        table = self.checks[0].table
        return table.aggregate(**{f"c{i}": c.raw.cast("string").min(where=c.bad)
                                  for i, c in enumerate(self.checks)}).mutate(period=ibis.null("date"))

    def raise_first(self, rel: Relation, bad: list[object]) -> None:
        for check, value in zip(self.checks, bad, strict=True):
            if value is not None:
                raise DataError(check.message(rel.source, value), where=rel.where, hint=check.hint())


Item = Query | NullCountQuery | FreshnessQuery | Checks
"""What one branch of a source's statement answers."""


def _columns(item: Item) -> list[str]:
    if isinstance(item, Checks):
        return []
    if isinstance(item, Query):
        return item.columns()
    if isinstance(item, FreshnessQuery):
        return [item.time_column] if item.time_column else []
    cols = [item.time_column] if item.time_column != NO_TIME else []
    cols += [c for c, _ in item.scope]
    for a in item.aggregates:
        cols.extend(a.columns())
    return cols


def branch_expr(rel: Relation, item: Item, rng: RunRange, relations: Mapping[str, Relation] | None = None,
                ) -> tuple[Any, list[str], list[str]]:
    """A query, null count or freshness query as one branch of a batch: its expression, segment and
    value columns."""
    import ibis

    if isinstance(item, Query):
        return (query_expr(rel, item, rng, relations), list(item.key.segments),
                [a.output for a in item.aggregates])
    if isinstance(item, FreshnessQuery):
        return freshness_expr(rel, item), [], ["rows", "first", "latest", "latest_past", "future"]
    if isinstance(item, Checks):
        return item.expr(), [f"c{i}" for i in range(len(item.checks))], []
    counted = [(i, a) for i, a in enumerate(item.aggregates) if counts_nulls(a)]
    base = in_range(rel, rel.table, item.time_column, rng, None, item.scope)
    expr = base.aggregate(**{f"n{i}": null_count(rel, base, a) for i, a in counted}).mutate(
        period=ibis.null("date"))
    return expr, [], [f"n{i}" for i, _ in counted]


def query_expr(rel: Relation, query: Query, rng: RunRange, relations: Mapping[str, Relation] | None = None) -> Any:
    """The ibis expression of one fused query (``relations``: the connection's sources, for the KPIs an
    entity condition reads)."""
    import ibis

    key = query.key
    window = key.grain if isinstance(key.grain, Window) else None
    table = rel.instants if key.grain == HOUR and rel.instants is not None else rel.table
    t = in_range(rel, table, key.time_column, rng, window, key.scope)

    def period_of(t: Any) -> Any:
        if key.time_column == NO_TIME:  # all rows, no period (kinds/alltime.py)
            return ibis.null("date")
        if window is not None:
            return ibis.literal(window.start, type="date")
        if key.grain == HOUR:  # the hour's first instant, as naive UTC time (normalise makes it local)
            return hour_instant(t, key.time_column, rng.timezone, rel.dialect)
        return truncate(t["__date"], key.grain, rng.week_start)  # type: ignore[arg-type]

    def groups_of(t: Any) -> list[Any]:
        return [period_of(t).name("period"), *(t[s].cast("string").name(s) for s in key.segments)]

    t = filtered(rel, t, key, period_of, rng, relations, query_expr)  # a query's where, an entity condition
    t = with_edges(t, query, groups_of(t))
    groups = groups_of(t)
    try:
        aggs = {a.output: aggregate(rel, t, a, key.time_column).cast("float64") for a in query.aggregates}
    except UntranslatableError as exc:
        raise DataError(f"source '{rel.source}': {exc.message}", where=rel.where, hint=exc.hint) from None
    return t.group_by(groups).aggregate(**aggs)


def edge_name(a: Aggregate) -> str:
    return f"__edge_{a.output}"


def with_edges(t: Any, query: Query, groups: list[Any]) -> Any:
    """For each ``last_ties``/``first_ties`` aggregate, its group's latest (earliest) time among the rows
    with a value, as a window column (``MAX(...) OVER (PARTITION BY period, segments)``)."""
    import ibis

    edges: dict[str, Any] = {}
    for a in query.aggregates:
        if a.agg not in TIES:
            continue
        cond = None if a.filter is None else to_ibis(a.filter, t.__getitem__)
        value = _value(t, a)
        keep = value.notnull() if cond is None else (cond & value.notnull())
        time = ibis.cases((keep, t[query.key.time_column]), else_=ibis.null(t[query.key.time_column].type()))
        edge = time.max() if a.agg == "last_ties" else time.min()
        edges[edge_name(a)] = edge.over(group_by=groups)
    return t.mutate(**edges) if edges else t


def in_range(rel: Relation, table: Any, time_column: str, rng: RunRange, window: Window | None,
             scope: tuple[tuple[str, object], ...]) -> Any:
    """Rows of the run's date range (and a goal's window) in ``scope``, with their local date ``__date``."""
    import ibis

    if time_column == NO_TIME:  # a source without dates: every row in scope takes part
        scoped = [scope_predicate(table[col], value) for col, value in scope]
        return table.filter(*scoped) if scoped else table
    tcol = table[time_column]
    date = tcol.date() if tcol.type().is_timestamp() else tcol.cast("date")
    t = table.mutate(__date=date)
    preds = [t["__date"].notnull(), t["__date"] <= ibis.literal(rng.end, type="date")]
    if rng.start is not None:
        preds.append(t["__date"] >= ibis.literal(rng.start, type="date"))
    if window is not None:
        preds += [t["__date"] >= ibis.literal(window.start, type="date"),
                  t["__date"] <= ibis.literal(window.end, type="date")]
    preds += [scope_predicate(t[col], value) for col, value in scope]
    return t.filter(*preds)


def truncate(date: Any, grain: str, week_start: str) -> Any:
    """First day of the period of each date (weeks start on ``week_start``)."""
    import ibis

    if grain == "day":
        return date
    if grain == "week":
        shift = WEEKDAYS.index(week_start)
        if shift == 0:
            return date.truncate("W")
        days = ibis.interval(days=shift)
        return (date - days).truncate("W") + days
    return date.truncate(_UNITS[grain])


def _value(t: Any, a: Aggregate) -> Any:
    if a.expression is not None:
        value = to_ibis(a.expression, t.__getitem__)
    elif a.column:
        value = t[a.column]
    else:
        return None
    if value.type().is_boolean():  # as polars: true is 1 (PostgreSQL casts booleans to int4 only)
        import ibis

        return ibis.cases((value, 1), (~value, 0), else_=ibis.null("int64"))
    return value


def aggregate(rel: Relation, t: Any, a: Aggregate, time_column: str) -> Any:
    """The ibis aggregation of one aggregate (its filter inside the aggregate, as polars does)."""
    cond = None if a.filter is None else to_ibis(a.filter, t.__getitem__)
    value = _value(t, a)
    if a.agg == "count":
        if value is None:
            return t.count(where=cond)
        return value.count(where=cond)
    assert value is not None
    if a.agg in TIES:  # the rows at the edge time, marked by with_edges
        keep = value.notnull() if cond is None else (cond & value.notnull())
        return value.nunique(where=keep & (t[time_column] == t[edge_name(a)]))
    if a.agg in ("last", "first"):
        keep = value.notnull() if cond is None else (cond & value.notnull())
        time = t[time_column]
        return value.argmax(time, where=keep) if a.agg == "last" else value.argmin(time, where=keep)
    if a.agg == "count_distinct":
        return value.nunique(where=cond)
    if a.agg == "sum":
        import ibis

        wide = rel.dialect == "pyspark" and value.type().is_integer()  # Spark's long sum overflows: widen it
        return ibis.coalesce((value.cast("decimal(38, 0)") if wide else value).sum(where=cond), 0)  # no values: 0, as polars
    interpolated = a.agg == "median" or a.agg in QUANTILES
    if (a.agg == "mean" or interpolated) and not value.type().is_floating():
        value = value.cast("float64")  # PostgreSQL averages integers as numeric
    if interpolated and cond is not None:
        # the filter nulls the value: ibis gives Spark's percentile a filtered (non-constant) percentage
        import ibis

        value, cond = ibis.cases((cond, value), else_=ibis.null(value.type())), None
    if a.agg in QUANTILES:  # quantile_cont (DuckDB), percentile_cont (PostgreSQL): linear, as numpy and polars
        return value.quantile(QUANTILES[a.agg])
    return getattr(value, a.agg)(where=cond)  # mean, median, min, max


def null_count(rel: Relation, t: Any, a: Aggregate) -> Any:
    cond = None if a.filter is None else to_ibis(a.filter, t.__getitem__)
    value = _value(t, a)
    assert value is not None
    nulls = value.isnull()
    return t.count(where=nulls if cond is None else (nulls & cond))


def freshness_expr(rel: Relation, f: FreshnessQuery) -> Any:
    """Rows, and the first and last time (whole seconds since 1970 of the local wall-clock time, or days
    for dates: numbers, so they travel in the batch's value columns)."""
    import ibis

    t = rel.table
    none = ibis.null("float64")
    if f.time_column is None:
        return t.aggregate(rows=t.count(), first=none, latest=none, latest_past=none, future=none).mutate(
            period=ibis.null("date"))
    col = t[f.time_column]
    is_time = col.type().is_timestamp()
    day = col.date() if is_time else col.cast("date")

    def number(value: Any) -> Any:
        return value.epoch_seconds() if is_time else value.epoch_days()

    extra: dict[str, Any] = {"latest_past": none, "future": none}
    if f.today is not None:
        past = day <= ibis.literal(f.today, type="date")
        extra = {"latest_past": number(col.max(where=past)), "future": t.count(where=~past)}
    return t.aggregate(rows=t.count(), first=number(col.min()), latest=number(col.max()), **extra).mutate(
        period=ibis.null("date"))


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
    import polars as pl

    if value is None:
        return None
    if isinstance(value, dt.datetime):
        zone = getattr(rel.schema[column], "time_zone", None)
        if not isinstance(rel.schema[column], pl.Datetime) or zone is None:
            return value.strftime("%Y-%m-%dT%H:%M:%S")
        from zoneinfo import ZoneInfo

        local = value.replace(tzinfo=None, microsecond=0) if value.tzinfo is None else \
            value.astimezone(ZoneInfo(zone)).replace(tzinfo=None, microsecond=0)
        return local.replace(tzinfo=ZoneInfo(zone), fold=0).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def normalise(frame: pl.DataFrame, query: Query, timezone: str = "UTC") -> pl.DataFrame:
    """The polars backend's shape: ``period`` Date (an hour: its instant, aware in ``timezone``), segments
    String, aggregates Float64, sorted."""
    import polars as pl

    segments = list(query.key.segments)
    period = pl.col("period").cast(pl.Date)
    if query.key.grain == HOUR:
        period = (pl.col("period").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
                  .dt.convert_time_zone(timezone))
    exprs = [period, *(pl.col(s).cast(pl.String) for s in segments),
             *(pl.col(a.output).cast(pl.Float64) for a in query.aggregates)]
    return frame.select(exprs).sort(["period", *segments])


_LOCKS: dict[str, threading.Lock] = {}


def connection_lock(rel: Relation) -> threading.Lock:
    """One lock per database connection: a connection runs one statement at a time (DuckDB's refuse
    a second call), and polars may read two relations of one database from two threads."""
    return _LOCKS.setdefault(rel.connection_key, threading.Lock())


def to_frame(rel: Relation, expr: Any) -> pl.DataFrame:
    """Execute ``expr`` in the source's database; a database error names the source."""
    import polars as pl

    try:
        with connection_lock(rel):
            out = expr.to_polars()
    except MetricSpecError:
        raise
    except Exception as exc:
        raise database_error(rel, exc) from None
    assert isinstance(out, pl.DataFrame)
    return out


def database_error(rel: Relation, exc: BaseException) -> DataError:
    from metricspec.connectors.files import first_line

    message = first_line(exc)
    if "out of memory" not in message.lower():
        hint = "check that the table and columns exist and the values have the declared types"
    elif rel.dialect == "duckdb":  # DuckDB's "Out of Memory Error"
        hint = ("DuckDB ran out of the memory it may use: raise the duckdb connector's `memory_limit:` (DuckDB "
                "spills to disk within it, but a count distinct needs some room) or run on a larger machine")
    else:  # PostgreSQL's "out of memory", a warehouse's
        hint = "the database ran out of memory for this query: ask its administrator for more, or narrow the KPIs"
    return DataError(f"source '{rel.source}': the {rel.dialect} query failed: {message}", where=rel.where, hint=hint)


def run_checks(rel: Relation, columns: list[str]) -> None:
    """Report the first stored value that does not convert to its declared type (text declared int...):
    one statement for every check of the columns not checked yet."""
    checks = rel.columns_checked(columns)
    if checks:
        item = Checks(tuple(checks))
        item.raise_first(rel, list(to_frame(rel, item.expr().drop("period")).row(0)))
