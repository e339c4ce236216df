"""Ad-hoc queries of declared KPIs: any column of a KPI's rows as a breakdown or a filter, any grain, any
dates, without editing the spec (``metricspec query``, :func:`metricspec.query`).

A query is planned like a run. Each KPI asked for is one :class:`~metricspec.engine.kpis.Request` at the
asked grain, with the ``by`` columns as its segments and ``where`` as a filter on the rows of every
source it reads; the evaluator compiles the requests into the same fused plan, which the same backends
run where the data lives (polars, or SQL in DuckDB, PostgreSQL, Spark). Derived KPIs combine their
inputs' series per breakdown, so a ratio is a ratio of sums, a growth rate the growth of each
breakdown's values, a rolling window each breakdown's window. The answer is one frame: ``period``, the
``by`` columns and one Float64 column per KPI, the KPIs aligned on period and breakdown (a full join:
a KPI without a row for a period and breakdown has a null there).

A breakdown or filter a KPI cannot have (a column its rows lack) is refused naming the KPI, the source
and the column, with the closest column names; so are unknown KPIs, grains a KPI cannot have and
malformed filters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from metricspec.connectors.shared import shared_connections
from metricspec.engine import alltime
from metricspec.engine.backends import Work, make_router
from metricspec.engine.backends.sql_tables import relations
from metricspec.engine.kpis import Evaluator
from metricspec.engine.run import (
    default_as_of_from,
    freshness_plan,
    local_today,
    with_lenient_retry,
)
from metricspec.errors import Issue, Level, SpecError
from metricspec.kinds.alltime import ALL_TIME, is_all_time
from metricspec.plan.nodes import Request, RunRange, make_scope
from metricspec.plugins import using_plugin_manager
from metricspec.sources.needs import base_kpis
from metricspec.sources.prepare import did_you_mean
from metricspec.spec.base import GRAINS
from metricspec.spec.expr import ExprError, names, parse
from metricspec.spec.exprtypes import check
from metricspec.validation.expressions import schema_types

if TYPE_CHECKING:
    import pluggy

    from metricspec.sources import OpenedSources
    from metricspec.spec.loaded import LoadedSpec

PERIOD = "period"


@dataclass(frozen=True)
class Question:
    """What a query asks: KPIs, broken down ``by`` columns, per ``grain``, over rows where ``where``
    holds, dated ``start`` to ``end`` (inclusive local dates)."""

    kpis: tuple[str, ...]
    by: tuple[str, ...] = ()
    grain: str | None = None
    """Default: the first KPI's first grain."""
    where: str | None = None
    start: dt.date | None = None
    """Default: the spec's ``period.start``, else the first date in the data."""
    end: dt.date | None = None
    """Default: the spec's ``period.end`` or the latest date in the data up to today, the earlier."""


@dataclass(frozen=True)
class Answer:
    """A query's answer: ``frame`` has ``period``, the ``by`` columns (text) and one column per KPI."""

    frame: pl.DataFrame
    grain: str
    """The grain of ``period`` (``all`` for KPIs of sources without dates: ``period`` is null)."""
    start: dt.date | None
    end: dt.date
    kpis: tuple[str, ...]
    by: tuple[str, ...]
    where: str | None = None
    units: tuple[tuple[str, str | None], ...] = ()
    """Per KPI (in order): its unit and currency, for showing the values."""


def _issue(message: str, hint: str | None = None) -> Issue:
    return Issue(Level.ERROR, message, None, hint)


def _did_you_mean(name: str, known: list[str]) -> str | None:
    guess = did_you_mean(name, known)
    return guess.strip(" ()") if guess else None


