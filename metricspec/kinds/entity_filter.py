"""Metric-valued filters: an aggregation restricted to the entities that satisfy a condition on other
aggregates of the same entity (MetricFlow's metric filters), spelled on an ``agg`` KPI as::

    loyal_revenue:
      source: orders
      agg: sum
      column: amount
      filter_entities: {entity: customer_id, where: "orders_count >= 10"}

"Revenue of customers with 10 or more orders". Semantics (docs/spec-reference.md#filter_entities):

* the condition names aggregation KPIs (``orders_count``) whose sources have the ``entity`` column;
  each is computed *per entity and per period* of the request (the KPI's grain, or a goal's window),
  with its own filter and scope, over all of the entity's rows in that period: the condition is about
  the entity, whatever breakdown or scope the filtered KPI is asked with;
* the KPI then aggregates only the rows of the entities that satisfy it in the row's period (an entity
  missing from a condition KPI has no value: the condition is false for it);
* the plan carries it as data (:class:`~metricspec.plan.nodes.EntityFilter`): the backends compute the
  qualifying (period, entity) pairs and keep the rows that have one, a semi-join (``SEMI JOIN`` /
  ``EXISTS`` in SQL, where the data is).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from pydantic import Field

from metricspec.kinds.alltime import is_all_time
from metricspec.kinds.base import ColumnNeed, KindIssue
from metricspec.plan.nodes import Aggregate, EntityFilter, EntityInput, QueryKey, make_scope
from metricspec.spec.base import StrictModel
from metricspec.spec.expr import ExprError, names, parse
from metricspec.spec.exprtypes import check as type_check
from metricspec.utils import suggest

if TYPE_CHECKING:
    from metricspec.kinds.aggregate import AggregateKPI
    from metricspec.kinds.base import KPIBase
    from metricspec.kinds.context import PlanContext, SpecView
    from metricspec.plan.nodes import EntityFilter, Request

AT = ("filter_entities",)


class EntityFilterSpec(StrictModel):
    """Keep the rows of the entities whose KPIs satisfy ``where`` in the period."""

    entity: str = Field(description="The entity column (customer_id, account), in this KPI's source and in the "
                                    "sources of the KPIs `where` names.")
    where: str = Field(description="A condition on aggregation KPIs of the same entity, each computed per entity "
                                   "and period, e.g. \"orders_count >= 10\" or \"followers > 5000\".")


def condition_kpis(spec_where: str) -> list[str]:
    """The KPI names a condition uses (in order, once each); [] when it does not parse."""
    try:
        return list(dict.fromkeys(names(parse(spec_where))))
    except ExprError:
        return []


def _aggregation(kpi: KPIBase | None) -> AggregateKPI | None:
    """``kpi`` if it is an aggregation KPI, told by its kind's key (the aggregation kind's module imports
    this one, so this one does not import it back)."""
    return cast("AggregateKPI", kpi) if kpi is not None and kpi.FORM == "agg" else None


def columns(spec: SpecView, source: str, fe: EntityFilterSpec) -> list[ColumnNeed]:
    """The entity column, in the KPI's source and in each condition KPI's source."""
    out = [ColumnNeed(source, fe.entity, None, (*AT, "entity"))]
    for name in condition_kpis(fe.where):
        kpi = _aggregation(spec.kpis.get(name))
        if kpi is not None and kpi.source != source:
            out.append(ColumnNeed(kpi.source, fe.entity, None, (*AT, "where")))
    return out


def check(spec: SpecView, name: str, fe: EntityFilterSpec, timed: bool) -> list[KindIssue]:
    """The condition parses and compares numbers; it names aggregation KPIs without a filter of their own,
    dated as this KPI is (``timed``)."""
    where = (*AT, "where")
    try:
        tree = parse(fe.where)
    except ExprError as exc:
        return [KindIssue(f"{exc.message} in `{fe.where}`", where, exc.hint)]
    issues = [KindIssue(f"{p.message} in `{fe.where}`", where, p.hint)
              for p in type_check(tree, "filter", lambda _n: "number")]
    names = condition_kpis(fe.where)
    if not names:
        issues.append(KindIssue(f"`filter_entities.where` names no KPI: `{fe.where}`", where,
                                "write a condition on a KPI of the same entity, e.g. orders_count >= 10"))
    for ref in names:
        kpi = spec.kpis.get(ref)
        if kpi is None:
            guess = suggest(ref, list(spec.kpis))
            issues.append(KindIssue(f"unknown kpi '{ref}' in `filter_entities.where`", where,
                                    f"did you mean '{guess}'?" if guess else "name a KPI defined under `kpis:`"))
        elif (agg := _aggregation(kpi)) is None:
            issues.append(KindIssue(f"`filter_entities.where` names KPI '{ref}', a {kpi.form} KPI", where,
                                    "name aggregation KPIs (with `agg:` and `source:`), computed per entity"))
        elif agg.filter_entities is not None:
            issues.append(KindIssue(f"`filter_entities.where` names KPI '{ref}', which filters entities itself",
                                    where, "name a KPI without `filter_entities:` (filters do not nest)"))
        elif (not is_all_time(spec, ref)) != timed:
            issues.append(KindIssue(f"`filter_entities.where` names KPI '{ref}', whose source "
                                    f"{'has no dates' if timed else 'has dates'} unlike KPI '{name}'", where,
                                    "name KPIs dated as this one is (both with periods, or both all-time)"))
    return issues


def plan(ev: PlanContext, req: Request, fe: EntityFilterSpec) -> EntityFilter:
    """The filter as plan data: per condition KPI, a per-entity query at the request's grain."""
    inputs = []
    for ref in condition_kpis(fe.where):
        kpi = _aggregation(ev.spec.kpis[ref])
        assert kpi is not None  # validation (check above)
        key = QueryKey(kpi.source, kpi.time_column_for(ev, ref), req.grain, (fe.entity,), make_scope(kpi.scope))
        agg = Aggregate("a0", kpi.agg, kpi.column, parse(kpi.filter) if kpi.filter else None,
                        parse(kpi.expression) if kpi.expression else None, label=kpi.column or kpi.expression,
                        filter_text=kpi.filter)
        inputs.append(EntityInput(ref, key, agg))
    return EntityFilter(fe.entity, parse(fe.where), fe.where, tuple(inputs))
