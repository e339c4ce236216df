"""Turn a loaded spec and its data into a :class:`Results` document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import polars as pl

from metricspec.connectors.shared import shared_connections
from metricspec.engine import alltime
from metricspec.engine.backends import Router, Work, make_router
from metricspec.engine.backends.polars import polars_engine
from metricspec.engine.backends.sql_tables import SqlTables, relations
from metricspec.engine.kpis import Evaluator
from metricspec.engine.points import make_points, trend_points
from metricspec.engine.results import (
    BenchmarkValue,
    DataNote,
    GoalResult,
    Headline,
    KpiResult,
    MessageParams,
    ObjectiveResult,
    OffsetComparison,
    Results,
    Series,
    SourceFreshness,
    SpecInfo,
    english,
)
from metricspec.errors import Level, SpecError
from metricspec.kinds.alltime import is_all_time
from metricspec.plan.nodes import Freshness, FreshnessQuery, Request, RunRange, make_scope
from metricspec.plan.periods import (
    HOUR,
    add_periods,
    ends_after,
    label,
    periods_per_year,
    shift_local,
)
from metricspec.plugins import using_plugin_manager
from metricspec.sources import open_checked
from metricspec.sources.dataerrors import LenientRetry, collect_all_checked, data_errors
from metricspec.spec.offsets import VsSpec, shifted_period
from metricspec.spec.segments import breakdowns
from metricspec.spec.segments import label as segment_label
from metricspec.spec.source import time_column_of, timeless_source
from metricspec.validation import scopes
from metricspec.validation.expressions import data_issues
from metricspec.version import __version__

if TYPE_CHECKING:
    import pluggy

    from metricspec.engine.cg_results import ExperimentResult
    from metricspec.sources import OpenedSources
    from metricspec.spec.loaded import LoadedSpec

Progress = Callable[[str], None]
_T = TypeVar("_T")


def check_sources(loaded: LoadedSpec, names: list[str] | None = None, data: Mapping[str, pl.LazyFrame] | None = None,
                  *, sample_rows: int | None = None, lenient: bool = False) -> OpenedSources:
    """Open the sources (the SQL backend opens those that live in a database) and check them, collecting
    every problem: the columns the spec reads, while opening; then, one step, what only the data's
    column types reveal (an expression comparing a text column with a number, a scope value that
    cannot match its column)."""
    opened = open_checked(loaded, names, frames=data, sample_rows=sample_rows, lenient=lenient, tables=SqlTables())
    opened.issues.extend(data_issues(loaded, opened.schemas))
    opened.issues.extend(scopes.data_issues(loaded, opened.schemas))
    if opened.relations:
        from metricspec.engine.approximation import approximation_issues  # start-up: databases only

        opened.issues.extend(approximation_issues(loaded, {n: rel.dialect for n, rel in opened.relations.items()}))
    return opened


def open_sources(loaded: LoadedSpec, data: Mapping[str, pl.LazyFrame] | None = None, *,
                 lenient: bool = False, names: list[str] | None = None) -> OpenedSources:
    """Open every source the spec reads (``names``: those only, and the sources they join; ``data``
    replacing the connectors of the sources it names) and check them (:func:`check_sources`; all
    problems at once, raised)."""
    opened = check_sources(loaded, names, data, lenient=lenient)
    if any(i.level is Level.ERROR for i in opened.issues):
        raise SpecError(opened.issues)
    return opened



def evaluator(loaded: LoadedSpec, opened: OpenedSources, as_of: dt.date, frames: Mapping[str, pl.LazyFrame],
              router: Router | None = None) -> Evaluator:
    return Evaluator(loaded=loaded, as_of=as_of, sources=frames, schemas=opened.schemas,
                     relations=relations(opened.relations), prepared=opened.prepared, _router=router)


def shared_sources(loaded: LoadedSpec, opened: OpenedSources) -> dict[str, pl.LazyFrame]:
    """The frames a run reads: each source prepared (read, cast, time zones) exactly once.

    On the in-memory engine every polars source's columns the spec reads are collected in one
    ``collect_all`` and everything after (freshness, the fused queries, null counts, funnels,
    control groups, attribution) reads those frames. The streaming engine keeps the lazy
    frames, so that memory stays bounded; each of its ``collect_all`` reads the sources again.
    Database sources are left where they are: their queries run in the database.
    """
    local = sorted(n for n in opened.frames if n not in opened.relations)
    if polars_engine() != "in-memory" or not local:
        return dict(opened.frames)
    lazies = []
    for name in local:
        cols = opened.columns_read(loaded, name)
        lazies.append(opened.frames[name].select(cols) if cols else opened.frames[name].select(pl.len()))
    collected = collect_all_checked(lazies, opened.prepared, engine="in-memory")
    return {**opened.frames, **{name: frame.lazy() for name, frame in zip(local, collected, strict=True)}}


def local_today(timezone: str) -> dt.date:
    """Today's date on this machine's clock, in the spec's time zone."""
    return dt.datetime.now(ZoneInfo(timezone)).date()


