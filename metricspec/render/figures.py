"""Charts and their data tables: goal progress, KPI trends per grain, segments, sparklines.

What a chart shows follows from the goal or KPI, so that it cannot mislead:

* a goal's target line is drawn on the series the goal is measured on: a goal scoped to one segment
  (``scope: {network: instagram}``) on that segment's line of the segment chart, never on the
  all-networks headline chart;
* a goal's own chart is :mod:`metricspec.render.goal_figures`'s: a running total from the goal's
  start for a total that adds up, complete periods only, the forecast and its range at the deadline;
* captions name the same number as the goal card or KPI tile (the latest *complete* period, never a
  period in progress called "latest");
* count and currency axes start at zero unless the KPI says otherwise (``axis_from_zero``); axes carry
  titles with the unit; every chart has its numbers as a table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from babel.numbers import get_currency_symbol

from metricspec.render import charts
from metricspec.render.chart_layers import Unfinished
from metricspec.render.formatting import kpi_unit
from metricspec.render.goal_figures import goal_figure
from metricspec.render.kpi_numbers import kpi_format
from metricspec.render.names import readable
from metricspec.render.periods import unfinished
from metricspec.render.sparkline import sparkline_svg
from metricspec.render.views import DataTable, Figure, SparklineView, chart_view, slugify

if TYPE_CHECKING:
    from metricspec.engine.results import GoalResult, Headline, KpiResult, Point, Results, Series
    from metricspec.render.i18n import Translator

Fmt = Callable[[float | None], str]
_GRAINS = ["hour", "day", "week", "month", "quarter", "year"]
_AXIS_TITLE_CHARS = 30  # a longer KPI title does not fit along a value axis: the axis says "Value (unit)"
SPARKLINE_PERIODS = 24
CHART_HOURS = 14 * 24
"""An hourly series is charted (with its table) over its last two weeks; the Results keep every hour."""


def charted(points: list[Point], grain: str) -> list[Point]:
    return points[-CHART_HOURS:] if grain == "hour" else points


def grain_rank(grain: str) -> int:
    return _GRAINS.index(grain) if grain in _GRAINS else len(_GRAINS)


def grains(k: KpiResult) -> list[str]:
    """The KPI's grains in the order its headlines and series list them."""
    return list(dict.fromkeys([h.grain for h in k.headlines] + [s.grain for s in k.series]))


def pivot(lines: Sequence[charts.Line], fmt: Fmt) -> list[list[str]]:
    """Rows of a chart's table: a period per row, a column per line."""
    order = list(dict.fromkeys(label for line in lines for label, _ in line.points))
    cells = {(i, label): value for i, line in enumerate(lines) for label, value in line.points}
    return [[label] + [fmt(cells.get((i, label))) for i in range(len(lines))] for label in order]


def extra_scope(g: GoalResult, k: KpiResult | None) -> dict[str, str]:
    """What a goal's scope adds to its KPI's own scope (empty: the goal is on the KPI's headline series)."""
    own = k.scope if k else {}
    return {str(c): str(v) for c, v in g.scope.items() if c not in own or str(own[c]) != str(v)}


def segment_scope(s: Series) -> dict[str, str]:
    """The scope a segment series is measured on: its column and value, or each column's of a combination."""
    if s.segment_columns is not None and s.segment_values is not None:
        return dict(zip(s.segment_columns, s.segment_values, strict=True))
    return {str(s.segment): str(s.segment_value)}


