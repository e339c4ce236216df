"""The moving-average kind: mean of another KPI over its last N periods."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from metricspec.kinds.base import FromInputs, Inputs, KPIBase, KpiRef, over_time
from metricspec.spec.base import StrictModel

if TYPE_CHECKING:
    import polars as pl

    from metricspec.kinds.context import PlanContext
    from metricspec.plan.nodes import Request


class MovingAverageSpec(StrictModel):
    kpi: str
    window: int = Field(ge=2, le=366, description="Number of periods in the window.")


class MovingAverageKPI(KPIBase):
    FORM: ClassVar[str] = "moving_average"
    SUMMARY: ClassVar[tuple[str, str]] = ("`kpi`, `window`", "mean of the last `window` periods")
    DOCS: ClassVar[str] = "spec-reference.md#moving_average"
    NEEDS_PERIODS: ClassVar[bool] = True

    moving_average: MovingAverageSpec

    def inputs(self) -> list[KpiRef]:
        return [KpiRef(self.moving_average.kpi, ("moving_average", "kpi"))]

    def plan(self, ev: PlanContext, req: Request) -> FromInputs:
        window = self.moving_average.window

        def mean(inputs: Inputs) -> pl.Expr:
            expr = inputs.columns[0].rolling_mean(window_size=window, min_samples=window)
            return over_time(expr, inputs, partial_is_missing=True)

        return FromInputs((ev.child(req, self.moving_average.kpi),), mean)
