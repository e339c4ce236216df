"""The ibis expressions of the SQL backend's statements: a fused statement, freshness, null counts.

Every function keeps the polars backend's semantics (see :mod:`.sql`): a row's date is its local date
in the spec's time zone, weeks start on the spec's ``week_start``, a sum over no values is 0, booleans
count as 0/1, ``last``/``first`` pick the value of the latest/earliest time among rows with a value,
scope and segment values are compared and grouped as text. A filter (a KPI's, a query's scope, a goal
window's dates) goes inside the aggregate, where null counts as false.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from metricspec.engine.backends.dialects import dialect_for
from metricspec.engine.backends.ibis_expr import UntranslatableError, to_ibis
from metricspec.engine.backends.sql_filters import filtered, scope_predicate
from metricspec.engine.backends.sql_fuse import Member, Statement, fuse
from metricspec.engine.backends.sql_time import hour_instant
from metricspec.errors import DataError
from metricspec.kinds.aggregate import QUANTILES
from metricspec.plan.nodes import (
    NO_TIME,
    TIES,
    Aggregate,
    FreshnessQuery,
    Query,
    RunRange,
    Scope,
    Window,
    counts_nulls,
)
from metricspec.plan.periods import HOUR, WEEKDAYS

if TYPE_CHECKING:
    from metricspec.engine.backends.relation import Relation
    from metricspec.spec import expr as ex

_UNITS = {"month": "M", "quarter": "Q", "year": "Y"}


def member_output(index: int, a: Aggregate) -> str:
    """The statement's column holding member ``index``'s aggregate ``a``."""
    return f"m{index}_{a.output}"


def member_rows(index: int) -> str:
    """The statement's column counting member ``index``'s rows per group."""
    return f"m{index}__n"


def null_output(index: int, aggregate: int) -> str:
    """The statement's column counting null values of aggregate ``aggregate`` of null count ``index``."""
    return f"z{index}_{aggregate}"


def statement_expr(rel: Relation, st: Statement, rng: RunRange,
                   relations: Mapping[str, Relation] | None = None) -> Any:
    """The ibis expression of one fused statement (see :mod:`.sql_fuse`); ``relations``: the connection's
    sources, for the KPIs an entity condition reads."""
    hourly = st.grain == HOUR and rel.instants is not None
    t = in_range(rel, rel.instants if hourly else rel.table, st.time_column, rng, st.span, st.scope)

    def period_of(t: Any) -> Any:
        import ibis  # optional and heavy: only where a source is in a database

        if st.grain == HOUR:  # the hour's first instant, as naive UTC time (normalise makes it local)
            return hour_instant(t, st.time_column, rng.timezone, rel.dialect)
        if st.grain is not None:
            return truncate(t["__date"], st.grain, rng.week_start)
        window = st.members[0].query.key.grain  # an entity condition: the statement's one window
        day = window.start if isinstance(window, Window) and st.time_column != NO_TIME else None
        return ibis.literal(day, type="date")

    def groups_of(t: Any) -> list[Any]:
        keys = [] if st.grain is None else [period_of(t).name("period")]
        return keys + [t[s].cast("string").name(s) for s in st.segments]

    if st.members:  # a query's --where and entity condition: the same for every member
        t = filtered(rel, t, st.members[0].query.key, period_of, rng, relations, query_expr)
    try:
        t = with_edges(t, st, groups_of)
        aggs: dict[str, Any] = {}
        for i, m in enumerate(st.members):
            for a in m.query.aggregates:
                name = member_output(i, a)
                edge = t[edge_name(name)] if a.agg in TIES else None
                aggs[name] = aggregate(t, a, st.time_column, condition(t, m, a.filter), edge,
                                       dialect=rel.dialect).cast("float64")
            if m.counted:
                aggs[member_rows(i)] = t.count(where=condition(t, m, None))
        for j, n in enumerate(st.null_counts):
            owner = st.members[n.member] if n.member >= 0 else None
            for k, a in enumerate(n.query.aggregates):
                if counts_nulls(a):
                    nulls = _value(t, a).isnull()
                    cond = condition(t, owner, a.filter)
                    aggs[null_output(j, k)] = t.count(where=nulls if cond is None else (nulls & cond))
    except UntranslatableError as exc:
        raise DataError(f"source '{rel.source}': {exc.message}", where=rel.where, hint=exc.hint) from None
    groups = groups_of(t)
    return t.group_by(groups).aggregate(**aggs) if groups else t.aggregate(**aggs)


