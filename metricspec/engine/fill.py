"""Fill the periods an aggregated frame lacks: once, in polars, whatever backend aggregated it."""

from __future__ import annotations

import datetime as dt
from typing import cast

import polars as pl

from metricspec.kinds import ADDITIVE_AGGREGATIONS
from metricspec.plan.nodes import NO_TIME, Aggregate, QueryKey, RunRange, Window
from metricspec.plan.periods import HOUR, first_hour, hour_dtype, period_range, truncate_date


def fill_periods(
    frame: pl.DataFrame, key: QueryKey, outputs: list[Aggregate], rng: RunRange, last_period: dt.date
) -> tuple[pl.LazyFrame, list[dt.date]]:
    """Add missing periods (and segment combinations): additive aggregates as 0, others null.

    ``last_period`` is the last period to show (for hours an aware datetime, as the periods are).

    Returns the filled frame as a lazy query (every frame is filled in one ``collect_all``) and
    the periods it will hold, in order.
    """
    additive = [pl.col(a.output).fill_null(0.0) for a in outputs if a.agg in ADDITIVE_AGGREGATIONS]
    if isinstance(key.grain, Window):
        if frame.height == 0:  # a source without dates answers with a null period (kinds/alltime.py)
            period = None if key.time_column == NO_TIME else key.grain.start
            frame = pl.DataFrame({"period": [period], **{a.output: [None] for a in outputs}},
                                 schema={"period": pl.Date, **{a.output: pl.Float64 for a in outputs}})
        return frame.lazy().with_columns(additive), [key.grain.start]
    if frame.height == 0:
        return frame.lazy(), []
    first = cast(dt.date, frame["period"].min())
    if rng.start is not None:
        first = min(first, first_hour(rng.start, rng.timezone) if key.grain == HOUR
                    else truncate_date(rng.start, key.grain, rng.week_start))
    days = period_range(first, last_period, key.grain)
    dtype = hour_dtype(rng.timezone) if key.grain == HOUR else pl.Date
    grid = pl.LazyFrame({"period": days}, schema={"period": dtype})
    if key.segments:
        combos = frame.lazy().select(list(key.segments)).unique()
        grid = grid.join(combos, how="cross")
    filled = grid.join(frame.lazy(), on=["period", *key.segments], how="left", nulls_equal=True)
    return filled.with_columns(additive).sort(["period", *key.segments]), days
