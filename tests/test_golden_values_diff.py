"""scripts/golden_values_diff.py: a KPI inserted into a golden file is one addition, not every later KPI
changed; a moved value is reported with its path; locations are ignored."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "golden_values_diff.py"


def _walk() -> Any:
    spec = importlib.util.spec_from_file_location("golden_values_diff", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.walk


def test_inserted_kpi_is_one_addition_and_moved_values_are_named() -> None:
    walk = _walk()
    a = {"name": "a", "where": "s.yaml:3:3", "series": [{"label": "total", "points": [
        {"period": "2026-01", "value": 1.0}, {"period": "2026-02", "value": 2.0}]}]}
    b = {"name": "b", "where": "s.yaml:5:3", "series": []}
    old = {"kpis": [a, b]}
    inserted = {"name": "new", "series": []}
    moved_b = {**b, "where": "s.yaml:9:3"}
    out: list[str] = []
    walk(old, {"kpis": [a, inserted, moved_b]}, "", out)
    assert out == ["/kpis/name=new added"]

    changed_a = {**a, "series": [{"label": "total", "points": [
        {"period": "2026-01", "value": 1.0}, {"period": "2026-02", "value": 2.5}]}]}
    out = []
    walk(old, {"kpis": [changed_a, b]}, "", out)
    assert out == ["/kpis/name=a/series/label=total/points/period=2026-02/value 2.0 -> 2.5"]

    out = []
    walk({"xs": [1, 2]}, {"xs": [1, 3, 4]}, "", out)  # unnamed lists stay positional
    assert out == ["/xs length 2 -> 3", "/xs[1] 2 -> 3"]
