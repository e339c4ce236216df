"""A goal's chart: what the goal is measured on, period by period, the target, and the forecast.

One chart a goal, drawn so that it says what the goal card says:

* the line is the goal's own measure — for a running total (``total`` of a count or sum) the total
  from the goal's start to the end of each period, never the per-period amounts a total target would
  tower over; for other goals the KPI per period;
* only complete periods are drawn: a period still running is not a value yet;
* the x axis runs on to the period the goal is judged in, where the forecast sits with its 80 %
  range (a bar) — the same numbers as the card;
* the target is a horizontal rule, in the site's one colour for targets;
* a value axis that does not start at zero gets a minimum span, and ``Chart.zoomed`` says so (the
  figure's note), as on every trend chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metricspec.render import charts
from metricspec.render.chart_layers import value_domain

ACTUAL, FORECAST = "actual", "forecast"
LEGEND_PAIR_CHARS = 18
"""Legend entries up to this long sit two a row on a phone."""


@dataclass(frozen=True)
class Outlook:
    """The forecast drawn at the deadline's period."""

    label: str
    point: float
    low: float
    high: float


def goal_chart(chart_id: str, title: str, description: str, points: Sequence[tuple[str, float]],
               future: Sequence[str], outlook: Outlook | None, target: float, names: dict[str, str], *,
               axes: charts.Axes, chart_locale: charts.Locale = "en-GB", width: int = 520, height: int = 200,
               ) -> charts.Chart:
    """``points``: the complete periods' values; ``future``: the period labels still to come, up to the
    deadline's; ``names``: the legend entries of ``actual``, ``forecast``, ``range`` and ``target``."""
    fmt = axes.fmt
    order = list(dict.fromkeys([label for label, _ in points] + list(future)))
    rows = [{"period": label, "value": value, "series": names[ACTUAL], "text": fmt(value),
             "tip": f"{label} · {names[ACTUAL]}: {fmt(value)}"} for label, value in points]
    legend = [names[ACTUAL], names["target"]] + ([names[FORECAST], names["range"]] if outlook is not None else [])
    colours = [charts.PALETTE[0], charts.TARGET, charts.PALETTE[0], charts.PALETTE[0]][:len(legend)]
    colour = {"color": _colour(legend, colours), **_look(legend)}
    x = charts._field("period", "ordinal", sort=order, title=axes.x_title, scale={"domain": order},
                      axis={"labelAngle": -40 if len(order) > 8 else 0, "labelOverlap": True, "labelLimit": 90})
    drawn = [v for _, v in points] + [target] + ([outlook.low, outlook.high, outlook.point] if outlook else [])
    domain, zoomed = value_domain(drawn, axes.unit, axes.zero)
    y = charts._field("value", "quantitative", title=axes.y_title,
                      axis={"format": charts.y_format(axes.unit), "tickCount": 5},
                      scale={"zero": axes.zero, "nice": True, **({"domain": domain} if domain else {})})
    layers: list[dict[str, Any]] = [
        {"data": {"values": rows}, "mark": {"type": "line", "point": {"size": 22}, "strokeWidth": 2, "aria": False},
         "encoding": {"x": x, "y": y, **colour, "tooltip": charts._field("tip", "nominal"),
                      "description": charts._field("tip", "nominal")}}]
    if outlook is not None:
        layers += _forecast_layers(points[-1] if points else None, outlook, names, x, y, colour, axes)
    layers.append({"data": {"values": [{"series": names["target"], "value": target, "text": fmt(target),
                                        "tip": f"{names['target']}: {fmt(target)}"}]},
                   "mark": {"type": "rule", "strokeDash": [2, 2], "strokeWidth": 1.5},
                   "encoding": {"y": charts._field("value", "quantitative"), **colour,
                                "description": charts._field("tip", "nominal")}})
    spec = charts._spec({"layer": layers, "width": width, "height": height, "description": description})
    return charts.Chart(chart_id, title, description, *charts.chart_key(spec, chart_locale), zoomed=zoomed)


def _forecast_layers(last: tuple[str, float] | None, outlook: Outlook, names: dict[str, str], x: dict[str, Any],
                     y: dict[str, Any], colour: dict[str, Any], axes: charts.Axes) -> list[dict[str, Any]]:
    fmt = axes.fmt
    ends = ([last] if last is not None else []) + [(outlook.label, outlook.point)]
    line = [{"period": period, "value": value, "series": names[FORECAST], "text": fmt(value),
             "tip": f"{period} · {names[FORECAST]}: {fmt(value)}"} for period, value in ends]
    band = {"period": outlook.label, "value": outlook.low, "high": outlook.high, "series": names["range"],
            "text": f"{fmt(outlook.low)} – {fmt(outlook.high)}",
            "tip": f"{outlook.label} · {names['range']}: {fmt(outlook.low)} – {fmt(outlook.high)}"}
    return [
        {"data": {"values": line}, "mark": {"type": "line", "point": {"size": 30, "filled": True}, "strokeWidth": 2,
                                            "strokeDash": [5, 3], "aria": False},
         "encoding": {"x": x, "y": y, **colour, "tooltip": charts._field("tip", "nominal"),
                      "description": charts._field("tip", "nominal")}},
        {"data": {"values": [band]}, "mark": {"type": "bar", "width": 8, "opacity": 0.35},
         "encoding": {"x": x, "y": y, "y2": {"field": "high"}, **colour,
                      "tooltip": charts._field("tip", "nominal"), "description": charts._field("tip", "nominal")}},
    ]


#: How each legend entry is drawn, as its marks are: the value a solid line, the target a dotted rule, the
#: forecast a dashed line, the range a pale band (a wide, faint stroke).
DASHES = {ACTUAL: [1, 0], "target": [2, 2], FORECAST: [5, 3], "range": [1, 0]}
OPACITY = {ACTUAL: 1.0, "target": 1.0, FORECAST: 1.0, "range": 0.35}


def _look(names: list[str]) -> dict[str, Any]:
    """The dash and opacity of each series, on the same field, title and legend as the colour: Vega-Lite
    merges them into one legend, so each entry's swatch looks like its mark (the marks take them too).
    Opacity reads the series as ordered (``ordinal``, sorted as the legend): Vega-Lite warns about opacity
    on an unordered field."""
    keys = [ACTUAL, "target", FORECAST, "range"][:len(names)]
    common = {"title": None, "legend": _legend(names)}
    return {
        "strokeDash": charts._field("series", "nominal", **common, scale={
            "type": "ordinal", "domain": names, "range": [DASHES[k] for k in keys]}),
        "opacity": charts._field("series", "ordinal", **common, sort=names, scale={
            "type": "ordinal", "domain": names, "range": [OPACITY[k] for k in keys]}),
    }


def _legend(names: list[str]) -> dict[str, Any]:
    """The goal chart's one legend: two short entries a row, or one a row when an entry is long, so that it
    fits a phone."""
    columns = 1 if max(len(n) for n in names) > LEGEND_PAIR_CHARS else min(2, len(names))
    return {**charts._legend(names), "columns": columns}


def _colour(names: list[str], colours: list[str]) -> dict[str, Any]:
    """One colour encoding for every layer (layers that disagree on the legend make Vega warn)."""
    return charts._field("series", "nominal", title=None, scale={"domain": names, "range": colours},
                         legend=_legend(names))
