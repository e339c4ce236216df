"""Series computed from rows rather than from aggregated queries: what funnels, retention and the
other row-level kinds share.

A row-level kind reads the rows it needs through :class:`~metricspec.plan.nodes.EventsQuery`
(filtered and projected where the data lives), computes per entity in polars, and turns the result
into a series with :func:`finish`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl

from metricspec.errors import DataError
from metricspec.plan.nodes import EventsQuery, Scope, Window
from metricspec.plan.periods import period_end, period_range, truncate, truncate_date
from metricspec.spec.expr import parse
from metricspec.spec.source import time_column_of

if TYPE_CHECKING:
    from metricspec.kinds.base import Path
    from metricspec.kinds.context import PlanContext
    from metricspec.plan.nodes import Request


def events(ev: PlanContext, source: str, time_column: str | None, filter_text: str | None, where: Path,
           scope: Scope, keep: list[str], *, days: bool = False) -> pl.LazyFrame:
    """The ``keep`` columns (as text) and the time ``__t`` of the rows of ``source`` where the filter
    holds, in ``scope``, with a time (``days``: distinct values per local date, ``__t`` at midnight)."""
    tcol = time_column_of(ev.spec, source, time_column)
    if tcol is None:
        raise DataError(f"source '{source}' has no time column", where=ev.where(*where),
                        hint="set `time_column:` on the source or the step")
    query = EventsQuery(source, tcol, parse(filter_text) if filter_text else None, scope, tuple(keep), days)
    return ev.events(query)


def period_of(ev: PlanContext, req: Request, col: str) -> pl.Expr:
    """The request's period of each value of datetime column ``col``."""
    date = pl.col(col).dt.date()
    if isinstance(req.grain, Window):
        return pl.lit(req.grain.start, dtype=pl.Date)
    return truncate(date, req.grain, ev.spec.week_start)


def date_bounds(ev: PlanContext, req: Request) -> tuple[dt.date | None, dt.date]:
    """First and last dates the request covers (the run's range, within a goal's window)."""
    rng = ev.range
    start, end = rng.start, rng.end
    if isinstance(req.grain, Window):
        start = req.grain.start if start is None else max(start, req.grain.start)
        end = min(end, req.grain.end)
    return start, end


def cutoff_of(end: dt.date) -> dt.datetime:
    """The first instant after ``end``."""
    return dt.datetime.combine(end + dt.timedelta(days=1), dt.time())


def share_by_period(ev: PlanContext, req: Request, entities: pl.LazyFrame, start: str, hits: pl.LazyFrame,
                    ) -> pl.DataFrame:
    """Per period of each entity's ``start`` (and segment), the share of ``entities`` (one row per
    ``__key``) that have a row in ``hits`` (``__key``, ``__ok``)."""
    return (
        entities.join(hits, on="__key", how="left")
        .with_columns(period_of(ev, req, start).alias("period"))
        .group_by(["period", *req.segments])
        .agg((pl.col("__ok").fill_null(0).sum() / pl.len()).alias("value"))
        .collect()
    )


def finish(ev: PlanContext, req: Request, grouped: pl.DataFrame, wait: dt.timedelta | None = None) -> pl.DataFrame:
    """Fill missing periods with null (rates are never additive).

    With ``wait`` (a funnel window or retention horizon), a period only gets a value once
    every entity starting in it has had that long by the as-of date: a cohort is judged whole.
    """
    keys = ["period", *req.segments]
    if wait is not None and grouped.height and not isinstance(req.grain, Window):
        cutoff = cutoff_of(ev.range.end)
        ready = {p for p in grouped["period"].unique().to_list()
                 if dt.datetime.combine(period_end(p, req.grain), dt.time()) + wait <= cutoff}
        grouped = grouped.with_columns(
            pl.when(pl.col("period").is_in(sorted(ready))).then(pl.col("value")).otherwise(None).alias("value"))
    if grouped.height == 0 or isinstance(req.grain, Window):
        if grouped.height == 0 and isinstance(req.grain, Window):
            return pl.DataFrame({"period": [req.grain.start], "value": [None]},
                                schema={"period": pl.Date, "value": pl.Float64})
        return grouped.select([*keys, "value"])
    first = grouped["period"].min()
    last = truncate_date(ev.range.end, req.grain, ev.spec.week_start)
    periods = pl.DataFrame({"period": period_range(first, last, req.grain)},  # type: ignore[arg-type]
                           schema={"period": pl.Date})
    grid = periods
    if req.segments:
        grid = periods.join(grouped.select(list(req.segments)).unique(), how="cross")
    return grid.join(grouped, on=keys, how="left", nulls_equal=True).select([*keys, "value"])
