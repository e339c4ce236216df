"""Parts of trend charts that keep them honest: unfinished periods and zoomed value axes.

* The last periods of a chart may not be final: the running period (a month with one day of data)
  or periods whose values still arrive (conversions counted by the week a lead came in). A line
  drawn through them as if they were finished shows a fall that is not there. They are drawn
  hollow, joined to the line by a dotted segment, on a shaded band with a label that is always
  visible (:func:`unfinished_layers`). Goal charts opt out by passing no :class:`Unfinished`.
* A value axis that does not start at zero is zoomed in; a tiny change then fills the chart and
  every tick reads the same number. :func:`value_domain` gives such an axis a minimum span, ten
  steps of the axis labels' precision, so ticks differ, and tells whether it is zoomed at all (the
  caption then says so).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metricspec.render.charts import Line

TOGGLE = "series_toggle"  # the legend-bound selection that highlights a series

# the precision of the axis labels' d3 formats of :func:`metricspec.render.charts.y_format`
_LABEL_STEP = {"percent": 0.001, "ratio": 0.01, "currency": 0.01, "count": 1.0, "days": 1.0}
MIN_SPAN_STEPS = 10
"""A zoomed axis spans at least this many steps of its labels' precision: with five ticks, two steps apart
at the least, no two ticks read the same."""


@dataclass(frozen=True)
class Unfinished:
    """Periods at the end of a chart whose values are not final, and what the band over them says.

    ``periods`` are x labels of the chart; ``text`` is the band's label ("In progress", "Not complete
    yet"); ``note`` is added to the hover text of their points."""

    periods: Sequence[str]
    text: str
    note: str = ""


def label_step(unit: str, values: Sequence[float]) -> float:
    """The smallest difference the axis labels show: fixed for percent, ratio, currency and counts; four
    significant digits of the largest value for plain numbers (d3's ``.4~s``)."""
    if unit in _LABEL_STEP:
        return _LABEL_STEP[unit]
    largest = max((abs(v) for v in values), default=0.0)
    if largest == 0:
        return 0.001
    return float(10 ** (math.floor(math.log10(largest)) - 3))


def value_domain(values: Sequence[float], unit: str, zero: bool) -> tuple[list[float] | None, bool]:
    """The explicit domain of a value axis (None: Vega's own) and whether the axis leaves zero out.

    An axis from zero needs nothing. A zoomed axis whose values span less than
    :data:`MIN_SPAN_STEPS` steps of its labels' precision is widened around their middle to that span
    (never across zero when the values are all on one side of it)."""
    if not values:
        return None, False
    lo, hi = min(values), max(values)
    if zero:
        return None, False
    span = MIN_SPAN_STEPS * label_step(unit, values)
    domain: list[float] | None = None
    if hi - lo < span:
        middle = (lo + hi) / 2
        lo, hi = middle - span / 2, middle + span / 2
        if min(values) >= 0 > lo:  # never invent negative values for positive data
            lo, hi = 0.0, max(hi - lo, span)
        elif max(values) <= 0 < hi:
            lo, hi = min(lo - hi, -span), 0.0
        domain = [lo, hi]
    zoomed = lo > 0 or hi < 0
    return domain, zoomed


def unfinished_layers(unfinished: Unfinished, x: dict[str, Any]) -> list[dict[str, Any]]:
    """The shaded band over the unfinished periods and its label, drawn under the lines."""
    rows = [{"period": p} for p in unfinished.periods]
    band_x = {**x, "bandPosition": 0}
    band = {"data": {"values": rows}, "mark": {"type": "rect", "color": "#e5e7eb", "opacity": 0.8, "aria": False},
            "encoding": {"x": band_x, "x2": {"field": "period", "bandPosition": 1}}}
    last = unfinished.periods[-1]
    label = {"data": {"values": [{"period": last, "label": unfinished.text}]},
             "mark": {"type": "text", "align": "right", "baseline": "top", "dy": 3, "dx": -3, "fontSize": 10,
                      "fontWeight": 600, "color": "#374151", "aria": False},
             "encoding": {"x": {**band_x, "bandPosition": 1}, "y": {"value": 0}, "text": {"field": "label"}}}
    return [band, label]


def trend_rows(lines: Sequence[Line], fmt: Callable[[float], str], unfinished: Unfinished | None) -> list[dict[str, Any]]:
    """One row per point: ``seg`` is ``done`` for a final value, ``open`` for an unfinished one, and
    ``link`` for a line's last final point repeated to start the dotted segment to its unfinished ones."""
    open_periods = set(unfinished.periods) if unfinished else set()
    note = f" ({unfinished.note})" if unfinished and unfinished.note else ""
    rows: list[dict[str, Any]] = []
    for line in lines:
        last_done: dict[str, Any] | None = None
        linked = False
        for label, value in line.points:
            if value is None:
                continue
            is_open = label in open_periods
            row = {"period": label, "value": value, "series": line.name, "seg": "open" if is_open else "done",
                   "tip": f"{label} · {line.name}: {fmt(value)}" + (note if is_open else "")}
            if is_open and last_done is not None and not linked:
                rows.append({**last_done, "seg": "link"})
                linked = True
            if not is_open:
                last_done = row
            rows.append(row)
    return rows


def open_layers(at: dict[str, Any], tip: dict[str, Any], several: bool) -> list[dict[str, Any]]:
    """The dotted segments from each line's last final point and the hollow points of unfinished periods."""
    fade = {"opacity": {"condition": {"param": TOGGLE, "value": 1}, "value": 0.15}} if several else {}
    segment = {"transform": [{"filter": "datum.seg != 'done'"}],
               "mark": {"type": "line", "strokeDash": [2, 3], "strokeWidth": 2, "aria": False},
               "encoding": {**at, **fade}}
    points = {"transform": [{"filter": "datum.seg == 'open'"}],
              "mark": {"type": "point", "filled": False, "fill": "white", "size": 40, "strokeWidth": 2},
              "encoding": {**at, "tooltip": tip, "description": tip, **fade}}
    return [segment, points]
