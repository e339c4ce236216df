"""Markdown output of a run: for pull-request comments and CI summaries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.render.cg_text import (
    control_group_table,
    detail_tables,
    metric_label,
    segment_table,
    unit_of,
)
from metricspec.render.cohorts import cohort_markdown
from metricspec.render.control_groups import warnings_text
from metricspec.render.formatting import (
    STATUS_LABELS,
    credit_key,
    english,
    fmt_chance,
    fmt_delta,
    fmt_forecast,
    fmt_message,
    fmt_pct,
    fmt_value,
    has_offsets,
    kpi_unit,
    offset_text,
    suggestion_text,
)
from metricspec.render.stages import by_stage

if TYPE_CHECKING:
    from metricspec.engine.attribution.models import ModelResult
    from metricspec.engine.results import ExperimentResult, GoalResult, ObjectiveResult, Results
    from metricspec.render.i18n import Translator

STATUS_ICONS = {"achieved": "✅", "target_reached": "☑️", "on_track": "🟢", "at_risk": "🟡", "off_track": "🔴", "missed": "❌",
                "no_data": "⚪"}


def md_escape(text: object) -> str:
    """Escape Markdown/HTML-significant characters in untrusted text (names, campaign titles)."""
    s = str(text)
    for ch in ("\\", "`", "*", "_", "[", "]", "|", "<", ">", "#"):
        s = s.replace(ch, "\\" + ch)
    return s.replace("\n", " ")


def goals_markdown(results: Results, goals: list[GoalResult]) -> list[str]:
    """An objective's goals: a table (status, current, target, forecast with its 80 % range, chance), the targets
    history suggests, and the SMART findings to fix."""
    if not goals:
        return []
    lines = ["| Goal | Status | Current | Target | Forecast (80% range) | Chance | Deadline | Responsible |",
             "|---|---|---:|---:|---:|---:|---|---|"]
    for g in goals:
        unit, cur = kpi_unit(results, g.kpi)
        lines.append(
            f"| {md_escape(g.title)} | {STATUS_ICONS[g.status]} {STATUS_LABELS[g.status]} | "
            f"{fmt_value(g.current, unit, cur)} | {fmt_value(g.target, unit, cur)} | "
            f"{fmt_forecast(g, unit, cur)} | {fmt_chance(g)} | "
            f"{g.deadline or '—'} | {md_escape(g.responsible or '—')} |")
    lines.append("")
    advice = [(g, suggestion_text(g, *kpi_unit(results, g.kpi))) for g in goals]
    lines += [f"- 🎯 Targets — {md_escape(g.title)}: {md_escape(text)}" for g, text in advice if text]
    if any(text for _, text in advice):
        lines.append("")
    for g in goals:
        unit, cur = kpi_unit(results, g.kpi)
        lines += [f"- ◌ {md_escape(g.title)}: {md_escape(fmt_message(n.code, n.params, n.message, unit, cur))}"
                  for n in g.notes]
        for f in (f for f in g.smart if not f.ok):
            lines.append(f"- ⚠️ SMART *{f.criterion.replace('_', '-')}* — {md_escape(g.title)}: "
                         f"{md_escape(fmt_message(f.code, f.params, f.message, unit, cur))}")
    if any(not f.ok for g in goals for f in g.smart):
        lines.append("")
    return lines


def results_markdown(results: Results) -> str:
    tr = english()
    lines = [f"## {md_escape(results.spec.title)}", "", f"As of **{results.as_of}**.", ""]
    lines += _status_counts_markdown(results)
    for obj in by_stage(results.objectives):
        lines += _objective_markdown(results, obj)
    for k in results.kpis:
        lines += cohort_markdown(tr, k, md_escape)
    for cg in results.control_groups:
        lines += _control_group_markdown(tr, cg)
    if results.attribution:
        lines += _attribution_markdown(results.attribution.models)
    fresh = [f"{md_escape(s.name)}: {s.latest or '—'}" for s in results.sources]
    if fresh:
        lines += ["Data freshness (latest timestamp per source): " + "; ".join(fresh), ""]
    return "\n".join(lines).rstrip() + "\n"


def _status_counts_markdown(results: Results) -> list[str]:
    """One line counting the goals by status (``✅ Achieved: 2 · 🟢 On track: 1``), none without goals."""
    counts: dict[str, int] = {}
    for g in results.goals():
        counts[g.status] = counts.get(g.status, 0) + 1
    if not counts:
        return []
    return [" · ".join(f"{STATUS_ICONS[s]} {STATUS_LABELS[s]}: {counts[s]}" for s in STATUS_LABELS if s in counts), ""]


def _objective_markdown(results: Results, obj: ObjectiveResult) -> list[str]:
    """An objective: its title and owner, its goals, and the table of its KPIs' headlines."""
    lines = [f"### {md_escape(obj.title)}", ""]
    if obj.owner:
        lines += [f"Owner: {md_escape(obj.owner)}", ""]
    lines += goals_markdown(results, obj.goals)
    if obj.kpis:
        lines += _kpi_table_markdown(results, obj.kpis)
    return lines