def resolve(loaded: LoadedSpec, q: Question) -> Question:
    """The question with its grain filled in, checked against the spec (no data read): every problem at
    once as a :class:`SpecError` (exit code 2)."""
    spec = loaded.spec
    issues: list[Issue] = []
    if not q.kpis:
        issues.append(_issue("a query needs at least one KPI", "name one with --kpi (or kpis=[...])"))
    known = list(spec.kpis)
    for name in q.kpis:
        if name not in spec.kpis:
            issues.append(_issue(f"unknown KPI '{name}' in spec '{spec.name}'",
                                 _did_you_mean(name, known) or f"its KPIs: {', '.join(known) or 'none'}"))
    for label, given in (("KPI", q.kpis), ("--by column", q.by)):
        twice = sorted({n for n in given if given.count(n) > 1})
        if twice:
            issues.append(_issue(f"{label} {', '.join(repr(n) for n in twice)} given twice", "name each once"))
    if q.start is not None and q.end is not None and q.start > q.end:
        issues.append(_issue(f"--from {q.start} is after --to {q.end}", "swap them"))
    grain = q.grain
    if grain is not None and grain not in GRAINS:
        guess = _did_you_mean(grain, list(GRAINS))
        issues.append(_issue(f"unknown grain '{grain}'", (guess + "; " if guess else "") +
                             f"grains are: {', '.join(GRAINS)}"))
    if issues:
        raise SpecError(issues)
    if grain is None:
        grain = spec.kpi_grains(spec.kpis[q.kpis[0]])[0]
    timing = {name: is_all_time(spec, name) for name in q.kpis}
    if any(timing.values()) and not all(timing.values()):
        undated = [n for n, a in timing.items() if a]
        issues.append(_issue(f"KPI {', '.join(repr(n) for n in undated)} has no dates (its source says "
                             "`time_column: null`) and cannot share periods with the other KPIs",
                             "query KPIs without dates on their own"))
    for name in q.kpis:
        problem = None if timing[name] else spec.kpis[name].grain_problem(spec, grain)
        if problem is not None:
            issues.append(_issue(f"KPI '{name}' cannot be computed per {grain}: {problem}",
                                 "ask for another --grain"))
    if q.where is not None:
        issues.extend(_where_syntax(q.where))
    if issues:
        raise SpecError(issues)
    return Question(q.kpis, q.by, grain, q.where, q.start, q.end)


def _where_syntax(text: str) -> list[Issue]:
    try:
        parse(text)
    except ExprError as exc:
        return [_issue(f"--where: {exc.message} at column {exc.offset + 1} of `{text}`",
                       exc.hint or "write e.g. country == 'PL' and reach > 100")]
    return []


def rows_sources(loaded: LoadedSpec, name: str) -> list[tuple[str, str]]:
    """(base KPI, source) for every KPI without inputs that ``name`` reads (itself if it has none): the
    rows a breakdown and a filter of ``name`` apply to."""
    spec = loaded.spec
    out = []
    for base in base_kpis(spec, name):
        source = spec.kpis[base].rows_source(spec)
        if source is not None:
            out.append((base, source))
    return out


def check_columns(loaded: LoadedSpec, q: Question, schemas: Mapping[str, Mapping[str, pl.DataType]]) -> None:
    """Every ``by`` and ``where`` column exists in the rows of every KPI asked for (through joins too),
    and ``where`` type-checks on each; all problems at once."""
    where_cols = list(dict.fromkeys(names(parse(q.where)))) if q.where else []
    issues: list[Issue] = []
    seen: set[tuple[str, str, str]] = set()
    for name in q.kpis:
        for base, source in rows_sources(loaded, name):
            schema = schemas.get(source)
            if schema is None:
                continue
            through = "" if base == name else f" (read through KPI '{base}')"
            for col, verb in [*((c, "broken down") for c in q.by), *((c, "filtered") for c in where_cols)]:
                if col in schema or (name, source, col) in seen:
                    continue
                seen.add((name, source, col))
                guess = _did_you_mean(col, list(schema))
                shown = ", ".join(list(schema)[:25]) + (", ..." if len(schema) > 25 else "")
                issues.append(_issue(
                    f"KPI '{name}' cannot be {verb} by '{col}': source '{source}'{through} has no column '{col}'",
                    (guess + "; " if guess else "") + f"its columns: {shown}"))
            if q.where and all(c in schema for c in where_cols):
                issues.extend(_where_types(q.where, source, schema))
    if issues:
        raise SpecError(sorted(set(issues), key=lambda i: i.message))


def _where_types(text: str, source: str, schema: Mapping[str, pl.DataType]) -> list[Issue]:
    return [_issue(f"--where: {p.message} (source '{source}') at column {p.offset + 1} of `{text}`", p.hint)
            for p in check(parse(text), "filter", schema_types(schema))]


def source_names(loaded: LoadedSpec, q: Question) -> list[str]:
    """The sources the KPIs asked for read (the sources they join are opened with them)."""
    spec = loaded.spec
    out: set[str] = set()
    for name in q.kpis:
        for base in base_kpis(spec, name):
            out.update(spec.kpis[base].sources_needed(spec))
    return sorted(out)


