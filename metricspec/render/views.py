"""The typed view models templates receive: display-ready, localised values (plain ``str``, autoescaped).

One pydantic model per page (``IndexPage``, ``KpiPage``, ``PersonPage`` here; ``ScorecardPage`` in
:mod:`metricspec.render.context`) and the parts pages share. The only markup in a view is chart
SVG from vl-convert (checked in :mod:`metricspec.render.charts`) and, on sites that draw charts in
the browser, a chart's Vega-Lite JSON escaped for a ``<script type="application/json">`` block.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from metricspec.render import charts
from metricspec.render.i18n import Translator


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChartView(View):
    """A chart as built. When the page is rendered (:func:`metricspec.render.html.render_pages`) it gets
    either ``svg``, the static drawing (all of a build's charts drawn at once), or ``embed``, its
    Vega-Lite spec and number locale as JSON escaped for a ``<script type="application/json">`` block,
    for the browser to draw."""

    id: str
    title: str
    description: str
    vega_lite: str  # canonical JSON, with ``locale``: what vl-convert draws (:data:`charts.Key`)
    locale: str
    svg: str = ""
    embed: str = ""

    @property
    def key(self) -> charts.Key:
        return (self.vega_lite, self.locale)


class DataTable(View):
    caption: str
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]


class Figure(View):
    chart: ChartView
    table: DataTable | None = None
    note: str | None = None  # said under the chart: the value axis does not start at zero


def chart_view(c: charts.Chart) -> ChartView:
    return ChartView(id=c.id, title=c.title, description=c.description, vega_lite=c.vega_lite, locale=c.locale)


def interval(tr: Translator, low: float | None, high: float | None, fmt: Callable[[float], str]) -> str:
    """``low … high`` in the page's language; a dash when either end is missing."""
    if low is None or high is None:
        return "—"
    return tr("interval", low=fmt(low), high=fmt(high))


class StatusView(View):
    key: str
    label: str
    icon: str


class StatusCount(View):
    status: StatusView
    count: int


class ProgressView(View):
    """A goal's bar: the current value against the target, never past 100 % (the overshoot is in words)."""

    fill: float  # 0..100: current against target, capped
    expected: float | None  # 0..100, where the value should be today on the same scale
    label: str  # the words: "11,303 of 12,000: 94% of the target", "…met, 2.8% above it"
    met: bool = False  # the current value meets the target (a full bar)


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
    forecast_range: str  # the 80 % range at the deadline ("—" without a forecast)
    forecast_range_95: str | None  # "95% range: … to …"
    chance: str  # of meeting the target at the deadline ("—" without a forecast)
    suggestions: list[str]  # "12,200 (50% likely)"
    ambition: str | None  # "Not ambitious: …" / "Not plausible: …"
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
    notes: list[str] = []  # what the judgement left out and why (pydantic copies the default)


class BenchmarkView(View):
    title: str
    value: str
    difference: str
    relative: str


class GoalLink(View):
    """A goal in a list (the index): its status, numbers and where its card is."""

    title: str
    href: str
    status: StatusView
    current: str
    target: str
    deadline: str = ""
    chance: str = "—"  # of meeting the target at the deadline, as on the goal's card ("—" once final)
    spec_title: str = ""  # the scorecard it is on (the index's "needs attention" strip)
    severity: int = 0  # 0 missed, 1 off track, 2 at risk, then no data, on track, achieved: for ordering


class ChangeView(View):
    """One comparison of a tile, as one line: ``▲ +462 (+4.3%)  Oct 2026 vs Sep 2026``."""

    arrow: str  # ▲ up, ▼ down, ■ unchanged (a symbol beside the colour: colour is never the only signal)
    text: str  # the signed change: ``+462 (+4.3%)``, ``+2.0 pp`` for percentages
    compared: str  # what is compared: ``Oct 2026 vs Sep 2026``
    trend_class: str  # good / bad / flat: up is good unless the KPI's direction says down is


class SparklineView(View):
    """A tile's recent trend as inline SVG (:mod:`metricspec.render.sparkline`); its description names the
    periods and the first and last values (every number is on the KPI's page)."""

    svg: str
    title: str
    description: str
    first: str  # the first and last periods drawn
    last: str


class KpiTile(View):
    name: str
    title: str
    description: str | None
    href: str | None
    grain: str
    period: str
    value: str  # compact where a reader scans: ``11.3k``
    value_full: str  # every digit, on hover: ``11,303``
    trend_class: str  # of the first comparison: good / bad / flat (a colour hint beside a signed number)
    changes: list[ChangeView]  # only comparisons that exist: previous period, a year earlier, the KPI's `vs:`
    benchmarks: list[BenchmarkView]  # benchmarks and competitors with a value
    sparkline: SparklineView | None  # the recent trend, with its numbers as a table
    comparable: bool = True  # False for an all-time KPI (source without dates): no period, no earlier value
    unfinished: str | None = None  # the period's values are still arriving: said instead of a change
    stale: str | None = None  # the KPI's latest period is older than the other KPIs' of its scorecard
    moved: float = 0.0  # how far it moved (relative change, or change in points / 100 for rates): for ordering


class CohortCell(View):
    text: str
    level: int | None  # 0-10: the heat shade of a share (None: the period has not ended)


class CohortRowView(View):
    label: str
    size: str
    cells: list[CohortCell]


class CohortView(View):
    """A cohort_retention KPI's cohort × age table, as a heat-table with the numbers in its cells."""

    heading: str
    caption: str
    note: str
    cohort_header: str
    size_header: str
    age_headers: list[str]
    rows: list[CohortRowView]


class KpiSection(View):
    name: str
    anchor: str
    title: str
    description: str | None
    href: str | None
    figures: list[Figure]
    cohorts: CohortView | None = None


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


class IncrementalView(View):
    """Incremental CAC: social spend per conversion beyond what the control group's rate predicts."""

    group: str
    cac: str
    interval: str
    confidence: str
    conversions: str
    conversions_interval: str
    treatment_n: str
    spend: str
    significant: bool
    significance: str


class AttributionView(View):
    title: str
    summary: str
    models: list[str]
    conversions: DataTable
    economics: DataTable
    cac: DataTable  # CAC by channel (rows) and model (columns)
    figure: Figure | None
    journeys: DataTable | None  # the most common customer journeys
    incremental: IncrementalView | None


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
    scripts: list[str] = []  # site pages whose charts the browser draws: charts.js, then the Vega bundle
    chart_config: str = ""  # those pages: the charts' shared config and number locale, as script-safe JSON


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
    goals: list[GoalLink]  # every goal with its status, worst first
    headlines: list[KpiTile]  # the KPIs the goals are measured on (or the first ones), with sparklines
    stale: list[str] = []  # KPIs whose latest period is older than the others'


class PersonLink(View):
    name: str
    href: str
    goals: int


class IndexPage(Page):
    specs: list[SpecSummary]  # most urgent first
    people: list[PersonLink]
    as_of: str
    overall: str = ""  # "23 goals in 7 scorecards: 3 missed, 10 off track, …"
    attention: list[GoalLink] = []  # goals missed, off track or at risk, worst first


class KpiPage(Page):
    spec_title: str
    spec_href: str
    as_of: str
    tile: KpiTile
    section: KpiSection
    segments: list[Figure]
    goals: list[GoalView]
    owner: str | None = None  # responsible for the KPI
    owner_href: str | None = None
    measured_by: str | None = None  # who measures it
    measured_by_href: str | None = None


class PersonKpi(View):
    """A KPI a person owns or measures, on their page."""

    title: str
    href: str
    roles: list[str]


class PersonGroup(View):
    spec_title: str
    spec_href: str
    as_of: str
    roles: list[str]
    goals: list[GoalView]
    objectives: list[str]
    kpis: list[PersonKpi] = []


class PersonPage(Page):
    name: str
    summary: list[StatusCount]
    groups: list[PersonGroup]


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
