"""Sparklines as small inline SVG, written here rather than drawn by Vega.

A tile's sparkline has no axes, legend or text: a line, the area under it and a dot on its last
point, a dozen elements. Periods not complete yet (values still arriving: a funnel's last month) are
drawn as the trend charts draw them: a dashed line from the last complete point, no area under them,
and a hollow dot, so a month whose conversions have not arrived does not read as a fall. Writing it takes microseconds, it needs no script (pages whose only charts
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


def sparkline_svg(values: Sequence[float | None], open_from: int | None = None) -> str:
    """The SVG of a sparkline over ``values`` (None: no value); needs at least one known value.

    ``values[open_from:]`` are periods not complete yet: dashed, without area, the last dot hollow."""
    points = _xy(values)
    cut = len(points) if open_from is None else max(0, min(open_from, len(points)))
    bottom = HEIGHT - PAD
    parts = [f'<svg class="spark" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" preserveAspectRatio="none" '
             'aria-hidden="true" focusable="false">']
    for run in _runs(points[:cut]):
        coords = " ".join(f"{x:g},{y:g}" for x, y in run)
        area = f"{run[0][0]:g},{bottom:g} {coords} {run[-1][0]:g},{bottom:g}"
        parts.append(f'<polygon points="{area}" fill="{AREA}"/>')
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{LINE}" stroke-width="1.5" '
                     'vector-effect="non-scaling-stroke" stroke-linejoin="round"/>')
    last_done = next((p for p in reversed(points[:cut]) if p is not None), None)
    still_open = [p for p in points[cut:] if p is not None]
    if still_open:
        coords = " ".join(f"{x:g},{y:g}" for x, y in ([last_done] if last_done else []) + still_open)
        parts.append(f'<polyline class="spark-open" points="{coords}" fill="none" stroke="{LINE}" stroke-width="1.5" '
                     'stroke-dasharray="3 2" vector-effect="non-scaling-stroke" stroke-linejoin="round"/>')
    x, y = (still_open or [p for p in points if p is not None])[-1]
    # the last point as a dot that keeps its shape however the drawing is stretched: a round cap on a line
    # of no length; a white one inside it makes it hollow when its period is not complete yet
    parts.append(f'<path d="M{x:g} {y:g}h0" stroke="{LINE}" stroke-width="5" stroke-linecap="round" '
                 'vector-effect="non-scaling-stroke"/>')
    if still_open:
        parts.append(f'<path class="spark-open-dot" d="M{x:g} {y:g}h0" stroke="#fff" stroke-width="2.5" '
                     'stroke-linecap="round" vector-effect="non-scaling-stroke"/>')
    parts.append("</svg>")
    return "".join(parts)
