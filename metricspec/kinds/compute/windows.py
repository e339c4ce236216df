"""Date windows of a base KPI's rows: trailing N days (``rolling``) and to date (``to_date``).

The value of a period is the base aggregation over the days of a window that ends on the period's
last day, or, for the running (partial) period only, on the run's end (the as-of date), see
:func:`window_ends`; a source's last row never moves an end (a 7-day window of a month that ended
after the data holds that month's last 7 days, even when they have no rows):

* ``sum`` and ``count`` add the base's daily aggregates, ``mean`` divides the daily sums by the
  daily counts of values: both from a day-grain query of the fused plan, so the aggregation runs
  where the data is (polars or SQL) and only the days come back;
* ``count_distinct`` needs the values themselves (distinct over the whole window, not a sum of
  daily distinct counts): the distinct (value, segments, date) of the rows come through
  :func:`metricspec.kinds.compute.rows.events` (filtered, projected and made distinct per day in the
  database: one row per value and day, not per row), each value's
  days become intervals of the window ends that see it, and the count at an end is the number of
  intervals covering it (integers, exact).

A window that starts before the run's first date (``period.start``) gets no value: the rows before
it are not read, and a sum of part of a window would understate it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import polars as pl

from metricspec.kinds.aggregate import AggregateKPI
from metricspec.kinds.base import FromAggregates, FromRows
from metricspec.kinds.compute.rows import events
from metricspec.plan.nodes import QueryKey, RowFilter, Window
from metricspec.plan.periods import period_end, period_range, truncate, truncate_date

if TYPE_CHECKING:
    from metricspec.kinds.context import PlanContext
    from metricspec.plan.nodes import Request

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Reach:
    """How far back a window reaches from its last day: ``days`` (trailing days, the last one
    included) or back to the start of the ``period`` (week, month, quarter, year) holding it."""

    days: int | None = None
    period: str | None = None

    def start(self, end: dt.date, week_start: str) -> dt.date:
        if self.days is not None:
            return end - dt.timedelta(days=self.days - 1)
        assert self.period is not None
        return truncate_date(end, self.period, week_start)


@dataclass(frozen=True)
class WindowPlan:
    """What a window request registered while planning."""

    base: AggregateKPI
    base_name: str
    reach: Reach
    key: QueryKey | None = None
    outputs: tuple[str, ...] = ()
    """The day-grain query's output columns: (sum or count,) or (sum, count) for a mean."""
    filter_text: str | None = None


def _and(a: str | None, b: str | None) -> str | None:
    if a and b:
        return f"({a}) and ({b})"
    return a or b


def plan_window(ev: PlanContext, req: Request, base_name: str, reach: Reach) -> WindowPlan:
    """Register the day-grain aggregates a window over ``base_name`` needs (none for count_distinct)."""
    base = ev.spec.kpis[base_name]
    assert isinstance(base, AggregateKPI)  # validation checks it (kinds/window_base.py)
    child = ev.child(req, base_name, req.extra_filter)
    filter_text = _and(base.filter, child.extra_filter)
    if base.agg == "count_distinct":
        return WindowPlan(base, base_name, reach, filter_text=filter_text)
    key = QueryKey(base.source, base.time_column_for(ev, base_name), "day", req.segments, child.scope,
                   RowFilter.of(req.where))
    outputs: list[str] = []
    aggs = ("sum", "count") if base.agg == "mean" else (base.agg,)
    for agg in aggs:
        key, output = ev.plan.add(key, agg, base.column, filter_text, base.expression)
        outputs.append(output)
    return WindowPlan(base, base_name, reach, key, tuple(outputs), filter_text)


def planned_window(ev: PlanContext, req: Request, wp: WindowPlan) -> FromAggregates | FromRows:
    """How a window request is computed: from the answer of its day-grain query, or (count_distinct)
    from the base's rows."""
    if wp.key is None:
        return FromRows(lambda: window_series(ev, req, wp, None))
    return FromAggregates(wp.key, lambda days: window_series(ev, req, wp, days))


