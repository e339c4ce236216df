"""The rolling kind: a base KPI's aggregation over the trailing N days (or weeks) of each period's end.

``rolling: {kpi: sessions, days: 28}``: the value of a period is the base's ``sum``, ``count``,
``mean`` or ``count_distinct`` over the 28 days ending on its last day (the run's last day with data
for the current period); see :mod:`metricspec.kinds.compute.windows`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field, model_validator

from metricspec.kinds.base import FromAggregates, FromRows, KindIssue, KPIBase, KpiRef
from metricspec.kinds.window_base import WINDOW_EDGES, base_segment_source, check_base
from metricspec.spec.base import MAX_DAYS, StrictModel

if TYPE_CHECKING:
    from metricspec.kinds.context import PlanContext, SpecView
    from metricspec.plan.nodes import Request


class RollingSpec(StrictModel):
    kpi: str = Field(description="A base (agg) KPI: sum, count, mean or count_distinct.")
    days: int | None = Field(None, ge=1, le=MAX_DAYS, description="Trailing days, the period's last day included.")
    weeks: int | None = Field(None, ge=1, le=MAX_DAYS // 7, description="Trailing weeks (7 days each).")

    @model_validator(mode="after")
    def _one_length(self) -> RollingSpec:
        if (self.days is None) == (self.weeks is None):
            raise ValueError("give the window's length as either `days: N` or `weeks: N`")
        return self

    @property
    def span_days(self) -> int:
        return self.days if self.days is not None else 7 * (self.weeks or 0)


class RollingKPI(KPIBase):
    """The base KPI's aggregation over the trailing days ending on each period's last day."""

    FORM: ClassVar[str] = "rolling"
    SUMMARY: ClassVar[tuple[str, str]] = (
        "`kpi` (an aggregation KPI), `days` or `weeks`",
        "the base's aggregation over the N days ending on the period's last day")
    DOCS: ClassVar[str] = "spec-reference.md#rolling"
    HOURLY: ClassVar[bool] = False

    rolling: RollingSpec

    def inputs(self) -> list[KpiRef]:
        return [KpiRef(self.rolling.kpi, ("rolling", "kpi"))]

    def check(self, spec: SpecView, name: str) -> list[KindIssue]:
        return check_base(spec, self.FORM, self.rolling.kpi, ("rolling", "kpi"))

    def segment_source(self, spec: SpecView) -> str | None:
        return base_segment_source(spec, self.rolling.kpi)

    def conventions(self, spec: SpecView) -> list[str]:
        return [f"event: a row of the base KPI '{self.rolling.kpi}'",
                f"days: calendar days in {spec.timezone}: the {self.rolling.span_days} days ending on the "
                "window's last day",
                WINDOW_EDGES]

    def plan(self, ev: PlanContext, req: Request) -> FromAggregates | FromRows:
        from metricspec.kinds.compute.windows import (  # polars: loaded when planned, not when a spec is loaded
            Reach,
            plan_window,
            planned_window,
        )

        return planned_window(ev, req, plan_window(ev, req, self.rolling.kpi, Reach(days=self.rolling.span_days)))
