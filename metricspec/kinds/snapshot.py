"""Snapshots: ``agg: last`` / ``first`` of an aggregation, optionally per entity then summed.

A follower count is a snapshot: its value in a period is the row with the latest time, not a sum.
Over several entities (accounts) the period's value is each entity's own last value, summed
(MetricFlow's ``non_additive_dimension``), spelled ``per: <entity column>``::

    followers: {source: followers, agg: last, column: followers, per: account}

Semantics (docs/spec-reference.md#snapshots):

* each entity counts with its last (first) row *in the period*; an entity with no row in a period
  adds nothing to it (no carry-forward of an older value, as MetricFlow); a period where no entity
  has a value has no value;
* the per-entity values are an ordinary fused query grouped by the entity columns as well
  (``arg_max`` in the database on the SQL backend), summed afterwards in polars, once, for every
  backend;
* ambiguity is refused: when the rows at the latest (earliest) time of a group hold different
  values, which one is "the last" depends on file order (and differs between backends). Each
  ``last``/``first`` query carries a check aggregate (``last_ties``: the number of different values
  at the edge time, a window ``MAX(time) OVER (PARTITION BY period, segments)`` in SQL) and a
  group with more than one is an error naming the KPI and the fix (``per:`` or ``scope:``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from metricspec.errors import DataError
from metricspec.kinds.base import FromAggregates
from metricspec.plan.nodes import Window

if TYPE_CHECKING:
    import polars as pl

    from metricspec.kinds.aggregate import AggregateKPI
    from metricspec.kinds.context import PlanContext
    from metricspec.plan.nodes import QueryKey, Request


def plan_snapshot(kpi: AggregateKPI, ev: PlanContext, req: Request, key: QueryKey, filter_text: str | None,
                  ) -> FromAggregates:
    """Register the (per-entity) ``last``/``first`` and its check; the series is computed from their answer."""
    scoped = {c for c, _ in req.scope}
    per = tuple(c for c in dict.fromkeys(kpi.per) if c not in req.segments and c not in scoped)
    key = dataclasses.replace(key, segments=(*key.segments, *per))
    key, value = ev.plan.add(key, kpi.agg, kpi.column, filter_text, kpi.expression)
    _, ties = ev.plan.add(key, f"{kpi.agg}_ties", kpi.column, filter_text, kpi.expression)
    return FromAggregates(key, lambda frame: snapshot_series(ev, req, kpi, frame, key, value, ties, per))


def snapshot_series(ev: PlanContext, req: Request, kpi: AggregateKPI, frame: pl.DataFrame, key: QueryKey,
                    value: str, ties: str, per: tuple[str, ...]) -> pl.DataFrame:
    """The request's series from the filled per-entity answer ``frame`` of query ``key``: checked, then
    summed over the entities."""
    import polars as pl  # polars: computing only; validate runs without it

    keys = ["period", *req.segments]
    if frame.height == 0:
        schema = {"period": pl.Date, **dict.fromkeys(req.segments, pl.String), "value": pl.Float64}
        return pl.DataFrame(schema=schema)
    ambiguous = frame.filter(pl.col(ties) > 1).sort(["period", *key.segments])
    if ambiguous.height:
        raise ambiguity_error(ev, req, kpi, ambiguous.row(0, named=True), key.segments, per, ties)
    if not per:
        return frame.select([*keys, pl.col(value).alias("value")])
    v = pl.col(value)
    return frame.group_by(keys).agg(pl.when(v.count() > 0).then(v.sum()).alias("value"))


def ambiguity_error(ev: PlanContext, req: Request, kpi: AggregateKPI, row: dict[str, object],
                    segments: tuple[str, ...], per: tuple[str, ...], ties: str) -> DataError:
    """The first group whose rows at the edge time disagree: where, what, and the fix."""
    edge = "latest" if kpi.agg == "last" else "earliest"
    label = kpi.column or kpi.expression
    period = f"{req.grain.start}..{req.grain.end}" if isinstance(req.grain, Window) else \
        f"the {req.grain} of {row['period']}"
    within = ", ".join(f"{s}={row[s]}" for s in segments)
    group = f" ({within})" if within else ""
    n = int(row[ties])  # type: ignore[call-overload]
    what = (f"KPI '{req.kpi}' (agg: {kpi.agg}) is ambiguous: in {period}{group}, {n} rows at the {edge} "
            f"time hold different values of {label}")
    if kpi.per or per:
        hint = ("several rows of one entity share that time: add the column that tells them apart to "
                "`per:`, or remove the duplicate rows from the data")
    else:
        hint = (f"if the rows are different entities (accounts, pages), add `per: <entity column>` to sum each "
                f"entity's {kpi.agg} value, or `scope: {{<column>: <value>}}` to pick one; if they are "
                "duplicates, remove them from the data")
    return DataError(what, where=ev.where("kpis", req.kpi, "agg"), hint=hint)
