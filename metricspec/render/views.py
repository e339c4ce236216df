"""The building blocks every page's view is made of: charts, data tables, figures."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from metricspec.render import charts
from metricspec.render.i18n import Translator


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChartView(View):
    """A chart as built: ``svg`` stays empty until the page's charts are drawn (all at once, see
    :func:`metricspec.render.html.render_pages`)."""

    id: str
    title: str
    description: str
    vega_lite: str  # canonical JSON, with ``locale``: what vl-convert draws (:data:`charts.Key`)
    locale: str
    svg: str = ""

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


def chart_view(c: charts.Chart) -> ChartView:
    return ChartView(id=c.id, title=c.title, description=c.description, vega_lite=c.vega_lite, locale=c.locale)


def interval(tr: Translator, low: float | None, high: float | None, fmt: Callable[[float], str]) -> str:
    if low is None or high is None:
        return "—"
    return tr("interval", low=fmt(low), high=fmt(high))
