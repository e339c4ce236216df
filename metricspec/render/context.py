"""Typed template contexts: the Results document turned into display-ready, localised views.

Templates receive one pydantic model per page (``ScorecardPage``, ``IndexPage``, ``KpiPage``,
``PersonPage``) plus the translator ``_``. Every value is already formatted for the locale,
so templates only lay things out. Text stays plain ``str``; Jinja autoescapes it. The only
markup in a context is chart SVG from vl-convert (checked in :mod:`metricspec.render.charts`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metricspec.engine.results import STATUS_ORDER
from metricspec.render import charts
from metricspec.render.control_groups import ControlGroupView, control_group_view
from metricspec.render.i18n import Translator
from metricspec.render.views import ChartView, DataTable, Figure, View
from metricspec.render.views import chart_view as _chart_view

if TYPE_CHECKING:
    from metricspec.engine.results import (
        ExperimentResult,
        GoalResult,
        KpiResult,
        ObjectiveResult,
        Point,
        Results,
        Series,
    )

STATUS_ICONS = {"achieved": "✔", "on_track": "●", "at_risk": "▲", "off_track": "▼", "missed": "✖", "no_data": "○"}
STATUSES = sorted(STATUS_ORDER, key=STATUS_ORDER.__getitem__)


class StatusView(View):
    key: str
    label: str
    icon: str


class StatusCount(View):
    status: StatusView
    count: int


class ProgressView(View):
    fill: float  # 0..100, share of the way from baseline to target
    expected: float | None  # 0..100, where we should be today
    label: str  # accessible text describing both


class SmartView(View):
    criterion: str
    ok: bool
    message: str


class GoalView(View):
    id: str
    anchor: str
    title: str
    status: StatusView
    status_reason: str
    kpi_title: str
    kpi_href: str | None
    scope: str
    measure: str
    baseline: str
    target: str
    current: str
    expected: str
    forecast: str
    forecast_method: str
    progress_text: str
    start: str
    deadline: str
    measured_by: str | None
    measured_by_href: str | None
    responsible: str | None
    responsible_href: str | None
    campaign: str | None
    progress: ProgressView | None
    smart: list[SmartView]
    figure: Figure | None


class BenchmarkView(View):
    title: str
    value: str
    difference: str
    relative: str


class KpiTile(View):
    name: str
    title: str
    description: str | None
    href: str | None
    grain: str
    period: str
    value: str
    change: str
    change_pct: str
    trend_class: str  # good / bad / flat: a colour hint, always paired with a signed number
    yoy: str
    benchmarks: list[BenchmarkView]
    sparkline: ChartView | None


class KpiSection(View):
    name: str
    anchor: str
    title: str
    description: str | None
    href: str | None
    figures: list[Figure]


class ObjectiveView(View):
    id: str
    anchor: str
    title: str
    description: str | None
    type: str
    stage: str | None
    owner: str | None
    owner_href: str | None
    goals: list[GoalView]
    tiles: list[KpiTile]


class AttributionView(View):
    title: str
    summary: str
    models: list[str]
    conversions: DataTable
    economics: DataTable
    figure: Figure | None


class SourceView(View):
    name: str
    connector: str
    rows: str
    first: str
    latest: str


class NoteView(View):
    level: str
    message: str


class NavLink(View):
    href: str
    label: str
    current: bool = False


class Page(View):
    lang: str
    page_title: str
    root: str  # relative prefix to the site root ("" or "../")
    css_inline: str | None  # standalone files carry their CSS
    css_href: str | None  # site pages link the shared stylesheet
    nav: list[NavLink]
    version: str


class ScorecardPage(Page):
    spec_name: str
    title: str
    description: str | None
    owner: str | None
    owner_href: str | None
    measured_by: str | None
    measured_by_href: str | None
    as_of: str
    as_of_iso: str
    summary: list[StatusCount]
    total_goals: int
    objectives: list[ObjectiveView]
    other_tiles: list[KpiTile]
    kpis: list[KpiSection]
    control_groups: list[ControlGroupView]
    attribution: AttributionView | None
    sources: list[SourceView]
    notes: list[NoteView]


class SpecSummary(View):
    name: str
    title: str
    description: str | None
    href: str
    as_of: str
    owner: str | None
    summary: list[StatusCount]
    total_goals: int
    kpis: list[NavLink]


class PersonLink(View):
    name: str
    href: str
    goals: int


class IndexPage(Page):
    specs: list[SpecSummary]
    people: list[PersonLink]
    as_of: str


class KpiPage(Page):
    spec_title: str
    spec_href: str
    as_of: str
    tile: KpiTile
    section: KpiSection
    segments: list[Figure]
    goals: list[GoalView]


class PersonGroup(View):
    spec_title: str
    spec_href: str
    as_of: str
    roles: list[str]
    goals: list[GoalView]
    objectives: list[str]


class PersonPage(Page):
    name: str
    summary: list[StatusCount]
    groups: list[PersonGroup]


# ---------------------------------------------------------------------------------------------
# links


_TRANSLIT = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D", "æ": "ae",
                           "Æ": "AE", "œ": "oe", "Œ": "OE"})


def slugify(text: str) -> str:
    """A safe, readable file-name part: ``Lucía Fernández`` -> ``lucia-fernandez``."""
    text = text.translate(_TRANSLIT)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9_]+", "-", ascii_text.lower()).strip("-_")
    return slug[:80] or "x"


@dataclass(frozen=True)
class Links:
    """Where other pages live, relative to the page being rendered (None: standalone file)."""

    kpi: Callable[[str, str], str] | None = None  # (spec, kpi) -> href
    person: Callable[[str], str] | None = None  # name -> href

    def kpi_href(self, spec: str, kpi: str) -> str | None:
        return self.kpi(spec, kpi) if self.kpi else None

    def person_href(self, name: str | None) -> str | None:
        return self.person(name) if self.person and name else None


# ---------------------------------------------------------------------------------------------
# builders


class Builder:
    """Builds the views of one Results document in one language."""

    def __init__(self, results: Results, tr: Translator, links: Links | None = None) -> None:
        self.r = results
        self.tr = tr
        self.links = links or Links()
        self.kpis = {k.name: k for k in results.kpis}
        self.prefix = slugify(results.spec.name)

    # -- helpers ---------------------------------------------------------------------------
    def _unit(self, kpi_name: str) -> tuple[str, str | None]:
        k = self.kpis.get(kpi_name)
        if k is None:
            return "number", None
        return k.unit, (k.currency or self.r.spec.currency) if k.unit == "currency" else k.currency

    def status(self, status: str) -> StatusView:
        return StatusView(key=status, label=self.tr.status(status), icon=STATUS_ICONS[status])

    def summary(self, goals: list[GoalResult]) -> list[StatusCount]:
        counts = dict.fromkeys(STATUSES, 0)
        for g in goals:
            counts[g.status] += 1
        return [StatusCount(status=self.status(s), count=counts[s]) for s in STATUSES]

    def scope_text(self, scope: dict[str, Any]) -> str:
        return ", ".join(f"{k} = {v}" for k, v in sorted(scope.items(), key=lambda kv: str(kv[0])))

    def label(self, p: Point, grain: str) -> str:
        """A period label; the current, incomplete period is marked as such."""
        text = self.tr.period(p.period, grain, p.label)
        return self.tr("partial_period", period=text) if p.partial else text

    # -- goals -----------------------------------------------------------------------------
    def goal(self, g: GoalResult) -> GoalView:
        tr = self.tr
        unit, cur = self._unit(g.kpi)
        def fmt(v: float | None) -> str:
            return tr.value(v, unit, cur)

        progress = None
        if g.progress is not None:
            fill = max(0.0, min(100.0, g.progress * 100))
            exp = None if g.expected_progress is None else max(0.0, min(100.0, g.expected_progress * 100))
            label = tr("progress_label", progress=tr.percent(g.progress, 0))
            if exp is not None and g.expected_progress is not None:
                label += "; " + tr("expected_label", expected=tr.percent(g.expected_progress, 0))
            progress = ProgressView(fill=round(fill, 2), expected=None if exp is None else round(exp, 2), label=label)
        kpi = self.kpis.get(g.kpi)
        return GoalView(
            id=g.id, anchor=f"goal-{slugify(g.objective)}-{slugify(g.id)}", title=g.title,
            status=self.status(g.status),
            status_reason=tr.message(g.status_reason_code, g.status_reason_params, g.status_reason, unit, cur),
            kpi_title=kpi.title if kpi else g.kpi, kpi_href=self.links.kpi_href(self.r.spec.name, g.kpi) if kpi else None,
            scope=self.scope_text(g.scope), measure=tr(f"measure_{g.measure}"),
            baseline=fmt(g.baseline), target=fmt(g.target), current=fmt(g.current), expected=fmt(g.expected),
            forecast=fmt(g.forecast),
            forecast_method=tr.message(g.forecast_method_code, g.forecast_method_params, g.forecast_method, unit, cur),
            progress_text=tr.percent(g.progress, 0) if g.progress is not None else "—",
            start=tr.date(g.start), deadline=tr.date(g.deadline),
            measured_by=g.measured_by, measured_by_href=self.links.person_href(g.measured_by),
            responsible=g.responsible, responsible_href=self.links.person_href(g.responsible),
            campaign=g.campaign, progress=progress,
            smart=[SmartView(criterion=tr(f"smart_{f.criterion}"), ok=f.ok,
                             message=tr.message(f.code, f.params, f.message, unit, cur)) for f in g.smart],
            figure=self.goal_figure(g),
        )

    def goal_figure(self, g: GoalResult) -> Figure | None:
        tr = self.tr
        points = [p for p in g.trend if p.value is not None]
        if not points:
            return None
        unit, cur = self._unit(g.kpi)
        rules = [charts.Rule(tr("chart_target"), g.target)]
        in_window = [p for p in g.trend if (g.start is None or p.period >= g.start)
                     and (g.deadline is None or p.period <= g.deadline)]
        complete = [p for p in in_window if not p.partial]

        def adds_up(points: list[Point]) -> bool:
            total = sum(p.value or 0.0 for p in points)
            return bool(points) and g.current is not None and abs(total - g.current) <= 1e-6 * max(1.0, abs(g.current))

        window = in_window if adds_up(in_window) else complete
        if g.measure == "total" and adds_up(window):
            # an additive total: the running sum is what the target compares with
            running = 0.0
            pts: list[tuple[str, float | None]] = []
            for p in window:
                running += p.value or 0.0
                pts.append((self.label(p, g.grain), running))
            name = tr("chart_cumulative")
        else:
            pts = [(self.label(p, g.grain), p.value) for p in g.trend]
            name = tr("chart_actual")
            if g.measure == "total":
                rules = []  # the target is for the whole window (e.g. a rate over it), not per period
        if not any(v is not None for _, v in pts):
            return None
        title = tr("chart_goal_title", goal=g.title)
        last = next((v for _, v in reversed(pts) if v is not None), None)
        desc = tr("chart_goal_desc", goal=g.title, periods=len(pts), latest=tr.value(last, unit, cur),
                  target=tr.value(g.target, unit, cur))
        cid = f"{self.prefix}-goal-{slugify(g.objective)}-{slugify(g.id)}"
        chart = charts.trend_chart(cid, title, desc, [charts.Line(name, pts)], rules, unit=unit,
                                   chart_locale=tr.chart_format, width=520, height=180)
        table = DataTable(caption=title, headers=[tr("col_period"), name],
                          rows=[[label, tr.value(v, unit, cur)] for label, v in pts], numeric=[False, True])
        return Figure(chart=_chart_view(chart), table=table)

    # -- KPIs ------------------------------------------------------------------------------
    def tile(self, k: KpiResult) -> KpiTile:
        tr = self.tr
        unit, cur = self._unit(k.name)
        h = k.headlines[0] if k.headlines else None
        trend_class = "flat"
        if h is not None and h.change:
            better = (h.change > 0) == (k.direction != "decrease")
            trend_class = "good" if better else "bad"
        spark = None
        series = next((s for s in k.series if s.kind == "headline" and h is not None and s.grain == h.grain), None)
        if series is not None and sum(p.value is not None for p in series.points) >= 2:
            values = [p.value for p in series.points][-24:]
            desc = tr("sparkline_desc", kpi=k.title, periods=len(values), grain=tr.grain(series.grain),
                      first=tr.value(next(v for v in values if v is not None), unit, cur),
                      last=tr.value(next(v for v in reversed(values) if v is not None), unit, cur))
            spark = _chart_view(charts.sparkline(f"{self.prefix}-spark-{slugify(k.name)}",
                                                 tr("sparkline_title", kpi=k.title), desc, values, tr.chart_format))
        return KpiTile(
            name=k.name, title=k.title, description=k.description, href=self.links.kpi_href(self.r.spec.name, k.name),
            grain=tr.grain(h.grain) if h else "—",
            period=tr.period(h.period, h.grain, h.label) if h else "—",
            value=tr.value(h.value if h else None, unit, cur),
            change=tr.delta(h.change if h else None, unit, cur),
            change_pct=tr.percent(h.change_pct, signed=True) if h else "—",
            trend_class=trend_class,
            yoy=tr.percent(h.yoy_change_pct, signed=True) if h else "—",
            benchmarks=[BenchmarkView(title=b.title, value=tr.value(b.value, unit, cur),
                                      difference=tr.delta(b.difference, unit, cur),
                                      relative=tr.percent(b.relative, signed=True))
                        for b in (h.benchmarks if h else [])],
            sparkline=spark,
        )

    def kpi_section(self, k: KpiResult) -> KpiSection:
        tr = self.tr
        unit, cur = self._unit(k.name)
        figures = []
        for grain in _grains(k):
            head = [s for s in k.series if s.grain == grain and s.kind == "headline"]
            bench = [s for s in k.series if s.grain == grain and s.kind == "benchmark"]
            if not head:
                continue
            labels = {p.period: self.label(p, grain) for p in head[0].points}
            lines = [charts.Line(k.title, [(labels[p.period], p.value) for p in head[0].points])]
            bench_titles = {b.name: b.title for h in k.headlines for b in h.benchmarks}
            for s in sorted(bench, key=lambda s: s.benchmark or ""):
                lines.append(charts.Line(bench_titles.get(s.benchmark or "", s.benchmark or "?"),
                                         [(labels[p.period], p.value) for p in s.points if p.period in labels],
                                         dashed=True))
            rules = [charts.Rule(tr("chart_target_goal", goal=g.title), g.target) for g in self.r.goals()
                     if g.kpi == k.name and g.grain == grain and g.measure != "total"]
            if not any(v is not None for line in lines for _, v in line.points):
                continue
            title = tr("chart_kpi_title", kpi=k.title, grain=tr.grain(grain))
            values = [v for _, v in lines[0].points if v is not None]
            desc = tr("chart_kpi_desc", kpi=k.title, grain=tr.grain(grain), periods=len(lines[0].points),
                      latest=tr.value(values[-1] if values else None, unit, cur),
                      lines=", ".join(line.name for line in lines[1:]) or "—",
                      targets=", ".join(tr.value(r.value, unit, cur) for r in rules) or "—")
            cid = f"{self.prefix}-trend-{slugify(k.name)}-{grain}"
            chart = charts.trend_chart(cid, title, desc, lines, rules, unit=unit, chart_locale=tr.chart_format)
            table = DataTable(caption=title, headers=[tr("col_period")] + [line.name for line in lines],
                              rows=_pivot(lines, lambda v: tr.value(v, unit, cur)),
                              numeric=[False] + [True] * len(lines))
            figures.append(Figure(chart=_chart_view(chart), table=table))
        return KpiSection(name=k.name, anchor=f"kpi-{slugify(k.name)}", title=k.title, description=k.description,
                          href=self.links.kpi_href(self.r.spec.name, k.name), figures=figures)

    def segment_figures(self, k: KpiResult) -> list[Figure]:
        """One chart per grain and segment column, a line per segment value (KPI pages)."""
        tr = self.tr
        unit, cur = self._unit(k.name)
        out = []
        groups: dict[tuple[str, str], list[Series]] = {}
        for s in k.series:
            if s.kind == "segment" and s.segment:
                groups.setdefault((s.grain, s.segment), []).append(s)
        for (grain, segment), series in sorted(groups.items(), key=lambda kv: (_grain_rank(kv[0][0]), kv[0][1])):
            series = sorted(series, key=lambda s: str(s.segment_value))[:8]
            lines = [charts.Line(str(s.segment_value), [(self.label(p, grain), p.value) for p in s.points])
                     for s in series]
            if not any(v is not None for line in lines for _, v in line.points):
                continue
            title = tr("chart_segment_title", kpi=k.title, segment=segment, grain=tr.grain(grain))
            desc = tr("chart_segment_desc", kpi=k.title, segment=segment, values=", ".join(ln.name for ln in lines))
            cid = f"{self.prefix}-seg-{slugify(k.name)}-{slugify(segment)}-{grain}"
            chart = charts.trend_chart(cid, title, desc, lines, unit=unit, chart_locale=tr.chart_format)
            table = DataTable(caption=title, headers=[tr("col_period")] + [ln.name for ln in lines],
                              rows=_pivot(lines, lambda v: tr.value(v, unit, cur)),
                              numeric=[False] + [True] * len(lines))
            out.append(Figure(chart=_chart_view(chart), table=table))
        return out

    # -- objectives --------------------------------------------------------------------------
    def objective(self, o: ObjectiveResult) -> ObjectiveView:
        return ObjectiveView(
            id=o.id, anchor=f"objective-{slugify(o.id)}", title=o.title, description=o.description,
            type=o.type, stage=o.stage, owner=o.owner, owner_href=self.links.person_href(o.owner),
            goals=[self.goal(g) for g in o.goals],
            tiles=[self.tile(self.kpis[n]) for n in o.kpis if n in self.kpis],
        )

    # -- control groups ----------------------------------------------------------------------
    def control_group(self, cg: ExperimentResult) -> ControlGroupView:
        return control_group_view(cg, self.tr, anchor=f"cg-{slugify(cg.name)}",
                                  chart_id=f"{self.prefix}-cg-{slugify(cg.name)}")

    # -- attribution -------------------------------------------------------------------------
    def attribution(self, a: dict[str, Any]) -> AttributionView:
        tr = self.tr
        models = list(a.get("models") or [])
        names = [str(m.get("name")) for m in models]
        channels = sorted({str(c["channel"]) for m in models for c in m.get("credits") or []})
        credit = {(str(m.get("name")), str(c["channel"])): c for m in models for c in m.get("credits") or []}
        conv_rows = [[ch] + [tr.number(credit[(n, ch)].get("conversions"), 1) if (n, ch) in credit else "—"
                             for n in names] for ch in channels]
        conversions = DataTable(caption=tr("attribution_conversions"), headers=[tr("col_channel"), *names],
                                rows=conv_rows, numeric=[False] + [True] * len(names))
        currency = self.r.spec.currency
        econ_rows = []
        for n in names:
            for ch in channels:
                c = credit.get((n, ch))
                if c is None:
                    continue
                money = functools.partial(tr.value, unit="currency", currency=currency)
                econ_rows.append([n, ch, tr.number(c.get("conversions"), 1), money(c.get("value")),
                                  money(c.get("spend")), money(c.get("cac")),
                                  "—" if c.get("roas") is None else tr.number(c["roas"], 2),
                                  tr.percent(c.get("roi"), 0)])
        economics = DataTable(caption=tr("attribution_economics"),
                              headers=[tr("col_model"), tr("col_channel"), tr("col_conversions"), tr("col_value"),
                                       tr("col_spend"), tr("col_cac"), tr("col_roas"), tr("col_roi")],
                              rows=econ_rows, numeric=[False, False, True, True, True, True, True, True])
        figure = None
        bars = [{"category": ch, "group": n, "value": credit[(n, ch)].get("conversions") or 0.0}
                for ch in channels for n in names if (n, ch) in credit]
        if bars:
            title = tr("chart_attribution_title")
            desc = tr("chart_attribution_desc", models=", ".join(names), channels=", ".join(channels))
            chart = charts.grouped_bar_chart(f"{self.prefix}-attribution", title, desc, bars, categories=channels,
                                             groups=names, y_title=tr("col_conversions"),
                                             chart_locale=tr.chart_format)
            figure = Figure(chart=_chart_view(chart), table=conversions)
        summary = tr("attribution_summary", attributed=tr.number(a.get("attributed_conversions"), 1),
                     total=tr.number(a.get("total_conversions"), 0))
        return AttributionView(title=str(a.get("title") or tr("attribution")), summary=summary, models=names,
                               conversions=conversions, economics=economics, figure=figure)

    # -- whole page ------------------------------------------------------------------------------
    def scorecard(self, page: dict[str, Any]) -> ScorecardPage:
        r, tr = self.r, self.tr
        in_objectives = {n for o in r.objectives for n in o.kpis}
        return ScorecardPage(
            **page,
            spec_name=r.spec.name, title=r.spec.title, description=r.spec.description,
            owner=r.spec.owner, owner_href=self.links.person_href(r.spec.owner),
            measured_by=r.spec.measured_by, measured_by_href=self.links.person_href(r.spec.measured_by),
            as_of=tr.date(r.as_of), as_of_iso=r.as_of.isoformat(),
            summary=self.summary(r.goals()), total_goals=len(r.goals()),
            objectives=[self.objective(o) for o in r.objectives],
            other_tiles=[self.tile(k) for k in r.kpis if k.name not in in_objectives],
            kpis=[s for s in (self.kpi_section(k) for k in r.kpis) if s.figures],
            control_groups=[self.control_group(cg) for cg in r.control_groups],
            attribution=self.attribution(r.attribution) if r.attribution else None,
            sources=[SourceView(name=s.name, connector=s.connector, rows=tr.number(s.rows, 0),
                                first=tr.date(s.first), latest=tr.date(s.latest)) for s in r.sources],
            notes=[NoteView(level=n.level, message=tr.message(n.code, n.params, n.message)
                            + (f" ({n.where})" if n.where else "")) for n in r.notes],
        )


def _pivot(lines: list[charts.Line], fmt: Callable[[float | None], str]) -> list[list[str]]:
    order: list[str] = []
    cells: dict[tuple[int, str], float | None] = {}
    for i, line in enumerate(lines):
        for label, value in line.points:
            if label not in order:
                order.append(label)
            cells[(i, label)] = value
    return [[label] + [fmt(cells.get((i, label))) for i in range(len(lines))] for label in order]


_GRAINS = ["day", "week", "month", "quarter", "year"]


def _grain_rank(grain: str) -> int:
    return _GRAINS.index(grain) if grain in _GRAINS else len(_GRAINS)


def _grains(k: KpiResult) -> list[str]:
    seen: list[str] = []
    for h in k.headlines:
        if h.grain not in seen:
            seen.append(h.grain)
    for s in k.series:
        if s.grain not in seen:
            seen.append(s.grain)
    return seen
