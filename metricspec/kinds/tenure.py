"""The tenure kind: how long customers stay (Kaplan–Meier median or restricted mean, censoring
those still active at the as-of date)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from metricspec.kinds.base import (
    ColumnNeed,
    ExpressionSite,
    FromRows,
    KindIssue,
    KPIBase,
    SourceRef,
)
from metricspec.spec.base import MAX_DAYS, StrictModel
from metricspec.spec.expr import columns_of
from metricspec.spec.source import time_column_of

if TYPE_CHECKING:
    import polars as pl

    from metricspec.kinds.context import PlanContext, SpecView
    from metricspec.plan.nodes import Request


class TenureSpec(StrictModel):
    source: str = Field(description="Activity events (orders, logins), or one row per customer.")
    key: str = Field(description="Entity column (customer_id).")
    time_column: str | None = Field(None, description="The events' time (default: the source's).")
    start_column: str | None = Field(None, description="Each entity's start, e.g. a signup date (default: its "
                                                       "first event).")
    churn_column: str | None = Field(None, description="Each entity's end, e.g. a cancellation date; empty while "
                                                       "still a customer.")
    inactivity_days: int | None = Field(
        None, gt=0, le=MAX_DAYS, description="Without churn_column: an entity has left when this many days passed "
                                             "after its last event; it stayed until that event.")
    measure: Literal["median", "mean"] = Field(
        "median", description="median: when half have left (none until half have). mean: restricted mean, the area "
                              "under the Kaplan–Meier curve up to the longest follow-up.")
    filter: str | None = Field(None, description="Rows that count (as the start, activity and churn).")


class TenureKPI(KPIBase):
    FORM: ClassVar[str] = "tenure"
    SUMMARY: ClassVar[tuple[str, str]] = ("`source`, `key`, `churn_column` or `inactivity_days`, `measure`, …",
                                          "median or mean days the period's new customers stay (Kaplan–Meier)")
    DOCS: ClassVar[str] = "spec-reference.md#tenure"
    HOURLY: ClassVar[bool] = False

    unit: Literal["number", "count", "percent", "ratio", "currency", "days"] = "days"
    tenure: TenureSpec

    def sources_read(self) -> list[SourceRef]:
        return [SourceRef(self.tenure.source, ("tenure", "source"))]

    def segment_source(self, spec: SpecView) -> str | None:
        return self.tenure.source

    def columns(self, spec: SpecView) -> list[ColumnNeed]:
        t, at = self.tenure, ("tenure",)
        out = [ColumnNeed(t.source, t.key, None, (*at, "key"))]
        if t.churn_column is None or t.start_column is None:
            out.append(ColumnNeed(t.source, time_column_of(spec, t.source, t.time_column), "temporal", at))
        out += [ColumnNeed(t.source, c, "temporal", (*at, f)) for f, c in
                (("start_column", t.start_column), ("churn_column", t.churn_column)) if c is not None]
        return out + [ColumnNeed(t.source, c, None, (*at, "filter")) for c in columns_of(t.filter)] + self.breakdown_columns(self.tenure.source)

    def expressions(self, spec: SpecView) -> list[ExpressionSite]:
        t = self.tenure
        return [ExpressionSite(("tenure", "filter"), t.filter, "filter", t.source)] if t.filter else []

    def check(self, spec: SpecView, name: str) -> list[KindIssue]:
        t = self.tenure
        if t.churn_column is None and t.inactivity_days is None:
            return [KindIssue("tenure needs to know when an entity has left", ("tenure",),
                              hint="add `churn_column: <end date column>` or `inactivity_days: 90`")]
        if t.churn_column is not None and t.inactivity_days is not None:
            return [KindIssue("give churn_column or inactivity_days, not both", ("tenure", "inactivity_days"),
                              hint="remove `inactivity_days:` to use the churn column")]
        return []

    def conventions(self, spec: SpecView) -> list[str]:
        t = self.tenure
        start = f"its first '{t.start_column}'" if t.start_column else f"its first row of '{t.source}'"
        end = f"its first '{t.churn_column}' by the as-of date" if t.churn_column else \
            f"its last event, once {t.inactivity_days} days have passed without another"
        return [f"event: a row of '{t.source}'; an entity starts at {start} and ends at {end}",
                f"days: calendar: whole days between local dates in {spec.timezone}",
                "edges: an entity without an end by the as-of date is censored there (Kaplan-Meier); a period "
                "holds the entities that started in it"]

    def plan(self, ev: PlanContext, req: Request) -> FromRows:
        return FromRows(lambda: self._series(ev, req))

    def _series(self, ev: PlanContext, req: Request) -> pl.DataFrame:
        from metricspec.kinds.compute.tenure import tenure_series  # compute/ loads numpy, polars

        return tenure_series(ev, req, self.tenure, ("kpis", req.kpi, "tenure"))