def _kpi_table_markdown(results: Results, names: list[str]) -> list[str]:
    """The headline of each KPI named (value, change vs previous and last year, and vs earlier periods when
    a KPI compares with them); a KPI without a headline has no row."""
    kpis = {k.name: k for k in results.kpis}
    offsets = has_offsets(kpis[n] for n in names)
    lines = ["| KPI | Period | Value | vs previous | Δ% | vs last year |" + (" vs earlier |" if offsets else ""),
             "|---|---|---:|---:|---:|---:|" + ("---:|" if offsets else "")]
    for name in names:
        k = kpis[name]
        h = k.headlines[0] if k.headlines else None
        if h is None:
            continue
        unit, cur = kpi_unit(results, name)
        lines.append(f"| {md_escape(k.title)} | {h.label or '—'} | {fmt_value(h.value, unit, cur)}"
                     f" | {fmt_delta(h.change, unit, cur)} | {fmt_pct(h.change_pct)} | "
                     f"{fmt_pct(h.yoy_change_pct)} |" + (f" {md_escape(offset_text(h))} |" if offsets else ""))
    lines.append("")
    return lines


def _control_group_markdown(tr: Translator, cg: ExperimentResult) -> list[str]:
    """A control group: its metrics table, its segments table, its details and its warnings."""
    headers, rows = control_group_table(cg)
    lines = [f"### Control group: {md_escape(cg.title or cg.name)}", "",
             "| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1)]
    lines += ["| " + " | ".join([md_escape(r[0]), *r[1:]]) + " |" for r in rows]
    lines.append("")
    if cg.segments:
        headers, rows = segment_table(cg)
        lines += ["| " + " | ".join(headers) + " |", "|---|---|" + "---:|" * (len(headers) - 2)]
        lines += ["| " + " | ".join([md_escape(r[0]), md_escape(r[1]), *r[2:]]) + " |" for r in rows]
        lines.append("")
    lines += cg_details_markdown(cg)
    notes = [f"- ⚠️ {md_escape(metric_label(m))}: {md_escape(w)}" for m in cg.metrics
             for w in warnings_text(tr, m.warnings, m.warning_codes, unit_of(m), cg.currency)]
    notes += [f"- ⚠️ {md_escape(w)}" for w in warnings_text(tr, cg.warnings, cg.warning_codes)]
    if notes:
        lines += [*notes, ""]
    return lines


def _attribution_markdown(models: list[ModelResult]) -> list[str]:
    """Conversions credited to each channel (rows) by each attribution model (columns)."""
    channels = sorted({credit_key(c) for m in models for c in m.credits})
    lines = ["### Attribution (conversions by channel)", "",
             "| Channel | " + " | ".join(md_escape(m.name) for m in models) + " |",
             "|---|" + "---:|" * len(models)]
    for ch in channels:
        cells = []
        for m in models:
            c = next((c for c in m.credits if credit_key(c) == ch), None)
            cells.append(fmt_value(c.conversions) if c else "—")
        lines.append(f"| {md_escape(ch)} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def cg_details_markdown(cg: ExperimentResult) -> list[str]:
    """The design line, balance/overlap, survival and difference-in-differences tables of a control group."""
    lines_, tables = detail_tables(cg)
    out = [*(md_escape(line) + "\n" for line in lines_)]
    for title, headers, rows in tables:
        out += [f"**{md_escape(title)}**", "", "| " + " | ".join(headers) + " |",
                "|---|" + "---:|" * (len(headers) - 1)]
        out += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
        out.append("")
    return out
