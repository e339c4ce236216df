"""The growth kind: period-over-period growth rate of another KPI."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from metricspec.kinds.base import FromInputs, Inputs, KPIBase, KpiRef, over_time

if TYPE_CHECKING:
    import polars as pl

    from metricspec.kinds.context import PlanContext
    from metricspec.plan.nodes import Request


def growth_rate(inputs: Inputs) -> pl.Expr:
    """(v − previous) ÷ |previous|; no value from a previous 0 (or none) and for the partial period."""
    import polars as pl  # polars: computing only; validate runs without it

    v = inputs.columns[0]
    prev = v.shift(1)
    expr = pl.when(prev == 0).then(None).otherwise((v - prev) / prev.abs())
    return over_time(expr, inputs, partial_is_missing=True)


class GrowthKPI(KPIBase):
    FORM: ClassVar[str] = "growth"
    SUMMARY: ClassVar[tuple[str, str]] = ("a KPI name", "(this period − previous period) ÷ \\|previous period\\|")
    DOCS: ClassVar[str] = "spec-reference.md#growth-and-cumulative"
    NEEDS_PERIODS: ClassVar[bool] = True

    growth: str = Field(description="Period-over-period growth rate of another KPI.")

    def inputs(self) -> list[KpiRef]:
        return [KpiRef(self.growth, ("growth",))]

    def plan(self, ev: PlanContext, req: Request) -> FromInputs:
        return FromInputs((ev.child(req, self.growth),), growth_rate)
