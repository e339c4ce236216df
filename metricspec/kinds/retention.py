"""The retention kind: the share of a period's cohort that comes back (day-based windows)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from metricspec.kinds.base import ColumnNeed, ExpressionSite, FromRows, KPIBase, SourceRef
from metricspec.plan.nodes import and_filters
from metricspec.spec.base import MAX_DAYS, StrictModel
from metricspec.spec.expr import columns_of
from metricspec.spec.segments import column_paths
from metricspec.spec.source import time_column_of

if TYPE_CHECKING:
    import polars as pl

    from metricspec.kinds.context import PlanContext, SpecView
    from metricspec.plan.nodes import Request


class RetentionSpec(StrictModel):
    source: str = Field(description="Activity events (orders, logins, purchases).")
    key: str = Field(description="Entity column (customer_id).")
    time_column: str | None = None
    cohort_source: str | None = Field(None, description="Source holding each entity's start (default: its first event).")
    cohort_time_column: str | None = None
    after_days: int = Field(gt=0, le=MAX_DAYS, description="Retained if active again this many days after the start.")
    window_days: int = Field(
        30, gt=0, le=MAX_DAYS, description="active mode: the activity must fall in [after_days, after_days + window_days)."
    )
    mode: Literal["active", "repeat"] = Field(
        "active",
        description="active: an event in the window from day N on. repeat: a second event within N days "
        "(repeat-purchase rate).",
    )
    filter: str | None = None
    per: str | None = Field(
        None, description="What one event is: the rows of an entity with the same value of this column (an "
        "order id) are one event, at their earliest time; e.g. per: order_id counts orders, not invoice lines. "
        "Default: every row is an event.")
    day_rule: Literal["elapsed", "calendar"] = Field(
        "elapsed", description="How days are counted: elapsed: 24-hour days from the instant of the entity's "
        "start; calendar: calendar days (local dates in the spec's time zone), as tenure and rolling windows "
        "count them.")

    @model_serializer(mode="wrap")
    def _new_fields_when_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``per`` and ``day_rule`` appear only when not their defaults, so the definition fingerprint of a
        retention KPI written before they existed (what CI baselines record) is unchanged."""
        out: dict[str, Any] = handler(self)
        if out.get("per", 0) is None:
            out.pop("per")
        if out.get("day_rule") == "elapsed":
            out.pop("day_rule")
        return out