class Figures:
    """Builds the charts of one Results document in one language (ids prefixed with ``prefix``)."""

    def __init__(self, results: Results, tr: Translator, prefix: str) -> None:
        self.r, self.tr, self.prefix = results, tr, prefix
        self.kpis = {k.name: k for k in results.kpis}
        self._fmts: dict[str, Fmt] = {}

    # -- shared ----------------------------------------------------------------------------
    def fmt(self, kpi: str) -> Fmt:
        """A KPI's values as text, in its one precision (:mod:`metricspec.render.kpi_numbers`); remembered,
        since a chart's point, hover text and table cell say the same."""
        if kpi not in self._fmts:
            full = kpi_format(self.r, kpi, self.tr).full
            texts: dict[float | None, str] = {}

            def fmt(v: float | None) -> str:
                if v not in texts:
                    texts[v] = full(v)
                return texts[v]
            self._fmts[kpi] = fmt
        return self._fmts[kpi]

    def label(self, p: Point, grain: str) -> str:
        """A period label; the current, incomplete period is marked as such."""
        text = self.tr.period(p.period, grain, p.label)
        return self.tr("partial_period", period=text) if p.partial else text

    def axes(self, kpi: str, grain: str) -> charts.Axes:
        """Axis titles with the unit (``Reach (count)``, ``Revenue (€)``), and whether values start at 0."""
        tr, k = self.tr, self.kpis.get(kpi)
        unit, cur = kpi_unit(self.r, kpi)
        title = k.title if k else kpi
        if len(title) > _AXIS_TITLE_CHARS:
            title = tr("axis_value")
        if unit == "currency" and cur:
            unit_text = str(get_currency_symbol(cur, locale=tr.locale))
        else:
            unit_text = tr(f"axis_unit_{unit}") if unit not in ("number", "currency") else ""
        y_title = tr("axis_with_unit", title=title, unit=unit_text) if unit_text else title
        zero = charts.starts_at_zero(unit, k.axis_from_zero if k else None)
        fmt = self.fmt(kpi)
        return charts.Axes(x_title=tr.grain_noun(grain).capitalize(), y_title=y_title, unit=unit, zero=zero,
                           fmt=lambda v: fmt(v))

    def _figure(self, chart: charts.Chart, lines: Sequence[charts.Line], fmt: Fmt,
                rules: Sequence[charts.Rule] = ()) -> Figure:
        """A chart with its numbers as a table (periods by lines; target lines as rows of their own)."""
        rows, width = pivot(lines, fmt), len(lines)
        names = [line.name for line in lines]
        for r in rules:  # a target line is a row of its own, its value in the column of the line it is for
            col = names.index(r.of) if r.of in names else 0
            rows.append([r.label] + [fmt(r.value) if i == col else "" for i in range(width)])
        table = DataTable(caption=chart.title, headers=[self.tr("col_period")] + [line.name for line in lines],
                          rows=rows, numeric=[False] + [True] * width)
        return Figure(chart=chart_view(chart), table=table, note=self.tr("axis_not_from_zero") if chart.zoomed else None)

    def unfinished(self, k: KpiResult, series: Sequence[Series], grain: str) -> Unfinished | None:
        """The periods of ``series`` not to draw as final: running, or still arriving (labels as on the chart)."""
        points = {p.period: p for s in series for p in s.points}
        periods = set().union(*(unfinished(k, s.points, grain, self.r.as_of) for s in series)) if series else set()
        if not periods:
            return None
        labels = [self.label(points[d], grain) for d in sorted(periods)]
        running = all(points[d].partial for d in periods)
        text = self.tr("band_running" if running else "band_not_complete")
        return Unfinished(labels, text, note=self.tr("note_running" if running else "note_not_complete"))

    # -- goals -----------------------------------------------------------------------------
    def _additive_window(self, g: GoalResult) -> list[Point] | None:
        """For a total that adds up period by period, the periods whose sum is the goal's current value."""
        if g.measure != "total" or g.current is None:
            return None
        in_window = [p for p in g.trend if (g.start is None or p.period >= g.start)
                     and (g.deadline is None or p.period <= g.deadline)]
        for window in (in_window, [p for p in in_window if not p.partial]):
            total = sum(p.value or 0.0 for p in window)
            if window and abs(total - g.current) <= 1e-6 * max(1.0, abs(g.current)):
                return window
        return None

    def basis(self, g: GoalResult) -> str:
        """What the goal's current value is: ``latest complete period, Sep 2026``, ``total since 1 Jan 2026``."""
        tr = self.tr
        if g.measure == "latest":
            from metricspec.engine.goals import latest_complete  # start-up: forecasting, numpy

            end = min(self.r.as_of, g.deadline) if g.deadline else self.r.as_of
            p = latest_complete(g.trend, end, g.grain)  # the engine's rule for the goal's current value
            if p is None:
                return tr("basis_none")
            # no period has ended yet: the value is that of the period in progress, and says so
            return tr("basis_in_progress" if p.partial else "basis_latest", period=tr.period(p.period, g.grain, p.label))
        if g.measure == "mean":
            return tr("basis_mean")
        start = tr.date(g.start) if g.start else "—"
        return tr("basis_total" if self._additive_window(g) is not None else "basis_window", start=start)

    def goal(self, g: GoalResult) -> Figure | None:
        """The goal card's chart and its table (:mod:`metricspec.render.goal_figures`)."""
        return goal_figure(self, g)

    # -- KPIs --------------------------------------------------------------------------------
    def _targets(self, k: KpiResult, grain: str, scope: dict[str, str], of: str | None = None) -> list[charts.Rule]:
        """Target lines of the goals measured on ``scope`` (beyond the KPI's own) at ``grain``, drawn on the
        line ``of`` (default: the scope's value); an additive total's target is for its running sum, not for
        one period, and is left to the goal's own chart."""
        out: list[charts.Rule] = []
        fmt = self.fmt(k.name)
        for g in self.r.goals():
            if g.kpi != k.name or g.grain != grain or extra_scope(g, k) != scope:
                continue
            if g.so_far_kind != "running_total" and self._additive_window(g) is None:
                on = of if of is not None else next(iter(scope.values()), None)
                name = self.tr("chart_target_value", value=fmt(g.target))
                if any(r.name == name for r in out):  # two goals with one target: two legend entries
                    name = f"{name} ({len(out) + 1})"
                out.append(charts.Rule(name, g.target, of=on, text=self.tr("chart_target_goal", goal=g.title)))
        return out

    def headline(self, k: KpiResult, grain: str) -> Headline | None:
        return next((h for h in k.headlines if h.grain == grain), None)

    def latest_text(self, k: KpiResult, grain: str) -> str:
        """The tile's number: the latest complete period and its value."""
        h = self.headline(k, grain)
        if h is not None and h.period is not None:
            s = next((s for s in k.series if s.kind == "headline" and s.grain == grain), None)
            if s is not None and h.period in unfinished(k, s.points, grain, self.r.as_of):
                period = self.tr.period(h.period, grain, h.label)
                if h.value is None:
                    return self.tr("not_complete_yet", period=period)
                return self.tr("latest_not_complete", period=period, value=self.fmt(k.name)(h.value),
                               not_complete=self.tr("not_complete_yet", period=period).split(": ", 1)[1])
        if h is None or h.value is None:
            return self.tr("basis_none")
        return self.tr("latest_complete", period=self.tr.period(h.period, grain, h.label), value=self.fmt(k.name)(h.value))

    def kpi(self, k: KpiResult) -> list[Figure]:
        """A chart per grain: the headline series, benchmarks dashed, targets of goals on the headline."""
        tr, out = self.tr, []
        for grain in grains(k):
            head = [s for s in k.series if s.grain == grain and s.kind == "headline"]
            if not head:
                continue
            shown = charted(head[0].points, grain)
            labels = {p.period: self.label(p, grain) for p in shown}
            lines = [charts.Line(k.title, [(labels[p.period], p.value) for p in shown])]
            bench_titles = {b.name: b.title for h in k.headlines for b in h.benchmarks}
            for s in sorted((s for s in k.series if s.grain == grain and s.kind == "benchmark"),
                            key=lambda s: s.benchmark or ""):
                lines.append(charts.Line(readable(bench_titles.get(s.benchmark or "", s.benchmark or "?")),
                                         [(labels[p.period], p.value) for p in s.points if p.period in labels],
                                         dashed=True))
            if not any(v is not None for line in lines for _, v in line.points):
                continue
            rules = self._targets(k, grain, {})
            title = tr("chart_kpi_title", kpi=k.title, grain=tr.grain(grain))
            desc = tr("chart_kpi_desc", kpi=k.title, grain=tr.grain(grain),
                      periods=sum(v is not None for _, v in lines[0].points), latest=self.latest_text(k, grain),
                      lines=", ".join(line.name for line in lines[1:]) or tr("chart_compared_none"),
                      targets=self.targets_text(k, grain, rules))
            out.append(self._trend(f"trend-{slugify(k.name)}-{grain}", title, desc, k, grain, lines, rules,
                                   self.unfinished(k, head, grain)))
        return out

    def targets_text(self, k: KpiResult, grain: str, rules: Sequence[charts.Rule]) -> str:
        """What a KPI chart's caption says of goals: the targets it draws, and the goals on this KPI drawn
        elsewhere (on another grain or segment, or as a running total on the goal's own chart)."""
        fmt, drawn = self.fmt(k.name), {r.label for r in rules}
        parts = [self.tr("chart_targets_drawn", targets=", ".join(f"{r.label} {fmt(r.value)}" for r in rules))] if rules else []
        elsewhere = [g.title for g in self.r.goals() if g.kpi == k.name
                     and self.tr("chart_target_goal", goal=g.title) not in drawn]
        if elsewhere:
            parts.append(self.tr("chart_goals_elsewhere", goals=", ".join(elsewhere)))
        return " ".join(parts) or self.tr("chart_no_goals")

    def segments(self, k: KpiResult) -> list[Figure]:
        """One chart per grain and segment column, a line per segment value, with the targets of goals
        scoped to one of those values on its line (KPI pages)."""
        tr, fmt, out = self.tr, self.fmt(k.name), []
        groups: dict[tuple[str, str], list[Series]] = {}
        for s in k.series:
            if s.kind == "segment" and s.segment:
                groups.setdefault((s.grain, s.segment), []).append(s)
        for (grain, segment), series in sorted(groups.items(), key=lambda kv: (grain_rank(kv[0][0]), kv[0][1])):
            series = sorted(series, key=lambda s: str(s.segment_value))[:8]
            lines = [charts.Line(readable(str(s.segment_value)), [(self.label(p, grain), p.value)
                                                                  for p in charted(s.points, grain)])
                     for s in series]
            if not any(v is not None for line in lines for _, v in line.points):
                continue
            rules = [r for s, line in zip(series, lines, strict=True)
                     for r in self._targets(k, grain, segment_scope(s), of=line.name)]
            title = tr("chart_segment_title", kpi=k.title, segment=readable(segment), grain=tr.grain(grain))
            desc = tr("chart_segment_desc", kpi=k.title, segment=readable(segment),
                      values=", ".join(ln.name for ln in lines),
                      targets=", ".join(f"{r.label} ({r.of}) {fmt(r.value)}" for r in rules) or tr("chart_targets_none"))
            out.append(self._trend(f"seg-{slugify(k.name)}-{slugify(segment)}-{grain}", title, desc, k, grain,
                                   lines, rules, self.unfinished(k, series, grain)))
        return out

    def _trend(self, name: str, title: str, desc: str, k: KpiResult, grain: str, lines: list[charts.Line],
               rules: list[charts.Rule], unfinished: Unfinished | None = None) -> Figure:
        chart = charts.trend_chart(f"{self.prefix}-{name}", title, desc, lines, rules, axes=self.axes(k.name, grain),
                                   chart_locale=self.tr.chart_format, unfinished=unfinished)
        return self._figure(chart, lines, self.fmt(k.name), rules)

    def sparkline(self, k: KpiResult, h: Headline) -> SparklineView | None:
        """The tile's recent trend, ending at the tile's number and never on a running period; the trailing
        periods whose values still arrive are drawn open (dashed, hollow dot), as on the trend charts."""
        tr, fmt = self.tr, self.fmt(k.name)
        series = next((s for s in k.series if s.kind == "headline" and s.grain == h.grain), None)
        points = [p for p in series.points if not p.partial and p.period <= (h.period or p.period)
                  ][-SPARKLINE_PERIODS:] if series else []
        if sum(p.value is not None for p in points) < 2:
            return None
        values = [p.value for p in points]
        labels = [self.label(p, h.grain) for p in points]
        known = [(label, v) for label, v in zip(labels, values, strict=True) if v is not None]
        desc = tr("sparkline_desc", kpi=k.title, periods=len(values), grain=tr.grain(h.grain),
                  first=f"{known[0][0]}: {fmt(known[0][1])}", last=f"{known[-1][0]}: {fmt(known[-1][1])}")
        # the trailing periods whose values still arrive are drawn open (dashed, hollow dot) and named so
        still_arriving = unfinished(k, series.points, h.grain, self.r.as_of) if series else set()
        open_from = len(points)
        while open_from and points[open_from - 1].period in still_arriving:
            open_from -= 1
        if open_from < len(points) and values[-1] is not None:
            desc = f"{desc} {tr('not_complete_yet', period=labels[-1])}."
        return SparklineView(svg=sparkline_svg(values, open_from), title=tr("sparkline_title", kpi=k.title),
                             description=desc, first=labels[0], last=labels[-1])