def plan_question(loaded: LoadedSpec, q: Question, opened: OpenedSources) -> tuple[Evaluator, list[Request]]:
    """The evaluator holding the question's requests (planned, not run), its dates settled: the last
    date defaults to the latest in the data (one freshness query first, as ``run`` does)."""
    spec = loaded.spec
    check_columns(loaded, q, opened.schemas)
    router = make_router(opened.frames, opened.schemas, relations(opened.relations), opened.prepared)
    end = q.end
    fresh = None
    if end is None:
        queries = freshness_plan(loaded, opened.schemas, local_today(spec.timezone))
        fresh = router.run(Work(freshness=queries), RunRange(None, dt.date.max)).freshness
        as_of, _ = default_as_of_from(queries, fresh)
        end = as_of if spec.period is None else min(as_of, spec.period.end)
    start = q.start if q.start is not None else (spec.period.start if spec.period is not None else None)
    bounds = RunRange(start, end, spec.week_start, spec.timezone)
    ev = Evaluator(loaded=loaded, as_of=end, sources=opened.frames, schemas=opened.schemas,
                   relations=relations(opened.relations), prepared=opened.prepared, _router=router, bounds=bounds)
    if fresh is not None:
        ev.use_freshness(fresh)
    requests = [_request(ev, name, q) for name in q.kpis]
    for req in requests:
        ev.request(req)
    return ev, requests


def _request(ev: Evaluator, name: str, q: Question) -> Request:
    kpi = ev.spec.kpis[name]
    scope = make_scope({k: v for k, v in kpi.scope.items() if k not in q.by})
    grain = alltime.window(ev) if is_all_time(ev.spec, name) else q.grain
    assert grain is not None
    return Request(name, grain, q.by, scope, None, q.where)


def answer(loaded: LoadedSpec, q: Question, opened: OpenedSources) -> Answer:
    """Run the question on opened sources."""
    ev, requests = plan_question(loaded, q, opened)
    fresh = freshness_plan(loaded, opened.schemas) if q.end is not None else []
    ev.execute(freshness=fresh)
    keys = [PERIOD, *q.by]
    frame: pl.DataFrame | None = None
    for req in requests:
        series = ev.series(req).rename({"value": req.kpi})
        frame = series if frame is None else frame.join(series, on=keys, how="full", coalesce=True, nulls_equal=True)
    assert frame is not None
    undated = all(is_all_time(loaded.spec, name) for name in q.kpis)
    frame = frame.select([*keys, *q.kpis]).sort(keys, nulls_last=True)
    rng = ev.range
    spec = loaded.spec
    units = tuple((k.unit, k.currency or (spec.currency if k.unit == "currency" else None))
                  for k in (spec.kpis[name] for name in q.kpis))
    return Answer(frame=frame, grain=ALL_TIME if undated else str(q.grain), start=rng.start, end=rng.end,
                  kpis=q.kpis, by=q.by, where=q.where, units=units)


def run_query(loaded: LoadedSpec, q: Question, data: Mapping[str, pl.LazyFrame] | None = None, *,
              plugin_manager: pluggy.PluginManager | None = None) -> Answer:
    """Answer a question about a loaded spec (``data`` and ``plugin_manager`` as for
    :func:`metricspec.engine.run.evaluate`)."""
    q = resolve(loaded, q)
    with using_plugin_manager(plugin_manager), shared_connections():
        return with_lenient_retry(loaded, lambda opened: answer(loaded, q, opened), data,
                                  names=source_names(loaded, q))


def explain_query(loaded: LoadedSpec, q: Question, data: Mapping[str, pl.LazyFrame] | None = None, *,
                  plugin_manager: pluggy.PluginManager | None = None) -> list[dict[str, object]]:
    """The question's compiled plan without running it: per fused query, what it computes, where it runs
    and the SQL it sends to a database."""
    q = resolve(loaded, q)

    def plan(opened: OpenedSources) -> list[dict[str, object]]:
        ev, _ = plan_question(loaded, q, opened)
        work = Work(queries=list(ev.plan.queries.values()), null_counts=ev.plan.null_count_queries())
        explained = ev.backends.explain(work, ev.range)
        out = []
        for key, entry in zip(ev.plan.queries, ev.plan.describe(), strict=True):
            joins = [info.describe() for info in opened.joins.get(key.source, [])]
            out.append({**entry, **explained.queries[key], **({"joins": joins} if joins else {})})
        return out

    with using_plugin_manager(plugin_manager), shared_connections():
        return with_lenient_retry(loaded, plan, data, names=source_names(loaded, q))