def window_series(ev: PlanContext, req: Request, wp: WindowPlan, days: pl.DataFrame | None) -> pl.DataFrame:
    """The request's series (``period``, segments, ``value``) after the plan ran: from ``days``, the
    filled answer of the window's day-grain query, or (None) from the base's distinct values."""
    if days is None:
        days, first = _distinct_rows(ev, req, wp)
    else:
        first = cast("dt.date", days["period"].min()) if days.height else None
    ends = window_ends(ev, req, wp, first)
    segs = list(req.segments)
    schema = {"period": pl.Date, **dict.fromkeys(segs, pl.String), "value": pl.Float64}
    if ends is None:
        return pl.DataFrame(schema=schema)
    if wp.key is None:
        values = _distinct_counts(days, ends, wp.reach, segs, ev.range.week_start)
    else:
        values = _sums(days, ends, wp, segs)
    grid = ends.select(["period", "__ok"])
    if segs:
        combos = days.select(segs).unique()
        if combos.height == 0:
            return pl.DataFrame(schema=schema)
        grid = grid.join(combos, how="cross")
    value = pl.col("value") if wp.base.agg == "mean" else pl.col("value").fill_null(0.0)  # a mean of no rows: none
    out = grid.join(values, on=["period", *segs], how="left", nulls_equal=True).with_columns(
        pl.when(pl.col("__ok")).then(value).otherwise(None).cast(pl.Float64).alias("value"))
    return out.select(["period", *segs, "value"]).sort(["period", *segs], nulls_last=True)


def last_day(ev: PlanContext, source: str) -> dt.date:
    """The last day with data the periods run to: the run's end, or the source's last day with data if
    earlier (periods after it are not filled, as for every KPI). It decides which periods there are,
    never where a window ends."""
    end = ev.range.end
    latest = ev.latest.get(source)
    return end if latest is None else min(end, latest)


def window_ends(ev: PlanContext, req: Request, wp: WindowPlan, first: dt.date | None) -> pl.DataFrame | None:
    """One row per period: ``period``, the window's last day ``__end`` and first day ``__start``,
    and ``__ok`` (the window lies within the run's range). None: no periods (no data).

    A window ends on its period's last day; only the running period, which holds the run's end (the
    as-of date), ends there instead. The source's last row decides how many periods there are, not
    where their windows end."""
    rng = ev.range
    if isinstance(req.grain, Window):
        periods = [req.grain.start]
        ends = [min(req.grain.end, rng.end)]
    else:
        if first is None:
            return None
        if rng.start is not None:
            first = min(first, rng.start)
        grain = req.grain
        periods = period_range(truncate_date(first, grain, rng.week_start),
                               truncate_date(last_day(ev, wp.base.source), grain, rng.week_start), grain)
        ends = [min(period_end(p, grain) - ONE_DAY, rng.end) for p in periods]
    starts = [wp.reach.start(e, rng.week_start) for e in ends]
    ok = [rng.start is None or s >= rng.start for s in starts]
    return pl.DataFrame({"period": periods, "__end": ends, "__start": starts, "__ok": ok},
                        schema={"period": pl.Date, "__end": pl.Date, "__start": pl.Date, "__ok": pl.Boolean})


def _sums(days: pl.DataFrame, ends: pl.DataFrame, wp: WindowPlan, segs: list[str]) -> pl.DataFrame:
    """Per period and segment, the daily aggregates added over the window (a mean: sums ÷ counts)."""
    spans = (ends.select(["period", pl.date_ranges("__start", "__end").alias("__day")])
             .explode("__day"))
    joined = spans.join(days.rename({"period": "__day"}), on="__day", how="inner")
    total = pl.col(wp.outputs[0]).sum()
    if wp.base.agg == "mean":
        n = pl.col(wp.outputs[1]).sum()
        value = pl.when(n > 0).then(total / n).otherwise(None)
    else:
        value = total
    return joined.group_by(["period", *segs]).agg(value.cast(pl.Float64).alias("value"))


