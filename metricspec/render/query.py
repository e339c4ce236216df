"""A query's answer as text: a terminal table, JSON, CSV or Markdown (``metricspec query --format``).

The frame's values are shown raw in JSON and CSV (full precision, the period in ISO 8601), and in the
KPI's unit in tables and Markdown (``1,234``, ``12.3%``, ``€1,234.50``), each period by its label
(``2026-W37``, ``2026-09``, ``2026-10-25T02:00+01:00`` for an hour).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import TYPE_CHECKING, Any

from metricspec.plan.periods import label
from metricspec.render.formatting import fmt_value
from metricspec.render.markdown import md_escape

if TYPE_CHECKING:
    from rich.console import Console

    from metricspec.engine.query import Answer

FORMATS = ("table", "json", "csv", "markdown")
ALL_TIME_LABEL = "all time"


def period_label(value: dt.date | None, grain: str) -> str:
    if value is None:
        return ALL_TIME_LABEL if grain == "all" else ""
    return label(value, grain)


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def answer_json(answer: Answer) -> str:
    """``{"grain", "from", "to", "kpis", "by", "where", "rows": [{period, label, <by...>, <kpi...>}]}``:
    deterministic (fixed key order, rows sorted by period and breakdown)."""
    rows = []
    for row in answer.frame.iter_rows(named=True):
        out: dict[str, Any] = {"period": _iso(row["period"]), "label": period_label(row["period"], answer.grain)}
        out.update({c: row[c] for c in answer.by})
        out.update({k: row[k] for k in answer.kpis})
        rows.append(out)
    doc = {"grain": answer.grain, "from": _iso(answer.start), "to": _iso(answer.end), "kpis": list(answer.kpis),
           "by": list(answer.by), "where": answer.where, "rows": rows}
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def answer_csv(answer: Answer) -> str:
    """One row per period and breakdown: ``period,label,<by...>,<kpi...>`` (empty: no value)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["period", "label", *answer.by, *answer.kpis])
    for row in answer.frame.iter_rows(named=True):
        w.writerow([_iso(row["period"]) or "", period_label(row["period"], answer.grain),
                    *("" if row[c] is None else row[c] for c in answer.by),
                    *("" if row[k] is None else repr(row[k]) for k in answer.kpis)])
    return buf.getvalue()


def _cells(answer: Answer) -> list[list[str]]:
    units = dict(zip(answer.kpis, answer.units, strict=True)) if answer.units else {}
    out = []
    for row in answer.frame.iter_rows(named=True):
        values = [fmt_value(row[k], *units.get(k, ("number", None))) if row[k] is not None else "—"
                  for k in answer.kpis]
        out.append([period_label(row["period"], answer.grain), *("∅" if row[c] is None else str(row[c])
                                                                  for c in answer.by), *values])
    return out


def answer_markdown(answer: Answer) -> str:
    header = [answer.grain, *answer.by, *answer.kpis]
    lines = ["| " + " | ".join(md_escape(h) for h in header) + " |",
             "|" + "|".join([":--"] * (1 + len(answer.by)) + ["--:"] * len(answer.kpis)) + "|"]
    lines += ["| " + " | ".join(md_escape(c) for c in cells) + " |" for cells in _cells(answer)]
    return "\n".join(lines) + "\n"


def print_answer(answer: Answer, console: Console) -> None:
    """A rich table: the period's label, the breakdown, each KPI in its unit (— no value, ∅ an empty
    breakdown value)."""
    from rich.table import Table  # start-up: rich only for the table format
    from rich.text import Text  # start-up: rich only for the table format

    dates = f"{answer.start or 'first data'} to {answer.end}"
    where = f" · where {answer.where}" if answer.where else ""
    console.print(Text(f"{', '.join(answer.kpis)} per {answer.grain} · {dates}{where}", style="bold"))
    table = Table()
    table.add_column(Text(answer.grain))  # names and values from the data are text, never rich markup
    for col in answer.by:
        table.add_column(Text(col))
    for kpi in answer.kpis:
        table.add_column(Text(kpi), justify="right")
    for cells in _cells(answer):
        table.add_row(*(Text(c) for c in cells))
    console.print(table)


def answer_text(answer: Answer, fmt: str, *, width: int | None = None) -> str:
    """The answer in one of :data:`FORMATS` (``width``: a table's columns; default wide, nothing cut)."""
    if fmt == "json":
        return answer_json(answer)
    if fmt == "csv":
        return answer_csv(answer)
    if fmt == "markdown":
        return answer_markdown(answer)
    from rich.console import Console  # start-up: rich only for the table format

    from metricspec.render.table import WIDE_LAYOUT  # start-up: rich only for the table format

    buf = io.StringIO()
    print_answer(answer, Console(file=buf, width=width or WIDE_LAYOUT, no_color=True, highlight=False))
    return buf.getvalue()
