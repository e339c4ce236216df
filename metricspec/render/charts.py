"""Charts: Vega-Lite specs, drawn as static SVG by vl-convert, or by the browser on a site.

Every chart is a :class:`Chart`: a title, an accessible description and its Vega-Lite spec.
Building a chart only writes the spec. A site embeds it for the browser to draw
(:mod:`metricspec.render.assets`); for static pages :func:`draw` turns specs into SVG, each
distinct spec once, from the disk cache when drawn before (:mod:`metricspec.render.chart_cache`),
in worker processes when asked to and there are many (vl-convert is the slow part of a build and
does not get faster with threads; the command line asks, library callers pass ``workers``). A
static site build draws all its charts in one batch this way.

The SVG comes from vl-convert, which escapes all text (axis labels, legends, titles), so untrusted
names (segment values, channels, campaigns) can never become markup. :func:`svg_markup`
(:mod:`metricspec.render.svg`) additionally refuses anything script-like and gives element ids a
per-chart prefix so several charts on one page never share ids. Output is byte-stable for the same inputs, however many
processes draw it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metricspec.errors import MetricSpecError
from metricspec.render import chart_cache
from metricspec.render.chart_layers import (
    TOGGLE,
    Unfinished,
    open_layers,
    trend_rows,
    unfinished_layers,
    value_domain,
)
from metricspec.render.chart_processes import (
    WORKERS_VARIABLE,
    chart_workers,
    spawn_context,
    watch_parent,
)
from metricspec.render.chart_text import chart_texts, field_name
from metricspec.render.svg import UnsafeSvgError, add_point_titles, check_svg, svg_markup

if TYPE_CHECKING:

    from metricspec.progress import Progress

# The charts are plain Vega-Lite dicts, so altair is not needed at run time (and worker processes,
# which import this module, start quickly).
Locale = str | dict[str, Any]
# One meaning per colour across a site: series (the KPI first, then benchmarks, competitors, segments) take
# these, none of them red, orange or green (the colours of bad and good) nor near-black (targets);
# target lines are TARGET (or the colour of the one line they are for), other reference lines REFERENCE,
# periods whose values are not final stand on a band of UNFINISHED.
PALETTE = ["#1f5fa8", "#7c3aed", "#0f766e", "#be185d", "#8a6100", "#475569", "#0e7490", "#9d174d"]
TARGET = "#111827"
REFERENCE = "#6b7280"
UNFINISHED = "#eef0f3"
TEXT = "#1f2933"
GRID = "#d9dee5"
FONT = "'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"

# aria: the <figure> around a chart has the accessible name and description, and its table the numbers;
# only marks that stand for a number keep an aria-label (their formatted text, made a <title>)
BASE_CONFIG: dict[str, Any] = {
    "background": "white",
    "font": FONT,
    "view": {"stroke": None},
    "axis": {"labelColor": TEXT, "titleColor": TEXT, "gridColor": GRID, "domainColor": "#6b7280",
             "tickColor": "#6b7280", "labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal",
             "aria": False},
    "legend": {"labelColor": TEXT, "titleColor": TEXT, "labelFontSize": 11, "orient": "bottom",
               "labelLimit": 220, "aria": False},
    "title": {"color": TEXT, "fontSize": 13, "anchor": "start", "fontWeight": 600, "aria": False},
    "range": {"category": PALETTE},
}


class ChartDrawError(MetricSpecError):
    """vl-convert could not draw a chart, or a process drawing charts died."""


Key = tuple[str, str]
"""What vl-convert draws: a Vega-Lite spec and a d3 locale, both as canonical JSON (sorted keys)."""


@dataclass(frozen=True)
class Chart:
    """A chart to draw: ``vega_lite`` and ``locale`` are canonical JSON, so equal charts have equal keys."""

    id: str
    title: str
    description: str
    vega_lite: str
    locale: str
    zoomed: bool = False  # the value axis does not start at zero (the caption says so)

    @property
    def key(self) -> Key:
        return (self.vega_lite, self.locale)

    @property
    def svg(self) -> str:
        """The chart drawn on its own (pages draw theirs in one batch with :func:`draw`)."""
        return svg_markup(draw([self.key])[self.key], self.id)


def chart_key(spec: dict[str, Any], chart_locale: Locale = "en-GB") -> Key:
    """The canonical JSON of a Vega-Lite spec and of its d3 locale (a name or a d3-format dict).

    Every text in the spec goes through :func:`~metricspec.render.chart_text.chart_text` first.
    ``tests/test_site_build.py`` validates every chart of the example site against altair's schema.
    """
    return json.dumps(chart_texts(spec), sort_keys=True, default=str), json.dumps(chart_locale, sort_keys=True)


# -- drawing --------------------------------------------------------------------------------------

_CACHE_SIZE = 512
_drawn: OrderedDict[Key, str] = OrderedDict()  # the same chart (a scorecard and its KPI page) draws once


def draw(keys: Iterable[Key], workers: int | None = None, progress: Progress | None = None) -> dict[Key, str]:
    """vl-convert's SVG of every distinct key, drawn in :func:`~metricspec.render.chart_processes.chart_workers`
    processes.

    Recently drawn charts are remembered, and drawn charts are kept in the disk cache
    (:mod:`metricspec.render.chart_cache`), so drawing them again is free. ``progress`` hears of every
    chart drawn and counts ``charts_drawn`` and ``charts_cached``. Raises :class:`ChartDrawError` if a
    chart cannot be drawn or a worker process dies.
    """
    out: dict[Key, str] = {}
    todo: list[Key] = []
    for key in dict.fromkeys(keys):
        if key in _drawn:
            _drawn.move_to_end(key)
            out[key] = _drawn[key]
        else:
            todo.append(key)
    cached = {key: svg for key, svg in chart_cache.load(todo).items() if _passes_check(svg)}
    out.update(cached)
    todo = [key for key in todo if key not in cached]
    if progress is not None:
        progress.count("charts_cached", len(out))
        progress.count("charts_drawn", len(todo))
        progress.start("charts", len(todo))
    n = chart_workers(len(todo), workers)
    svgs = _draw_here(todo, progress) if n <= 1 else _draw_in_processes(todo, n, progress)
    chart_cache.store(dict(zip(todo, svgs, strict=True)))
    for key, svg in [*cached.items(), *zip(todo, svgs, strict=True)]:
        out[key] = _drawn[key] = svg
        if len(_drawn) > _CACHE_SIZE:
            _drawn.popitem(last=False)
    return out


def _passes_check(svg: str) -> bool:
    """Whether a drawing from the disk cache passes :func:`check_svg`: the cache is outside this
    process, so a damaged or tampered entry is drawn again (and replaced) instead of failing the build."""
    try:
        check_svg(svg)
    except UnsafeSvgError:
        return False
    return True


def _draw_here(keys: list[Key], progress: Progress | None) -> list[str]:
    out = []
    for key in keys:
        out.append(_draw_one(key))
        if progress is not None:
            progress.advance("charts")
    return out


def _draw_in_processes(keys: list[Key], workers: int, progress: Progress | None = None) -> list[str]:
    # one chart per task, biggest first, keeps every process busy to the end (a task's round trip is
    # about a millisecond, a chart 20-100 ms)
    order = sorted(range(len(keys)), key=lambda i: -len(keys[i][0]))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=spawn_context(), initializer=watch_parent,
                               initargs=(os.getpid(),))
    try:
        svgs: dict[int, str] = {}
        for i, svg in zip(order, pool.map(_draw_one, [keys[i] for i in order]), strict=True):
            svgs[i] = svg
            if progress is not None:
                progress.advance("charts")
        return [svgs[i] for i in range(len(keys))]
    except BrokenProcessPool as exc:
        raise ChartDrawError(
            f"a process drawing charts stopped unexpectedly ({exc})",
            hint=f"set {WORKERS_VARIABLE}=1 to draw charts in this process; a script that builds sites must guard "
                 "its entry point with `if __name__ == '__main__':` (workers import the main module)") from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # after an error: drop the charts not yet started


def _draw_one(key: Key) -> str:
    """Draw one chart (in a worker process, or in this one)."""
    import vl_convert  # heavy: vl-convert's JavaScript engine, only to draw a chart

    spec_json, locale_json = key
    spec = json.loads(spec_json)
    try:
        return add_point_titles(str(vl_convert.vegalite_to_svg(spec, format_locale=json.loads(locale_json))))
    except Exception as exc:  # vl-convert raises ValueError; anything else is as unexpected
        title = spec.get("title") if isinstance(spec.get("title"), str) else spec.get("description", "?")
        raise ChartDrawError(f"vl-convert could not draw the chart '{title}': {exc}") from None


# -- chart builders -------------------------------------------------------------------------------
# Charts carry no title of their own: the <figcaption> around them has it (a title drawn into the
# chart is cut to the chart's width). The specs are written as plain Vega-Lite dicts, exactly as
# altair would write them (its default theme's view size included): building them through altair's
# objects took as long as drawing them.
# ``tests/test_site_build.py`` validates every chart of the example site against altair's schema.
#
# Every mark that stands for a number carries a ``description`` (its aria-label: "Sep 2026 · Reach:
# 808,036", formatted for the page's language), which :func:`add_point_titles` turns into an SVG
# ``<title>`` (a hover text in static charts) and which browser-drawn charts show as a tooltip.

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
Format = Callable[[float], str]


def _spec(body: dict[str, Any], config: dict[str, Any] = BASE_CONFIG) -> dict[str, Any]:
    view = {"continuousHeight": 300, "continuousWidth": 300, **config.get("view", {})}
    return {"$schema": VEGA_LITE_SCHEMA, "config": {**config, "view": view}, **body}


def shared_config() -> dict[str, Any]:
    """The config of every chart built by :func:`_spec` with the base config (a site page has it once)."""
    return _spec({})["config"]  # type: ignore[no-any-return]


def _field(name: str, kind: str, **props: Any) -> dict[str, Any]:
    """An encoding channel: ``_field("value", "quantitative", title=None)``."""
    return {"field": field_name(name), "type": kind, **props}


def y_format(unit: str) -> str:
    """The d3 format of a value axis's labels (:func:`metricspec.render.chart_layers.label_step` is its precision)."""
    return {"percent": ".1~%", "ratio": ",.2f", "currency": ",.2~f"}.get(unit, ",.4~s" if unit == "number" else ",~d")


