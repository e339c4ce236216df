"""The formula kind: an expression over other KPIs, period by period."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from metricspec.kinds.base import ExpressionSite, FromInputs, Inputs, KPIBase, KpiRef
from metricspec.spec.expr import columns_of, names, parse

if TYPE_CHECKING:
    import polars as pl

    from metricspec.kinds.context import PlanContext, SpecView
    from metricspec.plan.nodes import Request


class FormulaKPI(KPIBase):
    """An expression over KPI names, e.g. ``(revenue - investment) / investment``."""

    FORM: ClassVar[str] = "formula"
    SUMMARY: ClassVar[tuple[str, str]] = ("an [expression](expressions.md) over KPI names",
                                          "the expression, period by period")
    DOCS: ClassVar[str] = "spec-reference.md#formula"

    formula: str = Field(description="Expression over KPI names.")

    def inputs(self) -> list[KpiRef]:
        return [KpiRef(n, ("formula",)) for n in columns_of(self.formula)]  # one that does not parse: validation

    def expressions(self, spec: SpecView) -> list[ExpressionSite]:
        return [ExpressionSite(("formula",), self.formula, "formula", None)]

    def plan(self, ev: PlanContext, req: Request) -> FromInputs:
        tree = parse(self.formula)
        refs = names(tree)

        def combine(inputs: Inputs) -> pl.Expr:
            from metricspec.plan.expressions import to_polars  # plan/expressions.py loads polars

            mapping = dict(zip(refs, inputs.columns, strict=True))
            return to_polars(tree, lambda n: mapping[n])

        return FromInputs(tuple(ev.child(req, n) for n in refs), combine)
