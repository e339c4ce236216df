"""Long-format CSV of every KPI series point."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from metricspec.engine.results import Results

COLUMNS = ["kpi", "grain", "kind", "segment", "segment_value", "benchmark", "period", "label", "value", "partial"]


def results_csv(results: Results) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for k in results.kpis:
        for s in k.series:
            for p in s.points:
                w.writerow([k.name, s.grain, s.kind, s.segment or "", s.segment_value or "", s.benchmark or "",
                            p.period.isoformat(), p.label, "" if p.value is None else repr(p.value),
                            "true" if p.partial else "false"])
        for kind, bench, label, value in k.all_time_values():  # no period: a source without dates
            w.writerow([k.name, "all", kind, "", "", bench or "", "", label or "", "" if value is None else repr(value),
                        "false"])
    return buf.getvalue()
