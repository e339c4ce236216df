"""KPI tiles: a big number and one line per comparison that exists, as Evidence's BigValue and
Lightdash's big-number tiles do (see docs/scorecards.md for what was taken from them and why).

A tile shows the latest complete period's value, compact (``11.3k``, every digit on hover), then a
line per comparison: ``▲ +462 (+4.3%)  Oct 2026 vs Sep 2026`` (compact from ten thousand on, as the value:
``▼ -€31.5k (-27.6%)``), the previous period, a year earlier and
the KPI's ``vs:`` offset, each only when it has a value; arrows and colours follow the KPI's
direction (a cost going down is good). A rate's change is in percentage points. A period whose
values are still arriving says so instead of a change; a KPI whose data stopped is flagged stale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.render.kpi_numbers import KpiFormat, kpi_format
from metricspec.render.periods import is_stale, not_complete, previous_point, year_earlier
from metricspec.render.views import BenchmarkView, ChangeView, KpiTile

if TYPE_CHECKING:
    import datetime as dt

    from metricspec.engine.results import Headline, KpiResult, Results
    from metricspec.render.figures import Figures
    from metricspec.render.i18n import Translator


def trend_class(change: float | None, direction: str) -> str:
    if not change:
        return "flat"
    return "good" if (change > 0) == (direction != "decrease") else "bad"


def arrow(change: float | None) -> str:
    if not change:
        return "■"
    return "▲" if change > 0 else "▼"


class Tiles:
    """Builds the tiles of one Results document in one language."""

    def __init__(self, results: Results, tr: Translator, figures: Figures, newest: dt.date | None) -> None:
        self.r, self.tr, self.figures, self.newest = results, tr, figures, newest

    def change(self, fmt: KpiFormat, k: KpiResult, change: float | None, relative: float | None,
               compared: str) -> ChangeView | None:
        if change is None:
            return None
        rel = fmt.relative(relative)
        text = fmt.compact_delta(change) + (f" ({rel})" if rel else "")  # compact, as the tile's value
        return ChangeView(arrow=arrow(change), text=text, compared=compared,
                          trend_class=trend_class(change, k.direction))

    def changes(self, fmt: KpiFormat, k: KpiResult, h: Headline) -> list[ChangeView]:
        tr = self.tr
        period = tr.period(h.period, h.grain, h.label)
        prev = previous_point(k, h)
        out = [self.change(fmt, k, h.change, h.change_pct, tr(
            "compared_periods", period=period,
            earlier=tr.period(prev.period, h.grain, prev.label) if prev else tr("previous_period")))]
        year = year_earlier(tr, h)
        out.append(self.change(fmt, k, h.yoy_change, h.yoy_change_pct, tr(
            "compared_periods", period=period, earlier=year) if year else tr("vs_year_earlier")))
        if h.vs is not None:  # the KPI's `vs:` offset: the period it names, and its title ("4 weeks earlier")
            earlier = tr.period(h.vs.period, h.grain, h.vs.label) if h.vs.period else (h.vs.label or "—")
            out.append(self.change(fmt, k, h.vs.change, h.vs.change_pct, tr(
                "compared_offset", period=period, earlier=earlier, title=h.vs.title)))
        return [c for c in out if c is not None]

    def moved(self, k: KpiResult, h: Headline | None) -> float:
        """How far the KPI moved since the previous period: its relative change, or for rates its change in
        points (0.02 for 2 pp); 0 when it cannot be compared."""
        if h is None or h.change is None:
            return 0.0
        if k.unit == "percent":
            return abs(h.change)
        return abs(h.change_pct) if h.change_pct is not None else 0.0

    def tile(self, k: KpiResult, href: str | None, grain: str | None = None) -> KpiTile:
        """The tile of ``k``'s headline in ``grain`` (a goal's: see Builder.goal_grain), else its first."""
        tr = self.tr
        fmt = kpi_format(self.r, k.name, tr)
        h = next((x for x in k.headlines if x.grain == grain), k.headlines[0] if k.headlines else None)
        unfinished = None
        s = next((s for s in k.series if s.kind == "headline" and h and s.grain == h.grain), None)
        if h is not None and s is not None and h.period in not_complete(k, s.points, h.grain, self.r.as_of):
            unfinished = tr("not_complete_yet", period=tr.period(h.period, h.grain, h.label))
        changes = self.changes(fmt, k, h) if h is not None and h.grain != "all" else []
        latest = tr.period(h.period, h.grain, h.label) if h else "—"
        return KpiTile(
            name=k.name, title=k.title, description=k.description, href=href,
            grain=tr.grain(h.grain) if h else "—", period=latest,
            value=fmt.compact(h.value if h else None), value_full=fmt.full(h.value if h else None),
            trend_class=changes[0].trend_class if changes else "flat", changes=changes,
            benchmarks=[BenchmarkView(title=b.title, value=fmt.compact(b.value), difference=fmt.compact_delta(b.difference),
                                      relative=fmt.relative(b.relative))
                        for b in (h.benchmarks if h else []) if b.value is not None],
            sparkline=self.figures.sparkline(k, h) if h else None,
            comparable=h is None or h.grain != "all",
            unfinished=unfinished,
            stale=tr("stale_since", period=latest) if is_stale(k, self.newest) else None,
            moved=self.moved(k, h) if unfinished is None else 0.0,
        )
