"""Which periods of a KPI a reader may compare: running, not complete yet, stale; and their names.

* **Running**: the period the as-of date falls in (a month with one day of data). The engine marks
  its points ``partial``.
* **Not complete yet**: a period that has ended but whose values still arrive. A funnel counts an
  entity once its conversion window has closed and a retention KPI once its cohort has aged, so
  their last periods have no value yet; these are the trailing points without a value of such KPIs.
* **Stale**: a KPI whose latest period is older than its scorecard's other KPIs' (a March value
  among October ones: an export that stopped).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from metricspec.engine import maturity
from metricspec.engine.maturity import GRAINS
from metricspec.plan.periods import period_end

if TYPE_CHECKING:
    from metricspec.engine.results import Headline, KpiResult, Point, Series
    from metricspec.render.i18n import Translator

STALE_AFTER = 1
"""A KPI is stale when its latest period ends more than this many of its periods before the newest."""


def headline_series(k: KpiResult, grain: str) -> Series | None:
    return next((s for s in k.series if s.kind == "headline" and s.grain == grain), None)


def not_complete(k: KpiResult, points: list[Point], grain: str, as_of: dt.date) -> set[dt.date]:
    """Periods that have ended but whose values are still arriving (the engine's one rule,
    :func:`metricspec.engine.maturity.not_complete`, which goal judgements use too)."""
    return maturity.not_complete(points, grain, as_of, k.complete_after_days, k.form)


def unfinished(k: KpiResult, points: list[Point], grain: str, as_of: dt.date) -> set[dt.date]:
    """Running periods and periods not complete yet."""
    return {p.period for p in points if p.partial} | not_complete(k, points, grain, as_of)


def previous_point(k: KpiResult, h: Headline) -> Point | None:
    """The point before the headline's period in its series (what "vs previous period" compares with)."""
    s = headline_series(k, h.grain)
    if s is None:
        return None
    for i, p in enumerate(s.points):
        if p.period == h.period:
            return s.points[i - 1] if i > 0 else None
    return None


def year_earlier(tr: Translator, h: Headline) -> str | None:
    """The name of the period a year before the headline's (``Oct 2025``, ``2025-Q3``), if it has one."""
    if h.period is None:
        return None
    try:
        earlier = h.period.replace(year=h.period.year - 1)
    except ValueError:  # 29 February
        earlier = h.period - dt.timedelta(days=365)
    if h.grain in ("month", "year", "day"):
        return tr.period(earlier, h.grain)
    if h.grain in ("quarter", "week") and h.label and str(h.period.year) in h.label:
        return h.label.replace(str(h.period.year), str(earlier.year), 1)
    return None


def latest_end(k: KpiResult) -> dt.date | None:
    """The last day of the KPI's latest headline period."""
    h = k.headlines[0] if k.headlines else None
    if h is None or h.period is None or h.grain not in GRAINS:
        return None
    return period_end(h.period, h.grain) - dt.timedelta(days=1)


def is_stale(k: KpiResult, newest: dt.date | None) -> bool:
    """Whether ``k``'s latest period ends more than :data:`STALE_AFTER` of its periods before ``newest``."""
    end = latest_end(k)
    h = k.headlines[0] if k.headlines else None
    if end is None or newest is None or h is None or h.period is None:
        return False
    length = period_end(h.period, h.grain) - h.period
    return newest - end > length * STALE_AFTER


def newest_end(kpis: list[KpiResult]) -> dt.date | None:
    ends = [e for e in (latest_end(k) for k in kpis) if e is not None]
    return max(ends, default=None)