def default_as_of_from(queries: list[FreshnessQuery], answers: Mapping[str, Freshness],
                       ) -> tuple[dt.date, list[DataNote]]:
    """The default as-of date: the latest date in the data up to today (``FreshnessQuery.today``).

    Rows dated after today (a typo such as 2062) are left out of it, with a data note naming the
    source and how many rows, so one such row cannot move every goal's as-of into the future.
    """
    latest: list[str] = []
    notes: list[DataNote] = []
    for q in queries:
        f = answers[q.source]
        if f.latest_past:
            latest.append(f.latest_past[:10])
        if f.future:
            params: MessageParams = {"rows": f.future, "source": q.source, "latest": str(f.latest)[:10]}
            notes.append(DataNote(level="warning", message=english("note_future_rows", params),
                                  code="note_future_rows", params=params))
    return (dt.date.fromisoformat(max(latest)) if latest else dt.date(1970, 1, 1)), notes


def freshness_plan(loaded: LoadedSpec, schemas: Mapping[str, Mapping[str, pl.DataType]],
                   today: dt.date | None = None) -> list[FreshnessQuery]:
    """One freshness query (rows, first and last time, rows after ``today``) per opened source, in
    name order."""
    out = []
    for name in sorted(schemas):
        tcol = time_column_of(loaded.spec, name)
        out.append(FreshnessQuery(name, tcol if tcol is not None and tcol in schemas[name] else None, today))
    return out


def freshness_results(loaded: LoadedSpec, queries: list[FreshnessQuery],
                      answers: Mapping[str, Freshness]) -> list[SourceFreshness]:
    spec = loaded.spec
    out = []
    for q in queries:
        f = answers[q.source]
        src = spec.sources.get(q.source)
        out.append(SourceFreshness(name=q.source, connector=src.connector if src else "calendar",
                                   time_column=q.time_column, rows=f.rows, first=f.first, latest=f.latest))
    return out


def plan_requests(ev: Evaluator) -> list[Any]:
    """Register every series the scorecard needs; returns the goal plans."""
    spec = ev.spec
    for name, kpi in spec.kpis.items():
        if is_all_time(spec, name):  # a source without a time column: one value, no periods
            alltime.plan(ev, name)
            continue
        scope = make_scope(kpi.scope)
        for grain in spec.kpi_grains(kpi):
            ev.request(Request(name, grain, (), scope))
            for cols in breakdowns(kpi.segments):
                ev.request(Request(name, grain, cols, make_scope({k: v for k, v in kpi.scope.items()
                                                                  if k not in cols})))
            for bname in kpi.benchmarks:
                bench = spec.benchmarks[bname]
                if bench.scope:
                    ev.request(Request(name, grain, (), make_scope(kpi.scope, bench.scope)))
    goals = spec.goals()
    if not goals:
        return []
    # the goals' forecasts import numpy and the forecast models: a run without goals does not (start-up)
    from metricspec.engine.goals import plan_goal  # heavy: numpy, for goals only

    return [plan_goal(ev, o, g, goal) for o, g, goal in goals]


def explain(loaded: LoadedSpec, *, as_of: dt.date | None = None,
            plugin_manager: pluggy.PluginManager | None = None) -> list[dict[str, object]]:
    """The compiled query plan as data, without running it (``metricspec run --explain``): one entry per
    fused query; on a database, the number of the statement that answers it (:func:`explain_run`)."""
    return explain_run(loaded, as_of=as_of, plugin_manager=plugin_manager)["queries"]  # type: ignore[return-value]


