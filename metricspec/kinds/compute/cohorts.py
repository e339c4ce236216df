"""Calendar cohorts: each entity's cohort is the calendar period (week or month) of its first event;
it is retained at age k when it is active in the k-th calendar period after that one.

What the ``cohort_retention`` kind computes, per period (its KPI value at one age) and as the whole
cohort × age table (:class:`~metricspec.kinds.cohort_table.CohortTable`). A cell is only filled once its
calendar period has ended by the as-of date (the run's end): a cohort is never judged on part of a
period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from metricspec.kinds.cohort_table import CohortRow, CohortTable
from metricspec.kinds.compute.rows import cutoff_of, date_bounds, events, finish, share_by_period
from metricspec.plan.nodes import and_filters
from metricspec.plan.periods import label, period_end, truncate

if TYPE_CHECKING:
    from metricspec.kinds.base import Path
    from metricspec.kinds.cohort_retention import CohortRetentionSpec
    from metricspec.kinds.context import PlanContext
    from metricspec.plan.nodes import Request


@dataclass(frozen=True)
class Cohorts:
    """Entities with their cohort, and the ages at which each was active."""

    entities: pl.DataFrame
    """One row per entity: ``__key``, ``__start`` (first event), ``__c`` (its cohort period), segments."""
    ages: pl.DataFrame
    """``__key``, ``__c``, ``__age``: one row per entity and age (0, 1, …) it was active at."""
    observable: dict[dt.date, int]
    """Per cohort period, the largest age whose period has ended by the cutoff (-1: not even age 0)."""


def age_of(cohort: pl.Expr, active: pl.Expr, period: str) -> pl.Expr:
    """Whole calendar periods from the cohort's period start to the active period's start."""
    if period == "month":
        return (active.dt.year() * 12 + active.dt.month()) - (cohort.dt.year() * 12 + cohort.dt.month())
    return (active - cohort).dt.total_days() // 7


def last_age(cohort: dt.date, period: str, cutoff: dt.date) -> int:
    """The largest age k whose calendar period (cohort + k periods) ends by ``cutoff`` (exclusive)."""
    if period_end(cohort, period) > cutoff:
        return -1
    if period == "week":
        return ((cutoff - cohort).days // 7) - 1
    return (cutoff.year * 12 + cutoff.month) - (cohort.year * 12 + cohort.month) - 1


def cohorts(ev: PlanContext, req: Request, c: CohortRetentionSpec, where: Path) -> Cohorts:
    """Each entity's cohort (its first event in the request's scope, with the filter) and the ages at
    which it had an event (any event with the filter, whatever its scope)."""
    week_start = ev.spec.week_start
    first = events(ev, c.source, c.time_column, and_filters(c.filter, req.where), where, req.scope,
                   [c.key, *req.segments]).rename({c.key: "__key"})
    rows = events(ev, c.source, c.time_column, c.filter, where, (), [c.key]).rename({c.key: "__key"})
    start, end = date_bounds(ev, req)
    cutoff = cutoff_of(end)
    # the first event's row gives the segments; ties at the same instant are broken by segment value,
    # not by the order a backend returns rows in
    entities = (first.sort(["__t", *req.segments], nulls_last=True).group_by("__key", maintain_order=True).first()
                .rename({"__t": "__start"}))
    entities = entities.filter(pl.col("__start") < cutoff)
    if start is not None:
        entities = entities.filter(pl.col("__start") >= dt.datetime.combine(start, dt.time()))
    entities = entities.with_columns(truncate(pl.col("__start").dt.date(), c.period, week_start).alias("__c"))
    active = (rows.filter(pl.col("__t") < cutoff)
              .select("__key", truncate(pl.col("__t").dt.date(), c.period, week_start).alias("__p")).unique())
    ages = (entities.select("__key", "__c").join(active, on="__key", how="inner")
            .select("__key", "__c", age_of(pl.col("__c"), pl.col("__p"), c.period).cast(pl.Int64).alias("__age"))
            .filter(pl.col("__age") >= 0))
    got_entities, got_ages = pl.collect_all([entities, ages])
    observable = {p: last_age(p, c.period, cutoff.date()) for p in got_entities["__c"].unique().to_list()}
    return Cohorts(got_entities, got_ages, observable)


def retention_series(ev: PlanContext, req: Request, c: CohortRetentionSpec, where: Path) -> pl.DataFrame:
    """Per period of the entities' first events, the share of those whose cohort was active at age
    ``c.age``; only cohorts whose age-``c.age`` period has ended count."""
    got = cohorts(ev, req, c, where)
    ready = sorted(p for p, k in got.observable.items() if k >= c.age)
    entities = got.entities.filter(pl.col("__c").is_in(ready))
    hits = got.ages.filter(pl.col("__age") == c.age).select("__key", pl.lit(1).alias("__ok")).unique()
    return finish(ev, req, share_by_period(ev, req, entities.lazy(), "__start", hits.lazy()))


def cohort_table(ev: PlanContext, req: Request, c: CohortRetentionSpec, where: Path) -> CohortTable:
    """The cohort × age table: one row per cohort whose first period has ended, ages 0 to ``c.max_age``."""
    got = cohorts(ev, req, c, where)
    sizes = dict(got.entities.group_by("__c").len().iter_rows())
    counts = {(p, k): n for p, k, n in got.ages.group_by("__c", "__age").len().iter_rows()}
    ages = list(range(c.max_age + 1))
    rows = []
    for p in sorted(sizes):
        last = got.observable[p]
        if last < 0:
            continue
        size = int(sizes[p])
        retained = [int(counts.get((p, k), 0)) if k <= last else None for k in ages]
        shares = [None if n is None else n / size for n in retained]
        rows.append(CohortRow(cohort=p, label=label(p, c.period), size=size, retained=retained, shares=shares))
    return CohortTable(period=c.period, ages=ages, rows=rows)
