"""Text as a chart may hold it: what Vega-Lite and vl-convert read as code or cannot draw.

Every Vega-Lite spec passes through :func:`chart_texts` (in :func:`metricspec.render.charts.chart_key`),
and every data column an encoding names through :func:`field_name`.
"""

from __future__ import annotations

import re
from typing import Any

_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x85\u2028\u2029]+")
_NOT_CHART_TEXT = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def chart_text(text: str) -> str:
    """``text`` as a chart may hold it: line breaks and separators (CR, LF, U+2028 …) become spaces
    and characters XML cannot hold are dropped. Vega-Lite writes titles into the expressions of its
    tooltips, where a line break (U+2028 included) is a parse error in the browser and in
    vl-convert, and vl-convert aborted the whole process on a NUL or ESC character in a label."""
    return _NOT_CHART_TEXT.sub("", _LINE_BREAKS.sub(" ", text))


def chart_texts(value: Any) -> Any:
    """:func:`chart_text` of every key and text in a chart spec (data values included)."""
    if isinstance(value, str):
        return chart_text(value)
    if isinstance(value, dict):
        return {chart_text(k) if isinstance(k, str) else k: chart_texts(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [chart_texts(v) for v in value]
    return value


def field_name(name: str) -> str:
    """A data column's name as a Vega-Lite ``field``: dots, brackets and quotes would read as an access
    path (``a.b``, ``a[0]``, ``a["b"]``) and a backslash escapes, so each is escaped (after
    :func:`chart_text`)."""
    text = chart_text(name)
    return "".join("\\" + ch if ch in "\\.[]'\"" else ch for ch in text)
