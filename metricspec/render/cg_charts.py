"""The Kaplan–Meier chart of a survival metric: one step curve per group (the share still a customer by day)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from metricspec.render import charts


def km_chart(chart_id: str, title: str, description: str, rows: Sequence[dict[str, Any]], *, groups: Sequence[str],
             x_title: str, y_title: str, chart_locale: dict[str, Any] | str = "en-GB", width: int = 460) -> charts.Chart:
    """Step curves (rows: ``group, days, survival, tip``), the survival axis from 0 to 100 %, the days axis from 0
    to the longest follow-up (not rounded up past it)."""
    colours = [charts.PALETTE[i % len(charts.PALETTE)] for i in range(len(groups))]
    last = max((float(r["days"]) for r in rows), default=0.0) or 1.0
    spec = charts._spec({
        "data": {"values": [dict(r) for r in rows]},
        "mark": {"type": "line", "interpolate": "step-after", "strokeWidth": 2},
        "encoding": {
            "x": charts._field("days", "quantitative", title=x_title, axis={"format": ",~d"},
                               scale={"domain": [0, last], "nice": False}),
            "y": charts._field("survival", "quantitative", title=y_title, axis={"format": ".0%"},
                               scale={"domain": [0, 1]}),
            "color": charts._field("group", "nominal", title=None, sort=list(groups), legend=charts._legend(list(groups)),
                                   scale={"domain": list(groups), "range": colours}),
            "tooltip": charts._field("tip", "nominal"), "description": charts._field("tip", "nominal"),
        },
        "width": width, "height": 220, "description": description,
    })
    return charts.Chart(chart_id, title, description, *charts.chart_key(spec, chart_locale))
