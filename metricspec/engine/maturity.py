"""Which ended periods of a KPI are not complete yet: the one rule the engine's goal judgement and the
scorecards (:mod:`metricspec.render.periods`) share.

A KPI that declares ``complete_after_days`` gets values for a period until that many days after the
period ends (conversions counted by the day the lead came in). A period that ended less than that long
before the as-of date's end is *not complete yet*: a goal leaves it out of its current value, its
forecast's history and its chart, and a scorecard draws it open. Funnel and retention KPIs need no
setting: their trailing ended periods without a value are not complete yet either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from metricspec.engine.results import Point
from metricspec.plan.periods import add_periods, period_end, truncate_date

ONE_DAY = dt.timedelta(days=1)
GRAINS = ("day", "week", "month", "quarter", "year")
MATURING_FORMS = frozenset({"funnel", "retention", "cohort_retention"})
"""KPI forms whose latest ended periods have no value until their window closes."""


def arriving(period: dt.date, grain: str, as_of: dt.date, complete_after_days: float | None) -> bool:
    """Whether values of ``period`` may still arrive on the as-of date: it ended less than
    ``complete_after_days`` before the as-of date's end (False without the setting)."""
    if complete_after_days is None or grain not in GRAINS:
        return False
    return period_end(period, grain) + dt.timedelta(days=complete_after_days) > as_of + ONE_DAY


def still_arriving(as_of: dt.date, until: dt.date, grain: str, complete_after_days: float | None,
                   week_start: str = "monday") -> list[dt.date]:
    """The periods of ``grain`` that ended by ``until`` (the as-of date or an earlier deadline) whose values
    still arrive on the as-of date, oldest first."""
    if complete_after_days is None or grain not in GRAINS:
        return []
    period = truncate_date(until, grain, week_start)
    if period_end(period, grain) > until + ONE_DAY:  # still running: not an ended period
        period = add_periods(period, grain, -1)
    out = []
    while arriving(period, grain, as_of, complete_after_days):
        out.append(period)
        period = add_periods(period, grain, -1)
    return out[::-1]


def not_complete(points: Iterable[Point], grain: str, as_of: dt.date, complete_after_days: float | None,
                 form: str) -> set[dt.date]:
    """The periods of ``points`` that have ended but are not complete yet: those whose values still arrive
    (:func:`arriving`), and the trailing ended periods without a value of a funnel or retention KPI."""
    points = list(points)
    out = {p.period for p in points if not p.partial and arriving(p.period, grain, as_of, complete_after_days)}
    if form not in MATURING_FORMS:
        return out
    for p in reversed(points):
        if p.partial:
            continue
        if p.value is not None:
            break
        out.add(p.period)
    return out
