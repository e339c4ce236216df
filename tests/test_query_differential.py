"""Every series ``run`` gives for an example spec equals the same ``query``.

For each example spec, each KPI, each of its grains, its headline and each breakdown its ``segments:``
declare: the points of the run's Results (as of 2026-11-01, the golden files' date) equal the query of
that KPI by the breakdown's columns at that grain, period by period and value by value (the query may
add rows for an empty segment value, which the Results leave out). KPIs sharing a grain and breakdown
are asked in one query, so this also checks that KPIs of different sources line up on period and
breakdown. KPIs of sources without dates (one all-time value) are asked alone. The same holds with the
data in DuckDB (the SQL backend).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from metricspec.engine.query import Question, run_query
from metricspec.engine.run import evaluate
from metricspec.kinds.alltime import is_all_time
from metricspec.loader import load_spec
from metricspec.spec.loaded import LoadedSpec
from metricspec.spec.segments import breakdowns

ROOT = Path(__file__).parent.parent
SPECS = sorted(p.name for p in (ROOT / "specs" / "examples").glob("*.yaml"))
AS_OF = dt.date(2026, 11, 1)


def _in_root() -> Iterator[None]:
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(cwd)


@pytest.fixture(autouse=True)
def in_root() -> Iterator[None]:
    yield from _in_root()


def run_series(loaded: LoadedSpec) -> dict[tuple[str, str, tuple[str, ...]], dict[tuple[object, ...], float | None]]:
    """(kpi, grain, breakdown) -> {(period, *values): value} of the run's Results."""
    res = evaluate(loaded, as_of=AS_OF)
    out: dict[tuple[str, str, tuple[str, ...]], dict[tuple[object, ...], float | None]] = defaultdict(dict)
    for k in res.kpis:
        kpi = loaded.spec.kpis[k.name]
        if is_all_time(loaded.spec, k.name):
            out[(k.name, "all", ())][(None,)] = k.headlines[0].value
            continue
        for s in k.series:
            if s.kind == "benchmark":
                continue
            if s.kind == "headline":
                cols: tuple[str, ...] = ()
                values: tuple[str, ...] = ()
            else:
                cols = tuple(s.segment_columns or [s.segment or ""])
                values = tuple(s.segment_values or [s.segment_value or ""])
            assert s.kind == "headline" or cols in breakdowns(kpi.segments)
            for p in s.points:
                out[(k.name, s.grain, cols)][(p.period, *values)] = p.value
    return out


def groups(loaded: LoadedSpec) -> dict[tuple[str, tuple[str, ...]], list[str]]:
    """(grain, breakdown) -> the KPIs that declare it (all-time KPIs: grain ``all``, one each)."""
    spec = loaded.spec
    out: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for name, kpi in spec.kpis.items():
        if is_all_time(spec, name):
            out[("all:" + name, ())].append(name)
            continue
        for grain in spec.kpi_grains(kpi):
            out[(grain, ())].append(name)
            for cols in breakdowns(kpi.segments):
                out[(grain, cols)].append(name)
    return out


def dates(loaded: LoadedSpec) -> tuple[dt.date | None, dt.date]:
    """The run's dates: the spec's period, up to the as-of date."""
    period = loaded.spec.period
    return (period.start, min(period.end, AS_OF)) if period else (None, AS_OF)


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == b


def check_spec(name: str) -> int:
    loaded = load_spec(Path("specs/examples") / name)
    expected = run_series(loaded)
    start, end = dates(loaded)
    compared = 0
    for (grain, cols), kpis in sorted(groups(loaded).items()):
        undated = grain.startswith("all:")
        answer = run_query(loaded, Question(tuple(kpis), cols, None if undated else grain, None, start, end))
        frame = answer.frame
        for kpi in kpis:
            want = expected[(kpi, "all" if undated else grain, cols)]
            got: dict[tuple[object, ...], float | None] = {}
            for row in frame.select(["period", *cols, kpi]).iter_rows():
                if None in row[1:-1]:
                    continue  # an empty segment value: the Results leave it out
                got[tuple(row[:-1])] = row[-1]
            missing = {k: v for k, v in want.items() if k not in got}
            assert not missing, f"{name}: {kpi} per {grain} by {cols}: the query lacks {list(missing)[:3]}"
            extra = {k: v for k, v in got.items() if k not in want and v is not None}
            assert not extra, f"{name}: {kpi} per {grain} by {cols}: the query adds {list(extra.items())[:3]}"
            wrong = {k: (want[k], got[k]) for k in want if not same(want[k], got[k])}
            assert not wrong, f"{name}: {kpi} per {grain} by {cols}: run vs query {list(wrong.items())[:3]}"
            compared += len(want)
    return compared


