"""Results as tidy polars frames (``Results.to_polars()``, ``KpiResult.to_polars()``, goal frames).

One row per KPI value (a point of a series) or per goal, with fixed column names and types, so
frames of several runs concatenate (``pl.concat``) and empty results still have every column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from metricspec.engine.results import GoalResult, KpiResult, Point, Results

# column -> polars type name; the order is the frame's column order
KPI_COLUMNS: dict[str, str] = {
    "kpi": "String", "grain": "String", "period": "Date", "label": "String",
    "kind": "String", "segment": "String", "segment_value": "String", "benchmark": "String",
    "value": "Float64", "partial": "Boolean", "unit": "String", "currency": "String",
}
GOAL_COLUMNS: dict[str, str] = {
    "objective": "String", "goal": "String", "title": "String", "kpi": "String", "status": "String",
    "current": "Float64", "target": "Float64", "baseline": "Float64", "progress": "Float64",
    "expected": "Float64", "forecast": "Float64", "start": "Date", "deadline": "Date", "grain": "String",
    "measure": "String", "direction": "String", "responsible": "String", "measured_by": "String",
    "campaign": "String", "status_reason": "String", "where": "String",
}
POINT_COLUMNS: dict[str, str] = {"period": "Date", "label": "String", "value": "Float64", "partial": "Boolean"}


def _day(period: Any) -> Any:
    """The ``period`` column is a date: an hour's is its local date (its label keeps the hour and offset)."""
    return period.date() if isinstance(period, dt.datetime) else period


def _frame(rows: dict[str, list[Any]], columns: dict[str, str]) -> pl.DataFrame:
    import polars as pl  # polars: heavy; Results load without it

    return pl.DataFrame(rows, schema={name: getattr(pl, kind) for name, kind in columns.items()})


def _columns(columns: dict[str, str]) -> dict[str, list[Any]]:
    return {name: [] for name in columns}


def kpi_frame(kpis: Iterable[KpiResult], spec: str | None = None) -> pl.DataFrame:
    """Every point of every series of ``kpis``; with ``spec``, a leading ``spec`` column."""
    rows = _columns(KPI_COLUMNS)
    for k in kpis:
        for s in k.series:
            for p in s.points:
                for name, value in (("kpi", k.name), ("grain", s.grain), ("period", _day(p.period)), ("label", p.label),
                                    ("kind", s.kind), ("segment", s.segment), ("segment_value", s.segment_value),
                                    ("benchmark", s.benchmark), ("value", p.value), ("partial", p.partial),
                                    ("unit", k.unit), ("currency", k.currency)):
                    rows[name].append(value)
        for kind, bench, label, value in k.all_time_values():  # no period: a source without dates
            for name, cell in (("kpi", k.name), ("grain", "all"), ("period", None), ("label", label),
                               ("kind", kind), ("segment", None), ("segment_value", None), ("benchmark", bench),
                               ("value", value), ("partial", False), ("unit", k.unit), ("currency", k.currency)):
                rows[name].append(cell)
    frame = _frame(rows, KPI_COLUMNS)
    if spec is None:
        return frame
    import polars as pl  # polars: heavy; Results load without it

    return frame.select(pl.lit(spec, dtype=pl.String).alias("spec"), pl.all())


def goal_frame(results: Results) -> pl.DataFrame:
    """One row per goal of ``results`` (objective order, then goal order), with a leading ``spec`` column."""
    import polars as pl  # polars: heavy; Results load without it

    rows = _columns(GOAL_COLUMNS)
    for g in results.goals():
        values = {"goal": g.id, **{name: getattr(g, name) for name in GOAL_COLUMNS if name != "goal"}}
        for name in GOAL_COLUMNS:
            rows[name].append(values[name])
    frame = _frame(rows, GOAL_COLUMNS)
    return frame.select(pl.lit(results.spec.name, dtype=pl.String).alias("spec"), pl.all())


def points_frame(points: Iterable[Point]) -> pl.DataFrame:
    """Points (a goal's trend) as ``period, label, value, partial``."""
    rows = _columns(POINT_COLUMNS)
    for p in points:
        for name in POINT_COLUMNS:
            rows[name].append(_day(p.period) if name == "period" else getattr(p, name))
    return _frame(rows, POINT_COLUMNS)


def goal_trend_frame(goal: GoalResult) -> pl.DataFrame:
    return points_frame(goal.trend)
