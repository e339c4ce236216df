"""Every cross-reference points at something that exists (with did-you-mean)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level
from metricspec.spec.expr import ExprError, names, parse

if TYPE_CHECKING:
    from metricspec.loader import LoadedSpec, PathKey


def _check(
    loaded: LoadedSpec, issues: list[Issue], kind: str, name: str, known: Iterable[str], path: PathKey
) -> None:
    from metricspec.loader import suggest

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
    """KPIs a KPI reads, with the relative path of each reference."""
    from metricspec.spec.models import KPI

    assert isinstance(kpi, KPI)
    deps: list[tuple[str, tuple[str | int, ...]]] = []
    if kpi.ratio:
        deps += [(kpi.ratio.numerator, ("ratio", "numerator")), (kpi.ratio.denominator, ("ratio", "denominator"))]
    if kpi.share:
        deps.append((kpi.share.of, ("share", "of")))
    if kpi.growth:
        deps.append((kpi.growth, ("growth",)))
    if kpi.cumulative:
        deps.append((kpi.cumulative, ("cumulative",)))
    if kpi.moving_average:
        deps.append((kpi.moving_average.kpi, ("moving_average", "kpi")))
    if kpi.formula:
        with contextlib.suppress(ExprError):  # parse errors are reported by the expressions rule
            deps += [(n, ("formula",)) for n in names(parse(kpi.formula))]
    return deps


def validate(loaded: LoadedSpec) -> list[Issue]:
    spec = loaded.spec
    issues: list[Issue] = []
    sources = list(spec.sources) + (["calendar"] if spec.calendar else [])
    kpis = list(spec.kpis)
    for kname, kpi in spec.kpis.items():
        base = ("kpis", kname)
        if kpi.source is not None:
            _check(loaded, issues, "source", kpi.source, sources, (*base, "source"))
            src = spec.sources.get(kpi.source)
            if src is not None and not kpi.time_column and not src.time_column:
                issues.append(Issue(Level.ERROR, f"KPI '{kname}' has no time column", loaded.where(*base, key=True),
                                    f"add `time_column: <column>` to the KPI or to source '{kpi.source}'"))
        for dep, rel in kpi_dependencies(kpi):
            _check(loaded, issues, "kpi", dep, kpis, base + rel)
        for i, bench in enumerate(kpi.benchmarks):
            _check(loaded, issues, "benchmark", bench, spec.benchmarks, (*base, "benchmarks", i))
        if kpi.share and kpi.share.of in spec.kpis and spec.kpis[kpi.share.of].form != "agg":
            issues.append(Issue(Level.ERROR, f"share.of must name a base (agg) KPI; '{kpi.share.of}' is a "
                                f"{spec.kpis[kpi.share.of].form} KPI", loaded.where(*base, "share", "of"),
                                "point `of:` at a KPI with `agg:` and `source:`"))
        if kpi.funnel:
            for i, step in enumerate(kpi.funnel.steps):
                _check(loaded, issues, "source", step.source, sources, (*base, "funnel", "steps", i, "source"))
        if kpi.retention:
            _check(loaded, issues, "source", kpi.retention.source, sources, (*base, "retention", "source"))
            if kpi.retention.cohort_source:
                _check(loaded, issues, "source", kpi.retention.cohort_source, sources,
                       (*base, "retention", "cohort_source"))
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
        _check(loaded, issues, "source", att.touchpoints.source, sources, ("attribution", "touchpoints", "source"))
        _check(loaded, issues, "source", att.conversions.source, sources, ("attribution", "conversions", "source"))
        if att.spend is not None:
            _check(loaded, issues, "source", att.spend.source, sources, ("attribution", "spend", "source"))
        if att.control_group is not None:
            _check(loaded, issues, "control group", att.control_group, spec.control_groups,
                   ("attribution", "control_group"))
    for i, entry in enumerate(spec.calendar):
        if entry.campaign is not None:
            _check(loaded, issues, "campaign", entry.campaign, spec.campaigns, ("calendar", i, "campaign"))
    return issues
