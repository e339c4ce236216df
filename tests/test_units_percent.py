"""Units: percent literals (``target: 8%`` = 0.08) and the warning for ``target: 8`` on a percent KPI.

* ``8%`` is accepted wherever a goal's number is (target, baseline, tolerance, tolerance's absolute and
  relative) and for a value benchmark, and gives byte-identical Results to writing the fraction;
* the value is the float nearest the decimal (reference: :class:`fractions.Fraction`, a hypothesis
  property);
* a plain target, baseline or absolute tolerance above 1 on a ``unit: percent`` KPI (or a value
  benchmark it shows) is warned about with file:line and the fix; a
  percent literal, a fraction, or a KPI of another unit is not;
* a malformed percent gets an error with file:line and a hint;
* the JSON Schema accepts the literals.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from metricspec.cli import main
from metricspec.engine.run import evaluate
from metricspec.errors import Level, SpecError
from metricspec.loader import load_spec, spec_warnings
from metricspec.schema import schema_json
from metricspec.spec.percent import is_percent_literal, percent_value

AS_OF = dt.date(2026, 11, 1)

SPEC = """\
name: units
grains: [month]
sources:
  e: {{connector: csv, options: {{path: e.csv}}, time_column: t}}
kpis:
  rate: {{source: e, agg: mean, column: x, unit: percent, benchmarks: [industry]}}
  visits: {{source: e, agg: sum, column: n}}
benchmarks:
  industry: {{kind: value, value: {bench}}}
objectives:
  o:
    goals:
      g: {{kpi: rate, target: {target}, baseline: {baseline}, tolerance: {tolerance}, start: 2026-09-01, deadline: 2026-12-31}}
      v: {{kpi: visits, target: {visits}, tolerance: {{absolute: {absolute}, relative: {relative}}}}}
