"""A goal chart's legend draws each entry as its mark is drawn (issue 22): the value a solid line, the
target a dotted rule, the forecast a dashed line, the 80 % range a pale band. Read from the Vega spec
vl-convert compiles and from the SVG it draws."""

from __future__ import annotations

import json
import re

import vl_convert as vlc

from metricspec.render import charts
from metricspec.render.goal_chart import Outlook, goal_chart

OUTLOOK = Outlook("May", 3.0, 2.5, 3.5)
NAMES = {"actual": "Values per period", "forecast": "Forecast", "range": "80% range", "target": "Target"}


def chart(outlook: Outlook | None = OUTLOOK) -> charts.Chart:
    return goal_chart("c", "t", "d", [("Jan", 1.0), ("Feb", 2.0), ("Mar", 2.2)], ["Apr", "May"], outlook, 3.2,
                      NAMES, axes=charts.Axes())


def vega(c: charts.Chart) -> dict:
    spec = c.vega_lite if isinstance(c.vega_lite, dict) else json.loads(c.vega_lite)
    out = vlc.vegalite_to_vega(spec)
    return json.loads(out) if isinstance(out, str) else out


def test_one_legend_whose_swatches_look_like_the_marks():
    vg = vega(chart())
    scales = {s["name"]: s for s in vg["scales"]}
    domain = [NAMES[k] for k in ("actual", "target", "forecast", "range")]
    dash = dict(zip(domain, scales["strokeDash"]["range"], strict=True))
    opacity = dict(zip(domain, scales["opacity"]["range"], strict=True))
    assert scales["opacity"]["type"] == "ordinal"  # a point scale would spread the opacities over [1, 0.35]
    assert dash == {"Values per period": [1, 0], "Target": [2, 2], "Forecast": [5, 3], "80% range": [1, 0]}
    assert opacity == {"Values per period": 1, "Target": 1, "Forecast": 1, "80% range": 0.35}
    [legend] = vg["legends"]  # merged: colour, dash and opacity in one legend
    spec = chart().vega_lite
    spec = spec if isinstance(spec, dict) else json.loads(spec)
    opacities = [layer["encoding"]["opacity"] for layer in spec["layer"]]
    # Vega-Lite warns in the browser (tests/test_site_browser.py fails on it) about opacity on an unsorted field
    assert all(o["type"] == "ordinal" and o["sort"] == domain for o in opacities)
    assert (legend["stroke"], legend["strokeDash"], legend["opacity"]) == ("color", "strokeDash", "opacity")


def test_the_drawn_svg_dashes_the_target_and_the_forecast():
    svg = chart().svg
    dashes = set(re.findall(r'stroke-dasharray="([^"]+)"', svg))
    assert {"2,2", "5,3"} <= dashes
    without = chart(None)
    assert "5,3" not in without.svg and "2,2" in without.svg  # no forecast: no dashed entry or line
    scales = {s["name"]: s for s in vega(without)["scales"]}
    assert scales["strokeDash"]["domain"] == ["Values per period", "Target"]
    assert scales["strokeDash"]["range"] == [[1, 0], [2, 2]]
