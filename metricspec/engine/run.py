"""Turn a loaded spec and its data into a :class:`Results` document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl

from metricspec import __version__
from metricspec.engine.dataerrors import LenientRetry, collect_all_checked, data_errors
from metricspec.engine.goals import evaluate_goal, make_points, plan_goal, trend_points
from metricspec.engine.kpis import Evaluator, Request, make_scope
from metricspec.engine.periods import add_periods, label, period_end, periods_per_year
from metricspec.engine.plan import polars_engine
from metricspec.engine.results import (
    BenchmarkValue,
    DataNote,
    ExperimentResult,
    Headline,
    KpiResult,
    MessageParams,
    ObjectiveResult,
    Results,
    Series,
    SourceFreshness,
    SpecInfo,
    english,
)
from metricspec.errors import Level, SpecError

if TYPE_CHECKING:
    from metricspec.connectors.common import PreparedFrame
    from metricspec.loader import LoadedSpec
    from metricspec.sources import OpenedSources

Progress = Callable[[str], None]
_T = TypeVar("_T")


def open_sources(loaded: LoadedSpec, data: Mapping[str, pl.LazyFrame] | None = None, *,
                 lenient: bool = False) -> OpenedSources:
    """Open every source the spec reads (``data`` replacing the connectors of the sources it names)
    and check the columns it needs (all problems at once)."""
    from metricspec.sources import open_checked

    opened = open_checked(loaded, frames=data, lenient=lenient)
    if any(i.level is Level.ERROR for i in opened.issues):
        raise SpecError(opened.issues)
    return opened


def shared_sources(loaded: LoadedSpec, opened: OpenedSources) -> dict[str, pl.LazyFrame]:
    """The frames a run reads: each source prepared (read, cast, time zones) exactly once.

    On the in-memory engine every source's columns the spec reads are collected in one
    ``collect_all`` and everything after (freshness, the fused queries, null counts, funnels,
    control groups, attribution) reads those frames. The streaming engine keeps the lazy
    frames, so that memory stays bounded; each of its ``collect_all`` reads the sources again.
    """
    if polars_engine() != "in-memory" or not opened.frames:
        return dict(opened.frames)
    names = sorted(opened.frames)
    lazies = []
    for name in names:
        cols = opened.columns_read(loaded, name)
        lazies.append(opened.frames[name].select(cols) if cols else opened.frames[name].select(pl.len()))
    collected = collect_all_checked(lazies, opened.prepared, engine="in-memory")
    return {name: frame.lazy() for name, frame in zip(names, collected, strict=True)}


def freshness(loaded: LoadedSpec, frames: dict[str, pl.LazyFrame], schemas: dict[str, dict[str, pl.DataType]],
              prepared: Mapping[str, PreparedFrame] | None = None) -> list[SourceFreshness]:
    queries = freshness_queries(loaded, frames, schemas)
    collected = collect_all_checked([q for _, _, q in queries], prepared or {}, engine=polars_engine())
    return freshness_results(loaded, queries, collected)


def local_today(timezone: str) -> dt.date:
    """Today's date on this machine's clock, in the spec's time zone."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(timezone)).date()


def default_as_of_from(collected: list[pl.DataFrame], queries: list[tuple[str, str | None, pl.LazyFrame]],
                       ) -> tuple[dt.date, list[DataNote]]:
    """The default as-of date: the latest date in the data up to today (see :func:`freshness_queries`).

    Rows dated after today (a typo such as 2062) are left out of it, with a data note naming the
    source and how many rows, so one such row cannot move every goal's as-of into the future.
    """
    latest: list[str] = []
    notes: list[DataNote] = []
    for (name, _tcol, _q), frame in zip(queries, collected, strict=True):
        row = frame.row(0, named=True)
        if row.get("latest_past"):
            latest.append(str(row["latest_past"])[:10])
        if row.get("future"):
            params: MessageParams = {"rows": int(row["future"]), "source": name, "latest": str(row["latest"])[:10]}
            notes.append(DataNote(level="warning", message=english("note_future_rows", params),
                                  code="note_future_rows", params=params))
    return (dt.date.fromisoformat(max(latest)) if latest else dt.date(1970, 1, 1)), notes


def freshness_queries(loaded: LoadedSpec, frames: dict[str, pl.LazyFrame],
                      schemas: dict[str, dict[str, pl.DataType]], today: dt.date | None = None,
                      ) -> list[tuple[str, str | None, pl.LazyFrame]]:
    """(source, time column, lazy query of rows/first/latest, and of rows dated after ``today``) per source."""
    today = today or local_today(loaded.spec.timezone)
    from metricspec.sources import time_column_of

    names = sorted(frames)
    lazies = []
    tcols: list[str | None] = []
    for name in names:
        tcol = time_column_of(loaded, name)
        usable = tcol if tcol is not None and tcol in schemas[name] else None
        tcols.append(usable)
        exprs = [pl.len().alias("rows")]
        if usable is not None:
            dtype = schemas[name][usable]
            day = pl.col(usable) if isinstance(dtype, pl.Date) else pl.col(usable).dt.date()
            past = day <= pl.lit(today)
            exprs += [_iso(pl.col(usable).min(), dtype).alias("first"),
                      _iso(pl.col(usable).max(), dtype).alias("latest"),
                      _iso(pl.col(usable).filter(past).max(), dtype).alias("latest_past"),
                      (~past).sum().alias("future")]
        lazies.append(frames[name].select(exprs))
    return list(zip(names, tcols, lazies, strict=True))


