"""Human and machine renderings of a :class:`CheckReport`: table (terminal), JSON and Markdown."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from metricspec.check.findings import CheckReport, Finding, sort_findings
from metricspec.render.formatting import STATUS_LABELS, fmt_any
from metricspec.utils import stable_numbers

LABELS = {"failure": "FAIL", "warning": "WARN", "info": "INFO"}
ICONS = {"failure": "❌", "warning": "⚠️", "info": "ℹ️"}
STATUS_ICONS = {"achieved": "✅", "target_reached": "☑️", "on_track": "🟢", "at_risk": "🟡", "off_track": "🔴", "missed": "⛔", "no_data": "⚪"}


def value_text(value: Any, unit: str | None = None, currency: str | None = None) -> str:
    """A finding's old or new value as on an English scorecard: KPI values in their unit, other numbers
    plain, text as it is, — for none."""
    return fmt_any(value, unit, currency)


def _label(report: CheckReport, f: Finding) -> str:
    if report.fails(f) and f.severity == "warning":
        return "FAIL"
    return LABELS[f.severity]


def render_json(report: CheckReport) -> str:
    return json.dumps(stable_numbers(report.to_dict()), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


#: Terminal colours (``render_text(style=…)``): the labels of findings, the verdict, goal statuses
#: (the scorecard's and ``metricspec run``'s colours).
LABEL_COLORS = {"FAIL": "red", "WARN": "yellow", "INFO": "cyan", "REGRESSED": "red", "OK": "green"}
STATUS_COLORS = {"achieved": "green", "target_reached": "green", "on_track": "green", "at_risk": "yellow",
                 "off_track": "red", "missed": "red", "no_data": "bright_black"}


Style = Callable[[str, str, bool], str]
"""How a terminal shows a word in a colour: ``style(text, color, bold)`` -> the text to print. The colours
are names of the 16 terminal colours (``red``, ``bright_black``, …); the CLI passes ANSI styling."""


def _paint(text: str, color: str | None, style: Style | None, bold: bool = False) -> str:
    return style(text, color, bold) if style is not None and color else text


def render_text(report: CheckReport, *, style: Style | None = None) -> str:
    """Plain-text report (the ``table`` format), one block per spec; ``style`` colours the spec names,
    goal statuses, labels of findings and the verdict for a terminal (none: plain text). Goal statuses
    read as in ``metricspec run`` (``at risk``)."""
    lines: list[str] = []
    for spec in report.specs:
        against = f", against {spec.compared_with_ref}" if spec.compared_with_ref else ""
        base = ", vs baseline" if spec.compared_with_baseline else ", no baseline"
        lines.append(_paint(spec.name, "white", style, bold=True) + f"  ({spec.path}; as of {spec.as_of}{base}{against})")
        for g in spec.goals:
            cur, target = value_text(g.current, g.unit, g.currency), value_text(g.target, g.unit, g.currency)
            status = _paint(f"{STATUS_LABELS.get(g.status, g.status):<10}", STATUS_COLORS.get(g.status), style)
            lines.append(f"  goal {g.key:<40} {status} current {cur}  target {target}")
        findings = sort_findings(spec.findings)
        if not findings:
            lines.append("  no regressions")
        for f in findings:
            label = _label(report, f)
            lines.append(f"  {_paint(label, LABEL_COLORS[label], style, bold=True)}  {f.location_text()}  {f.subject}")
            lines.append(f"        {f.message}")
            if f.old is not None or f.new is not None:
                lines.append(f"        old: {value_text(f.old, f.unit, f.currency)}   "
                             f"new: {value_text(f.new, f.unit, f.currency)}")
        lines.append("")
    summary = report.summary_line()
    verdict, rest = summary.split(":", 1)
    lines.append(_paint(verdict, LABEL_COLORS.get(verdict), style, bold=True) + ":" + rest)
    return "\n".join(lines) + "\n"


def _md(text: Any, unit: str | None = None, currency: str | None = None) -> str:
    return value_text(text, unit, currency).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: CheckReport, *, heading: str = "metricspec check") -> str:
    """Markdown (also the GitHub job summary)."""
    verdict = "❌ regression" if report.exit_code else "✅ no regression"
    out = [f"## {heading}: {verdict}", "", report.summary_line(), "", report.goal_summary(), ""]
    if report.against:
        out += [f"Specs compared with `{report.against}`.", ""]
    if report.baseline:
        out += [f"Results compared with the baseline `{report.baseline}`.", ""]
    for spec in report.specs:
        out += [f"### {spec.name} (`{spec.path}`, as of {spec.as_of})", ""]
        findings = sort_findings(spec.findings)
        if findings:
            out += ["| | Where | Subject | Old | New | Finding |", "|---|---|---|---|---|---|"]
            for f in findings:
                icon = ICONS["failure"] if report.fails(f) else ICONS[f.severity]
                out.append(f"| {icon} | `{_md(f.location_text())}` | {_md(f.subject)} | "
                           f"{_md(f.old, f.unit, f.currency)} | {_md(f.new, f.unit, f.currency)} | {_md(f.message)} |")
            out.append("")
        else:
            out += ["No regressions.", ""]
        if spec.goals:
            out += ["| Goal | Status | Current | Target |", "|---|---|---|---|"]
            for g in spec.goals:
                out.append(f"| {_md(g.key)} | {STATUS_ICONS.get(g.status, '')} {STATUS_LABELS.get(g.status, g.status)} | "
                           f"{_md(g.current, g.unit, g.currency)} | {_md(g.target, g.unit, g.currency)} |")
            out.append("")
    return "\n".join(out) + "\n"


def render(report: CheckReport, fmt: str, *, style: Style | None = None) -> str:
    """The report in ``fmt`` (table, json or markdown); ``style`` colours the table (:func:`render_text`)."""
    if fmt == "json":
        return render_json(report)
    if fmt == "markdown":
        return render_markdown(report)
    return render_text(report, style=style)