"""
GOAL_LINE = 13
DATA = "t,x,n\n2026-09-03,0.05,10\n2026-09-20,0.06,12\n2026-10-02,0.07,9\n2026-10-15,0.075,11\n"


def _write(tmp_path: Path, **values: str) -> Path:
    given_values = {"bench": "0.04", "target": "0.08", "baseline": "0.05", "tolerance": "0.005", "visits": "30",
                    "absolute": "2", "relative": "0.05"} | values
    (tmp_path / "e.csv").write_text(DATA)
    path = tmp_path / "s.yaml"
    path.write_text(SPEC.format(**given_values))
    return path


def test_percent_literals_mean_the_fraction_everywhere_a_goal_number_is(tmp_path: Path) -> None:
    fractions = evaluate(load_spec(_write(tmp_path)), as_of=AS_OF).to_json()
    path = _write(tmp_path, bench="4%", target="8%", baseline="5%", tolerance="0.5%", relative="5%")
    loaded = load_spec(path)
    goal = loaded.spec.objectives["o"].goals["g"]
    assert (goal.target, goal.baseline, goal.tolerance) == (0.08, 0.05, 0.005)
    assert loaded.spec.benchmarks["industry"].value == 0.04
    tol = loaded.spec.objectives["o"].goals["v"].tolerance
    assert tol is not None and not isinstance(tol, float) and tol.relative == 0.05
    assert not spec_warnings(loaded)
    assert evaluate(loaded, as_of=AS_OF).to_json() == fractions  # the same Results, byte for byte
    doc = json.loads(fractions)
    (g,) = [g for o in doc["objectives"] for g in o["goals"] if g["id"] == "g"]
    assert g["target"] == 0.08 and g["baseline"] == 0.05


def test_absolute_tolerance_and_spaces_in_literals(tmp_path: Path) -> None:
    loaded = load_spec(_write(tmp_path, target="'12.5 %'", absolute="'+1.5%'"))
    assert loaded.spec.objectives["o"].goals["g"].target == 0.125
    tol = loaded.spec.objectives["o"].goals["v"].tolerance
    assert tol is not None and not isinstance(tol, float) and tol.absolute == 0.015


@given(st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False, allow_infinity=False))
def test_a_percent_literal_is_the_float_nearest_its_decimal_value(d: object) -> None:
    text = f"{d}%"
    assert is_percent_literal(text)
    assert percent_value(text) == float(Fraction(str(d)) / 100)


@pytest.mark.parametrize("text", ["8", "8 percent", "%8", "8%%", "eight%", "1e3%", "", "8 %x"])
def test_what_is_not_a_percent_literal(text: str) -> None:
    assert not is_percent_literal(text)


# ---------------------------------------------------------------- the warning


@pytest.mark.parametrize(("values", "line", "written", "message", "fix"), [
    ({"target": "8"}, GOAL_LINE, "8,", "target 8 on KPI 'rate' (unit: percent) means 800 %",
     "write `target: 8%` or `target: 0.08`; if 800 % is meant, write `target: 800%`"),
    ({"baseline": "5"}, GOAL_LINE, "5,", "baseline 5 on KPI 'rate' (unit: percent) means 500 %",
     "write `baseline: 5%` or `baseline: 0.05`"),
    ({"tolerance": "{absolute: 2}"}, GOAL_LINE, "2}", "tolerance/absolute 2 on KPI 'rate'",
     "write `absolute: 2%` or `absolute: 0.02`"),
    ({"bench": "4"}, 9, "4}", "benchmark 'industry' value 4 on KPI 'rate' (unit: percent) means 400 %",
     "write `value: 4%` or `value: 0.04`"),
])
def test_a_whole_percent_on_a_percent_kpi_is_warned_with_the_fix(tmp_path: Path, values: dict[str, str], line: int,
                                                                 written: str, message: str, fix: str) -> None:
    loaded = load_spec(_write(tmp_path, **values))
    (issue,) = [i for i in spec_warnings(loaded) if "unit: percent" in i.message]
    assert issue.level is Level.WARNING and message in issue.message, issue
    assert issue.hint is not None and fix in issue.hint, issue.hint
    where = issue.where
    assert where is not None and where.file.endswith("s.yaml") and where.line == line
    text = (tmp_path / "s.yaml").read_text().splitlines()[line - 1]
    assert text[where.column - 1:].startswith(written), (text, where)  # points at the number itself


@pytest.mark.parametrize("values", [
    {"target": "8%"}, {"target": "800%"}, {"target": "0.08"}, {"target": "1"}, {"target": "0.99"},
    {"baseline": "5%", "tolerance": "1%"}, {"bench": "4%"}, {"tolerance": "{absolute: 1%}"},
    {"tolerance": "2"},  # a plain tolerance is relative: a fraction of the target, whatever the unit
    {"visits": "8", "absolute": "2"},  # visits is not a percent KPI: 8 and 2 are plain numbers
])
def test_fractions_percent_literals_and_other_units_are_not_warned(tmp_path: Path, values: dict[str, str]) -> None:
    assert not spec_warnings(load_spec(_write(tmp_path, **values)))


def test_strict_validation_fails_on_the_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, target="8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"s.yaml:{GOAL_LINE}:" in result.output and "`target: 8%`" in result.output
    strict = CliRunner().invoke(main, ["validate", "--strict", str(path)])
    assert strict.exit_code != 0, strict.output


# ---------------------------------------------------------------- errors and schema


@pytest.mark.parametrize(("values", "field"), [
    ({"target": "8 percent"}, "target"), ({"baseline": "eight%"}, "baseline"), ({"tolerance": "1e3%"}, "tolerance"),
])
def test_a_malformed_percent_gets_the_place_and_a_hint(tmp_path: Path, values: dict[str, str], field: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(_write(tmp_path, **values))
    (issue,) = info.value.issues()
    assert issue.where is not None and issue.where.line == GOAL_LINE and issue.where.file.endswith("s.yaml")
    assert f"goals/g/{field}" in issue.message and "Input should be a valid number or percent" in issue.message and f"(got {values[field]!r})" in issue.message
    assert issue.hint == "write a number such as 0.08, or a percent such as 8% (= 0.08)"


def test_a_negative_percent_tolerance_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(_write(tmp_path, tolerance="-5%"))
    (issue,) = info.value.issues()
    assert issue.where is not None and issue.where.line == GOAL_LINE
    assert "greater than or equal to 0" in issue.message


def test_the_schema_accepts_percent_literals() -> None:
    schema = json.loads(schema_json())
    spec = textwrap.dedent("""\
        {"name": "s", "benchmarks": {"b": {"kind": "value", "value": "4%"}},
         "objectives": {"o": {"goals": {"g": {"kpi": "k", "target": "8%", "baseline": "5.5 %",
                                              "tolerance": {"absolute": "1%", "relative": "5%"}},
                                        "h": {"kpi": "k", "target": 0.08, "tolerance": "0.5%"}}}}}""")
    jsonschema.validate(json.loads(spec), schema)
    bad = json.loads(spec)
    bad["objectives"]["o"]["goals"]["g"]["target"] = "8 percent"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad["objectives"]["o"]["goals"]["g"]["target"] = 0.08
    bad["objectives"]["o"]["goals"]["h"]["tolerance"] = "-1%"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
