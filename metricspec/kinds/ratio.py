"""The ratio kind: one KPI divided by another, period by period."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from metricspec.kinds.base import FromInputs, Inputs, KPIBase, KpiRef
from metricspec.spec.base import StrictModel

if TYPE_CHECKING:
    import polars as pl

    from metricspec.kinds.context import PlanContext
    from metricspec.plan.nodes import Request


class RatioSpec(StrictModel):
    numerator: str = Field(description="KPI whose value is divided.")
    denominator: str = Field(description="KPI to divide by; a zero denominator gives no value.")


def divide(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """num / den; a zero or missing denominator gives null."""
    import polars as pl  # polars: computing only; validate runs without it

    return pl.when((den == 0) | den.is_null()).then(None).otherwise(num / den)


def divide_inputs(inputs: Inputs) -> pl.Expr:
    return divide(inputs.columns[0], inputs.columns[1])


class RatioKPI(KPIBase):
    """``numerator`` ÷ ``denominator``."""

    FORM: ClassVar[str] = "ratio"
    SUMMARY: ClassVar[tuple[str, str]] = ("`numerator`, `denominator` (KPI names)", "numerator ÷ denominator")
    DOCS: ClassVar[str] = "spec-reference.md#ratio"

    ratio: RatioSpec

    def inputs(self) -> list[KpiRef]:
        return [KpiRef(self.ratio.numerator, ("ratio", "numerator")),
                KpiRef(self.ratio.denominator, ("ratio", "denominator"))]

    def plan(self, ev: PlanContext, req: Request) -> FromInputs:
        return FromInputs((ev.child(req, self.ratio.numerator), ev.child(req, self.ratio.denominator)),
                          divide_inputs)
