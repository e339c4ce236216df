"""Static SVG charts: altair (Vega-Lite) specs rendered at build time with vl-convert.

Every chart is a :class:`Chart`: a title, an accessible description and SVG markup. The SVG
comes from vl-convert, which escapes all text (axis labels, legends, titles), so untrusted
names (segment values, channels, campaigns) can never become markup. :func:`svg_markup`
additionally refuses anything script-like and gives element ids a per-chart prefix so several
charts on one page never share ids. Output is byte-stable for the same inputs.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt

Locale = str | dict[str, Any]
PALETTE = ["#1f5fa8", "#c2410c", "#0f766e", "#7c3aed", "#a16207", "#be185d", "#4b5563", "#15803d"]
TEXT = "#1f2933"
GRID = "#d9dee5"
FONT = "'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"

BASE_CONFIG: dict[str, Any] = {
    "background": "white",
    "font": FONT,
    "view": {"stroke": None},
    "axis": {"labelColor": TEXT, "titleColor": TEXT, "gridColor": GRID, "domainColor": "#6b7280",
             "tickColor": "#6b7280", "labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal"},
    "legend": {"labelColor": TEXT, "titleColor": TEXT, "labelFontSize": 11, "orient": "bottom",
               "labelLimit": 220},
    "title": {"color": TEXT, "fontSize": 13, "anchor": "start", "fontWeight": 600},
    "range": {"category": PALETTE},
}


class UnsafeSvgError(ValueError):
    """vl-convert produced something that is not plain drawing markup (never expected)."""


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    svg: str


_FORBIDDEN = re.compile(r"<\s*(script|foreignObject|iframe|object|embed|image|use)\b|\son[a-z]+\s*=|javascript:",
                        re.IGNORECASE)
_ID = re.compile(r'\bid="([^"]+)"')


def svg_markup(svg: str, chart_id: str) -> str:
    """Check vl-convert output and namespace its ids with ``chart_id``."""
    svg = svg.strip()
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1].lstrip()
    if not svg.startswith("<svg") or _FORBIDDEN.search(svg):
        raise UnsafeSvgError("chart SVG contains unexpected markup")
    ids = sorted(set(_ID.findall(svg)), key=len, reverse=True)
    for old in ids:
        new = f"{chart_id}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"').replace(f"url(#{old})", f"url(#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    # the <figure> carries the accessible name; the drawing itself is presentational
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)


def render_svg(chart: alt.TopLevelMixin | dict[str, Any], chart_id: str, chart_locale: Locale = "en-GB") -> str:
    """SVG of a chart; ``chart_locale`` is a d3 locale name or a d3-format locale dict."""
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    key = json.dumps(spec, sort_keys=True, default=str)
    return svg_markup(_vegalite_svg(key, json.dumps(chart_locale, sort_keys=True)), chart_id)


@functools.lru_cache(maxsize=512)
def _vegalite_svg(spec_json: str, locale_json: str) -> str:
    """vl-convert is the slow part of a build; the same chart (a scorecard and its KPI page) renders once."""
    import vl_convert

    return str(vl_convert.vegalite_to_svg(json.loads(spec_json), format_locale=json.loads(locale_json)))


def _config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return chart.configure(**BASE_CONFIG)


def _y_format(unit: str) -> str:
    return {"percent": ".1~%", "ratio": ",.2f", "currency": ",.2~f"}.get(unit, ",.4~s" if unit == "number" else ",~d")


@dataclass(frozen=True)
class Line:
    """One named line on a trend chart: ``(period label, value)`` points in order."""

    name: str
    points: Sequence[tuple[str, float | None]]
    dashed: bool = False


@dataclass(frozen=True)
class Rule:
    name: str
    value: float


def trend_chart(chart_id: str, title: str, description: str, lines: Sequence[Line], rules: Sequence[Rule] = (),
                *, unit: str = "number", y_title: str = "", chart_locale: Locale = "en-GB",
                width: int = 560, height: int = 220) -> Chart:
    """Lines over periods (ordinal x in the given order) with horizontal target rules."""
    order = []
    for line in lines:
        for label, _ in line.points:
            if label not in order:
                order.append(label)
    rows = [{"period": label, "value": value, "series": line.name, "dash": "dashed" if line.dashed else "solid"}
            for line in lines for label, value in line.points if value is not None]
    names = [ln.name for ln in lines] + [r.name for r in rules]
    colour = alt.Color("series:N", title=None, scale=alt.Scale(domain=names, range=_colours(len(names))),
                       sort=names)
    x = alt.X("period:O", sort=order, title=None,
              axis=alt.Axis(labelAngle=-40 if len(order) > 8 else 0, labelOverlap=True, labelLimit=90))
    y = alt.Y("value:Q", title=y_title or None, axis=alt.Axis(format=_y_format(unit), tickCount=5),
              scale=alt.Scale(zero=False, nice=True))
    base = alt.Chart(alt.Data(values=rows))
    layers: list[Any] = [
        base.mark_line(point=alt.OverlayMarkDef(size=22), strokeWidth=2).encode(
            x=x, y=y, color=colour,
            strokeDash=alt.StrokeDash("dash:N", scale=alt.Scale(domain=["solid", "dashed"], range=[[1, 0], [5, 3]]),
                                      legend=None)),
    ]
    if rules:
        rule_rows = [{"series": r.name, "value": r.value} for r in rules]
        layers.append(alt.Chart(alt.Data(values=rule_rows)).mark_rule(strokeDash=[2, 2], strokeWidth=1.5)
                      .encode(y="value:Q", color=colour))
    chart = alt.layer(*layers).properties(title=title, width=width, height=height, description=description)
    return Chart(chart_id, title, description, render_svg(_config(chart), chart_id, chart_locale))


def sparkline(chart_id: str, title: str, description: str, values: Sequence[float | None],
              chart_locale: Locale = "en-GB") -> Chart:
    rows = [{"i": i, "value": v} for i, v in enumerate(values) if v is not None]
    chart = (alt.Chart(alt.Data(values=rows))
             .mark_area(line={"color": PALETTE[0], "strokeWidth": 1.5}, color="#dbe7f5")
             .encode(x=alt.X("i:Q", axis=None, scale=alt.Scale(nice=False)),
                     y=alt.Y("value:Q", axis=None, scale=alt.Scale(zero=False)))
             .properties(width=160, height=36, description=description))
    cfg = dict(BASE_CONFIG, padding=2)
    return Chart(chart_id, title, description, render_svg(chart.configure(**cfg), chart_id, chart_locale))


def interval_chart(chart_id: str, title: str, description: str,
                   rows: Sequence[dict[str, Any]], *, x_title: str, significance: Sequence[str],
                   chart_locale: Locale = "en-GB", width: int = 460) -> Chart:
    """Point estimates with confidence-interval bars (rows: ``label, estimate, low, high, significance``;
    ``significance`` holds the two legend labels, significant first)."""
    data = [dict(r) for r in rows if r.get("estimate") is not None]
    labels = [r["label"] for r in data]
    height = max(40, 34 * len(labels))
    y = alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=200))
    base = alt.Chart(alt.Data(values=data))
    sig = alt.Color("significance:N", title=None,
                    scale=alt.Scale(domain=list(significance), range=[PALETTE[0], "#6b7280"]))
    bars = base.transform_filter("datum.low != null").mark_rule(strokeWidth=3).encode(
        x=alt.X("low:Q", title=x_title, axis=alt.Axis(format="+.0%")), x2="high:Q", y=y, color=sig)
    points = base.mark_point(filled=True, size=70, shape="diamond").encode(x="estimate:Q", y=y, color=sig)
    zero = alt.Chart(alt.Data(values=[{"zero": 0}])).mark_rule(color="#374151", strokeDash=[3, 3]).encode(x="zero:Q")
    chart = alt.layer(zero, bars, points).properties(title=title, width=width, height=height, description=description)
    return Chart(chart_id, title, description, render_svg(_config(chart), chart_id, chart_locale))


def grouped_bar_chart(chart_id: str, title: str, description: str, rows: Sequence[dict[str, Any]],
                      *, categories: Sequence[str], groups: Sequence[str], y_title: str,
                      chart_locale: Locale = "en-GB", width: int = 560) -> Chart:
    """Bars by ``category`` (x), one bar per ``group`` side by side (``category, group, value``)."""
    colour = alt.Color("group:N", title=None, sort=list(groups),
                       scale=alt.Scale(domain=list(groups), range=_colours(len(groups))))
    chart = (alt.Chart(alt.Data(values=[dict(r) for r in rows]))
             .mark_bar()
             .encode(x=alt.X("category:N", sort=list(categories), title=None,
                             axis=alt.Axis(labelAngle=0 if len(categories) <= 6 else -40, labelLimit=120)),
                     xOffset=alt.XOffset("group:N", sort=list(groups)),
                     y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=",~s")),
                     color=colour)
             .properties(title=title, width=width, height=240, description=description))
    return Chart(chart_id, title, description, render_svg(_config(chart), chart_id, chart_locale))


def _colours(n: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def iso(d: dt.date) -> str:
    return d.isoformat()
