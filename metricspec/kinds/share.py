"""The share kind: the part of a base KPI whose rows match a filter, divided by the whole."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from metricspec.kinds.aggregate import AggregateKPI
from metricspec.kinds.base import ColumnNeed, ExpressionSite, FromInputs, KindIssue, KPIBase, KpiRef
from metricspec.kinds.ratio import divide_inputs
from metricspec.spec.base import StrictModel
from metricspec.spec.expr import columns_of

if TYPE_CHECKING:
    from metricspec.kinds.context import PlanContext, SpecView
    from metricspec.plan.nodes import Request


class ShareSpec(StrictModel):
    of: str = Field(description="A base KPI: the whole.")
    where: str = Field(description="Filter selecting the part, e.g. \"sentiment == 'positive'\".")


class ShareKPI(KPIBase):
    """The ``of`` KPI on the rows matching ``where`` ÷ the ``of`` KPI."""

    FORM: ClassVar[str] = "share"
    SUMMARY: ClassVar[tuple[str, str]] = ("`of` (an aggregation KPI), `where` (a filter)",
                                          "the `of` KPI on rows matching `where` ÷ the `of` KPI")
    DOCS: ClassVar[str] = "spec-reference.md#share"

    share: ShareSpec

    def inputs(self) -> list[KpiRef]:
        return [KpiRef(self.share.of, ("share", "of"))]

    def columns(self, spec: SpecView) -> list[ColumnNeed]:
        of = spec.kpis.get(self.share.of)
        source = of.segment_source(spec) if of is not None else None
        if source is None:
            return []
        return [ColumnNeed(source, c, None, ("share", "where")) for c in columns_of(self.share.where)]

    def expressions(self, spec: SpecView) -> list[ExpressionSite]:
        of = spec.kpis.get(self.share.of)
        return [ExpressionSite(("share", "where"), self.share.where, "filter",
                               of.segment_source(spec) if of is not None else None)]

    def check(self, spec: SpecView, name: str) -> list[KindIssue]:
        of = spec.kpis.get(self.share.of)
        if of is not None and not isinstance(of, AggregateKPI):
            return [KindIssue(f"share.of must name a base (agg) KPI; '{self.share.of}' is a {of.form} KPI",
                              ("share", "of"), "point `of:` at a KPI with `agg:` and `source:`")]
        return []

    def plan(self, ev: PlanContext, req: Request) -> FromInputs:
        return FromInputs((ev.child(req, self.share.of, self.share.where), ev.child(req, self.share.of)),
                          divide_inputs)