def freshness_results(loaded: LoadedSpec, queries: list[tuple[str, str | None, pl.LazyFrame]],
                      collected: list[pl.DataFrame]) -> list[SourceFreshness]:
    spec = loaded.spec
    out = []
    for (name, tcol, _), frame in zip(queries, collected, strict=True):
        row = frame.row(0, named=True)
        src = spec.sources.get(name)
        out.append(SourceFreshness(name=name, connector=src.connector if src else "calendar", time_column=tcol,
                                   rows=int(row["rows"]), first=row.get("first"), latest=row.get("latest")))
    return out


def _iso(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """ISO 8601 text: dates as YYYY-MM-DD, datetimes to the second with their UTC offset."""
    if isinstance(dtype, pl.Datetime):
        fmt = "%Y-%m-%dT%H:%M:%S%:z" if dtype.time_zone else "%Y-%m-%dT%H:%M:%S"
        return expr.dt.to_string(fmt)
    return expr.cast(pl.String)


def plan_requests(ev: Evaluator) -> list[Any]:
    """Register every series the scorecard needs; returns the goal plans."""
    spec = ev.spec
    for name, kpi in spec.kpis.items():
        scope = make_scope(kpi.scope)
        for grain in spec.kpi_grains(kpi):
            ev.request(Request(name, grain, (), scope))
            for seg in kpi.segments:
                ev.request(Request(name, grain, (seg,), make_scope({k: v for k, v in kpi.scope.items() if k != seg})))
            for bname in kpi.benchmarks:
                bench = spec.benchmarks[bname]
                if bench.scope:
                    ev.request(Request(name, grain, (), make_scope(kpi.scope, bench.scope)))
    return [plan_goal(ev, o, g, goal) for o, g, goal in spec.goals()]


def explain(loaded: LoadedSpec, *, as_of: dt.date | None = None) -> list[dict[str, object]]:
    """The compiled query plan as data, without running it (``metricspec run --explain``)."""
    def plan(opened: OpenedSources) -> list[dict[str, object]]:
        frames, schemas = opened.frames, opened.schemas
        day = as_of
        if day is None:
            queries = freshness_queries(loaded, frames, schemas)
            collected = collect_all_checked([q for _, _, q in queries], opened.prepared, engine=polars_engine())
            day, _ = default_as_of_from(collected, queries)
        ev = Evaluator(loaded=loaded, as_of=day, sources=frames, schemas=schemas, prepared=opened.prepared)
        plan_requests(ev)
        return ev.plan.describe()

    return with_lenient_retry(loaded, plan)


def with_lenient_retry(loaded: LoadedSpec, work: Callable[[OpenedSources], _T],
                       data: Mapping[str, pl.LazyFrame] | None = None) -> _T:
    """``work`` on the opened sources (``data`` as in :func:`open_sources`), data errors mapped
    (:mod:`.dataerrors`); once more with every cast's lenient path when a value beyond a
    source's sample needs it (LenientRetry)."""
    opened = open_sources(loaded, data)
    try:
        with data_errors(opened.prepared):
            return work(opened)
    except LenientRetry:
        opened = open_sources(loaded, data, lenient=True)
        with data_errors(opened.prepared):
            return work(opened)


def evaluate(loaded: LoadedSpec, *, as_of: dt.date | None = None, progress: Progress | None = None,
             data: Mapping[str, pl.LazyFrame] | None = None) -> Results:
    """Evaluate every KPI, goal, control group and attribution model of a spec (``data``: frames
    replacing the connectors of the sources they name)."""
    step = progress or (lambda _msg: None)
    step("opening sources")
    return with_lenient_retry(loaded, lambda opened: _evaluate(loaded, opened, as_of, step), data)


def _evaluate(loaded: LoadedSpec, opened: OpenedSources, as_of: dt.date | None, step: Progress) -> Results:
    spec = loaded.spec
    schemas = opened.schemas
    frames = shared_sources(loaded, opened)
    fresh_queries = freshness_queries(loaded, frames, schemas)
    fresh: list[SourceFreshness] = []
    future_notes: list[DataNote] = []
    if as_of is None:  # the default as-of date comes from the data: read freshness first
        collected = collect_all_checked([q for _, _, q in fresh_queries], opened.prepared, engine=polars_engine())
        fresh = freshness_results(loaded, fresh_queries, collected)
        as_of, future_notes = default_as_of_from(collected, fresh_queries)
    ev = Evaluator(loaded=loaded, as_of=as_of, sources=frames, schemas=schemas, prepared=opened.prepared)
    step("planning KPIs")
    plans = plan_requests(ev)
    step(f"running {len(ev.plan.queries)} fused queries")

    def learn_freshness(collected: list[pl.DataFrame]) -> dict[str, dt.date | None]:
        nonlocal fresh
        if collected:
            fresh = freshness_results(loaded, fresh_queries, collected)
        return {f.name: dt.date.fromisoformat(f.latest[:10]) if f.latest else None for f in fresh}

    # with an explicit as-of date, freshness runs in the same collect_all and shares the scans
    ev.execute(extra=[] if fresh else [(n, q) for n, _, q in fresh_queries], on_extra=learn_freshness)
    step("computing KPIs and goals")
    kpis = [kpi_result(ev, name) for name in spec.kpis]
    goal_results = {(gp.objective, gp.goal_id): evaluate_goal(ev, gp) for gp in plans}
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
        from metricspec.engine.experiments_run import run_control_groups

        control_groups = run_control_groups(loaded, frames, as_of)
    attribution = None
    if spec.attribution is not None:
        step("attributing conversions")
        from metricspec.engine.attribution_run import run_attribution

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


def _null_rows_note(source: str, column: str, rows: int) -> DataNote:
    """Rows skipped because ``column`` (or an expression) of ``source`` was null where a KPI aggregates it."""
    params: MessageParams = {"rows": rows, "column": column, "source": source}
    return DataNote(level="warning", message=english("note_null_rows", params), code="note_null_rows", params=params)


def _points(ev: Evaluator, req: Request, grain: str) -> list[Any]:
    return trend_points(ev.series(req), grain, ev.as_of)


def kpi_result(ev: Evaluator, name: str) -> KpiResult:
    spec = ev.spec
    kpi = spec.kpis[name]
    scope = make_scope(kpi.scope)
    series: list[Series] = []
    headlines: list[Headline] = []
    for grain in spec.kpi_grains(kpi):
        head = _points(ev, Request(name, grain, (), scope), grain)
        series.append(Series(grain=grain, kind="headline", points=head))
        for seg in kpi.segments:
            frame = ev.series(Request(name, grain, (seg,), make_scope({k: v for k, v in kpi.scope.items()
                                                                         if k != seg})))
            # one pass over the rows (sorted by period) splits them per segment value, in period order
            buckets: dict[str, list[Any]] = {}
            points = make_points(frame["period"].to_list(), frame["value"].to_list(), grain, ev.as_of)
            for value, point in zip(frame[seg].to_list(), points, strict=True):
                if value is not None:
                    buckets.setdefault(value, []).append(point)
            for value in sorted(buckets, key=str):
                series.append(Series(grain=grain, kind="segment", segment=seg, segment_value=value,
                                     points=buckets[value]))
        bench_points: dict[str, list[Any]] = {}
        for bname in kpi.benchmarks:
            bench = spec.benchmarks[bname]
            if bench.scope:
                pts = _points(ev, Request(name, grain, (), make_scope(kpi.scope, bench.scope)), grain)
                bench_points[bname] = pts
                series.append(Series(grain=grain, kind="benchmark", benchmark=bname, points=pts))
        headlines.append(_headline(ev, name, grain, head, bench_points))
    return KpiResult(name=name, title=kpi.title or name, description=kpi.description, unit=kpi.unit,
                     currency=kpi.currency or (spec.currency if kpi.unit == "currency" else None),
                     direction=kpi.direction, kind=kpi.kind, form=kpi.form, scope=dict(scope),
                     headlines=headlines, series=series)


def _delta(a: float | None, b: float | None) -> tuple[float | None, float | None]:
    if a is None or b is None:
        return None, None
    return a - b, ((a - b) / abs(b) if b else None)


def _headline(ev: Evaluator, name: str, grain: str, points: list[Any], benches: dict[str, list[Any]]) -> Headline:
    spec = ev.spec
    kpi = spec.kpis[name]
    done = [p for p in points if period_end(p.period, grain) <= ev.as_of + dt.timedelta(days=1)]
    cur = done[-1] if done else (points[-1] if points else None)
    by_period = {p.period: p.value for p in points}
    if cur is None:
        return Headline(grain=grain, period=None, label=None, value=None, previous=None, change=None,
                        change_pct=None, previous_year=None, yoy_change=None, yoy_change_pct=None)
    prev = by_period.get(add_periods(cur.period, grain, -1)) if grain != "day" else by_period.get(
        cur.period - dt.timedelta(days=1))
    if grain == "day":
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
                    benchmarks=bvalues)
