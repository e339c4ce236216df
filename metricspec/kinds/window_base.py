"""What the window kinds (``rolling``, ``to_date``) share: the base KPI they read and its checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.kinds.aggregate import AggregateKPI
from metricspec.kinds.base import KindIssue

if TYPE_CHECKING:
    from metricspec.kinds.base import Path
    from metricspec.kinds.context import SpecView

WINDOW_AGGREGATIONS = ("sum", "count", "mean", "count_distinct")
"""The base aggregations a window can take (kept equal to engine.windows.WINDOW_AGGREGATIONS)."""


WINDOW_EDGES = ("edges: a complete period's window ends on its last day (even after the data ends); only the "
                "current period's ends on the as-of date; a window starting before period.start has no value")
"""What happens at the edges of periods and windows, for the rolling and to-date kinds (``--explain``)."""


def check_base(spec: SpecView, form: str, base_name: str, path: Path) -> list[KindIssue]:
    """The base must be an aggregation KPI with an aggregation a window can take."""
    base = spec.kpis.get(base_name)
    if base is None:
        return []  # the reference check reports it
    aggs = ", ".join(WINDOW_AGGREGATIONS)
    if not isinstance(base, AggregateKPI):
        return [KindIssue(f"{form}.kpi must name a base (agg) KPI; '{base_name}' is a {base.form} KPI", path,
                          f"point `kpi:` at a KPI with `source:` and `agg:` ({aggs})")]
    if base.agg not in WINDOW_AGGREGATIONS:
        return [KindIssue(f"a {form} window cannot take agg '{base.agg}' (KPI '{base_name}')", path,
                          f"use a base KPI with agg {aggs}")]
    if base.filter_entities is not None:
        return [KindIssue(f"a {form} window cannot read KPI '{base_name}': it filters entities per period, "
                          "and a window's days would each pick their own entities", path,
                          "point `kpi:` at a KPI without `filter_entities:`")]
    if base.agg == "count_distinct" and base.column is None:
        return [KindIssue(f"a {form} window of count_distinct needs a column; KPI '{base_name}' uses an expression",
                          path, "give the base KPI `column:` (derive the column on the source if needed)")]
    return []


def base_segment_source(spec: SpecView, base_name: str) -> str | None:
    base = spec.kpis.get(base_name)
    return base.segment_source(spec) if base is not None else None