def explain_run(loaded: LoadedSpec, *, as_of: dt.date | None = None,
                plugin_manager: pluggy.PluginManager | None = None) -> dict[str, object]:
    """``queries`` (as :func:`explain`) and ``statements``: every statement the run sends to a database
    for its KPIs (the fused aggregations, the sources' freshness, cast checks), in order. Row reads for
    funnels, retention, control groups and attribution come on top (one per step or source).
    The connectors come from ``plugin_manager`` (default: the current one, see :mod:`metricspec.plugins`)."""
    def plan(opened: OpenedSources) -> dict[str, object]:
        day = as_of
        fresh = freshness_plan(loaded, opened.schemas, local_today(loaded.spec.timezone) if day is None else None)
        if day is None:
            router = make_router(opened.frames, opened.schemas, relations(opened.relations), opened.prepared)
            answers = router.run(Work(freshness=fresh), RunRange(None, dt.date.max))
            day, _ = default_as_of_from(fresh, answers.freshness)
        ev = evaluator(loaded, opened, day, opened.frames)
        plan_requests(ev)
        work = Work(queries=list(ev.plan.queries.values()), null_counts=ev.plan.null_count_queries(), freshness=fresh)
        explained = ev.backends.explain(work, ev.range)
        out = []
        for key, entry in zip(ev.plan.queries, ev.plan.describe(), strict=True):
            joins = [info.describe() for info in opened.joins.get(key.source, [])]
            out.append({**entry, **explained.queries[key], **({"joins": joins} if joins else {})})
        return {"queries": out, "statements": explained.statements}

    with using_plugin_manager(plugin_manager), shared_connections():
        return with_lenient_retry(loaded, plan)


def with_lenient_retry(loaded: LoadedSpec, work: Callable[[OpenedSources], _T],
                       data: Mapping[str, pl.LazyFrame] | None = None, names: list[str] | None = None) -> _T:
    """``work`` on the opened sources (``data`` and ``names`` as in :func:`open_sources`), data errors
    mapped (:mod:`metricspec.sources.dataerrors`); once more with every cast's lenient path when a value beyond a
    source's sample needs it (LenientRetry)."""
    opened = open_sources(loaded, data, names=names)
    try:
        with data_errors(opened.prepared):
            return work(opened)
    except LenientRetry:
        opened = open_sources(loaded, data, lenient=True, names=names)
        with data_errors(opened.prepared):
            return work(opened)


def evaluate(loaded: LoadedSpec, *, as_of: dt.date | None = None, progress: Progress | None = None,
             data: Mapping[str, pl.LazyFrame] | None = None,
             plugin_manager: pluggy.PluginManager | None = None) -> Results:
    """Evaluate every KPI, goal, control group and attribution model of a spec (``data``: frames
    replacing the connectors of the sources they name; the other sources' connectors come from
    ``plugin_manager``, default the current one, see :mod:`metricspec.plugins`)."""
    # database files the sources share stay open for the run only
    with using_plugin_manager(plugin_manager), shared_connections():
        return _evaluate(loaded, as_of=as_of, progress=progress, data=data)


def _evaluate(loaded: LoadedSpec, *, as_of: dt.date | None, progress: Progress | None,
              data: Mapping[str, pl.LazyFrame] | None) -> Results:
    step = progress or (lambda _msg: None)
    step("opening sources")
    return with_lenient_retry(loaded, lambda opened: _run(loaded, opened, as_of, step), data)


