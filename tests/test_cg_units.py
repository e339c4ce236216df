"""A control group reads one row per unit (issue 21): a unit with several rows kept the first row in
file order across both arms, so the arm and the value depended on the file's order (a visit rate of
11.72 % instead of 10.62 %). Now refused with the number of such units and an example, or combined per
unit as `unit_aggregation` says; checked against plain Python, in both row orders."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from metricspec.cli import main

ROWS = [  # (customer, group, visited_at, visits, revenue)
    ("c1", "t", "2026-01-03 10:00:00", 1, 10.0),
    ("c1", "t", "2026-01-05 10:00:00", 0, 30.0),
    ("c2", "c", "2026-01-04 10:00:00", 0, 5.0),
    ("c3", "t", "2026-01-06 10:00:00", 1, 0.0),
    ("c3", "t", "2026-01-02 10:00:00", 0, 7.0),
    ("c3", "t", "2026-01-08 10:00:00", 1, 2.0),
    ("c4", "c", "2026-01-07 10:00:00", 1, 1.0),
    ("c5", "c", "2026-01-01 10:00:00", 0, 4.0),
    ("c5", "c", "2026-01-09 10:00:00", 1, 6.0),
    ("c6", "t", "2026-01-09 10:00:00", 0, 8.0),
]


def _run(tmp: Path, rows: list[tuple[str, str, str, int, float]], aggregation: str | None) -> tuple[int, str]:
    (tmp / "v.csv").write_text("customer,grp,visited_at,visits,revenue\n"
                               + "".join(",".join(map(str, r)) + "\n" for r in rows), encoding="utf-8")
    how = f"\n    unit_aggregation: {aggregation}" if aggregation else ""
    (tmp / "s.yaml").write_text(f"""name: s
sources:
  v: {{connector: csv, options: {{path: v.csv}}, time_column: visited_at}}
control_groups:
  exposure:
    source: v
    unit: customer{how}
    assignment: {{column: grp, treatment: t, control: c}}
    metrics:
      revenue: {{kind: mean, column: revenue}}
      visits: {{kind: mean, column: visits}}
""", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(tmp / "s.yaml"), "--as-of", "2026-02-01", "--format", "json"])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _reference(rows: list[tuple[str, str, str, int, float]], how: str) -> dict[tuple[str, str], float]:
    """Per arm and metric, the mean over units of each unit's combined value (plain Python)."""
    per_unit: dict[str, list[tuple[str, str, int, float]]] = {}
    for c, g, t, v, r in rows:
        per_unit.setdefault(c, []).append((g, t, v, r))
    out: dict[tuple[str, str], list[float]] = {}
    for unit_rows in per_unit.values():
        ordered = sorted(unit_rows, key=lambda x: x[1])
        arm = ordered[0][0]
        for i, metric in ((2, "visits"), (3, "revenue")):
            values = [float(x[i]) for x in ordered]
            value = {"sum": sum(values), "mean": sum(values) / len(values), "first": values[0]}[how]
            out.setdefault((arm, metric), []).append(value)
    return {k: sum(v) / len(v) for k, v in out.items()}


def _means(output: str) -> dict[tuple[str, str], float]:
    group = json.loads(output[:output.rindex("}") + 1])["control_groups"][0]
    return {(arm, m["name"]): m[f"{'treatment' if arm == 't' else 'control'}_value"]
            for m in group["metrics"] for arm in ("t", "c")}


def test_duplicate_units_are_refused_with_their_number_and_an_example(tmp_path: Path) -> None:
    code, out = _run(tmp_path, ROWS, None)
    assert code == 2
    assert "control group 'exposure': 3 unit(s) of source 'v' have more than one row (e.g. 'c3' has 3)" in out
    assert "unit_aggregation: sum" in out and "s.yaml:7" in out


def test_a_unit_in_both_arms_is_refused_whatever_the_aggregation(tmp_path: Path) -> None:
    rows = [*ROWS, ("c2", "t", "2026-01-10 10:00:00", 1, 3.0)]
    code, out = _run(tmp_path, rows, "first")
    assert code == 2 and "unit 'c2' has rows with different 'grp' values" in out, out


@pytest.mark.parametrize("how", ["sum", "mean", "first"])
def test_unit_aggregation_combines_each_unit_s_rows(tmp_path: Path, how: str) -> None:
    expected = _reference(ROWS, how)
    shuffled = ROWS[:]
    random.Random(7).shuffle(shuffled)
    for order, rows in (("file", ROWS), ("shuffled", shuffled), ("reversed", ROWS[::-1])):
        d = tmp_path / order
        d.mkdir()
        code, out = _run(d, rows, how)
        assert code == 0, out
        got = _means(out)
        assert got == pytest.approx(expected), (order, got, expected)


def test_one_row_per_unit_is_read_as_before(tmp_path: Path) -> None:
    rows = [r for r in ROWS if r[0] not in ("c1", "c3", "c5")]
    code, out = _run(tmp_path, rows, None)
    assert code == 0, out
    assert _means(out) == pytest.approx(_reference(rows, "first"))