def starts_at_zero(unit: str, choice: bool | None = None) -> bool:
    """Whether a value axis starts at 0: the KPI's ``axis_from_zero``, else yes for counts and money."""
    return choice if choice is not None else unit in ("count", "currency")


def _legend(names: Sequence[str]) -> dict[str, Any]:
    """A legend whose labels are never cut: one entry a row when they would not fit side by side."""
    long = sum(len(n) for n in names) > 60 or any(len(n) > 32 for n in names)
    return {"orient": "bottom", "labelLimit": 480, "columns": 1 if long else len(names), "symbolStrokeWidth": 2,
            "symbolType": "stroke"}  # a short line in the series' colour and dash


_TOGGLE = TOGGLE


def _toggle(layer: dict[str, Any]) -> dict[str, Any]:
    """Clicking a legend entry highlights that series (shift-click adds one); a no-op in static SVG."""
    encoding = {**layer["encoding"], "opacity": {"condition": {"param": _TOGGLE, "value": 1}, "value": 0.15}}
    return {**layer, "params": [{"name": _TOGGLE, "select": {"type": "point", "fields": ["series"]},
                                 "bind": "legend"}], "encoding": encoding}


@dataclass(frozen=True)
class Line:
    """One named line on a trend chart: ``(period label, value)`` points in order."""

    name: str
    points: Sequence[tuple[str, float | None]]
    dashed: bool = False


