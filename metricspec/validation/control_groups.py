"""Control groups can be evaluated: a window needs a time column, segments are not the assignment, and a
comparison that was not randomised says how it is adjusted (else it is a comparison, not an experiment)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec


def validate(loaded: LoadedSpec) -> list[Issue]:
    spec = loaded.spec
    issues: list[Issue] = []
    for name, cg in spec.control_groups.items():
        base = ("control_groups", name)
        source = spec.sources.get(cg.source)
        time_column = cg.time_column or (source.time_column if source else None)
        window = "period" if cg.period is not None else "campaign" if cg.campaign is not None else None
        if window and source is not None and time_column is None:
            issues.append(Issue(
                Level.ERROR, f"control group '{name}' has a `{window}:` but no time column to apply it to "
                f"(source '{cg.source}' has no `time_column`)", loaded.where(*base, window, key=True),
                "set `time_column:` on the control group (when each unit entered, e.g. signup_date) or on the source"))
        for i, segment in enumerate(cg.segments):
            if segment == cg.assignment.column:
                issues.append(Issue(
                    Level.ERROR, f"control group '{name}' is segmented by its assignment column '{segment}'",
                    loaded.where(*base, "segments", i),
                    "each segment would hold one group only; segment by a column that describes the units"))
        issues += _observational(loaded, name)
    att = spec.attribution
    if att is not None and att.control_group in spec.control_groups and \
            len(spec.control_groups[att.control_group].assignment.treatments) > 1:
        issues.append(Issue(
            Level.ERROR, f"the incremental CAC needs one treatment arm; control group '{att.control_group}' has "
            "several", loaded.where("attribution", "control_group"),
            "point `attribution.control_group` at a control group with a single treatment label"))
    return issues


def _observational(loaded: LoadedSpec, name: str) -> list[Issue]:
    cg = loaded.spec.control_groups[name]
    base = ("control_groups", name)
    issues = []
    if not cg.randomised and cg.adjust is None:
        issues.append(Issue(
            Level.WARNING, f"control group '{name}' was not randomised and has no `adjust:`: this is a comparison, "
            "not an experiment, and its difference includes who chose to be exposed",
            loaded.where(*base, "randomised", key=True) or loaded.where(*base, key=True),
            "add `adjust:` with the pre-exposure covariates that explain who was exposed (docs/control-groups.md)"))
    if cg.adjust is not None:
        if cg.method != "frequentist":
            issues.append(Issue(
                Level.ERROR, f"control group '{name}' adjusts with `method: {cg.method}`: adjusted estimates are "
                "fixed-horizon (frequentist) only", loaded.where(*base, "method"),
                "remove `method:` (or set `method: frequentist`)"))
        for column in cg.adjust.covariates:
            if column == cg.assignment.column:
                issues.append(Issue(
                    Level.ERROR, f"control group '{name}' adjusts for its assignment column '{column}'",
                    loaded.where(*base, "adjust", "covariates"),
                    "list covariates measured before exposure, not the assignment itself"))
    return issues
