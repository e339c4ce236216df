"""Sparklines as small inline SVG, written here rather than drawn by Vega.

A tile's sparkline has no axes, legend or text: a line, the area under it and a dot on its last
point, a dozen elements. Writing it takes microseconds, it needs no script (pages whose only charts
are sparklines, such as the index, load no chart library) and it prints as it shows. Its accessible
description names the periods and the first and last values; every number is on the KPI's page
(linked from the tile), in the tables under its charts. The markup is built from numbers only.
"""

from __future__ import annotations

from collections.abc import Sequence

WIDTH, HEIGHT, PAD = 160.0, 36.0, 3.0
LINE = "#1f5fa8"  # the KPI's colour on every chart (charts.PALETTE[0])
AREA = "#dbe7f5"


def _xy(values: Sequence[float | None]) -> list[tuple[float, float] | None]:
    known = [v for v in values if v is not None]
    lo, hi = min(known), max(known)
    span = hi - lo or 1.0
    step = (WIDTH - 2 * PAD) / max(1, len(values) - 1)
    return [None if v is None else (round(PAD + i * step, 1), round(HEIGHT - PAD - (v - lo) / span * (HEIGHT - 2 * PAD), 1))
            for i, v in enumerate(values)]


def _runs(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Stretches of consecutive known points (a missing value breaks the line)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for p in points:
        if p is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(p)
    return [r for r in runs if r]


def sparkline_svg(values: Sequence[float | None]) -> str:
    """The SVG of a sparkline over ``values`` (None: no value); needs at least one known value."""
    points = _xy(values)
    bottom = HEIGHT - PAD
    parts = [f'<svg class="spark" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" preserveAspectRatio="none" '
             'aria-hidden="true" focusable="false">']
    for run in _runs(points):
        coords = " ".join(f"{x:g},{y:g}" for x, y in run)
        area = f"{run[0][0]:g},{bottom:g} {coords} {run[-1][0]:g},{bottom:g}"
        parts.append(f'<polygon points="{area}" fill="{AREA}"/>')
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{LINE}" stroke-width="1.5" '
                     'vector-effect="non-scaling-stroke" stroke-linejoin="round"/>')
    x, y = points[max(i for i, p in enumerate(points) if p is not None)] or (0.0, 0.0)
    # the last point as a dot that keeps its shape however the drawing is stretched: a round cap on a line
    # of no length
    parts.append(f'<path d="M{x:g} {y:g}h0" stroke="{LINE}" stroke-width="5" stroke-linecap="round" '
                 'vector-effect="non-scaling-stroke"/>')
    parts.append("</svg>")
    return "".join(parts)