@dataclass(frozen=True)
class Rule:
    """A horizontal line: a target (``kind="target"``) or another reference value (``"reference"``, such
    as a goal's value over its whole window so far); ``of`` names the line it belongs to (it then takes
    that line's colour), else a target is :data:`TARGET` and a reference :data:`REFERENCE`.

    ``name`` is its legend entry, kept short so that it fits a phone's width (``Target 6.0%``);
    ``text`` (default: the name) says whose target it is, in its hover text and table row."""

    name: str
    value: float
    of: str | None = None
    text: str | None = None
    kind: str = "target"

    @property
    def label(self) -> str:
        return self.text or self.name


@dataclass(frozen=True)
class Axes:
    """How a trend chart's axes read: titles, the unit of the values, where the value axis starts."""

    x_title: str | None = None
    y_title: str | None = None
    unit: str = "number"
    zero: bool = False
    fmt: Format = str  # one value as text, for hover titles and tooltips


def _series_colours(lines: Sequence[Line], rules: Sequence[Rule]) -> tuple[list[str], list[str]]:
    names, colours = [ln.name for ln in lines], _colours(len(lines))
    by_line = dict(zip(names, colours, strict=True))
    for r in rules:
        names.append(r.name)
        colours.append(by_line.get(r.of or "", TARGET if r.kind == "target" else REFERENCE))
    return names, colours


