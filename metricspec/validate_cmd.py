"""``metricspec validate``: check specs, and optionally that their data opens."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from metricspec.errors import Issue, Level, Location, MetricSpecError
from metricspec.trust import DEFAULT as DEFAULT_CONFINEMENT
from metricspec.trust import Confinement


@dataclass
class ValidationReport:
    issues: list[Issue] = field(default_factory=list)
    ok: list[str] = field(default_factory=list)
    total: int = 0


def validate_paths(paths: list[Path], *, data: bool = False,
                   confinement: Confinement = DEFAULT_CONFINEMENT) -> ValidationReport:
    """Validate every spec under ``paths``; with ``data``, also open each source."""
    from metricspec.loader import find_spec_files, load_spec, spec_warnings

    report = ValidationReport()
    files = find_spec_files(list(paths))
    for p in paths:
        if not Path(p).exists():
            report.issues.append(Issue(Level.ERROR, "no such file or directory", Location(str(p)),
                                       "check the path"))
    if not files and not report.issues:
        report.issues.append(Issue(Level.ERROR, "no spec files (*.yaml, *.yml) found",
                                   Location(", ".join(str(p) for p in paths)), "pass a spec file or a folder of them"))
    for f in files:
        if not f.exists():
            continue
        report.total += 1
        try:
            loaded = load_spec(f, confinement)
        except MetricSpecError as exc:
            report.issues.extend(exc.issues())
            continue
        found = spec_warnings(loaded)
        if data:
            from metricspec.datacheck import check_data

            found += check_data(loaded)
        report.issues.extend(found)
        if not any(i.level is Level.ERROR for i in found):
            report.ok.append(str(f))
    return report
