"""Every cross-reference points at something that exists (with did-you-mean)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level
from metricspec.kinds import KPIBase
from metricspec.utils import suggest

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec, PathKey


def _check(
    loaded: LoadedSpec, issues: list[Issue], kind: str, name: str, known: Iterable[str], path: PathKey
) -> None:
    known = list(known)
    if name in known:
        return
    guess = suggest(name, known)
    if guess:
        hint = f"did you mean '{guess}'?"
    elif known:
        hint = f"defined {kind}s: {', '.join(sorted(known))}"
    else:
        hint = f"define it under `{kind}s:`" if kind != "kpi" else "define it under `kpis:`"
    issues.append(Issue(Level.ERROR, f"unknown {kind} '{name}'", loaded.positions.where(path), hint))


def kpi_dependencies(kpi: object) -> list[tuple[str, tuple[str | int, ...]]]:
    """KPIs a KPI reads, with the relative path of each reference (from its kind)."""
    assert isinstance(kpi, KPIBase)
    return [(ref.name, ref.path) for ref in kpi.inputs()]


def validate(loaded: LoadedSpec) -> list[Issue]:
    spec = loaded.spec
    issues: list[Issue] = []
    sources = list(spec.sources) + (["calendar"] if spec.calendar else [])
    kpis = list(spec.kpis)
    for kname, kpi in spec.kpis.items():
        base = ("kpis", kname)
        for src in kpi.sources_read():
            _check(loaded, issues, "source", src.source, sources, base + src.path)
        for ref in kpi.inputs():
            _check(loaded, issues, "kpi", ref.name, kpis, base + ref.path)
        for i, bench in enumerate(kpi.benchmarks):
            _check(loaded, issues, "benchmark", bench, spec.benchmarks, (*base, "benchmarks", i))
        for problem in kpi.check(spec, kname):
            issues.append(Issue(Level(problem.level), problem.message,
                                loaded.where(*base, *problem.path, key=problem.key), problem.hint))
    for oname, obj in spec.objectives.items():
        for i, k in enumerate(obj.kpis):
            _check(loaded, issues, "kpi", k, kpis, ("objectives", oname, "kpis", i))
        for gname, goal in obj.goals.items():
            gbase = ("objectives", oname, "goals", gname)
            _check(loaded, issues, "kpi", goal.kpi, kpis, (*gbase, "kpi"))
            if goal.campaign is not None:
                _check(loaded, issues, "campaign", goal.campaign, spec.campaigns, (*gbase, "campaign"))
    for cname, cg in spec.control_groups.items():
        _check(loaded, issues, "source", cg.source, sources, ("control_groups", cname, "source"))
        if cg.campaign is not None:
            _check(loaded, issues, "campaign", cg.campaign, spec.campaigns, ("control_groups", cname, "campaign"))
    if spec.attribution is not None:
        att = spec.attribution
        for part in ("touchpoints", "conversions", "paths"):
            read = getattr(att, part)
            if read is not None:
                _check(loaded, issues, "source", read.source, sources, ("attribution", part, "source"))
        if att.spend is not None:
            _check(loaded, issues, "source", att.spend.source, sources, ("attribution", "spend", "source"))
        if att.control_group is not None:
            _check(loaded, issues, "control group", att.control_group, spec.control_groups,
                   ("attribution", "control_group"))
    for i, entry in enumerate(spec.calendar):
        if entry.campaign is not None:
            _check(loaded, issues, "campaign", entry.campaign, spec.campaigns, ("calendar", i, "campaign"))
    return issues