def trend_chart(chart_id: str, title: str, description: str, lines: Sequence[Line], rules: Sequence[Rule] = (),
                *, axes: Axes | None = None, chart_locale: Locale = "en-GB",
                width: int = 560, height: int = 220, unfinished: Unfinished | None = None) -> Chart:
    """Lines over periods (ordinal x in the given order) with horizontal rules (targets, references).

    ``unfinished`` periods (the running one, or those whose values still arrive) are drawn hollow on a
    labelled band, joined to the line by a dotted segment; without it every point is drawn as final (goal
    charts, which leave the running period out). A zoomed value axis gets a minimum span
    (:func:`metricspec.render.chart_layers.value_domain`); ``Chart.zoomed`` says whether it leaves zero out.
    """
    axes = axes or Axes()
    order = list(dict.fromkeys(label for line in lines for label, _ in line.points))
    rows = trend_rows(lines, axes.fmt, unfinished)
    names, colours = _series_colours(lines, rules)
    colour = _field("series", "nominal", title=None, scale={"domain": names, "range": colours}, sort=names,
                    legend=_legend(names))
    x = _field("period", "ordinal", sort=order, title=axes.x_title,
               scale={"type": "band", "paddingInner": 0, "paddingOuter": 0},
               axis={"labelAngle": -40 if len(order) > 8 else 0, "labelOverlap": True, "labelLimit": 90})
    domain, zoomed = value_domain([r["value"] for r in rows] + [r.value for r in rules], axes.unit, axes.zero)
    y = _field("value", "quantitative", title=axes.y_title, axis={"format": y_format(axes.unit), "tickCount": 5},
               scale={"zero": axes.zero, "nice": True, **({"domain": domain} if domain else {})})
    line_names = [ln.name for ln in lines]
    # the same field and legend as the colour: one legend, whose symbols show which lines are dashed
    dash = _field("series", "nominal", title=None, sort=names, legend=colour["legend"], scale={
        "domain": names, "range": [[5, 3] if ln.dashed else [1, 0] for ln in lines] + [[2, 2] if r.kind == "target" else [6, 3] for r in rules]})
    tip = _field("tip", "nominal")
    at = {"x": {**x, "bandPosition": 0.5}, "y": y, "color": colour}
    done: dict[str, Any] = {
        "transform": [{"filter": "datum.seg == 'done'"}],
        "mark": {"type": "line", "point": {"size": 22}, "strokeWidth": 2, "aria": False},  # the points describe it
        "encoding": {**at, "strokeDash": dash, "tooltip": tip, "description": tip}}
    layers: list[dict[str, Any]] = []
    if unfinished is not None and any(r["seg"] == "open" for r in rows):
        layers += unfinished_layers(unfinished, x)
    layers.append(done if len(line_names) < 2 else _toggle(done))
    if any(r["seg"] == "open" for r in rows):
        layers += open_layers(at, tip, several=len(line_names) > 1)
    body: dict[str, Any] = {"data": {"values": rows}, "layer": layers}
    if rules:
        rule_rows = [{"series": r.name, "value": r.value, "tip": f"{r.label}: {axes.fmt(r.value)}"} for r in rules]
        layers.append({"data": {"values": rule_rows}, "mark": {"type": "rule", "strokeWidth": 1.5},
                       "encoding": {"y": _field("value", "quantitative"), "color": colour, "strokeDash": dash,
                                    "tooltip": tip, "description": tip}})
    spec = _spec({**body, "width": width, "height": height})
    return Chart(chart_id, title, description, *chart_key(spec, chart_locale), zoomed=zoomed)


