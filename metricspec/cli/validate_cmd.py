"""``metricspec validate``: check specs, and optionally that their data opens."""

from __future__ import annotations

from pathlib import Path

from metricspec.cli.datacheck import check_data
from metricspec.cli.outputguard import input_files
from metricspec.errors import Issue, Level, Location, MetricSpecError
from metricspec.loader import find_spec_files, load_spec, spec_warnings
from metricspec.trust import DEFAULT as DEFAULT_CONFINEMENT
from metricspec.trust import Confinement, record_read
from metricspec.validation.report import FileValidation, ValidationReport


def validate_paths(paths: list[Path], *, data: bool = False, strict: bool = False,
                   confinement: Confinement = DEFAULT_CONFINEMENT) -> ValidationReport:
    """Validate every spec under ``paths``; with ``data``, also open each source."""
    report = ValidationReport(strict=strict)
    files = find_spec_files(list(paths))
    for p in paths:
        if not Path(p).exists():
            report.files.append(FileValidation(str(p), [Issue(Level.ERROR, "no such file or directory",
                                                              Location(str(p)), "check the path")], spec=False))
    if not files and not report.files:
        where = ", ".join(str(p) for p in paths)
        report.files.append(FileValidation(where, [Issue(Level.ERROR, "no spec files (*.yaml, *.yml) found",
                                                         Location(where), "pass a spec file or a folder of them")],
                                           spec=False))
    for f in files:
        if not f.exists():
            continue
        checked = FileValidation(str(f))
        report.files.append(checked)
        try:
            loaded = load_spec(f, confinement)
        except MetricSpecError as exc:
            checked.issues.extend(exc.issues())
            continue
        checked.issues.extend(spec_warnings(loaded))
        for path in input_files([loaded]):
            record_read(path)  # its data files are inputs too, opened or not: no output may replace them
        if data:
            checked.issues.extend(check_data(loaded))
    return report