def _run(loaded: LoadedSpec, opened: OpenedSources, as_of: dt.date | None, step: Progress) -> Results:
    spec = loaded.spec
    frames = shared_sources(loaded, opened)
    fresh_queries = freshness_plan(loaded, opened.schemas, local_today(spec.timezone) if as_of is None else None)
    fresh: list[SourceFreshness] = []
    ev: Evaluator | None = None
    future_notes: list[DataNote] = []
    if as_of is None:  # the default as-of date comes from the data: read freshness first
        router = make_router(frames, opened.schemas, relations(opened.relations), opened.prepared)
        answers = router.run(Work(freshness=fresh_queries), RunRange(None, dt.date.max))
        fresh = freshness_results(loaded, fresh_queries, answers.freshness)
        as_of, future_notes = default_as_of_from(fresh_queries, answers.freshness)
        if fresh_queries and all(timeless_source(spec, q.source) for q in fresh_queries):
            as_of = local_today(spec.timezone)  # no source has dates: the values are as of the run
        ev = evaluator(loaded, opened, as_of, frames, router)
        ev.use_freshness(answers.freshness)
    ev = ev or evaluator(loaded, opened, as_of, frames)
    step("planning KPIs")
    plans = plan_requests(ev)
    step(f"running {len(ev.plan.queries)} fused queries")
    # with an explicit as-of date, freshness runs with the queries and shares their scans
    answered = ev.execute(freshness=[] if fresh else fresh_queries)
    if not fresh:
        fresh = freshness_results(loaded, fresh_queries, answered)
    step("computing KPIs and goals")
    kpis = [kpi_result(ev, name) for name in spec.kpis]
    goal_results = _goal_results(ev, plans)
    objectives = []
    for oname, obj in spec.objectives.items():
        objectives.append(ObjectiveResult(
            id=oname, title=obj.title or oname, description=obj.description, type=obj.type, stage=obj.stage,
            owner=obj.owner or spec.owner, kpis=list(obj.kpis),
            goals=[goal_results[(oname, g)] for g in obj.goals],
        ))
    control_groups: list[ExperimentResult] = []
    if spec.control_groups:
        step("comparing control groups")
        from metricspec.engine.experiments_run import run_control_groups  # start-up, test_startup

        control_groups = run_control_groups(loaded, frames, as_of)
    attribution = None
    if spec.attribution is not None:
        step("attributing conversions")
        from metricspec.engine.attribution_run import run_attribution  # start-up (test_startup.py)

        attribution = run_attribution(loaded, frames, as_of, control_groups)
    notes = future_notes + [_null_rows_note(source, column, n)
                            for (source, column), n in sorted(ev.null_counts.items()) if n]
    return Results(
        metricspec_version=__version__,
        spec=SpecInfo(name=spec.name, title=spec.title or spec.name, description=spec.description,
                      path=loaded.path.as_posix(), owner=spec.owner, measured_by=spec.measured_by,
                      timezone=spec.timezone, week_start=spec.week_start, language=spec.language,
                      currency=spec.currency, grains=list(spec.grains)),
        as_of=as_of, sources=fresh, kpis=kpis, objectives=objectives, control_groups=control_groups,
        attribution=attribution, notes=notes,
    )


def _goal_results(ev: Evaluator, plans: list[Any]) -> dict[tuple[str, str], GoalResult]:
    """Each planned goal judged, by (objective, goal id)."""
    if not plans:
        return {}
    from metricspec.engine.goals import evaluate_goal  # heavy: numpy, for goals only

    return {(gp.objective, gp.goal_id): evaluate_goal(ev, gp) for gp in plans}


def _null_rows_note(source: str, column: str, rows: int) -> DataNote:
    """Rows skipped because ``column`` (or an expression) of ``source`` was null where a KPI aggregates it."""
    params: MessageParams = {"rows": rows, "column": column, "source": source}
    return DataNote(level="warning", message=english("note_null_rows", params), code="note_null_rows", params=params)


def _points(ev: Evaluator, req: Request, grain: str) -> list[Any]:
    return trend_points(ev.series(req), grain, ev.as_of)


def _segment_series(ev: Evaluator, req: Request, grain: str) -> list[Series]:
    """One series per value (per combination of values) of the request's segment columns, sorted by the
    value(s); rows where a column is empty are left out."""
    frame = ev.series(req)
    cols = req.segments
    # one pass over the rows (sorted by period) splits them per segment value, in period order
    buckets: dict[tuple[str, ...], list[Any]] = {}
    points = make_points(frame["period"].to_list(), frame["value"].to_list(), grain, ev.as_of)
    values = zip(*(frame[c].to_list() for c in cols), strict=True)
    for value, point in zip(values, points, strict=True):
        if None not in value:
            buckets.setdefault(value, []).append(point)
    out = []
    for value in sorted(buckets, key=lambda v: tuple(map(str, v))):
        several = len(cols) > 1
        out.append(Series(grain=grain, kind="segment", segment=segment_label(cols),
                          segment_value=segment_label(value), segment_columns=list(cols) if several else None,
                          segment_values=list(value) if several else None, points=buckets[value]))
    return out


