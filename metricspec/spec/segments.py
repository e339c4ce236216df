"""A KPI's ``segments:``: each item is one breakdown, by one column (``network``) or by the combination
of several (``[network, tab]``: one series per pair of values).

Pure functions over the spec's values (no polars): the engine asks for one series per breakdown, results
label a combination's columns and values joined by :data:`SEPARATOR` ("network · tab", "facebook · feed").
"""

from __future__ import annotations

from collections.abc import Sequence

Segment = str | list[str]
SEPARATOR = " · "


def breakdown(item: Segment) -> tuple[str, ...]:
    """The columns of one ``segments:`` item."""
    return (item,) if isinstance(item, str) else tuple(item)


def breakdowns(segments: Sequence[Segment]) -> list[tuple[str, ...]]:
    """The columns of every breakdown, in the spec's order."""
    return [breakdown(s) for s in segments]


def segment_columns(segments: Sequence[Segment]) -> list[str]:
    """Every column the breakdowns name, once each, in order of first mention."""
    return list(dict.fromkeys(c for s in segments for c in breakdown(s)))


def column_paths(segments: Sequence[Segment]) -> list[tuple[str, tuple[str | int, ...]]]:
    """(column, spec path) of every column: ``("segments", i)`` or ``("segments", i, j)`` in a combination."""
    out: list[tuple[str, tuple[str | int, ...]]] = []
    for i, s in enumerate(segments):
        if isinstance(s, str):
            out.append((s, ("segments", i)))
        else:
            out += [(c, ("segments", i, j)) for j, c in enumerate(s)]
    return out


def label(parts: Sequence[str]) -> str:
    """A breakdown's (or a combination of values') label: the parts joined by :data:`SEPARATOR`."""
    return SEPARATOR.join(parts)


def check_segments(segments: Sequence[Segment]) -> list[Segment]:
    """ValueError for an empty combination, a column twice in one, or a breakdown given twice."""
    seen: set[tuple[str, ...]] = set()
    for s in segments:
        cols = breakdown(s)
        if not cols:
            raise ValueError("a combination in `segments:` needs at least one column, e.g. [network, tab]")
        if len(set(cols)) != len(cols):
            raise ValueError(f"`segments:` combination {list(cols)} names a column twice")
        if cols in seen:
            raise ValueError(f"`segments:` lists the breakdown {label(cols)} twice")
        seen.add(cols)
    return list(segments)
