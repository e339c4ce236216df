"""A rich terminal table grouped by objective, with status colours (and words)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from metricspec.render.cg_text import (
    control_group_table,
    detail_tables,
    fmt_p,
    metric_label,
    segment_table,
    unit_of,
)
from metricspec.render.control_groups import warnings_text
from metricspec.render.formatting import (
    STATUS_LABELS,
    STATUS_STYLES,
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
from metricspec.render.table_fit import Column, fitted_table

if TYPE_CHECKING:
    from metricspec.engine.attribution.models import AttributionReport
    from metricspec.engine.results import ExperimentResult, GoalResult, KpiResult, Results

WIDE_LAYOUT = 1000
"""Columns of a table written to a pipe or a file without ``COLUMNS``: wide enough never to cut a cell."""


def terminal_console(width: int | None = None) -> Console:
    """A rich console on stdout that leaves a closed pipe to the CLI (rich's own handler exits with 1)."""
    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError  # the CLI exits quietly, with the command's own exit code

    return PipeConsole(highlight=False, width=width)


def _goal_table(results: Results, goals: list[GoalResult], width: int, title: str) -> Table:
    """Goals: the status, numbers, chance and deadline whole; the forecast with its 80 % range, Responsible,
    the chance and the target left out (in that order) when the terminal is too narrow, the titles wrapped."""
    cols = [Column("Goal", whole=False, min_width=16), Column("Status"), Column("Current", "right"),
            Column("Target", "right", drop=4), Column("Forecast (80% range)", "right", drop=1),
            Column("Chance", "right", drop=3), Column("Deadline"),
            Column("Responsible", whole=False, min_width=10, drop=2)]
    for g in goals:
        unit, cur = kpi_unit(results, g.kpi)
        cells = [Text(g.title), Text(STATUS_LABELS[g.status], style=STATUS_STYLES[g.status]),
                 fmt_value(g.current, unit, cur), fmt_value(g.target, unit, cur), fmt_forecast(g, unit, cur),
                 fmt_chance(g), str(g.deadline or "—"), Text(g.responsible or "—")]
        for col, cell in zip(cols, cells, strict=True):
            col.cells.append(cell)
    return fitted_table(cols, width, boxed=True, title=title, title_justify="left", show_lines=False, expand=False)


def _kpi_table(results: Results, kpis: list[KpiResult], width: int, title: str | None = None,
               short: bool = False) -> Table:
    """Headline KPIs: period and value whole; the comparisons and benchmarks left out when too narrow."""
    offsets = has_offsets(kpis)
    cols = [Column("KPI", whole=False, min_width=14), Column("Period"), Column("Value", "right"),
            Column("vs prev", "right", drop=5)]
    if not short:
        cols += [Column("Δ%", "right", drop=4), Column("vs last year", "right", drop=1)]
    if offsets:
        cols.append(Column("vs earlier", "right", drop=3))
    if not short:
        cols.append(Column("Benchmarks", whole=False, min_width=12, drop=2))
    for k in kpis:
        h = k.headlines[0] if k.headlines else None
        if h is None:
            continue
        unit, cur = kpi_unit(results, k.name)
        benches = "; ".join(f"{b.title}: {fmt_value(b.value, unit, cur)}" for b in h.benchmarks)
        cells = [Text(k.title), h.label or "—", fmt_value(h.value, unit, cur), fmt_delta(h.change, unit, cur)]
        if not short:
            cells += [fmt_pct(h.change_pct), fmt_pct(h.yoy_change_pct)]
        if offsets:
            cells.append(Text(offset_text(h)))
        if not short:
            cells.append(Text(benches or "—"))
        for col, cell in zip(cols, cells, strict=True):
            col.cells.append(cell)
    options: dict[str, Any] = {"show_header": True, "title_justify": "left"}
    if title:
        options["title"] = title
    return fitted_table(cols, width, boxed=False, **options)


def print_results(results: Results, console: Console) -> None:
    kpis = {k.name: k for k in results.kpis}
    width = console.width
    console.print(Text(f"{results.spec.title}", style="bold"), Text(f"  as of {results.as_of}", style="dim"))
    for obj in results.objectives:
        if obj.goals:
            console.print(_goal_table(results, obj.goals, width, title=f"{obj.title}" + (
                f" — {obj.owner}" if obj.owner else "")))
        for g in obj.goals:
            advice = suggestion_text(g, *kpi_unit(results, g.kpi))
            if advice:
                console.print(Text(f"  targets: {g.title}: {advice}", style="dim"))
            for n in g.notes:
                console.print(Text(f"  note: {g.title}: {fmt_message(n.code, n.params, n.message, *kpi_unit(results, g.kpi))}",
                                   style="dim"))
        if obj.kpis:
            console.print(_kpi_table(results, [kpis[n] for n in obj.kpis], width))
        findings = [(g, f) for g in obj.goals for f in g.smart if not f.ok]
        for g, f in findings:
            message = fmt_message(f.code, f.params, f.message, *kpi_unit(results, g.kpi))
            console.print(Text(f"  SMART {f.criterion.replace('_', '-')}: {g.title}: {message}", style="yellow"))
        console.print()
    listed = {n for o in results.objectives for n in o.kpis}
    rest = [k for k in results.kpis if k.name not in listed]
    if rest:
        console.print(_kpi_table(results, rest, width, title="Other KPIs", short=True))
    for cg in results.control_groups:
        _print_control_group(cg, console)
    if results.attribution:
        _print_attribution(results.attribution, console, results.spec.currency)
    for note in results.notes:
        console.print(Text(f"note: {fmt_message(note.code, note.params, note.message)}", style="dim"))


def _print_control_group(cg: ExperimentResult, console: Console) -> None:
    headers, rows = control_group_table(cg)
    t = Table(title=f"Control group: {cg.title or cg.name}", title_justify="left")
    for col in headers:
        t.add_column(col)
    for row, m in zip(rows, cg.metrics, strict=True):
        conclusive = m.verdict in ("better", "worse")
        style = "dim" if not conclusive else "green" if m.verdict == "better" else "red"
        t.add_row(Text(row[0]), *(Text(c, style="" if conclusive else "dim") for c in row[1:-1]),
                  Text(row[-1], style=style))
    console.print(t)
    if cg.segments:
        headers, rows = segment_table(cg)
        seg = Table(title=f"By segment: {cg.title or cg.name}", title_justify="left")
        for col in headers:
            seg.add_column(col)
        for row in rows:
            seg.add_row(Text(row[0]), Text(row[1]), *row[2:])
        console.print(seg)
    lines, tables = detail_tables(cg)
    for line in lines:
        console.print(Text(f"  {line}"))
    for title, heads, body in tables:
        extra = Table(title=title, title_justify="left")
        for col in heads:
            extra.add_column(col)
        for row in body:
            extra.add_row(*(Text(c) for c in row))
        console.print(extra)
    if cg.srm.mismatch:
        console.print(Text(f"  sample ratio mismatch: p = {fmt_p(cg.srm.p_value)} (threshold {cg.srm.threshold:g})",
                           style="bold red"))
    tr = english()
    for w in warnings_text(tr, cg.warnings, cg.warning_codes):
        console.print(Text(f"  warning: {w}", style="yellow"))
    for m in cg.metrics:
        for w in warnings_text(tr, m.warnings, m.warning_codes, unit_of(m), cg.currency):
            console.print(Text(f"  {metric_label(m)}: {w}", style="yellow"))


def _print_attribution(att: AttributionReport, console: Console, currency: str) -> None:
    models = att.models
    channels = sorted({credit_key(c) for m in models for c in m.credits})
    t = Table(title="Attribution: conversions credited by channel", title_justify="left")
    t.add_column("Channel")
    for m in models:
        t.add_column(m.name, justify="right")
    for ch in channels:
        row = [Text(ch)]
        for m in models:
            credit = next((c for c in m.credits if credit_key(c) == ch), None)
            row.append(Text(fmt_value(credit.conversions) if credit else "—"))
        t.add_row(*row)
    console.print(t)
    if any(c.spend for m in models for c in m.credits):
        t2 = Table(title="CAC / ROAS by channel", title_justify="left")
        t2.add_column("Channel")
        for m in models:
            t2.add_column(f"{m.name} CAC", justify="right")
            t2.add_column("ROAS", justify="right")
        for ch in channels:
            row = [Text(ch)]
            for m in models:
                credit = next((c for c in m.credits if credit_key(c) == ch), None)
                row += [Text(fmt_value(credit.cac, "currency", currency) if credit else "—"),
                        Text(english().number(credit.roas, 2) if credit else "—")]
            t2.add_row(*row)
        console.print(t2)
