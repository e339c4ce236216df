"""The to-date kind: a base KPI's running aggregation since the start of each week, month, quarter
or year (WTD, MTD, QTD, YTD), restarting at each one.

``to_date: {kpi: revenue, period: month}``: the value of a period is the base's ``sum``, ``count``,
``mean`` or ``count_distinct`` from the first day of the month holding the period's last day through
that day (the run's last day with data for the current period); see :mod:`metricspec.kinds.compute.windows`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from metricspec.kinds.base import FromAggregates, FromRows, KindIssue, KPIBase, KpiRef
from metricspec.kinds.window_base import WINDOW_EDGES, base_segment_source, check_base
from metricspec.spec.base import StrictModel

if TYPE_CHECKING:
    from metricspec.kinds.context import PlanContext, SpecView
    from metricspec.plan.nodes import Request


class ToDateSpec(StrictModel):
    kpi: str = Field(description="A base (agg) KPI: sum, count, mean or count_distinct.")
    period: Literal["week", "month", "quarter", "year"] = Field(
        description="Where the running total restarts: week (WTD, from the spec's week_start), month (MTD), "
                    "quarter (QTD) or year (YTD).")


class ToDateKPI(KPIBase):
    """The base KPI's aggregation from the start of the week/month/quarter/year to each period's last day."""

    FORM: ClassVar[str] = "to_date"
    SUMMARY: ClassVar[tuple[str, str]] = (
        "`kpi` (an aggregation KPI), `period` (week, month, quarter, year)",
        "the base's aggregation from the start of the `period` holding the period's last day to that day")
    DOCS: ClassVar[str] = "spec-reference.md#to_date"
    HOURLY: ClassVar[bool] = False

    to_date: ToDateSpec

    def inputs(self) -> list[KpiRef]:
        return [KpiRef(self.to_date.kpi, ("to_date", "kpi"))]

    def check(self, spec: SpecView, name: str) -> list[KindIssue]:
        return check_base(spec, self.FORM, self.to_date.kpi, ("to_date", "kpi"))

    def segment_source(self, spec: SpecView) -> str | None:
        return base_segment_source(spec, self.to_date.kpi)

    def conventions(self, spec: SpecView) -> list[str]:
        return [f"event: a row of the base KPI '{self.to_date.kpi}'",
                f"days: calendar days in {spec.timezone}: from the start of the {self.to_date.period} holding the "
                "window's last day",
                WINDOW_EDGES]

    def plan(self, ev: PlanContext, req: Request) -> FromAggregates | FromRows:
        from metricspec.kinds.compute.windows import (  # polars: loaded when planned, not when a spec is loaded
            Reach,
            plan_window,
            planned_window,
        )

        return planned_window(ev, req, plan_window(ev, req, self.to_date.kpi, Reach(period=self.to_date.period)))