def sparkline(chart_id: str, title: str, description: str, values: Sequence[float | None],
              chart_locale: Locale = "en-GB", *, labels: Sequence[str] | None = None, fmt: Format = str) -> Chart:
    """A small area chart without axes; ``labels`` name the periods of the hover titles of its points."""
    labels = labels or [str(i + 1) for i in range(len(values))]
    rows = [{"i": i, "value": v, "tip": f"{labels[i]}: {fmt(v)}"} for i, v in enumerate(values) if v is not None]
    x = _field("i", "quantitative", axis=None, scale={"nice": False})
    y = _field("value", "quantitative", axis=None, scale={"zero": False})
    spec = _spec({
        "data": {"values": rows},
        "layer": [
            {"mark": {"type": "area", "line": {"color": PALETTE[0], "strokeWidth": 1.5, "aria": False},
                      "color": "#dbe7f5", "aria": False},
             "encoding": {"x": x, "y": y}},
            {"mark": {"type": "point", "filled": True, "size": 14, "opacity": 0, "color": PALETTE[0]},
             "encoding": {"x": x, "y": y, "tooltip": _field("tip", "nominal"),
                          "description": _field("tip", "nominal")}},
        ],
        "width": 160, "height": 36, "description": description,
    }, dict(BASE_CONFIG, padding=2))
    return Chart(chart_id, title, description, *chart_key(spec, chart_locale))


def interval_chart(chart_id: str, title: str, description: str,
                   rows: Sequence[dict[str, Any]], *, x_title: str, significance: Sequence[str],
                   chart_locale: Locale = "en-GB", width: int = 460) -> Chart:
    """Point estimates with confidence-interval bars (rows: ``label, estimate, low, high, significance``
    and ``tip``, the hover text; ``significance`` holds the two legend labels, significant first)."""
    data = [dict(r) for r in rows if r.get("estimate") is not None]
    labels = [r["label"] for r in data]
    height = max(40, 34 * len(labels))
    y = _field("label", "nominal", sort=labels, title=None, axis={"labelLimit": 200})
    # the legend starts under the plot, right of the metric names: its two entries one under the other fit
    # beside long names on a phone
    sig = _field("significance", "nominal", title=None, legend={**_legend(list(significance)), "columns": 1},
                 scale={"domain": list(significance), "range": [PALETTE[0], "#6b7280"]})
    described = {"tooltip": _field("tip", "nominal"), "description": _field("tip", "nominal")}
    zero = {"data": {"values": [{"zero": 0}]}, "mark": {"type": "rule", "color": "#374151", "strokeDash": [3, 3]},
            "encoding": {"x": _field("zero", "quantitative")}}
    bars = {"data": {"values": data}, "transform": [{"filter": "datum.low != null"}],
            "mark": {"type": "rule", "strokeWidth": 3},
            "encoding": {"x": _field("low", "quantitative", title=x_title, axis={"format": "+.0%"}),
                         "x2": {"field": "high"}, "y": y, "color": sig, **described}}
    points = {"data": {"values": data}, "mark": {"type": "point", "filled": True, "size": 70, "shape": "diamond"},
              "encoding": {"x": _field("estimate", "quantitative"), "y": y, "color": sig, **described}}
    spec = _spec({"layer": [zero, bars, points], "width": width, "height": height, "description": description})
    return Chart(chart_id, title, description, *chart_key(spec, chart_locale))


def grouped_bar_chart(chart_id: str, title: str, description: str, rows: Sequence[dict[str, Any]],
                      *, categories: Sequence[str], groups: Sequence[str], y_title: str,
                      chart_locale: Locale = "en-GB", width: int = 560) -> Chart:
    """Bars by ``category`` (x), one bar per ``group`` side by side (``category, group, value, tip``)."""
    spec = _spec({
        "data": {"values": [dict(r) for r in rows]},
        "mark": {"type": "bar"},
        "encoding": {
            "x": _field("category", "nominal", sort=list(categories), title=None,
                        axis={"labelAngle": 0 if len(categories) <= 6 else -40, "labelLimit": 120}),
            "xOffset": _field("group", "nominal", sort=list(groups)),
            "y": _field("value", "quantitative", title=y_title, axis={"format": ",.0f"}, scale={"zero": True}),
            "color": _field("group", "nominal", title=None, sort=list(groups), legend=_legend(list(groups)),
                            scale={"domain": list(groups), "range": _colours(len(groups))}),
            "tooltip": _field("tip", "nominal"), "description": _field("tip", "nominal"),
        },
        "width": width, "height": 240, "description": description,
    })
    return Chart(chart_id, title, description, *chart_key(spec, chart_locale))


def _colours(n: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def iso(d: dt.date) -> str:
    return d.isoformat()
