"""A KPI's values as :class:`~metricspec.engine.results.Point` lists, built from polars' typed columns.

Kept apart from :mod:`metricspec.engine.goals` so that a run without goals does not import the goals'
forecasting (numpy and the forecast models): see the start-up notes in docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import polars as pl

from metricspec.engine.results import Point
from metricspec.plan.periods import ends_after, fixed, label, period_end


@functools.lru_cache(maxsize=4096)
def _period_info(period: dt.date, grain: str, as_of: dt.date, offset: object = None) -> tuple[str, bool]:
    """(label, partial) of a period; ``offset``: an hour's UTC offset, part of the cache key (one instant
    at two offsets, from specs in two time zones, has two labels)."""
    return label(period, grain), ends_after(period, grain, as_of)


_new_point = Point.__new__
# the slots' own setters: they skip the frozen dataclass's __setattr__ guard, as its __init__ does
_set_period, _set_label, _set_value, _set_partial = (
    Point.__dict__[name].__set__ for name in ("period", "label", "value", "partial"))


def make_points(periods: Iterable[dt.date], values: Iterable[float | None], grain: str, as_of: dt.date,
                ) -> list[Point]:
    """Points from values polars already typed (dates, floats or None), without re-validation.

    A run builds tens of thousands of points; this does what ``Point(...)`` does at about half the
    cost. ``tests/test_engine_kpis.py`` checks the result equals points built the ordinary way.
    """
    info: dict[dt.date, tuple[str, bool]] = {}
    out: list[Point] = []
    append = out.append
    for period, value in zip(periods, values, strict=True):
        period = fixed(period)  # an hour: its own UTC offset (the two 02:00 of a 25-hour day are two keys)
        known = info.get(period)
        if known is None:
            offset = period.utcoffset() if isinstance(period, dt.datetime) else None
            known = info[period] = _period_info(period, grain, as_of, offset)
        point = _new_point(Point)
        _set_period(point, period)
        _set_label(point, known[0])
        _set_value(point, value)
        _set_partial(point, known[1])
        append(point)
    return out


def trend_points(frame: pl.DataFrame, grain: str, as_of: dt.date) -> list[Point]:
    """Series rows as Points."""
    return make_points(frame["period"].to_list(), frame["value"].to_list(), grain, as_of)


def latest_complete(points: list[Point], until: dt.date, grain: str) -> Point | None:
    """Latest non-null point whose period ended by ``until`` (else the latest non-null one)."""
    done = [p for p in points if p.value is not None and period_end(p.period, grain) <= until + dt.timedelta(days=1)]
    if done:
        return done[-1]
    anyp = [p for p in points if p.value is not None and p.period <= until]
    return anyp[-1] if anyp else None