def kpi_result(ev: Evaluator, name: str) -> KpiResult:
    spec = ev.spec
    if is_all_time(spec, name):
        return alltime.kpi_result(ev, name)
    kpi = spec.kpis[name]
    scope = make_scope(kpi.scope)
    series: list[Series] = []
    headlines: list[Headline] = []
    for grain in spec.kpi_grains(kpi):
        head = _points(ev, Request(name, grain, (), scope), grain)
        series.append(Series(grain=grain, kind="headline", points=head))
        for cols in breakdowns(kpi.segments):
            series += _segment_series(ev, Request(name, grain, cols, make_scope(
                {k: v for k, v in kpi.scope.items() if k not in cols})), grain)
        bench_points: dict[str, list[Any]] = {}
        for bname in kpi.benchmarks:
            bench = spec.benchmarks[bname]
            if bench.scope:
                pts = _points(ev, Request(name, grain, (), make_scope(kpi.scope, bench.scope)), grain)
                bench_points[bname] = pts
                series.append(Series(grain=grain, kind="benchmark", benchmark=bname, points=pts))
        headlines.append(_headline(ev, name, grain, head, bench_points))
    cohorts = kpi.beside_series(ev, name, scope)
    return KpiResult(name=name, title=kpi.title or name, description=kpi.description, unit=kpi.unit,
                     currency=kpi.currency or (spec.currency if kpi.unit == "currency" else None),
                     axis_from_zero=kpi.axis_from_zero,
                     complete_after_days=kpi.complete_after_days, direction=kpi.direction, kind=kpi.kind, form=kpi.form, scope=dict(scope),
                     headlines=headlines, series=series, owner=kpi.owner, measured_by=kpi.measured_by,
                     cohorts=cohorts)


def _delta(a: float | None, b: float | None) -> tuple[float | None, float | None]:
    if a is None or b is None:
        return None, None
    return a - b, ((a - b) / abs(b) if b else None)


def _headline(ev: Evaluator, name: str, grain: str, points: list[Any], benches: dict[str, list[Any]]) -> Headline:
    spec = ev.spec
    kpi = spec.kpis[name]
    done = [p for p in points if not ends_after(p.period, grain, ev.as_of)]
    cur = done[-1] if done else (points[-1] if points else None)
    by_period = {p.period: p.value for p in points}
    if cur is None:
        return Headline(grain=grain, period=None, label=None, value=None, previous=None, change=None,
                        change_pct=None, previous_year=None, yoy_change=None, yoy_change_pct=None)
    prev = by_period.get(add_periods(cur.period, grain, -1)) if grain != "day" else by_period.get(
        cur.period - dt.timedelta(days=1))
    if grain == HOUR:  # the same clock hour 52 weeks earlier
        ly = by_period.get(shift_local(cur.period, -364, spec.timezone))
    elif grain == "day":
        ly = by_period.get(cur.period - dt.timedelta(days=364))
    elif grain == "week":
        ly = by_period.get(cur.period - dt.timedelta(weeks=52))
    else:
        ly = by_period.get(add_periods(cur.period, grain, -int(periods_per_year(grain))))
    change, change_pct = _delta(cur.value, prev)
    yoy, yoy_pct = _delta(cur.value, ly)
    bvalues = []
    for bname in kpi.benchmarks:
        bench = spec.benchmarks[bname]
        if bench.scope:
            bv = {p.period: p.value for p in benches.get(bname, [])}.get(cur.period)
        elif bench.kind == "period":
            bv = prev if bench.offset == "previous_period" else ly
        else:
            bv = bench.value
        diff, rel = _delta(cur.value, bv)
        bvalues.append(BenchmarkValue(name=bname, title=bench.title or bname, value=bv, difference=diff,
                                      relative=rel))
    return Headline(grain=grain, period=cur.period, label=label(cur.period, grain), value=cur.value, previous=prev,
                    change=change, change_pct=change_pct, previous_year=ly, yoy_change=yoy, yoy_change_pct=yoy_pct,
                    benchmarks=bvalues, vs=_offset_comparison(kpi.vs, grain, cur, by_period))


def _offset_comparison(vs: VsSpec | None, grain: str, cur: Any, by_period: dict[dt.date, float | None],
                       ) -> OffsetComparison | None:
    """The headline against the period ``vs.offset`` earlier (None without ``vs`` or where it does not apply)."""
    if vs is None:
        return None
    then = shifted_period(cur.period, grain, vs.offset)
    if then is None:
        return None
    value = by_period.get(then)
    change, change_pct = _delta(cur.value, value)
    return OffsetComparison(offset=vs.offset, title=vs.label, period=then, label=label(then, grain), value=value,
                            change=change, change_pct=change_pct)
