"""``metricspec run --format csv``: one long table, the rows of :meth:`Results.to_polars` (every KPI
value) followed by one row per goal, for every spec of the run (docs/python-api.md, "CSV output").

Columns, in this order: ``spec, kpi, grain, period, label, kind, segment, segment_value, benchmark,
value, partial, unit, currency`` (exactly the columns of ``Results.to_polars()``), then ``objective,
goal, target, status, deadline``, which only goal rows fill. A goal row has ``kind`` ``goal``, its
KPI's grain, unit and currency, its scope as ``segment``/``segment_value`` (columns and values joined
by `` · ``) and its current value as ``value``. Numbers are written as in the JSON (12 significant
digits), dates as ISO dates, booleans as ``true``/``false`` and missing values as empty cells.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from metricspec.engine.frames import KPI_COLUMNS
from metricspec.utils import stable_float

if TYPE_CHECKING:
    from metricspec.engine.results import GoalResult, Results

GOAL_COLUMNS = ["objective", "goal", "target", "status", "deadline"]
COLUMNS = ["spec", *KPI_COLUMNS, *GOAL_COLUMNS]
SCOPE_SEPARATOR = " · "


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        number = stable_float(value)
        return "" if number is None else repr(number)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _goal_row(results: Results, g: GoalResult) -> dict[str, Any]:
    kpi = next((k for k in results.kpis if k.name == g.kpi), None)
    return {
        "spec": results.spec.name, "kpi": g.kpi, "grain": g.grain, "kind": "goal",
        "segment": SCOPE_SEPARATOR.join(g.scope) or None,
        "segment_value": SCOPE_SEPARATOR.join(str(v) for v in g.scope.values()) or None,
        "value": g.current, "unit": kpi.unit if kpi else None, "currency": kpi.currency if kpi else None,
        "objective": g.objective, "goal": g.id, "target": g.target, "status": g.status, "deadline": g.deadline,
    }


def results_rows(results: Results) -> Iterable[dict[str, Any]]:
    """The CSV's rows of one run, as dicts of the columns they fill."""
    yield from results.to_polars().iter_rows(named=True)
    for g in results.goals():
        yield _goal_row(results, g)


def results_csv(runs: Results | Iterable[Results]) -> str:
    """The CSV text of one run or several (one header)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    # a Results is itself iterable (pydantic yields its fields): tell it apart by its attributes
    every: list[Results] = [runs] if hasattr(runs, "kpis") else list(runs)  # type: ignore[list-item]
    for results in every:
        for row in results_rows(results):
            w.writerow([_cell(row.get(name)) for name in COLUMNS])
    return buf.getvalue()
