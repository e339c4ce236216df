"""The CI gate: ``metricspec check`` and ``metricspec baseline update``.

Public API::

    from metricspec.check import check_paths, update_baseline
    report, spec_warnings = check_paths([Path("specs")], against="origin/main")
    report.exit_code            # 0 nothing regressed, 1 a regression
    render(report, "markdown")  # table | json | markdown
    junit_xml(report)           # JUnit XML text
    report_annotations(report)         # GitHub workflow commands

The comparison rules live in :mod:`metricspec.check.compare` (results vs the baseline)
and :mod:`metricspec.check.specdiff` (spec vs an older version).
"""

from __future__ import annotations

from metricspec.check.baseline import (
    DEFAULT_BASELINE,
    baseline_document,
    dumps,
    read_baseline,
    snapshot,
    write_baseline,
)
from metricspec.check.baseline_schema import SCHEMA_VERSION, BaselineDocument, SpecEntry
from metricspec.check.compare import (
    compare_effect,
    compare_goal,
    compare_snapshots,
    tolerance_band,
    wrong_way,
)
from metricspec.check.findings import CheckReport, Finding, GoalCase, SpecCheck
from metricspec.check.github import (
    annotation,
    append_step_summary,
    escape_data,
    escape_property,
    in_github_actions,
    report_annotations,
)
from metricspec.check.junit import junit_xml, write_junit
from metricspec.check.render import render, render_json, render_markdown, render_text
from metricspec.check.runner import BaselineRefused, BaselineUpdate, check_paths, update_baseline
from metricspec.check.specdiff import (
    compare_specs,
    find_acknowledgement,
    kpi_definition,
    kpi_fingerprint,
    load_spec_text,
)

__all__ = [
    "DEFAULT_BASELINE",
    "SCHEMA_VERSION",
    "BaselineDocument",
    "BaselineRefused",
    "BaselineUpdate",
    "CheckReport",
    "Finding",
    "GoalCase",
    "SpecCheck",
    "SpecEntry",
    "annotation",
    "append_step_summary",
    "baseline_document",
    "check_paths",
    "compare_effect",
    "compare_goal",
    "compare_snapshots",
    "compare_specs",
    "dumps",
    "escape_data",
    "escape_property",
    "find_acknowledgement",
    "in_github_actions",
    "junit_xml",
    "kpi_definition",
    "kpi_fingerprint",
    "load_spec_text",
    "read_baseline",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
    "report_annotations",
    "snapshot",
    "tolerance_band",
    "update_baseline",
    "write_baseline",
    "write_junit",
    "wrong_way",
]
