"""Typed template contexts: the Results document turned into display-ready, localised views.

Templates receive one pydantic model per page (``ScorecardPage`` here; ``IndexPage``, ``KpiPage``,
``PersonPage`` and the parts pages share in :mod:`metricspec.render.views`, re-exported here) plus
the translator ``_``. Every value is already formatted for the locale, so templates only lay things
out. Charts are built by :mod:`metricspec.render.figures`, the control-group section by
:mod:`metricspec.render.control_groups`, the attribution section by
:mod:`metricspec.render.attribution_view`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from metricspec.engine.results import STATUS_ORDER
from metricspec.plan.periods import label
from metricspec.render.attribution_view import attribution_view
from metricspec.render.cohorts import cohort_view
from metricspec.render.control_groups import ControlGroupView, control_group_view
from metricspec.render.figures import Figures, extra_scope
from metricspec.render.formatting import kpi_unit
from metricspec.render.i18n import Translator
from metricspec.render.kpi_numbers import kpi_format
from metricspec.render.names import readable_results
from metricspec.render.periods import is_stale, newest_end
from metricspec.render.stages import by_stage
from metricspec.render.tiles import Tiles
from metricspec.render.views import (
    AttributionView,
    BenchmarkView,
    ChangeView,
    ChartView,
    DataTable,
    Figure,
    GoalLink,
    GoalView,
    IncrementalView,
    IndexPage,
    KpiPage,
    KpiSection,
    KpiTile,
    Links,
    NavLink,
    NoteView,
    ObjectiveView,
    Page,
    PersonGroup,
    PersonLink,
    PersonPage,
    ProgressView,
    SmartView,
    SourceView,
    SparklineView,
    SpecSummary,
    StatusCount,
    StatusView,
    slugify,
)

if TYPE_CHECKING:
    from metricspec.engine.results import (
        DataNote,
        ExperimentResult,
        GoalResult,
        KpiResult,
        MessageParams,
        ObjectiveResult,
        Results,
    )

__all__ = [
    "AttributionView", "BenchmarkView", "Builder", "ChangeView", "ChartView", "ControlGroupView", "DataTable",
    "Figure", "GoalLink", "GoalView", "IncrementalView", "IndexPage", "KpiPage", "KpiSection", "KpiTile", "Links",
    "NavLink", "NoteView", "ObjectiveView", "Page", "PersonGroup", "PersonLink", "PersonPage", "ProgressView",
    "ScorecardPage", "SmartView", "SourceView", "SparklineView", "SpecSummary", "StatusCount", "StatusView", "slugify",
]

SEVERITY = {"missed": 0, "off_track": 1, "at_risk": 2, "no_data": 3, "on_track": 4, "target_reached": 5,
            "achieved": 6}
"""Goals in lists, worst first: what needs attention (missed, off track, at risk) leads."""
ATTENTION = 3  # statuses of severity below this need attention
STATUS_ICONS = {"achieved": "✔", "target_reached": "✓", "on_track": "●", "at_risk": "▲", "off_track": "▼",
                "missed": "✖", "no_data": "○"}
STATUSES = sorted(STATUS_ORDER, key=STATUS_ORDER.__getitem__)
HEADLINE_KPIS = 4  # KPIs an index card shows
MOVED_MOST = 6  # KPIs a scorecard's overview shows


class ScorecardPage(Page):
    goal_rows: list[GoalLink]  # the overview: every goal, worst first, linked to its card
    moved: list[KpiTile]  # the overview: the KPIs that moved most
    chart_count: int  # charts in the trends section (behind a summary)
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


class Builder:
    """Builds the views of one Results document in one language."""

    def __init__(self, results: Results, tr: Translator, links: Links | None = None) -> None:
        results = readable_results(results)
        self.r = results
        self.tr = tr
        self.links = links or Links()
        self.kpis = {k.name: k for k in results.kpis}
        self.prefix = slugify(results.spec.name)
        self.figures = Figures(results, tr, self.prefix)
        self.tiles = Tiles(results, tr, self.figures, newest_end(results.kpis))

    # -- helpers ---------------------------------------------------------------------------
    def status(self, status: str) -> StatusView:
        return StatusView(key=status, label=self.tr.status(status), icon=STATUS_ICONS[status])

    def chance(self, g: GoalResult) -> str:
        """A goal's chance of meeting its target at the deadline, on its card and in the goals table ("—"
        once the goal is final, or without a forecast)."""
        return self.tr.chance(g.chance) if g.chance is not None and not g.final else "—"

    def summary(self, goals: list[GoalResult]) -> list[StatusCount]:
        counts = dict.fromkeys(STATUSES, 0)
        for g in goals:
            counts[g.status] += 1
        return [StatusCount(status=self.status(s), count=counts[s]) for s in STATUSES]

    def scope_text(self, scope: dict[str, Any]) -> str:
        return ", ".join(f"{k} = {v}" for k, v in sorted(scope.items(), key=lambda kv: str(kv[0])))

    @staticmethod
    def goal_anchor(g: GoalResult) -> str:
        return f"goal-{slugify(g.objective)}-{slugify(g.id)}"

    # -- goals -----------------------------------------------------------------------------
    def goal(self, g: GoalResult) -> GoalView:
        tr = self.tr
        unit, cur = kpi_unit(self.r, g.kpi)
        fmt = self.figures.fmt(g.kpi)  # the KPI's one precision, as on its tile and charts
        digits = kpi_format(self.r, g.kpi, tr).digits  # and in its sentences

        kpi = self.kpis.get(g.kpi)
        band = {i.level: i for i in g.forecast_intervals}
        return GoalView(
            id=g.id, anchor=self.goal_anchor(g), title=g.title,
            status=self.status(g.status),
            status_reason=tr.message(g.status_reason_code, self.name_left_out(g, g.status_reason_params),
                                     g.status_reason, unit, cur, digits),
            kpi_title=kpi.title if kpi else g.kpi, kpi_href=self.links.kpi_href(self.r.spec.name, g.kpi) if kpi else None,
            scope=self.scope_text(g.scope), measure=tr(f"measure_{g.measure}"),
            baseline=fmt(g.baseline), target=fmt(g.target), current=fmt(g.current), expected=fmt(g.expected),
            forecast=fmt(g.forecast),
            forecast_method=tr.message(g.forecast_method_code, g.forecast_method_params, g.forecast_method, unit, cur),
            forecast_range=tr("interval", low=fmt(band[0.8].low), high=fmt(band[0.8].high)) if 0.8 in band else "—",
            forecast_range_95=tr("forecast_range_95", low=fmt(band[0.95].low), high=fmt(band[0.95].high))
            if 0.95 in band else None,
            chance=self.chance(g),
            suggestions=[tr("suggested_target", target=fmt(s.target), chance=tr.chance(s.chance))
                         for s in g.suggested_targets],
            ambition=tr(f"ambition_{g.ambition}") if g.ambition else None,
            progress_text=tr.percent(g.progress, 0) if g.progress is not None else "—",
            start=tr.date(g.start), deadline=tr.date(g.deadline),
            measured_by=g.measured_by, measured_by_href=self.links.person_href(g.measured_by),
            responsible=g.responsible, responsible_href=self.links.person_href(g.responsible),
            campaign=g.campaign, progress=goal_bar(tr, g, fmt),
            smart=[SmartView(criterion=tr(f"smart_{f.criterion}"), ok=f.ok,
                             message=tr.message(f.code, f.params, f.message, unit, cur, digits))
                   for f in g.smart],
            figure=self.figures.goal(g),
            notes=[self.goal_note(g, n, unit, cur) for n in g.notes],
        )

    def goal_note(self, g: GoalResult, note: DataNote, unit: str, currency: str | None) -> str:
        """A note of the goal's judgement; the periods left out named as the page names periods (``Oct 2026``)."""
        return self.tr.message(note.code, self.name_left_out(g, note.params), note.message, unit, currency)

    def name_left_out(self, g: GoalResult, params: MessageParams) -> MessageParams:
        """A message's ``periods`` (the periods the goal left out, as the engine labels them: ``2026-10``)
        named as the page names periods (``Oct 2026``)."""
        if "periods" not in params or not g.left_out:
            return params
        return {**params, "periods": ", ".join(self.tr.period(p, g.grain, label(p, g.grain)) for p in g.left_out)}

    def goal_link(self, g: GoalResult, href: str) -> GoalLink:
        fmt = self.figures.fmt(g.kpi)
        return GoalLink(title=g.title, href=f"{href}#{self.goal_anchor(g)}", status=self.status(g.status),
                        current=fmt(g.current), target=fmt(g.target), deadline=self.tr.date(g.deadline),
                        chance=self.chance(g), spec_title=self.r.spec.title, severity=SEVERITY[g.status])

    def goal_links(self, href: str = "") -> list[GoalLink]:
        """Every goal, worst status first (the spec's order within a status)."""
        return sorted((self.goal_link(g, href) for g in self.r.goals()), key=lambda link: link.severity)

    # -- KPIs ------------------------------------------------------------------------------
    def goal_grain(self, kpi: str) -> str | None:
        """The grain of the first goal on ``kpi``'s own series (no extra scope): its tile shows that
        goal's period, so tile and goal card name the same number."""
        k = self.kpis.get(kpi)
        for g in self.r.goals():
            if g.kpi == kpi and not extra_scope(g, k):
                return g.grain
        return None

    def tile(self, k: KpiResult) -> KpiTile:
        """A KPI's tile, in the grain of a goal on the KPI (else its first)."""
        return self.tiles.tile(k, self.links.kpi_href(self.r.spec.name, k.name), self.goal_grain(k.name))

    def moved_most(self, n: int = MOVED_MOST) -> list[KpiTile]:
        """The ``n`` KPIs that moved most since their previous period (rates by points, others relatively),
        stale ones left out."""
        tiles = [t for t in (self.tile(k) for k in self.r.kpis) if t.moved > 0 and t.stale is None]
        return sorted(tiles, key=lambda t: -t.moved)[:n]

    def kpi_section(self, k: KpiResult) -> KpiSection:
        return KpiSection(name=k.name, anchor=f"kpi-{slugify(k.name)}", title=k.title, description=k.description,
                          href=self.links.kpi_href(self.r.spec.name, k.name), figures=self.figures.kpi(k),
                          cohorts=cohort_view(self.tr, k))

    def segment_figures(self, k: KpiResult) -> list[Figure]:
        return self.figures.segments(k)

    def headline_kpis(self) -> list[KpiTile]:
        """The KPIs an index card shows: those the goals are measured on, then the objectives' others."""
        names = [g.kpi for g in self.r.goals()] + [n for o in self.r.objectives for n in o.kpis]
        names += [k.name for k in self.r.kpis]
        chosen = [n for n in dict.fromkeys(names) if n in self.kpis][:HEADLINE_KPIS]
        return [self.tile(self.kpis[n]) for n in chosen]

    def stale_titles(self) -> list[str]:
        """The KPIs whose latest period is older than their scorecard's other KPIs'."""
        return [k.title for k in self.r.kpis if is_stale(k, self.tiles.newest)]

    # -- objectives --------------------------------------------------------------------------
    def objective(self, o: ObjectiveResult) -> ObjectiveView:
        tr = self.tr
        return ObjectiveView(
            id=o.id, anchor=f"objective-{slugify(o.id)}", title=o.title, description=o.description,
            type=tr(f"objective_type_{o.type}") if f"objective_type_{o.type}" in tr.fallback else o.type,
            stage=(tr(f"stage_{o.stage}") if f"stage_{o.stage}" in tr.fallback else o.stage) if o.stage else None,
            owner=o.owner, owner_href=self.links.person_href(o.owner),
            goals=[self.goal(g) for g in o.goals],
            tiles=[self.tile(self.kpis[n]) for n in o.kpis if n in self.kpis],
        )

    # -- control groups ----------------------------------------------------------------------
    def control_group(self, cg: ExperimentResult) -> ControlGroupView:
        return control_group_view(cg, self.tr, anchor=f"cg-{slugify(cg.name)}",
                                  chart_id=f"{self.prefix}-cg-{slugify(cg.name)}")

    # -- whole page ------------------------------------------------------------------------------
    def scorecard(self, page: dict[str, Any]) -> ScorecardPage:
        r, tr = self.r, self.tr
        in_objectives = {n for o in r.objectives for n in o.kpis}
        # on a site every KPI's charts are on its own page, linked from its tile: the scorecard does not chart
        # every KPI a second time; a standalone scorecard has them behind a summary
        on_site = self.links.kpi is not None
        sections = [] if on_site else [s for s in (self.kpi_section(k) for k in r.kpis) if s.figures]
        return ScorecardPage(
            **page, goal_rows=self.goal_links(), moved=self.moved_most(),
            chart_count=sum(len(s.figures) for s in sections),
            spec_name=r.spec.name, title=r.spec.title, description=r.spec.description,
            owner=r.spec.owner, owner_href=self.links.person_href(r.spec.owner),
            measured_by=r.spec.measured_by, measured_by_href=self.links.person_href(r.spec.measured_by),
            as_of=tr.date(r.as_of), as_of_iso=r.as_of.isoformat(),
            summary=self.summary(r.goals()), total_goals=len(r.goals()),
            objectives=[self.objective(o) for o in by_stage(r.objectives)],
            other_tiles=[self.tile(k) for k in r.kpis if k.name not in in_objectives],
            kpis=sections,
            control_groups=[self.control_group(cg) for cg in r.control_groups],
            attribution=attribution_view(r, r.attribution, tr, self.prefix) if r.attribution else None,
            sources=[SourceView(name=s.name, connector=s.connector, rows=tr.number(s.rows, 0),
                                first=tr.date(s.first), latest=tr.date(s.latest)) for s in r.sources],
            notes=[NoteView(level=n.level, message=tr.message(n.code, n.params, n.message)
                            + (f" ({n.where})" if n.where else "")) for n in r.notes],
        )


