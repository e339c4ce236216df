"""Tenure: how long entities stay, from their start to their end, with those still active censored
at the as-of date (Kaplan–Meier, :mod:`metricspec.kinds.compute.survival`).

* start: the entity's first ``start_column`` (a signup date) or, without one, its first event;
* end: its first ``churn_column`` value on or before the as-of date or, without a churn column, its
  last event (or its start, when later) once ``inactivity_days`` have passed without one by the
  as-of date;
* censored: no end by the as-of date; its tenure so far is as-of date − start.

Durations are in whole calendar days. The value of a period is the median, or the restricted mean
(the area under the curve up to the longest follow-up), of the entities that started in it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from metricspec.errors import DataError
from metricspec.kinds.compute.rows import cutoff_of, date_bounds, events, finish, period_of
from metricspec.kinds.compute.survival import kaplan_meier, median, restricted_mean
from metricspec.plan.nodes import and_filters

if TYPE_CHECKING:
    from metricspec.kinds.base import Path
    from metricspec.kinds.context import PlanContext
    from metricspec.kinds.tenure import TenureSpec
    from metricspec.plan.nodes import Request


def durations(ev: PlanContext, req: Request, t: TenureSpec, where: Path) -> pl.DataFrame:
    """One row per entity that started by the as-of date: ``__key``, ``__start`` (datetime), the
    request's segments, ``__days`` (tenure in days) and ``__ended`` (False: censored)."""
    start, end = date_bounds(ev, req)
    cutoff = cutoff_of(end)
    first = events(ev, t.source, t.start_column or t.time_column, and_filters(t.filter, req.where), where, req.scope,
                   [t.key, *req.segments]).rename({t.key: "__key"})
    entities = (first.filter(pl.col("__t") < cutoff).sort(["__t", *req.segments], nulls_last=True)  # ties: by value
                .group_by("__key", maintain_order=True).first().rename({"__t": "__start"}))
    if start is not None:
        entities = entities.filter(pl.col("__start") >= dt.datetime.combine(start, dt.time()))
    end_day = pl.lit(end, dtype=pl.Date)
    start_day = pl.col("__start").dt.date()
    if t.churn_column is not None:
        churn = (events(ev, t.source, t.churn_column, t.filter, where, (), [t.key]).rename({t.key: "__key"})
                 .filter(pl.col("__t") < cutoff).group_by("__key").agg(pl.col("__t").min().dt.date().alias("__end")))
        joined = entities.join(churn, on="__key", how="left")
    else:
        gap = t.inactivity_days or 0
        last = (events(ev, t.source, t.time_column, t.filter, where, (), [t.key]).rename({t.key: "__key"})
                .filter(pl.col("__t") < cutoff).group_by("__key").agg(pl.col("__t").max().dt.date().alias("__last")))
        joined = entities.join(last, on="__key", how="left").with_columns(
            pl.max_horizontal(pl.col("__last"), start_day).alias("__last"))
        joined = joined.with_columns(
            pl.when((end_day - pl.col("__last")).dt.total_days() >= gap).then(pl.col("__last"))
            .otherwise(None).alias("__end"))
    out = joined.with_columns(
        pl.col("__end").is_not_null().alias("__ended"),
        (pl.coalesce(pl.col("__end"), end_day) - start_day).dt.total_days().alias("__days"),
    ).select("__key", "__start", *req.segments, "__days", "__ended").collect()
    _refuse_negative(ev, out, t, where)
    return out


def _refuse_negative(ev: PlanContext, frame: pl.DataFrame, t: TenureSpec, where: Path) -> None:
    bad = frame.filter(pl.col("__days") < 0)
    if bad.height:
        key = bad.sort("__key")["__key"][0]
        raise DataError(
            f"{bad.height} entities of source '{t.source}' end before they start (e.g. {t.key} '{key}': its "
            f"'{t.churn_column}' is before its start)", where=ev.where(*where),
            hint="check the churn and start columns, or filter those rows out with `filter:`")


def tenure_series(ev: PlanContext, req: Request, t: TenureSpec, where: Path) -> pl.DataFrame:
    """Per period of the entities' starts (and segment), their median or restricted mean tenure."""
    frame = durations(ev, req, t, where).with_columns(period_of(ev, req, "__start").alias("period"))
    keys = ["period", *req.segments]
    groups: dict[tuple[object, ...], tuple[list[int], list[bool]]] = {}
    for row in frame.select(*keys, "__days", "__ended").iter_rows():
        days, ended = groups.setdefault(row[:-2], ([], []))
        days.append(row[-2])
        ended.append(row[-1])
    values = []
    for group in sorted(groups, key=lambda g: tuple((v is None, str(v)) for v in g)):
        days, ended = groups[group]
        curve = kaplan_meier(np.array(days, dtype=np.float64), np.array(ended, dtype=bool))
        value = median(curve) if t.measure == "median" else restricted_mean(curve)
        values.append((*group, value))
    schema = {"period": pl.Date, **dict.fromkeys(req.segments, pl.String), "value": pl.Float64}
    return finish(ev, req, pl.DataFrame(values, schema=schema, orient="row"))
