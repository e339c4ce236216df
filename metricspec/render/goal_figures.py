"""A goal card's figure: its chart (:mod:`metricspec.render.goal_chart`) and the numbers as a table.

The chart and its caption say what the card says: the goal's measure (a running total from the
goal's start for a ``total`` of a count or sum), complete periods only, the forecast at the deadline
with its 80 % range, and the target.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from metricspec.engine.goal_forecast import Horizon, target_period
from metricspec.plan.periods import add_periods, label, period_end, truncate_date
from metricspec.render.goal_chart import Outlook, goal_chart
from metricspec.render.views import DataTable, Figure, chart_view, slugify

if TYPE_CHECKING:
    from metricspec.engine.results import GoalResult, Point
    from metricspec.render.figures import Figures

ONE_DAY = dt.timedelta(days=1)


def drawn_points(g: GoalResult, as_of: dt.date) -> list[Point]:
    """The points a goal's chart draws: its running total, or the KPI's complete periods up to the
    deadline's; never a period still running, nor one the judgement left out (its values still arrive)."""
    if g.so_far:
        return [p for p in g.so_far if p.value is not None and p.period not in g.left_out]
    end = min(as_of, g.deadline) if g.deadline else as_of
    return [p for p in g.trend if p.value is not None and not p.partial and p.period not in g.left_out
            and period_end(p.period, g.grain) <= end + ONE_DAY]


def goal_figure(figs: Figures, g: GoalResult) -> Figure | None:
    tr, fmt = figs.tr, figs.fmt(g.kpi)
    points = drawn_points(g, figs.r.as_of)
    if not points:
        return None
    labels = [tr.period(p.period, g.grain, p.label) for p in points]
    values = [float(p.value) for p in points if p.value is not None]
    band = next((i for i in g.forecast_intervals if i.level == 0.8), None)
    outlook, future = None, []
    if g.forecast is not None and band is not None and g.deadline is not None and not g.final:
        judged = _judged_period(g, figs.r.spec.week_start)
        period = add_periods(points[-1].period, g.grain, 1)
        while period <= judged:
            future.append(tr.period(period, g.grain, label(period, g.grain)))
            period = add_periods(period, g.grain, 1)
        if future:
            outlook = Outlook(future[-1], g.forecast, band.low, band.high)
    start = tr.date(g.start or points[0].period)
    kind = {"running_total": tr("chart_kind_running", start=start), "window": tr("chart_kind_window", start=start),
            None: tr("chart_kind_values")}[g.so_far_kind if g.so_far else None]
    names = {"actual": kind, "forecast": tr("chart_forecast"), "range": tr("chart_forecast_range"),
             "target": tr("chart_target")}
    common = {"kind": kind, "periods": len(points), "last": labels[-1], "value": fmt(values[-1]), "target": fmt(g.target)}
    if outlook is not None:
        desc = tr("chart_goal_desc_forecast", forecast=fmt(outlook.point), low=fmt(outlook.low), high=fmt(outlook.high),
                  **common)
    else:
        desc = tr("chart_goal_desc_final", **common)
    title = tr("chart_goal_title", goal=g.title)
    chart = goal_chart(f"{figs.prefix}-goal-{slugify(g.objective)}-{slugify(g.id)}", title, desc,
                       list(zip(labels, values, strict=True)), future, outlook, g.target, names,
                       axes=figs.axes(g.kpi, g.grain), chart_locale=tr.chart_format)
    rows = [[lab, fmt(v)] for lab, v in zip(labels, values, strict=True)]
    if outlook is not None:
        rows.append([tr("row_forecast", period=outlook.label), fmt(outlook.point)])
        rows.append([names["range"], tr("interval", low=fmt(outlook.low), high=fmt(outlook.high))])
    rows.append([names["target"], fmt(g.target)])
    table = DataTable(caption=title, headers=[tr("col_period"), kind], rows=rows, numeric=[False, True])
    return Figure(chart=chart_view(chart), table=table, note=tr("axis_not_from_zero") if chart.zoomed else None)


def _judged_period(g: GoalResult, week_start: str) -> dt.date:
    """The period whose value the goal is judged on: the deadline's for a running total, else the last
    period complete by the deadline (as the engine forecasts it)."""
    assert g.deadline is not None
    if g.so_far:
        return truncate_date(g.deadline, g.grain, week_start)
    return target_period(Horizon(g.deadline, g.start, g.deadline, g.deadline, g.grain, week_start))
