"""The SVG of a drawn chart, made safe to inline: checked, ids namespaced, a ``<title>`` per point.

vl-convert escapes all text, so its output is plain drawing markup; :func:`svg_markup` still checks
it on the parsed elements (an allow-list of tags, no event handlers, no outside links) before it goes
into a page, since a drawing may also come from the disk cache (:mod:`metricspec.render.chart_cache`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET


class UnsafeSvgError(ValueError):
    """A drawing that is not plain drawing markup: vl-convert never writes one; a damaged or tampered
    entry of the disk cache might (:func:`metricspec.render.charts.draw` then draws it again)."""


_SVG_NS = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
#: elements a chart may contain: vl-convert draws with g/path/rect/line/text; the rest are inert shapes
_ALLOWED_TAGS = frozenset(_SVG_NS + t for t in (
    "svg", "g", "path", "rect", "line", "circle", "ellipse", "polyline", "polygon", "text", "tspan", "title",
    "desc", "defs", "clipPath", "linearGradient", "radialGradient", "stop"))
_ID = re.compile(r'\bid="([^"]+)"')


def check_svg(svg: str) -> None:
    """Refuse markup that could run or load anything: checked on the parsed elements and attributes
    (an allow-list of tags, no event handlers, only local ``#id`` links), never on the text, so chart
    titles or data such as "Learn javascript: demo" or "utm_source=javascript:void(0)" are fine
    (vl-convert escapes text, and the parser reads it as text)."""
    if "<!DOCTYPE" in svg or "<!ENTITY" in svg:  # literal '<' never appears in escaped text
        raise UnsafeSvgError("chart SVG declares a document type")
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as exc:
        raise UnsafeSvgError(f"chart SVG is not well-formed XML: {exc}") from None
    for el in root.iter():
        if el.tag not in _ALLOWED_TAGS:
            raise UnsafeSvgError(f"chart SVG contains an unexpected <{el.tag.removeprefix(_SVG_NS)}> element")
        for name, value in el.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise UnsafeSvgError(f"chart SVG contains an event handler ({local})")
            if (local == "href" or name == _XLINK_HREF) and not value.startswith("#"):
                raise UnsafeSvgError("chart SVG links outside itself")
            if local == "style" and re.search(r"url\(\s*['\"]?(?!#)|expression\(|javascript:", value, re.I):
                raise UnsafeSvgError("chart SVG has a style that loads or runs something")


def svg_markup(svg: str, chart_id: str) -> str:
    """Check vl-convert output and namespace its ids with ``chart_id``."""
    svg = svg.strip()
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1].lstrip()
    if not svg.startswith("<svg"):
        raise UnsafeSvgError("chart SVG contains unexpected markup")
    check_svg(svg)
    ids = sorted(set(_ID.findall(svg)), key=len, reverse=True)
    for old in ids:
        new = f"{chart_id}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"').replace(f"url(#{old})", f"url(#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    # the <figure> carries the accessible name; the drawing itself is presentational
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)


_MARK = re.compile(r'<(path|line|rect)(\s[^>]*?aria-label="([^"]*)"[^>]*?'
                   r'aria-roledescription="(?:point|bar|rule mark)"[^>]*?)\s*/>')


def add_point_titles(svg: str) -> str:
    """Give every point, bar and rule of a drawn chart a ``<title>``: its aria-label (already XML-escaped
    by vl-convert), which browsers show on hover."""
    return _MARK.sub(r"<\1\2><title>\3</title></\1>", svg)