class RetentionKPI(KPIBase):
    FORM: ClassVar[str] = "retention"
    SUMMARY: ClassVar[tuple[str, str]] = ("`source`, `key`, `after_days`, `window_days`, `mode`, …",
                                          "share of the period's cohort that is retained")
    DOCS: ClassVar[str] = "spec-reference.md#retention"
    HOURLY: ClassVar[bool] = False

    retention: RetentionSpec

    def sources_read(self) -> list[SourceRef]:
        out = [SourceRef(self.retention.source, ("retention", "source"))]
        if self.retention.cohort_source:
            out.append(SourceRef(self.retention.cohort_source, ("retention", "cohort_source")))
        return out

    def rows_source(self, spec: SpecView) -> str | None:
        """Segments, scope and a query's filter read the cohort's rows."""
        return self.retention.cohort_source or self.retention.source

    def columns(self, spec: SpecView) -> list[ColumnNeed]:
        r, at = self.retention, ("retention",)
        out = [ColumnNeed(r.source, r.key, None, (*at, "key")),
               ColumnNeed(r.source, time_column_of(spec, r.source, r.time_column), "temporal", at),
               ColumnNeed(r.source, r.per, None, (*at, "per"))]
        out += [ColumnNeed(r.source, c, None, (*at, "filter")) for c in columns_of(r.filter)]
        if r.cohort_source:
            out += [ColumnNeed(r.cohort_source, r.key, None, (*at, "cohort_source")),
                    ColumnNeed(r.cohort_source, time_column_of(spec, r.cohort_source, r.cohort_time_column),
                               "temporal", (*at, "cohort_source"))]
        cohort = r.cohort_source or r.source  # segments and scope come from the cohort's rows
        out += [ColumnNeed(cohort, c, None, path) for c, path in column_paths(self.segments)]
        out += [ColumnNeed(cohort, c, None, ("scope", c), key=True) for c in self.scope]
        return out

    def expressions(self, spec: SpecView) -> list[ExpressionSite]:
        r = self.retention
        return [ExpressionSite(("retention", "filter"), r.filter, "filter", r.source)] if r.filter else []

    def conventions(self, spec: SpecView) -> list[str]:
        r = self.retention
        event = f"rows of '{r.source}' with one '{r.per}' per '{r.key}' (at their earliest time)" if r.per else \
            f"a row of '{r.source}' (give `per:` when one event spans several rows, e.g. order lines)"
        days = "24-hour days from the instant of the entity's start" if r.day_rule == "elapsed" else \
            f"calendar days in {spec.timezone} (the start's date is day 0)"
        start = f"its first row of '{r.cohort_source}'" if r.cohort_source else "its first event"
        window = (f"retained with an event in days [{r.after_days}, {r.after_days + r.window_days}) after the start"
                  if r.mode == "active" else f"retained with a second event within {r.after_days} days of the start")
        return [f"event: {event}", f"start: {start}; {window}", f"days: {r.day_rule}: {days}",
                "edges: an entity is judged once its whole horizon has passed by the as-of date; a period has a "
                "value once all of its entities are judged"]

    def plan(self, ev: PlanContext, req: Request) -> FromRows:
        return FromRows(lambda: self._series(ev, req))

    def _series(self, ev: PlanContext, req: Request) -> pl.DataFrame:
        import polars as pl  # polars: computing only; validate runs without it

        from metricspec.kinds.compute.rows import (  # compute/ loads polars
            cutoff_of,
            date_bounds,
            events,
            finish,
            share_by_period,
        )
        r = self.retention
        where = ("kpis", req.kpi, "retention")
        seg_source = r.cohort_source or r.source
        rows = events(ev, r.source, r.time_column, r.filter, where, (), [r.key, *([r.per] if r.per else [])])
        rows = rows.rename({r.key: "__key"})
        if r.per:  # one event per (entity, per value), at its earliest time
            rows = rows.group_by(["__key", r.per]).agg(pl.col("__t").min()).select(["__key", "__t"])
        if r.cohort_source:
            cohort = events(ev, r.cohort_source, r.cohort_time_column, req.where, where, req.scope,
                            [r.key, *req.segments]).rename({r.key: "__key"})
        else:
            cohort = events(ev, seg_source, r.time_column, and_filters(r.filter, req.where), where, req.scope,
                            [r.key, *req.segments]).rename({r.key: "__key"})
        if r.day_rule == "calendar":  # every time becomes its local date (midnight): whole calendar days
            rows = rows.with_columns(pl.col("__t").dt.truncate("1d"))
            cohort = cohort.with_columns(pl.col("__t").dt.truncate("1d"))
        cohort = cohort.sort(["__t", *req.segments], nulls_last=True).group_by("__key", maintain_order=True) \
            .first().rename({"__t": "__start"})
        start, end = date_bounds(ev, req)
        cutoff = cutoff_of(end)
        after = dt.timedelta(days=r.after_days)
        span = dt.timedelta(days=r.after_days + r.window_days) if r.mode == "active" else after
        cohort = cohort.filter(pl.col("__start") + span <= cutoff)  # had the whole chance to come back
        if start is not None:
            cohort = cohort.filter(pl.col("__start") >= dt.datetime.combine(start, dt.time()))
        in_range = rows.filter(pl.col("__t") < cutoff)
        joined = cohort.select(["__key", "__start"]).join(in_range, on="__key", how="inner")
        if r.mode == "active":
            hit = joined.filter((pl.col("__t") >= pl.col("__start") + after)
                                & (pl.col("__t") < pl.col("__start") + span)).group_by("__key").agg(
                pl.lit(1).alias("__ok"))
        else:
            hit = (joined.filter((pl.col("__t") >= pl.col("__start")) & (pl.col("__t") <= pl.col("__start") + after))
                   .group_by("__key").agg(pl.len().alias("__n")).filter(pl.col("__n") >= 2)
                   .select(["__key", pl.lit(1).alias("__ok")]))
        return finish(ev, req, share_by_period(ev, req, cohort, "__start", hit), span)