@pytest.mark.parametrize("name", SPECS)
def test_every_declared_series_equals_the_query(name: str) -> None:
    assert check_spec(name) > 0


@pytest.fixture(scope="module")
def duckdb_pm() -> Iterator[object]:
    pytest.importorskip("ibis")
    pytest.importorskip("duckdb")
    from backend_support import DuckDBLoader, database_plugin_manager

    yield database_plugin_manager(DuckDBLoader())


@pytest.mark.parametrize("name", SPECS)
def test_every_declared_series_equals_the_query_in_duckdb(name: str, duckdb_pm) -> None:
    """The run on polars (the golden Results) against the query with the data in DuckDB."""
    loaded = load_spec(Path("specs/examples") / name)
    expected = run_series(loaded)
    start, end = dates(loaded)
    for (grain, cols), kpis in sorted(groups(loaded).items()):
        undated = grain.startswith("all:")
        question = Question(tuple(kpis), cols, None if undated else grain, None, start, end)
        frame = run_query(loaded, question, plugin_manager=duckdb_pm).frame
        for kpi in kpis:
            want = expected[(kpi, "all" if undated else grain, cols)]
            got = {tuple(r[:-1]): r[-1] for r in frame.select(["period", *cols, kpi]).iter_rows()
                   if None not in r[1:-1]}
            assert {k: v for k, v in got.items() if v is not None} == {k: v for k, v in want.items() if v is not None}, \
                f"{name}: {kpi} per {grain} by {cols}"


def test_the_frame_is_typed_and_sorted() -> None:
    loaded = load_spec(Path("specs/examples/multi_network.yaml"))
    frame = run_query(loaded, Question(("posts", "engagement_rate"), ("network",), "month", None, None, AS_OF)).frame
    assert frame.schema == pl.Schema({"period": pl.Date, "network": pl.String, "posts": pl.Float64,
                                      "engagement_rate": pl.Float64})
    assert frame.equals(frame.sort(["period", "network"], nulls_last=True))


QUESTIONS = [
    Question(("engagement_rate", "posts", "planned_posts", "plan_delivery"), ("network",), "week", None,
             dt.date(2026, 6, 1), dt.date(2026, 10, 31)),
    Question(("shares_per_post", "reach_ma4", "reach"), (), "week", "network != 'facebook'", None,
             dt.date(2026, 10, 31)),
    Question(("posts", "ctr"), ("network", "content_type"), "hour", "impressions > 2000", dt.date(2026, 10, 24),
             dt.date(2026, 10, 26)),
]
"""Queries of multi_network.yaml (time zone Europe/Madrid: 25 October 2026 has 25 hours) asked on
polars and with the data in PostgreSQL and Spark."""


def _same_answers(pm: object) -> None:
    loaded = load_spec(Path("specs/examples/multi_network.yaml"))
    expected = [run_query(loaded, q).frame for q in QUESTIONS]
    for q, want in zip(QUESTIONS, expected, strict=True):
        got = run_query(loaded, q, plugin_manager=pm).frame
        assert got.equals(want), (q, got, want)
    assert expected[2].filter(pl.col("period").dt.date() == dt.date(2026, 10, 25))["period"].n_unique() == 25


def test_queries_in_postgres_equal_polars() -> None:
    pytest.importorskip("psycopg")
    pytest.importorskip("ibis")
    from backend_support import PostgresLoader, database_plugin_manager
    from pg_server import postgres_server

    with postgres_server() as base:
        _same_answers(database_plugin_manager(PostgresLoader(f"postgres://{base}")))


def test_queries_in_spark_equal_polars() -> None:
    pytest.importorskip("pyspark")
    pytest.importorskip("ibis")
    import shutil

    if shutil.which("java") is None:
        pytest.skip("no Java runtime: apt-get install default-jre-headless")
    from backend_support import SparkLoader, database_plugin_manager

    from metricspec.connectors.spark import spark_session

    session = spark_session("local[2]", {"spark.sql.shuffle.partitions": "1", "spark.ui.enabled": "false",
                                         "spark.sql.adaptive.enabled": "false"})
    _same_answers(database_plugin_manager(SparkLoader(session)))
