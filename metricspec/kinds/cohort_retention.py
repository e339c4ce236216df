"""The cohort_retention kind: calendar cohorts (first-event week or month) retained in the k-th
calendar period after their own — the classic cohort triangle, as a KPI per age and as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from metricspec.errors import DataError
from metricspec.kinds.base import (
    ColumnNeed,
    ExpressionSite,
    FromRows,
    KindIssue,
    KPIBase,
    SourceRef,
)
from metricspec.kinds.cohort_table import CohortTable
from metricspec.plan.nodes import Request
from metricspec.spec.base import StrictModel
from metricspec.spec.expr import columns_of
from metricspec.spec.source import time_column_of

if TYPE_CHECKING:
    import polars as pl

    from metricspec.kinds.context import PlanContext, SpecView
    from metricspec.plan.nodes import Scope

MAX_AGE = 104
"""The widest cohort table (two years of weeks)."""


class CohortRetentionSpec(StrictModel):
    source: str = Field(description="Activity events (orders, logins, posts).")
    key: str = Field(description="Entity column (customer_id).")
    period: Literal["week", "month"] = Field(
        description="Calendar period of the cohorts and ages: an entity's cohort is the period of its first event.")
    age: int = Field(ge=1, le=MAX_AGE, description="The KPI's value: share of the cohort active in the period "
                                                   "this many periods after its cohort period.")
    max_age: int = Field(12, ge=1, le=MAX_AGE, description="The cohort table shows ages 0 to this.")
    time_column: str | None = None
    filter: str | None = Field(None, description="Rows that count as activity (and as the first event).")


class CohortRetentionKPI(KPIBase):
    FORM: ClassVar[str] = "cohort_retention"
    SUMMARY: ClassVar[tuple[str, str]] = ("`source`, `key`, `period`, `age`, `max_age`, …",
                                          "share of the period's calendar cohort active `age` periods later")
    DOCS: ClassVar[str] = "spec-reference.md#cohort-retention"
    HOURLY: ClassVar[bool] = False

    cohort_retention: CohortRetentionSpec

    def conventions(self, spec: SpecView) -> list[str]:
        c = self.cohort_retention
        return [f"event: a row of '{c.source}'; an entity's cohort is the {c.period} of its first event",
                f"days: calendar {c.period}s in {spec.timezone}" + (f" (weeks start on {spec.week_start})"
                                                                    if c.period == "week" else ""),
                f"edges: age k is the k-th calendar {c.period} after the cohort's; a cell is filled once its "
                f"{c.period} has ended by the as-of date"]

    @model_validator(mode="before")
    @classmethod
    def _grains_default_to_period(cls, data: Any) -> Any:
        """A cohort KPI's periods are its cohorts' periods: ``grains`` defaults to ``[period]``."""
        if isinstance(data, dict) and "grains" not in data:
            body = data.get("cohort_retention")
            period = body.get("period") if isinstance(body, dict) else None
            if period in ("week", "month"):
                return {**data, "grains": [period]}
        return data

    def sources_read(self) -> list[SourceRef]:
        return [SourceRef(self.cohort_retention.source, ("cohort_retention", "source"))]

    def segment_source(self, spec: SpecView) -> str | None:
        return self.cohort_retention.source

    def grain_problem(self, spec: SpecView, grain: str, _seen: frozenset[str] = frozenset()) -> str | None:
        period = self.cohort_retention.period
        return None if grain == period else f"it is computed per {period} (its cohorts' period) only"

    def columns(self, spec: SpecView) -> list[ColumnNeed]:
        c, at = self.cohort_retention, ("cohort_retention",)
        out = [ColumnNeed(c.source, c.key, None, (*at, "key")),
               ColumnNeed(c.source, time_column_of(spec, c.source, c.time_column), "temporal", at)]
        return out + [ColumnNeed(c.source, col, None, (*at, "filter")) for col in columns_of(c.filter)] + self.breakdown_columns(self.cohort_retention.source)

    def expressions(self, spec: SpecView) -> list[ExpressionSite]:
        c = self.cohort_retention
        return [ExpressionSite(("cohort_retention", "filter"), c.filter, "filter", c.source)] if c.filter else []

    def check(self, spec: SpecView, name: str) -> list[KindIssue]:
        c = self.cohort_retention
        out = []
        wrong = [g for g in spec.kpi_grains(self) if g != c.period]
        if wrong:
            out.append(KindIssue(
                f"a cohort_retention KPI is computed per {c.period} (its cohorts' period), not per {wrong[0]}",
                ("grains",), hint=f"remove `grains:` (it defaults to [{c.period}]) or set `period: {wrong[0]}`"))
        for objective, goal_id, goal in spec.goals():
            if goal.kpi == name and goal.grain is not None and goal.grain != c.period:
                out.append(KindIssue(
                    f"goal '{objective}.{goal_id}' measures this KPI per {goal.grain}, but a cohort_retention KPI "
                    f"is computed per {c.period} (its cohorts' period)", ("cohort_retention", "period"),
                    hint=f"set the goal's `grain: {c.period}` (or leave it out)"))
        return out

    def plan(self, ev: PlanContext, req: Request) -> FromRows:
        period = self.cohort_retention.period
        if isinstance(req.grain, str) and req.grain != period:  # e.g. a KPI derived from this one, per week
            raise DataError(
                f"KPI '{req.kpi}' is computed per {period} (its cohorts' period) but is asked for per {req.grain}",
                where=ev.where("kpis", req.kpi, "cohort_retention", "period"),
                hint=f"give the KPIs that read it `grains: [{period}]`")
        return FromRows(lambda: self._series(ev, req))

    def _series(self, ev: PlanContext, req: Request) -> pl.DataFrame:
        from metricspec.kinds.compute.cohorts import retention_series  # compute/ loads polars

        return retention_series(ev, req, self.cohort_retention, ("kpis", req.kpi, "cohort_retention"))

    def beside_series(self, ev: PlanContext, name: str, scope: Scope) -> CohortTable:
        """The cohort triangle of the KPI's scope, by its cohort period."""
        return self.table(ev, Request(name, self.cohort_retention.period, (), scope))

    def table(self, ev: PlanContext, req: Request) -> CohortTable:
        """The cohort × age table of the request's scope (see :func:`metricspec.kinds.compute.cohorts.cohort_table`)."""
        from metricspec.kinds.compute.cohorts import cohort_table  # compute/ loads polars

        return cohort_table(ev, req, self.cohort_retention, ("kpis", req.kpi, "cohort_retention"))