def goal_bar(tr: Translator, g: GoalResult, fmt: Callable[[float | None], str]) -> ProgressView | None:
    """A goal's bar from the engine's one judgement (``attainment``): full exactly when the current value
    meets the target, the overshoot said in words, the value expected today on the same scale."""
    if g.attainment is None or g.current is None:
        return None
    met = g.attainment >= 1
    fill = 100.0 if met else math.floor(g.attainment * 1000) / 10  # never rounds up to a full bar
    if not met:
        whole = min(math.floor(g.attainment * 100 + 1e-9), 99) / 100  # whole percent, down: never "100%" short of it
        label = tr("bar_label", current=fmt(g.current), target=fmt(g.target), share=tr.percent(whole, 0))
    elif g.attainment > 1 and g.target != 0:
        over = abs(g.current - g.target) / abs(g.target)
        label = tr(f"bar_over_{g.direction}", current=fmt(g.current), target=fmt(g.target), over=tr.percent(over, 1))
    else:
        label = tr("bar_met", current=fmt(g.current), target=fmt(g.target))
    expected = None
    if g.expected is not None and not g.final:
        share = _share_of_target(g.expected, g.target, g.direction)
        if share is not None:
            expected = round(min(max(share, 0.0), 1.0) * 100, 2)
            label += "; " + tr("bar_expected", expected=tr.percent(min(max(share, 0.0), 1.0), 0))
    return ProgressView(fill=fill, expected=expected, label=label, met=met)


def _share_of_target(value: float, target: float, direction: str) -> float | None:
    """``value`` on the bar's scale (the engine's attainment rule without the fallbacks)."""
    if direction == "increase" and target > 0 and value >= 0:
        return value / target
    if direction == "decrease" and value > 0 and target >= 0:
        return target / value
    return None
