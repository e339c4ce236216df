"""The baseline file as a typed document with a schema version (issue 26, "Typed documents").

Reading refuses, with the file, the field and the command that fixes it (never a traceback): a
baseline of a newer ``schema_version`` than this metricspec reads, one of an unknown kind, JSON that
is not a baseline, fields of the wrong type. A baseline written before ``schema_version`` existed has
the same shape and is read as version 1. Writing then reading gives the same document (hypothesis).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.check.baseline import dumps, read_baseline, write_baseline
from metricspec.check.baseline_schema import (
    SCHEMA_VERSION,
    BaselineDocument,
    EffectEntry,
    GoalEntry,
    Headline,
    KpiEntry,
    SpecEntry,
    Tolerance,
)
from metricspec.cli import main
from metricspec.errors import UsageError
from metricspec.utils import stable_float

GOAL = {"objective": "traffic", "goal": "g", "title": "G", "kpi": "clicks", "status": "on_track",
        "current": 100.0, "target": 200.0, "baseline": 0.0, "deadline": "2026-12-31", "direction": "increase",
        "measure": "latest", "grain": "month", "tolerance": {"absolute": None, "relative": 0.05},
        "kpi_headlines": {"month": 100.0}}
EFFECT = {"lift": 0.1, "ci": [0.05, 0.15], "difference": 2.0, "difference_ci": [1.0, 3.0], "p_value": 0.01,
          "significant": True, "sign": 1, "direction": "increase"}
ENTRY = {"name": "s", "path": "specs/s.yaml", "as_of": "2026-06-30",
         "goals": {"traffic/g": GOAL},
         "kpis": {"clicks": {"direction": "increase", "definition": "abc123",
                             "headlines": {"month": {"period": "2026-06-01", "value": 100.0}}},
                  "reach": {"direction": "increase", "headlines": {}}},
         "control_groups": {"cg": {"conv": EFFECT}}}
# what metricspec wrote before schema_version existed (format 1)
OLD_DOCUMENT = {"metricspec_baseline": 1, "specs": {"s": ENTRY}}


def _write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _refusal(path: Path) -> UsageError:
    with pytest.raises(UsageError) as info:
        read_baseline(path)
    return info.value


# ----------------------------------------------------------------- versions


def test_a_baseline_from_before_schema_version_reads_as_version_1(tmp_path):
    doc = read_baseline(_write(tmp_path / "b.json", OLD_DOCUMENT))
    assert isinstance(doc, BaselineDocument) and doc.schema_version == 1
    goal = doc.specs["s"].goals["traffic/g"]
    assert goal.current == 100.0 and goal.deadline == dt.date(2026, 12, 31) and goal.tolerance.relative == 0.05
    assert doc.specs["s"].kpis["clicks"].definition == "abc123" and doc.specs["s"].kpis["reach"].definition is None
    assert doc.specs["s"].control_groups["cg"]["conv"].ci == (0.05, 0.15)


def test_writing_it_back_adds_only_schema_version(tmp_path):
    """The old file's bytes (as the old writer wrote them) plus one line: ``"schema_version": 1``."""
    old = tmp_path / "old.json"
    old.write_text(json.dumps(OLD_DOCUMENT, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    new = tmp_path / "new.json"
    write_baseline(new, read_baseline(old))
    added = [line for line in new.read_text().splitlines() if line not in old.read_text().splitlines()]
    assert added == ['  "schema_version": 1,']
    assert len(new.read_text().splitlines()) == len(old.read_text().splitlines()) + 1


def test_a_newer_schema_version_is_refused(tmp_path):
    path = _write(tmp_path / "b.json", {**OLD_DOCUMENT, "schema_version": SCHEMA_VERSION + 1})
    err = _refusal(path)
    assert str(path) in str(err) and f"schema_version {SCHEMA_VERSION + 1}" in err.message
    assert "newer metricspec" in err.message and "upgrade metricspec" in (err.hint or "")
    assert "metricspec baseline update" in (err.hint or "")


@pytest.mark.parametrize("version", [0, -1, "1", 1.5, None, True])
def test_a_schema_version_that_is_not_a_positive_whole_number_is_refused(tmp_path, version):
    err = _refusal(_write(tmp_path / "b.json", {**OLD_DOCUMENT, "schema_version": version}))
    assert "schema_version" in err.message and "metricspec baseline update" in (err.hint or "")


@pytest.mark.parametrize("doc", [[1, 2], {"specs": {}}, {"metricspec_baseline": 2, "specs": {}},
                                 {"metricspec_baseline": "1", "specs": {}}])
def test_a_document_that_is_not_a_baseline_is_refused(tmp_path, doc):
    path = _write(tmp_path / "b.json", doc)
    err = _refusal(path)
    assert "not a metricspec baseline" in err.message and str(path) in str(err)
    assert "metricspec baseline update" in (err.hint or "")


# ----------------------------------------------------------------- types and fields


@pytest.mark.parametrize(("change", "field"), [
    (lambda e: e["goals"]["traffic/g"].update(current="lots"), "specs.s.goals.traffic/g.current"),
    (lambda e: e["goals"]["traffic/g"].update(status="fine"), "specs.s.goals.traffic/g.status"),
    (lambda e: e["goals"]["traffic/g"].update(deadline="31/12/2026"), "specs.s.goals.traffic/g.deadline"),
    (lambda e: e["goals"]["traffic/g"].pop("target"), "specs.s.goals.traffic/g.target"),
    (lambda e: e["goals"]["traffic/g"]["tolerance"].update(absolute=[1]), "specs.s.goals.traffic/g.tolerance.absolute"),
    (lambda e: e["kpis"]["clicks"].update(headlines=[]), "specs.s.kpis.clicks.headlines"),
    (lambda e: e["control_groups"]["cg"]["conv"].update(ci=[0.1]), "specs.s.control_groups.cg.conv.ci"),
    (lambda e: e["control_groups"]["cg"]["conv"].update(significant="yes"), "specs.s.control_groups.cg.conv.significant"),
    (lambda e: e.update(as_of=20260630), "specs.s.as_of"),
    (lambda e: e.update(colour="blue"), "specs.s.colour"),
])
def test_wrong_types_name_the_file_and_the_field(tmp_path, change, field):
    doc = json.loads(json.dumps(OLD_DOCUMENT))
    change(doc["specs"]["s"])
    path = _write(tmp_path / "b.json", doc)
    err = _refusal(path)
    assert str(path) in str(err) and f"'{field}" in err.message, err.message
    assert "metricspec baseline update" in (err.hint or "")


def test_every_problem_is_listed_not_only_the_first(tmp_path):
    doc = json.loads(json.dumps(OLD_DOCUMENT))
    doc["specs"]["s"]["goals"]["traffic/g"]["current"] = "lots"
    doc["specs"]["s"]["as_of"] = "yesterday"
    err = _refusal(_write(tmp_path / "b.json", doc))
    assert "specs.s.as_of" in err.message and "specs.s.goals.traffic/g.current" in err.message


def test_invalid_json_names_file_line_and_column(tmp_path):
    path = tmp_path / "b.json"
    path.write_text('{\n  "metricspec_baseline": 1,\n  "specs": {,}\n}\n', encoding="utf-8")
    err = _refusal(path)
    assert err.where is not None and (err.where.file, err.where.line, err.where.column) == (str(path), 3, 13)
    assert "metricspec baseline update" in (err.hint or "")


# ----------------------------------------------------------------- through the CLI: exit 2, no traceback


SPEC = """\
name: s
sources:
  posts: {connector: csv, options: {path: posts.csv}, time_column: day, columns: {day: date}}
kpis:
  clicks: {source: posts, agg: sum, column: clicks}
"""


@pytest.mark.parametrize(("doc", "says"), [
    ({**OLD_DOCUMENT, "schema_version": 99}, "schema_version 99"),
    ({"metricspec_baseline": 1, "specs": {"s": {**ENTRY, "as_of": 1}}}, "specs.s.as_of"),
])
def test_check_refuses_a_bad_baseline_with_exit_2(tmp_path, monkeypatch, doc, says):
    (tmp_path / "s.yaml").write_text(SPEC, encoding="utf-8")
    (tmp_path / "posts.csv").write_text("day,clicks\n2026-01-05,3\n", encoding="utf-8")
    _write(tmp_path / "b.json", doc)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "s.yaml", "--baseline", "b.json", "--as-of", "2026-03-31"])
    assert result.exit_code == 2, result.output
    assert says in result.output and "b.json" in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# ----------------------------------------------------------------- round trip


