"""The columns a spec reads from each source, with the kind each is needed as and the first place that
needs it (:func:`requirements`); :mod:`metricspec.sources` checks them against what the sources hold."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from metricspec.errors import Location
from metricspec.spec.expr import columns_of
from metricspec.spec.segments import column_paths

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec
    from metricspec.spec.models import Spec


@dataclass
class Requirements:
    """Columns each source must have: source -> column -> (kind, first place that needs it), and every
    kind a column is needed as (source -> column -> kind -> first place that needs it as that kind).

    A column read as a date by one KPI and summed by another is checked as both, whatever the order of
    the KPIs (the first kind alone once hid a sum of the time column behind a count listed before it).
    """

    columns: dict[str, dict[str, tuple[str | None, Location | None]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    kinds: dict[str, dict[str, dict[str | None, Location | None]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(dict))
    )

    def need(self, source: str, column: str | None, kind: str | None, where: Location | None) -> None:
        if not column:
            self.columns.setdefault(source, {})  # still read: a count of a source without time reads no column
            return
        current = self.columns[source].get(column)
        if current is None or (current[0] is None and kind is not None):
            self.columns[source][column] = (kind, where if current is None else current[1])
        if kind is not None:
            self.kinds[source][column].setdefault(kind, where)

    def checks(self, source: str) -> dict[str, dict[str | None, Location | None]]:
        """Per column of ``source``: every kind it is needed as (None: only present), with its place."""
        out: dict[str, dict[str | None, Location | None]] = {}
        for col, (_kind, where) in self.columns.get(source, {}).items():
            kinds = dict(self.kinds.get(source, {}).get(col, {}))
            out[col] = kinds or {None: where}
        return out


def requirements(loaded: LoadedSpec) -> Requirements:
    """Every column the spec reads, with its expected kind (numeric/temporal/...)."""
    req = Requirements()
    _kpi_columns(loaded, req)
    _goal_and_benchmark_columns(loaded, req)
    _control_group_columns(loaded, req)
    _attribution_columns(loaded, req)
    return req


def _kpi_columns(loaded: LoadedSpec, req: Requirements) -> None:
    """The columns each KPI reads, then those of the segments and scope of derived KPIs."""
    spec = loaded.spec
    for name, kpi in spec.kpis.items():
        for need in kpi.columns(spec):
            req.need(need.source, need.column, need.kind, loaded.where("kpis", name, *need.path, key=need.key))
    # derived KPIs broken down by segments (or scoped) read those columns from their base KPIs' sources
    for name, kpi in spec.kpis.items():
        if kpi.inputs() == [] or not (kpi.segments or kpi.scope):
            continue
        for base_name in base_kpis(spec, name):
            source = spec.kpis[base_name].segment_source(spec)
            if source:
                for seg, path in column_paths(kpi.segments):
                    req.need(source, seg, None, loaded.where("kpis", name, *path))
                for col in kpi.scope:
                    req.need(source, col, None, loaded.where("kpis", name, "scope", col, key=True))


def _goal_and_benchmark_columns(loaded: LoadedSpec, req: Requirements) -> None:
    """The columns goals and benchmarks scope their KPIs by, in the sources of those KPIs."""
    spec = loaded.spec
    # goals scope their KPI, whatever its form
    for oname, obj in spec.objectives.items():
        for gname, goal in obj.goals.items():
            if goal.kpi not in spec.kpis:
                continue
            for base_name in base_kpis(spec, goal.kpi):
                source = spec.kpis[base_name].segment_source(spec)
                if source:
                    for col in goal.scope:
                        req.need(source, col, None,
                                 loaded.where("objectives", oname, "goals", gname, "scope", col, key=True))
    for bname, bench in spec.benchmarks.items():
        for _kname, kpi in spec.kpis.items():
            source = kpi.segment_source(spec)
            if bname in kpi.benchmarks and source:
                for col in bench.scope:
                    req.need(source, col, None, loaded.where("benchmarks", bname, "scope", col, key=True))


def _control_group_columns(loaded: LoadedSpec, req: Requirements) -> None:
    """The columns of each control group: unit, assignment, time, segments, filter, metrics, covariates."""
    spec = loaded.spec
    for cname, cg in spec.control_groups.items():
        cb = ("control_groups", cname)
        req.need(cg.source, cg.unit, None, loaded.where(*cb, "unit"))
        req.need(cg.source, cg.assignment.column, None, loaded.where(*cb, "assignment", "column"))
        cg_source = spec.sources.get(cg.source)
        req.need(cg.source, cg.time_column or (cg_source.time_column if cg_source else None), "temporal",
                 loaded.where(*cb, "time_column") or loaded.where(*cb))
        for i, seg in enumerate(cg.segments):
            req.need(cg.source, seg, None, loaded.where(*cb, "segments", i))
        for col in columns_of(cg.filter):
            req.need(cg.source, col, None, loaded.where(*cb, "filter"))
        for mname, metric in cg.metrics.items():
            mb = (*cb, "metrics", mname)
            for attr in ("column", "numerator", "denominator", "covariate", "duration", "event"):  # numbers, booleans
                req.need(cg.source, getattr(metric, attr), "numeric", loaded.where(*mb, attr))
            for i, col in enumerate(metric.pre_period):
                req.need(cg.source, col, "numeric", loaded.where(*mb, "pre_period", i))
        for i, col in enumerate(cg.adjust.covariates if cg.adjust else ()):  # numbers, booleans or categories
            req.need(cg.source, col, None, loaded.where(*cb, "adjust", "covariates", i))


def _attribution_columns(loaded: LoadedSpec, req: Requirements) -> None:
    """The columns of the attribution's touchpoints, conversions, paths and spend."""
    att = loaded.spec.attribution
    if att is None:
        return
    tp, cv, pa = att.touchpoints, att.conversions, att.paths
    tb, cb2, pb = ("attribution", "touchpoints"), ("attribution", "conversions"), ("attribution", "paths")
    if tp is not None:
        req.need(tp.source, tp.person, None, loaded.where(*tb, "person"))
        req.need(tp.source, tp.time, "temporal", loaded.where(*tb, "time"))
        req.need(tp.source, tp.channel, None, loaded.where(*tb, "channel"))
        req.need(tp.source, tp.campaign, None, loaded.where(*tb, "campaign"))
        req.need(tp.source, tp.cost, "numeric", loaded.where(*tb, "cost"))
    if cv is not None:
        req.need(cv.source, cv.person, None, loaded.where(*cb2, "person"))
        req.need(cv.source, cv.time, "temporal", loaded.where(*cb2, "time"))
        req.need(cv.source, cv.value, "numeric", loaded.where(*cb2, "value"))
    if pa is not None:
        req.need(pa.source, pa.path, None, loaded.where(*pb, "path"))
        req.need(pa.source, pa.conversions, "numeric", loaded.where(*pb, "conversions"))
        req.need(pa.source, pa.value, "numeric", loaded.where(*pb, "value"))
        req.need(pa.source, pa.nulls, "numeric", loaded.where(*pb, "nulls"))
    if att.spend is not None:
        sp = att.spend
        spend_at = ("attribution", "spend")
        req.need(sp.source, sp.channel, None, loaded.where(*spend_at, "channel"))
        req.need(sp.source, sp.amount, "numeric", loaded.where(*spend_at, "amount"))
        req.need(sp.source, sp.campaign, None, loaded.where(*spend_at, "campaign"))
        req.need(sp.source, sp.time, "temporal", loaded.where(*spend_at, "time"))


def base_kpis(spec: Spec, name: str) -> list[str]:
    """The KPIs without inputs (aggregations, funnels, retention, …) a KPI reads, directly or through
    derived KPIs (cycle-safe)."""
    out: list[str] = []
    seen: set[str] = set()
    stack = [name]
    while stack:
        cur = stack.pop()
        if cur in seen or cur not in spec.kpis:
            continue
        seen.add(cur)
        inputs = spec.kpis[cur].inputs()
        if not inputs:
            out.append(cur)
        stack.extend(ref.name for ref in inputs)
    return sorted(out)
