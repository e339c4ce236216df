"""All-time KPIs (sources with ``time_column: null``) only use what needs no periods.

An all-time KPI has one value over all the rows of its source: no grains, no trend, no previous
period. What would need periods is refused with its place and the fix, rather than given a made-up
date: segments and grains, ``last``/``first`` (no row is last without a time), KPIs computed over
periods (growth, cumulative, moving averages), funnels and retention, period benchmarks, KPIs mixing
all-time and periodic inputs, and goals measured at the ``latest`` period or at a grain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level
from metricspec.kinds.alltime import is_all_time, timing
from metricspec.spec.source import timeless_source

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec


def validate(loaded: LoadedSpec) -> list[Issue]:
    spec = loaded.spec
    if not any(timeless_source(spec, s) for s in spec.sources):
        return []
    issues: list[Issue] = []

    def error(message: str, hint: str, *path: str | int, key: bool = False) -> None:
        issues.append(Issue(Level.ERROR, message, loaded.where(*path, key=key), hint))

    for name, kpi in spec.kpis.items():
        base = ("kpis", name)
        reads = [r for r in kpi.sources_read() if timeless_source(spec, r.source)]
        if reads and kpi.inputs() == [] and kpi.FORM != "agg":
            error(f"KPI '{name}' ({kpi.FORM}) needs times, but source '{reads[0].source}' has no time column",
                  f"give source '{reads[0].source}' a `time_column:`", *base, *reads[0].path)
        how = timing(spec, name)
        if how == "mixed":
            error(f"KPI '{name}' reads all-time KPIs (from sources without a time column) and KPIs with periods",
                  "combine KPIs of the same kind: all-time with all-time, periodic with periodic", *base, key=True)
        if how != "all":
            continue
        if kpi.NEEDS_PERIODS:
            error(f"KPI '{name}' ({kpi.FORM}) compares periods, but it reads an all-time KPI (its source has no "
                  "time column)", "give the source a `time_column:`, or remove this KPI", *base, kpi.FORM)
        agg = getattr(kpi, "agg", None)
        if agg in ("last", "first"):
            error(f"KPI '{name}': agg '{agg}' needs times (the row with the latest time), but its source has "
                  "no time column", "use max/min/sum, or give the source a `time_column:`", *base, "agg")
        if kpi.segments:
            error(f"KPI '{name}' is all-time (its source has no time column): segments are not supported yet",
                  "add one KPI per value with `scope: {<column>: <value>}`", *base, "segments")
        if kpi.grains:
            error(f"KPI '{name}' is all-time (its source has no time column): it has no grains",
                  "remove `grains:`", *base, "grains")
        for i, bname in enumerate(kpi.benchmarks):
            bench = spec.benchmarks.get(bname)
            if bench is not None and bench.kind == "period":
                error(f"benchmark '{bname}' compares with an earlier period, but KPI '{name}' is all-time",
                      "remove the benchmark from this KPI", *base, "benchmarks", i)
    for oname, obj in spec.objectives.items():
        for gname, goal in obj.goals.items():
            if goal.kpi not in spec.kpis or not is_all_time(spec, goal.kpi):
                continue
            at = ("objectives", oname, "goals", gname)
            if goal.measure == "latest":
                error(f"goal '{gname}' measures the latest period, but KPI '{goal.kpi}' is all-time (its source "
                      "has no time column)", "remove `measure:` (all-time goals are judged by the total)",
                      *at, "measure")
            if goal.grain is not None:
                error(f"goal '{gname}' has a grain, but KPI '{goal.kpi}' is all-time", "remove `grain:`",
                      *at, "grain")
    return issues