def query_expr(rel: Relation, query: Query, rng: RunRange, relations: Mapping[str, Relation] | None = None) -> Any:
    """One query as a statement of its own: ``period``, its segments and its aggregates' outputs (the
    KPIs an entity condition reads, :mod:`.sql_filters`)."""
    import ibis  # optional and heavy: only where a source is in a database

    (st,) = fuse([query])
    expr = statement_expr(rel, st, rng, relations)
    if st.grain is not None:
        period = expr["period"]
    else:
        grain = query.key.grain
        day = grain.start if isinstance(grain, Window) and query.key.time_column != NO_TIME else None
        period = ibis.literal(day, type="date")
    keep = expr.filter(expr[member_rows(0)] > 0) if st.members[0].counted else expr
    return keep.select(period.name("period"), *st.segments,
                       **{a.output: keep[member_output(0, a)] for a in query.aggregates})


def condition(t: Any, member: Member | None, filter_node: ex.Node | None) -> Any:
    """Rows of ``t`` an aggregate reads: the member's own scope and window, and the aggregate's filter
    (None: every row of the statement)."""
    preds: list[Any] = []
    if member is not None:
        preds += scope_predicates(t, member.scope)
        if member.window is not None:
            preds += date_predicates(t, member.window)
    if filter_node is not None:
        preds.append(to_ibis(filter_node, t.__getitem__))
    if not preds:
        return None
    out = preds[0]
    for p in preds[1:]:
        out = out & p
    return out


def scope_predicates(t: Any, scope: Scope) -> list[Any]:
    return [scope_predicate(t[col], value) for col, value in scope]


def date_predicates(t: Any, window: Window) -> list[Any]:
    import ibis  # optional and heavy: only where a source is in a database

    return [t["__date"] >= ibis.literal(window.start, type="date"),
            t["__date"] <= ibis.literal(window.end, type="date")]


def edge_name(output: str) -> str:
    return f"__edge_{output}"


def with_edges(t: Any, st: Statement, groups_of: Callable[[Any], list[Any]]) -> Any:
    """For each ``last_ties``/``first_ties`` aggregate, its group's latest (earliest) time among the rows
    it reads, as a window column (``MAX(...) OVER (PARTITION BY period, segments)``)."""
    import ibis  # optional and heavy: only where a source is in a database

    edges: dict[str, Any] = {}
    for i, m in enumerate(st.members):
        for a in m.query.aggregates:
            if a.agg not in TIES:
                continue
            cond = condition(t, m, a.filter)
            value = _value(t, a)
            keep = value.notnull() if cond is None else (cond & value.notnull())
            tcol = t[st.time_column]
            time = ibis.cases((keep, tcol), else_=ibis.null(tcol.type()))
            edge = time.max() if a.agg == "last_ties" else time.min()
            edges[edge_name(member_output(i, a))] = edge.over(group_by=groups_of(t))
    return t.mutate(**edges) if edges else t


def in_range(rel: Relation, table: Any, time_column: str, rng: RunRange, window: Window | None,
             scope: Scope) -> Any:
    """Rows of the run's date range (and a goal's window) in ``scope``, with their local date ``__date``."""
    import ibis  # optional and heavy: only where a source is in a database

    if time_column == NO_TIME:  # a source without dates: every row in scope takes part
        scoped = scope_predicates(table, scope)
        return table.filter(*scoped) if scoped else table
    tcol = table[time_column]
    date = tcol.date() if tcol.type().is_timestamp() else tcol.cast("date")
    t = table.mutate(__date=date)
    preds = [t["__date"].notnull(), t["__date"] <= ibis.literal(rng.end, type="date")]
    if rng.start is not None:
        preds.append(t["__date"] >= ibis.literal(rng.start, type="date"))
    if window is not None:
        preds += date_predicates(t, window)
    preds += scope_predicates(t, scope)
    return t.filter(*preds)


