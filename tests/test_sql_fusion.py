"""Fused SQL statements: how queries are grouped, and that a fused statement answers each of its queries
exactly as the polars backend answers it alone.

The property test builds random plans on random rows (several scopes and goal windows on one grain and
breakdown, filters, every aggregation, null counts) and runs them on the polars backend (one group-by
per query) and on DuckDB (one statement per source, grain and breakdown): every frame and null count
must be equal.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ibis = pytest.importorskip("ibis")
pytest.importorskip("duckdb")

from metricspec.engine.backends import Work  # noqa: E402
from metricspec.engine.backends.polars import PolarsBackend  # noqa: E402
from metricspec.engine.backends.sql import SqlBackend  # noqa: E402
from metricspec.engine.backends.sql_fuse import fuse  # noqa: E402
from metricspec.engine.backends.sql_prepare import SourceOptions, prepare  # noqa: E402
from metricspec.plan.nodes import NO_TIME, Plan, QueryKey, RunRange, Window  # noqa: E402

RANGE = RunRange(dt.date(2026, 1, 5), dt.date(2026, 3, 20), "monday")


def _plan(spec: list[tuple[str, tuple[str, ...], tuple[tuple[str, object], ...], str, str | None, str | None]]) -> Plan:
    plan = Plan()
    for grain, segments, scope, agg, column, filter_text in spec:
        g: str | Window = grain
        if grain == "april":
            g = Window(dt.date(2026, 2, 1), dt.date(2026, 2, 28))
        elif grain == "march":
            g = Window(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        plan.add(QueryKey("events", "ts", g, segments, scope), agg, column, filter_text)
    return plan


def test_queries_sharing_source_grain_and_breakdown_share_a_statement() -> None:
    plan = _plan([
        ("week", ("seg",), (("flag", True),), "count", None, None),
        ("week", ("seg",), (("flag", False), ("s", "x")), "sum", "v", None),
        ("week", ("seg",), (("flag", True), ("s", "x")), "count_distinct", "s", None),
        ("week", (), (), "sum", "v", None),
        ("month", (), (), "sum", "v", None),
        ("april", (), (), "count", None, None),
        ("march", (), (("s", "x"),), "mean", "v", "w > 0"),
    ])
    statements = fuse(list(plan.queries.values()), plan.null_count_queries())
    assert [(st.grain, st.segments, len(st.members)) for st in statements] == [
        ("week", ("seg",), 3), ("week", (), 1), ("month", (), 1), (None, (), 2)]
    by_seg = statements[0]
    assert by_seg.scope == ()  # no scope shared by all three: each in its aggregates' filter
    assert [m.scope for m in by_seg.members] == [(("flag", True),), (("flag", False), ("s", "x")),
                                                 (("flag", True), ("s", "x"))]
    assert all(m.counted for m in by_seg.members)
    windows = statements[3]
    assert windows.span == Window(dt.date(2026, 2, 1), dt.date(2026, 3, 31))
    assert [m.window for m in windows.members] == [Window(dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
                                                   Window(dt.date(2026, 3, 1), dt.date(2026, 3, 31))]
    # the null counts of the headline queries ride on the first grain's statement, not on a window's
    assert [len(st.null_counts) for st in statements] == [0, 1, 0, 0]
    assert [m.counted for m in windows.members] == [False, False]  # no GROUP BY: one row each


def test_a_scope_every_query_shares_stays_in_the_where() -> None:
    plan = _plan([("week", (), (("s", "x"), ("flag", True)), "count", None, None),
                  ("week", (), (("s", "x"),), "sum", "v", None)])
    (st,) = fuse(list(plan.queries.values()))
    assert st.scope == (("s", "x"),)
    assert [m.scope for m in st.members] == [(("flag", True),), ()]
    assert [m.counted for m in st.members] == [True, False]


def test_windows_without_a_breakdown_answer_one_row_each_even_over_no_rows() -> None:
    """No GROUP BY: one row per window, as polars' group-by on a constant period answers (a count
    distinct of an empty window is 0); with a breakdown, each window keeps only the groups it has rows in."""
    plan = _plan([("april", (), (), "count_distinct", "v", None), ("march", (), (("s", "x"),), "count", None, None),
                  ("april", ("seg",), (), "count", None, None), ("march", ("seg",), (), "count", None, None)])
    headline, by_seg = fuse(list(plan.queries.values()))
    assert not headline.grouped and [m.counted for m in headline.members] == [False, False]
    assert by_seg.grouped and [m.counted for m in by_seg.members] == [True, True]


def test_null_counts_without_a_statement_get_their_own() -> None:
    from metricspec.plan.nodes import Aggregate, NullCountQuery

    nc = NullCountQuery("events", NO_TIME, (), (Aggregate("a0", "sum", "v", None),))
    (st,) = fuse([], [nc])
    assert st.members == [] and st.null_counts[0].member == -1


ROW = st.tuples(st.integers(0, 90), st.sampled_from(["a", "b", None]), st.one_of(st.none(), st.integers(-5, 20)),
                st.one_of(st.none(), st.booleans()), st.sampled_from(["x", "y", None]))
QUERY = st.tuples(
    st.sampled_from(["day", "week", "month", "april", "march"]),
    st.sampled_from([(), ("seg",), ("seg", "s")]),
    st.sampled_from([(), (("flag", True),), (("s", "x"),), (("flag", False), ("s", "x"))]),
    st.sampled_from(["count", "sum", "mean", "min", "max", "median", "p90", "count_distinct", "last"]),
    st.just("v"),
    st.sampled_from([None, "v > 3", "s == 'y' or v < 0"]),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, min_size=0, max_size=60), spec=st.lists(QUERY, min_size=1, max_size=8))
def test_fused_statements_answer_each_query_as_polars_does(rows: list[tuple[object, ...]], spec: list) -> None:
    start = dt.datetime(2026, 1, 1)
    frame = pl.DataFrame({
        "ts": [start + dt.timedelta(hours=13 * h) for h, *_ in rows],
        "seg": [r[1] for r in rows], "v": [r[2] for r in rows], "flag": [r[3] for r in rows],
        "s": [r[4] for r in rows],
    }, schema={"ts": pl.Datetime("us"), "seg": pl.String, "v": pl.Int64, "flag": pl.Boolean, "s": pl.String})
    # a `last` needs one value per time: the hours are distinct, keep one row per time
    frame = frame.unique("ts", keep="first", maintain_order=True)
    plan = _plan([(g, segs, scope, agg, col if agg != "count" else None, flt) for g, segs, scope, agg, col, flt in spec])
    queries = list(plan.queries.values())
    work = Work(queries=queries, null_counts=plan.null_count_queries())

    con = ibis.duckdb.connect()
    con.con.register("incoming", frame.to_arrow())
    con.con.execute("CREATE TABLE events AS SELECT * FROM incoming")
    opts = SourceOptions("events", {}, {}, None, "UTC", "UTC", "ts", {}, None)
    rel = prepare(con.table("events"), "duckdb", "fusion-test", opts)
    sql = SqlBackend("duckdb")
    sql.add("events", rel)
    polars = PolarsBackend({"events": frame.with_columns(pl.col("ts").dt.replace_time_zone("UTC")).lazy()},
                           {"events": {**frame.schema, "ts": pl.Datetime("us", "UTC")}})
    got, want = sql.run(work, RANGE), polars.run(work, RANGE)
    for q in queries:
        a, b = got.frames[q.key], want.frames[q.key].sort(["period", *q.key.segments])
        assert a.columns == b.columns and a.dtypes == b.dtypes, q.key
        assert a.height == b.height, (q.key, a, b)
        for col in a.columns:
            x, y = a[col].to_list(), b[col].to_list()
            if a[col].dtype == pl.Float64:
                assert all((p is None and r is None) or (p is not None and r is not None and abs(p - r) <= 1e-9 * max(1, abs(r)))
                           for p, r in zip(x, y, strict=True)), (q.key, col, x, y)
            else:
                assert x == y, (q.key, col)
    assert got.null_counts == want.null_counts
    assert len(fuse(queries, work.null_counts)) <= len(queries)