def _numbers() -> st.SearchStrategy[float | None]:
    finite = st.floats(allow_nan=False, allow_infinity=False, width=64).map(stable_float)
    return st.none() | finite


_names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8)
_dates = st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31))
_goals = st.builds(
    GoalEntry, objective=_names, goal=_names, title=st.text(max_size=12), kpi=_names,
    status=st.sampled_from(["achieved", "target_reached", "on_track", "at_risk", "off_track", "missed", "no_data"]),
    current=_numbers(), target=_numbers(), baseline=_numbers(), deadline=st.none() | _dates,
    direction=st.sampled_from(["increase", "decrease"]), measure=st.sampled_from(["latest", "total"]),
    grain=st.sampled_from(["day", "week", "month"]),
    tolerance=st.builds(Tolerance, absolute=_numbers(), relative=_numbers()),
    kpi_headlines=st.dictionaries(_names, _numbers(), max_size=2))
_kpis = st.builds(KpiEntry, direction=st.sampled_from(["increase", "decrease"]),
                  definition=st.none() | st.text(max_size=8),
                  headlines=st.dictionaries(_names, st.builds(Headline, period=st.none() | _dates.map(str),
                                                              value=_numbers()), max_size=2))
_effects = st.builds(EffectEntry, lift=_numbers(), ci=st.tuples(_numbers(), _numbers()), difference=_numbers(),
                     difference_ci=st.tuples(_numbers(), _numbers()), p_value=_numbers(),
                     significant=st.none() | st.booleans(), sign=st.sampled_from([None, -1, 0, 1]),
                     direction=st.sampled_from(["increase", "decrease"]))
_entries = st.builds(SpecEntry, name=_names, path=_names, as_of=_dates,
                     goals=st.dictionaries(_names, _goals, max_size=2), kpis=st.dictionaries(_names, _kpis, max_size=2),
                     control_groups=st.dictionaries(_names, st.dictionaries(_names, _effects, max_size=2), max_size=2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.dictionaries(_names, _entries, max_size=3))
def test_write_then_read_gives_the_same_document(tmp_path, specs):
    doc = BaselineDocument(specs=specs)
    path = tmp_path / "b.json"
    write_baseline(path, doc)
    again = read_baseline(path)
    assert again == doc
    assert dumps(again) == path.read_text(encoding="utf-8")  # and the same bytes once more