def truncate(date: Any, grain: str, week_start: str) -> Any:
    """First day of the period of each date (weeks start on ``week_start``)."""
    import ibis  # optional and heavy: only where a source is in a database

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
        import ibis  # optional and heavy: only where a source is in a database

        return ibis.cases((value, 1), (~value, 0), else_=ibis.null("int64"))
    return value


def aggregate(t: Any, a: Aggregate, time_column: str, cond: Any, edge: Any = None, *, dialect: str = "") -> Any:
    """The ibis aggregation of one aggregate over the rows where ``cond`` holds (None: all rows);
    ``edge``: the ``last_ties``/``first_ties`` edge time column (:func:`with_edges`)."""
    value = _value(t, a)
    if a.agg == "count":
        if value is None:
            return t.count(where=cond)
        return value.count(where=cond)
    assert value is not None
    if a.agg in TIES:  # the rows at the edge time
        keep = value.notnull() if cond is None else (cond & value.notnull())
        return value.nunique(where=keep & (t[time_column] == edge))
    if a.agg in ("last", "first"):
        keep = value.notnull() if cond is None else (cond & value.notnull())
        time = t[time_column]
        return value.argmax(time, where=keep) if a.agg == "last" else value.argmin(time, where=keep)
    d = dialect_for(dialect)
    if a.agg == "count_distinct":
        return d.count_distinct(value, cond)
    if a.agg == "sum":
        import ibis  # optional and heavy: only where a source is in a database

        return ibis.coalesce(d.sum_input(value).sum(where=cond), 0)  # no values: 0, as polars
    interpolated = a.agg == "median" or a.agg in QUANTILES
    if (a.agg == "mean" or interpolated) and not value.type().is_floating():
        value = value.cast("float64")  # PostgreSQL averages integers as numeric
    if interpolated and cond is not None:
        # the filter nulls the value: ibis gives Spark's percentile a filtered (non-constant) percentage
        import ibis  # optional and heavy: only where a source is in a database

        value, cond = ibis.cases((cond, value), else_=ibis.null(value.type())), None
    if a.agg in QUANTILES:  # quantile_cont (DuckDB), percentile_cont (PostgreSQL): linear, as numpy and polars
        return d.quantile(value, QUANTILES[a.agg])
    if a.agg == "median":
        return d.median(value, cond)
    return getattr(value, a.agg)(where=cond)  # mean, min, max


def freshness_expr(rel: Relation, f: FreshnessQuery) -> Any:
    """Rows, and the first and last time (whole seconds since 1970 of the local wall-clock time, or days
    for dates: numbers, so that every source's answer has the same columns), as float64."""
    import ibis  # optional and heavy: only where a source is in a database

    t = rel.table
    none = ibis.null("float64")
    if f.time_column is None:
        return t.aggregate(rows=t.count().cast("float64"), first=none, latest=none, latest_past=none, future=none)
    col = t[f.time_column]
    is_time = col.type().is_timestamp()
    day = col.date() if is_time else col.cast("date")

    def number(value: Any) -> Any:
        return (value.epoch_seconds() if is_time else value.epoch_days()).cast("float64")

    extra: dict[str, Any] = {"latest_past": none, "future": none}
    if f.today is not None:
        past = day <= ibis.literal(f.today, type="date")
        extra = {"latest_past": number(col.max(where=past)), "future": t.count(where=~past).cast("float64")}
    return t.aggregate(rows=t.count().cast("float64"), first=number(col.min()), latest=number(col.max()), **extra)
