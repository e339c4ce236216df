"""The funnel kind: the share of entities entering in a period that complete every step in time."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from metricspec.kinds.base import ColumnNeed, ExpressionSite, FromRows, KPIBase, SourceRef
from metricspec.plan.nodes import and_filters
from metricspec.spec.base import MAX_DAYS, Name, StrictModel
from metricspec.spec.expr import columns_of
from metricspec.spec.segments import column_paths
from metricspec.spec.source import time_column_of

if TYPE_CHECKING:
    import polars as pl

    from metricspec.kinds.context import PlanContext, SpecView
    from metricspec.plan.nodes import Request


class FunnelStep(StrictModel):
    name: Name
    source: str
    key: str = Field(description="Entity column shared by all steps (e.g. lead_id, customer_id).")
    time_column: str | None = None
    filter: str | None = None


class FunnelSpec(StrictModel):
    steps: list[FunnelStep] = Field(min_length=2)
    window_days: float = Field(gt=0, le=MAX_DAYS, description="An entity converts if it reaches the last step within this many days of the first.")
    count: Literal["entity", "event"] = Field(
        "entity", description="entity: each entity enters once, at its first first-step event (the share of "
        "entities); event: every first-step event starts a window of its own (the share of entries, e.g. of leads "
        "when a person can be a lead twice).")
    window_end: Literal["inclusive", "exclusive"] = Field(
        "inclusive", description="Whether a step exactly `window_days` after the entry still counts (inclusive) "
        "or not (exclusive: the window is [entry, entry + window_days)).")


class FunnelKPI(KPIBase):
    FORM: ClassVar[str] = "funnel"
    SUMMARY: ClassVar[tuple[str, str]] = (
        "`steps`, `window_days`, `count`, `window_end`",
        "share of entities (or entries) entering in the period that complete every step in time")
    DOCS: ClassVar[str] = "spec-reference.md#funnel"
    HOURLY: ClassVar[bool] = False

    funnel: FunnelSpec

    def sources_read(self) -> list[SourceRef]:
        return [SourceRef(s.source, ("funnel", "steps", i, "source")) for i, s in enumerate(self.funnel.steps)]

    def definition(self) -> dict[str, Any]:
        """As before ``count`` and ``window_end`` existed while they keep their defaults (a baseline
        recorded then still matches: the values did not change)."""
        out = super().definition()
        funnel = dict(out["funnel"])
        for key in ("count", "window_end"):
            if funnel.get(key) == FunnelSpec.model_fields[key].default:
                funnel.pop(key)
        return {**out, "funnel": funnel}

    def rows_source(self, spec: SpecView) -> str | None:
        """Segments, scope and a query's filter read the entry rows (the first step's source)."""
        return self.funnel.steps[0].source

    def columns(self, spec: SpecView) -> list[ColumnNeed]:
        out = []
        for i, step in enumerate(self.funnel.steps):
            at = ("funnel", "steps", i)
            out.append(ColumnNeed(step.source, step.key, None, (*at, "key")))
            out.append(ColumnNeed(step.source, time_column_of(spec, step.source, step.time_column), "temporal", at))
            out += [ColumnNeed(step.source, c, None, (*at, "filter")) for c in columns_of(step.filter)]
        if self.funnel.steps:  # segments and scope come from the entry row (the first step's source)
            entry = self.funnel.steps[0].source
            out += [ColumnNeed(entry, c, None, path) for c, path in column_paths(self.segments)]
            out += [ColumnNeed(entry, c, None, ("scope", c), key=True) for c in self.scope]
        return out

    def expressions(self, spec: SpecView) -> list[ExpressionSite]:
        return [ExpressionSite(("funnel", "steps", i, "filter"), step.filter, "filter", step.source)
                for i, step in enumerate(self.funnel.steps) if step.filter]

    def conventions(self, spec: SpecView) -> list[str]:
        f = self.funnel
        first = f.steps[0] if f.steps else None
        entry = (f"its first row of '{first.source}' (step 1)" if f.count == "entity" else
                 f"every row of '{first.source}' (step 1, `count: event`)") if first else "its first step-1 row"
        bound = "at most" if f.window_end == "inclusive" else "less than"
        return [f"event: a row of each step's source; an entry is {entry}, in that row's period",
                f"days: elapsed: 24-hour days from the instant of entry; every step {bound} {f.window_days} days "
                "after it, each at or after the previous one",
                "edges: an entry is judged once its window has closed by the as-of date; a period has a value "
                "once all of its entries are judged"]

    def plan(self, ev: PlanContext, req: Request) -> FromRows:
        return FromRows(lambda: self._series(ev, req))

    def _series(self, ev: PlanContext, req: Request) -> pl.DataFrame:
        """Per period of the entries (and segment): the share of entries that reach every step in order
        within the window. An entry is an entity's first first-step event (``count: entity``) or every
        first-step event (``count: event``); ``__key`` numbers the entries, ``__ent`` is their entity."""
        import polars as pl  # polars: computing only; validate runs without it

        from metricspec.kinds.compute.rows import (  # compute/ loads polars
            cutoff_of,
            date_bounds,
            events,
            finish,
            share_by_period,
        )

        window = dt.timedelta(days=self.funnel.window_days)
        start, end = date_bounds(ev, req)
        cutoff = cutoff_of(end)
        entry = self._entries(ev, req).filter(pl.col("__t0") < cutoff)
        if start is not None:
            entry = entry.filter(pl.col("__t0") >= dt.datetime.combine(start, dt.time()))
        # only entries whose window has closed by the as-of date can be judged
        entry = entry.filter(pl.col("__t0") + window <= cutoff)
        limit = pl.col("__t0") + window
        in_window = pl.col("__t") <= limit if self.funnel.window_end == "inclusive" else pl.col("__t") < limit
        cur = entry.with_columns(pl.col("__t0").alias("__tp"))
        base_where = ("kpis", req.kpi, "funnel", "steps")
        for i, step in enumerate(self.funnel.steps[1:], start=1):
            ev_rows = events(ev, step.source, step.time_column, step.filter, (*base_where, str(i)), (),
                             [step.key]).rename({step.key: "__ent"})
            reached = (
                cur.select(["__key", "__ent", "__t0", "__tp"]).join(ev_rows, on="__ent", how="inner")
                .filter((pl.col("__t") >= pl.col("__tp")) & in_window & (pl.col("__t") < cutoff))
                .group_by("__key").agg(pl.col("__t").min().alias("__tnext"))
            )
            cur = cur.join(reached, on="__key", how="inner").with_columns(pl.col("__tnext").alias("__tp")).drop(
                "__tnext")
        done = cur.select("__key").with_columns(pl.lit(1).alias("__ok"))
        return finish(ev, req, share_by_period(ev, req, entry, "__t0", done), window)

    def _entries(self, ev: PlanContext, req: Request) -> pl.LazyFrame:
        """The entries: ``__key`` (a number), ``__ent`` (the entity), ``__t0`` and the segments of their row.
        Rows without an entity never convert (they match no later step)."""
        from metricspec.kinds.compute.rows import events  # compute/ loads polars
        first = self.funnel.steps[0]
        entry_filter = and_filters(first.filter, req.where)  # a query's where picks who enters
        rows = events(ev, first.source, first.time_column, entry_filter, ("kpis", req.kpi, "funnel", "steps", "0"),
                      req.scope, [first.key, *req.segments]).rename({first.key: "__ent"})
        if self.funnel.count == "entity":  # each entity enters at its first first-step event; segments from it
            rows = rows.sort("__t").group_by("__ent", maintain_order=True).first()
        else:  # every event, in a fixed order (the numbering does not change the shares)
            rows = rows.sort(["__t", "__ent"], nulls_last=True)
        return rows.rename({"__t": "__t0"}).with_row_index("__key")