def _distinct_rows(ev: PlanContext, req: Request, wp: WindowPlan) -> tuple[pl.DataFrame, dt.date | None]:
    """Distinct (segments, value, day) of the base's rows in the run's range, and the first day."""
    base = wp.base
    assert base.column is not None
    scope = ev.child(req, wp.base_name).scope
    where = ("kpis", wp.base_name)
    rows = events(ev, base.source, base.spec_time_column(ev.spec), _and(wp.filter_text, req.where), where, scope,
                  list(dict.fromkeys([base.column, *req.segments])), days=True)
    day = pl.col("__t").dt.date()
    keep = day <= ev.range.end
    if ev.range.start is not None:
        keep = keep & (day >= ev.range.start)
    out = (rows.filter(keep & pl.col(base.column).is_not_null())
           .select([*(pl.col(s) for s in req.segments), pl.col(base.column).alias("__v"), day.alias("__day")])
           .unique().collect())
    return out, cast("dt.date", out["__day"].min()) if out.height else None


def _distinct_counts(rows: pl.DataFrame, ends: pl.DataFrame, reach: Reach, segs: list[str],
                     week_start: str) -> pl.DataFrame:
    """Per period and segment, how many distinct values have a row in the window ending ``__end``.

    Each value's days become the intervals of window ends that see them: a row on day d is seen by
    the ends d .. d + N − 1 (trailing N days) or d .. the end of d's period (to date). A value's
    overlapping intervals merge, so the count at an end is the number of intervals covering it: a
    +1 at each interval's start, a −1 the day after its end, summed up to the end.
    """
    key = [*segs, "__v"]
    if reach.days is not None:
        n = reach.days
        runs = (rows.sort([*key, "__day"], nulls_last=True)
                .with_columns(((pl.col("__day") - pl.col("__day").shift(1)).dt.total_days().fill_null(n + 1) > n)
                              .cum_sum().over(key).alias("__run")))
        spans = runs.group_by([*key, "__run"]).agg(pl.col("__day").min().alias("__from"),
                                                   (pl.col("__day").max() + pl.duration(days=n)).alias("__to"))
    else:
        assert reach.period is not None
        bucket = truncate(pl.col("__day"), reach.period, week_start)
        spans = (rows.with_columns(bucket.alias("__b")).group_by([*key, "__b"])
                 .agg(pl.col("__day").min().alias("__from"), pl.col("__b").first().alias("__b1"))
                 .with_columns(pl.col("__b1").dt.offset_by(_every(reach.period)).alias("__to")))
    # __to is the first day no longer covered
    deltas = pl.concat([
        spans.select([*segs, pl.col("__from").alias("__date"), pl.lit(1).alias("__d")]),
        spans.select([*segs, pl.col("__to").alias("__date"), pl.lit(-1).alias("__d")]),
    ])
    combos = rows.select(segs).unique() if segs else pl.DataFrame({"__one": [0]})
    marks = ends.select(["period", pl.col("__end").alias("__date")]).join(combos, how="cross")
    marks = marks.drop("__one") if not segs else marks
    points = pl.concat([deltas.with_columns(pl.lit(None, dtype=pl.Date).alias("period")).select(
        ["period", *segs, "__date", "__d"]), marks.with_columns(pl.lit(0).alias("__d")).select(
        ["period", *segs, "__date", "__d"])], how="vertical_relaxed")
    # marks sort after the deltas of their day: a −1 on the end's day (an interval ending the day
    # before) counts, a +1 on it too
    ordered = points.sort([*segs, "__date", pl.col("period").is_not_null()], nulls_last=True)
    active = ordered.with_columns((pl.col("__d").cum_sum().over(segs) if segs else pl.col("__d").cum_sum())
                                  .alias("value"))
    return active.filter(pl.col("period").is_not_null()).select(["period", *segs, "value"])


def _every(period: str) -> str:
    return {"week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}[period]
