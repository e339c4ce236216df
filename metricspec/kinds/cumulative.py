"""The cumulative kind: running total of another KPI over the evaluated range."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from metricspec.kinds.base import FromInputs, Inputs, KPIBase, KpiRef, over_time

if TYPE_CHECKING:
    import polars as pl

    from metricspec.kinds.context import PlanContext
    from metricspec.plan.nodes import Request


def running_total(inputs: Inputs) -> pl.Expr:
    """Sum of the input up to each period; periods without a value add 0."""
    return over_time(inputs.columns[0].fill_null(0).cum_sum(), inputs, partial_is_missing=False)


class CumulativeKPI(KPIBase):
    FORM: ClassVar[str] = "cumulative"
    SUMMARY: ClassVar[tuple[str, str]] = ("a KPI name", "running total")
    DOCS: ClassVar[str] = "spec-reference.md#growth-and-cumulative"
    NEEDS_PERIODS: ClassVar[bool] = True

    cumulative: str = Field(description="Running total of another KPI.")

    def inputs(self) -> list[KpiRef]:
        return [KpiRef(self.cumulative, ("cumulative",))]

    @property
    def additive(self) -> bool:
        return True

    def plan(self, ev: PlanContext, req: Request) -> FromInputs:
        return FromInputs((ev.child(req, self.cumulative),), running_total)
