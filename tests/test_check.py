"""Unit tests of the CI gate: comparison rules, spec diffs, baseline, annotations, JUnit."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from metricspec.check.baseline import baseline_document, dumps, num, read_baseline, write_baseline
from metricspec.check.baseline_schema import EffectEntry, GoalEntry, SpecEntry
from metricspec.check.compare import (
    compare_effect,
    compare_goal,
    compare_snapshots,
    tolerance_band,
    wrong_way,
)
from metricspec.check.findings import CheckReport, Finding, GoalCase, SpecCheck
from metricspec.check.github import (
    annotation,
    escape_data,
    escape_property,
    finding_annotation,
    report_annotations,
)
from metricspec.check.junit import junit_xml
from metricspec.check.specdiff import (
    compare_specs,
    find_acknowledgement,
    kpi_fingerprint,
    load_spec_text,
)
from metricspec.errors import Location, SpecError, UsageError
from metricspec.spec.models import Spec

XSD = Path(__file__).parent / "fixtures" / "junit" / "junit-10.xsd"


# ----------------------------------------------------------------- helpers


def goal(status="on_track", current=100.0, target=200.0, *, direction="increase", absolute=None, relative=None,
         measure="latest", kpi="clicks", deadline="2026-12-31"):
    return GoalEntry.model_validate(
        {"objective": "obj", "goal": "g", "title": "G", "kpi": kpi, "status": status, "current": current,
         "target": target, "baseline": 0.0, "deadline": deadline, "direction": direction, "measure": measure,
         "grain": "month", "tolerance": {"absolute": absolute, "relative": relative}, "kpi_headlines": {}})


def rules(findings):
    return sorted((f.rule, f.severity) for f in findings)


def effect(lift, significant, *, direction="increase"):
    sign = (lift > 0) - (lift < 0) if lift is not None else None
    return EffectEntry.model_validate(
        {"lift": lift, "ci": [lift - 0.05, lift + 0.05] if lift is not None else [None, None],
         "difference": lift, "difference_ci": [None, None], "p_value": 0.01 if significant else 0.4,
         "significant": significant, "sign": sign, "direction": direction})


def spec_of(**goal_fields):
    g = {"kpi": "clicks", "target": 100, "deadline": "2026-06-30", **goal_fields}
    return Spec.model_validate({
        "name": "s",
        "sources": {"posts": {"connector": "csv", "options": {"path": "posts.csv"}, "time_column": "day"}},
        "kpis": {"clicks": {"source": "posts", "agg": "sum", "column": "clicks", "title": "Clicks"},
                 "posts": {"source": "posts", "agg": "count"}},
        "objectives": {"traffic": {"goals": {"g": g}}},
    })


def with_(spec: Spec, mutate) -> Spec:
    data = spec.model_dump(mode="json", exclude_unset=True)
    mutate(data)
    return Spec.model_validate(data)


# ----------------------------------------------------------------- goal status and values


def test_helpers():
    assert wrong_way(10, 8, "increase") == 2
    assert wrong_way(10, 8, "decrease") == -2
    assert wrong_way(None, 8, "increase") is None
    assert tolerance_band(200, None, None) is None
    assert tolerance_band(200, 5, 0.1) == 20
    assert tolerance_band(200, 50, 0.1) == 50


def test_status_worse_is_a_failure():
    found = compare_goal(goal("on_track", 100), goal("at_risk", 100))
    assert rules(found) == [("status_worse", "failure")]
    assert "on_track → at_risk" in found[0].message and found[0].old == "on_track" and found[0].new == "at_risk"


@pytest.mark.parametrize("old,new", [("achieved", "on_track"), ("achieved", "missed"), ("at_risk", "off_track"),
                                     ("off_track", "missed"), ("on_track", "no_data")])
def test_every_step_down_the_status_order_fails(old, new):
    assert ("status_worse", "failure") in rules(compare_goal(goal(old, 100), goal(new, 100)))


def test_status_better_or_equal_is_fine():
    assert compare_goal(goal("at_risk", 100), goal("on_track", 120)) == []
    assert compare_goal(goal("on_track", 100), goal("on_track", 100)) == []


def test_status_worse_within_tolerance_is_a_warning():
    found = compare_goal(goal("on_track", 100), goal("at_risk", 98, relative=0.05))
    assert rules(found) == [("kpi_moved", "warning"), ("status_worse", "warning")]


def test_status_worse_into_missed_fails_even_within_tolerance():
    found = compare_goal(goal("at_risk", 100), goal("missed", 99, absolute=5))
    assert ("status_worse", "failure") in rules(found)


def test_status_worse_after_raising_the_target_is_a_warning():
    found = compare_goal(goal("on_track", 100, target=200), goal("at_risk", 100, target=300))
    assert rules(found) == [("status_worse", "warning")]
    assert "target changed from 200 to 300" in found[0].message


def test_absolute_tolerance():
    beyond = compare_goal(goal("on_track", 100, absolute=5), goal("on_track", 94, absolute=5))
    assert rules(beyond) == [("kpi_moved", "failure")]
    assert beyond[0].old == 100 and beyond[0].new == 94
    within = compare_goal(goal("on_track", 100, absolute=5), goal("on_track", 95, absolute=5))
    assert rules(within) == [("kpi_moved", "warning")]


def test_relative_tolerance_is_relative_to_the_baseline_value():
    beyond = compare_goal(goal("on_track", 200), goal("on_track", 188, relative=0.05))  # band 10
    assert rules(beyond) == [("kpi_moved", "failure")]
    within = compare_goal(goal("on_track", 200), goal("on_track", 191, relative=0.05))
    assert rules(within) == [("kpi_moved", "warning")]


def test_tolerance_takes_the_larger_of_absolute_and_relative():
    found = compare_goal(goal("on_track", 200), goal("on_track", 185, absolute=20, relative=0.05))
    assert rules(found) == [("kpi_moved", "warning")]


def test_direction_decrease():
    # response time should go down: going up is the wrong way
    worse = compare_goal(goal("on_track", 10, target=5, direction="decrease"),
                         goal("on_track", 12, target=5, direction="decrease", absolute=1))
    assert rules(worse) == [("kpi_moved", "failure")]
    better = compare_goal(goal("on_track", 10, target=5, direction="decrease"),
                          goal("on_track", 7, target=5, direction="decrease", absolute=1))
    assert better == []


def test_moving_the_right_way_is_fine():
    assert compare_goal(goal("on_track", 100), goal("on_track", 150, absolute=1)) == []


def test_no_tolerance_only_warns_about_value_moves():
    found = compare_goal(goal("on_track", 100), goal("on_track", 50))
    assert rules(found) == [("kpi_moved", "warning")]
    assert "no `tolerance:`" in found[0].message


def test_totals_are_only_compared_at_the_same_as_of():
    old, new = goal("on_track", 100, measure="total", absolute=1), goal("on_track", 90, measure="total", absolute=1)
    assert rules(compare_goal(old, new, same_as_of=True)) == [("kpi_moved", "failure")]
    assert compare_goal(old, new, same_as_of=False) == []


# ----------------------------------------------------------------- control groups


def test_control_group_lost_significance_fails():
    found = compare_effect(effect(0.12, True), effect(0.03, False), group="cg", metric="conv")
    assert rules(found) == [("effect_lost_significance", "failure")]
    assert "+12.0%" in found[0].message and "not significant" in found[0].message


def test_control_group_sign_change_fails_when_it_was_significant():
    found = compare_effect(effect(0.12, True), effect(-0.10, True), group="cg", metric="conv")
    assert rules(found) == [("effect_sign_changed", "failure")]


def test_control_group_sign_change_without_significance_is_a_warning():
    found = compare_effect(effect(0.02, False), effect(-0.01, False), group="cg", metric="conv")
    assert rules(found) == [("effect_sign_changed", "warning")]


def test_control_group_stable_effect_is_fine():
    assert compare_effect(effect(0.12, True), effect(0.10, True)) == []
    assert compare_effect(effect(0.02, False), effect(0.03, False)) == []


def test_control_group_newly_harmful_effect_warns():
    found = compare_effect(effect(0.01, False), effect(-0.2, True))
    assert rules(found) == [("effect_sign_changed", "warning")]
    found = compare_effect(effect(0.0, False), effect(-0.2, True))
    assert rules(found) == [("effect_harmful", "warning")]


def test_control_group_vanished():
    assert rules(compare_effect(effect(0.12, True), None)) == [("effect_missing", "failure")]
    assert rules(compare_effect(effect(0.02, False), None)) == [("effect_missing", "warning")]


# ----------------------------------------------------------------- whole snapshots


def snap(goals=None, kpis=None, cgs=None, as_of="2026-06-30"):
    return SpecEntry.model_validate({"name": "s", "path": "s.yaml", "as_of": as_of, "goals": goals or {},
                                     "kpis": kpis or {}, "control_groups": cgs or {}})


def test_snapshot_goal_removed_fails_unless_acknowledged():
    old = snap(goals={"traffic/g": goal(), "traffic/gone": goal()})
    new = snap(goals={"traffic/g": goal()})
    spec = spec_of()
    found = compare_snapshots(old, new, spec=spec)
    assert rules(found) == [("goal_missing", "failure")]
    acked = with_(spec, lambda d: d.setdefault("acknowledged", []).append(
        {"change": "goal_removed", "goal": "gone", "reason": "campaign cancelled"}))
    found = compare_snapshots(old, new, spec=acked)
    assert rules(found) == [("goal_missing", "info")] and found[0].acknowledged == "campaign cancelled"


def test_snapshot_new_goal_is_info_and_moved_goal_is_matched():
    old = snap(goals={"a/g": goal("on_track", 100)})
    new = snap(goals={"b/g": goal("at_risk", 100), "b/h": goal()})
    found = compare_snapshots(old, new)
    assert rules(found) == [("new_goal", "info"), ("status_worse", "failure")]


def test_snapshot_kpi_redefined_skips_value_comparison():
    kpis_old = {"clicks": {"direction": "increase", "definition": "aaa", "headlines": {}}}
    kpis_new = {"clicks": {"direction": "increase", "definition": "bbb", "headlines": {}}}
    old = snap(goals={"traffic/g": goal("on_track", 100)}, kpis=kpis_old)
    new = snap(goals={"traffic/g": goal("on_track", 10, absolute=1)}, kpis=kpis_new)
    assert rules(compare_snapshots(old, new, spec=spec_of())) == [("definition_changed", "warning")]
    acked = spec_of(acknowledged=[{"change": "kpi_redefined", "reason": "now counts unique clicks"}])
    new_worse = snap(goals={"traffic/g": goal("off_track", 10, absolute=1)}, kpis=kpis_new)
    found = compare_snapshots(old, new_worse, spec=acked)
    assert rules(found) == [("definition_changed", "info"), ("status_worse", "info")]


def test_snapshot_kpi_removed():
    old = snap(kpis={"reach": {"direction": "increase", "definition": "x", "headlines": {}}})
    assert rules(compare_snapshots(old, snap(), spec=spec_of())) == [("kpi_missing", "failure")]


def test_snapshot_findings_name_file_and_line():
    where = Location("specs/s.yaml", 12, 7)
    found = compare_snapshots(snap(goals={"traffic/g": goal("on_track")}),
                              snap(goals={"traffic/g": goal("off_track")}),
                              locate=lambda *p, key=False: where if p[:1] == ("objectives",) else None)
    assert found[0].where == where and found[0].goal == "traffic/g"


# ----------------------------------------------------------------- spec regressions (--against)


def test_target_lowered_fails():
    found = compare_specs(spec_of(target=100), spec_of(target=80))
    assert rules(found) == [("target_lowered", "failure")]
    assert found[0].old == 100 and found[0].new == 80 and "lowered from 100 to 80" in found[0].message


def test_target_raised_is_fine_and_decrease_goals_flip():
    assert compare_specs(spec_of(target=100), spec_of(target=120)) == []
    found = compare_specs(spec_of(target=5, direction="decrease"), spec_of(target=8, direction="decrease"))
    assert rules(found) == [("target_lowered", "failure")] and "raised from 5 to 8" in found[0].message


def test_target_lowered_acknowledged_on_the_goal_is_info():
    ack = [{"change": "target_lowered", "reason": "budget cut in Q2"}]
    found = compare_specs(spec_of(target=100), spec_of(target=80, acknowledged=ack))
    assert rules(found) == [("target_lowered", "info")]
    assert found[0].acknowledged == "budget cut in Q2" and "acknowledged: budget cut in Q2" in found[0].message


def test_acknowledgement_on_the_spec_can_target_a_goal():
    new = with_(spec_of(target=80), lambda d: d.update(
        acknowledged=[{"change": "any", "goal": "other", "reason": "not this one"}]))
    assert rules(compare_specs(spec_of(target=100), new)) == [("target_lowered", "failure")]
    new = with_(spec_of(target=80), lambda d: d.update(
        acknowledged=[{"change": "target_lowered", "goal": "g", "reason": "re-planned"}]))
    assert rules(compare_specs(spec_of(target=100), new)) == [("target_lowered", "info")]


def test_wrong_kind_of_acknowledgement_does_not_count():
    ack = [{"change": "deadline_extended", "reason": "late start"}]
    assert rules(compare_specs(spec_of(target=100), spec_of(target=80, acknowledged=ack))) == [
        ("target_lowered", "failure")]


def test_deadline_extended_and_removed():
    found = compare_specs(spec_of(deadline="2026-06-30"), spec_of(deadline="2026-09-30"))
    assert rules(found) == [("deadline_extended", "failure")]
    assert found[0].old == "2026-06-30" and found[0].new == "2026-09-30"
    assert compare_specs(spec_of(deadline="2026-06-30"), spec_of(deadline="2026-05-31")) == []
    no_deadline = with_(spec_of(), lambda d: d["objectives"]["traffic"]["goals"]["g"].pop("deadline"))
    assert rules(compare_specs(spec_of(), no_deadline)) == [("deadline_extended", "failure")]


def test_goal_and_kpi_removed():
    old = spec_of()
    new = with_(old, lambda d: (d["objectives"]["traffic"]["goals"].update(
        h=d["objectives"]["traffic"]["goals"].pop("g")), d["kpis"].pop("posts")))
    # a goal renamed = one removed (and one new); a KPI deleted
    assert rules(compare_specs(old, new)) == [("goal_removed", "failure"), ("kpi_removed", "failure")]
    acked = with_(new, lambda d: d.update(acknowledged=[
        {"change": "goal_removed", "goal": "g", "reason": "renamed to h"},
        {"change": "kpi_removed", "kpi": "posts", "reason": "unused"}]))
    assert rules(compare_specs(old, acked)) == [("goal_removed", "info"), ("kpi_removed", "info")]


def test_kpi_redefinition_but_not_cosmetic_changes():
    old = spec_of()
    cosmetic = with_(old, lambda d: d["kpis"]["clicks"].update(title="Link clicks", description="all of them"))
    assert compare_specs(old, cosmetic) == []
    filtered = with_(old, lambda d: d["kpis"]["clicks"].update(filter="platform == 'x'"))
    found = compare_specs(old, filtered)
    assert rules(found) == [("kpi_redefined", "failure")] and "filter" in found[0].message
    agg = with_(old, lambda d: d["kpis"]["clicks"].update(agg="mean"))
    assert rules(compare_specs(old, agg)) == [("kpi_redefined", "failure")]
    source = with_(old, lambda d: d["sources"]["posts"].update(options={"path": "other.csv"}))
    found = compare_specs(old, source)
    assert {f.subject for f in found} == {"kpi clicks", "kpi posts"} and "source.options" in found[0].message
    acked = with_(filtered, lambda d: d.update(acknowledged=[
        {"change": "kpi_redefined", "kpi": "clicks", "reason": "X only from now on"}]))
    assert rules(compare_specs(old, acked)) == [("kpi_redefined", "info")]


def test_kpi_fingerprint_follows_dependencies():
    base = with_(spec_of(), lambda d: d["kpis"].update(cpp={"ratio": {"numerator": "clicks", "denominator": "posts"}}))
    changed = with_(base, lambda d: d["kpis"]["clicks"].update(column="link_clicks"))
    cosmetic = with_(base, lambda d: d["kpis"]["clicks"].update(title="x"))
    assert kpi_fingerprint(base, "cpp") != kpi_fingerprint(changed, "cpp")
    assert kpi_fingerprint(base, "cpp") == kpi_fingerprint(cosmetic, "cpp")


def test_find_acknowledgement_goal_level_covers_its_kpi():
    spec = spec_of(acknowledged=[{"change": "kpi_redefined", "reason": "unique clicks"}])
    assert find_acknowledgement(spec, "kpi_redefined", kpi="clicks").reason == "unique clicks"
    assert find_acknowledgement(spec, "kpi_redefined", kpi="posts") is None


def test_load_spec_text_with_includes():
    text = "name: s\ninclude: [../shared/kpis.yaml]\nobjectives:\n  o:\n    goals:\n      g: {kpi: clicks, target: 5}\n"
    shared = ("sources:\n  posts: {connector: csv, options: {path: p.csv}, time_column: day}\n"
              "kpis:\n  clicks: {source: posts, agg: count}\n")
    reads = []

    def read(p: PurePosixPath):
        reads.append(p)
        return shared if p == PurePosixPath("specs/shared/kpis.yaml") else None

    spec, line_of = load_spec_text(text, "HEAD:specs/a/s.yaml", rel_path=PurePosixPath("specs/a/s.yaml"),
                                   read_include=read)
    assert reads == [PurePosixPath("specs/shared/kpis.yaml")]
    assert "clicks" in spec.kpis and spec.objectives["o"].goals["g"].target == 5
    assert line_of("objectives", "o", "goals", "g") == "HEAD:specs/a/s.yaml:6"
    with pytest.raises(SpecError):
        load_spec_text("name: s\nkpis: [1, 2]\n", "x.yaml")


# ----------------------------------------------------------------- baseline file


def test_baseline_dumps_is_deterministic_and_sorted(tmp_path):
    a = baseline_document({"b": snap(goals={"o/g": goal()}), "a": snap()})
    b = baseline_document(dict(reversed(list(a.specs.items()))))
    assert dumps(a) == dumps(b)
    assert dumps(a).index('"a"') < dumps(a).index('"b"') and dumps(a).endswith("}\n")
    p1, p2 = tmp_path / "1.json", tmp_path / "sub" / "2.json"
    write_baseline(p1, a)
    write_baseline(p2, b)
    assert p1.read_bytes() == p2.read_bytes()
    assert read_baseline(p1) == a
    assert not list(tmp_path.glob(".*.tmp"))


def test_num_rounds_and_drops_non_finite():
    assert num(0.1 + 0.2) == 0.3
    assert num(float("nan")) is None and num(float("inf")) is None and num(None) is None
    assert num(-0.0) == 0.0 and str(num(-0.0)) == "0.0"


def test_read_baseline_errors(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        read_baseline(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(UsageError, match="not valid JSON"):
        read_baseline(bad)
    bad.write_text('{"x": 1}', encoding="utf-8")
    with pytest.raises(UsageError, match="not a metricspec baseline"):
        read_baseline(bad)


# ----------------------------------------------------------------- GitHub annotations


def test_escape_data():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_data("a: b, c") == "a: b, c"  # ':' and ',' are fine in messages


def test_escape_property():
    assert escape_property("specs/a,b:c.yaml") == "specs/a%2Cb%3Ac.yaml"
    assert escape_property("100%\n") == "100%25%0A"
    # '%' first, so escapes are not double-escaped
    assert escape_property("%3A") == "%253A"


def test_annotation_format():
    line = annotation("error", "goal 'g': target lowered\nfrom 100 to 80 (-20%)", file="specs/s.yaml", line=12,
                      col=7, title="s: target lowered — goal traffic/g")
    assert line == ("::error file=specs/s.yaml,line=12,col=7,title=s%3A target lowered — goal traffic/g"
                    "::goal 'g': target lowered%0Afrom 100 to 80 (-20%25)")
    assert annotation("warning", "m") == "::warning::m"
    assert annotation("warning", "m", file="a.yaml") == "::warning file=a.yaml::m"
    with pytest.raises(ValueError):
        annotation("fatal", "m")


def test_annotations_of_a_report():
    f1 = Finding("failure", "status_worse", "results", "s", "goal o/g", "worse", where=Location("s.yaml", 3, 5))
    f2 = Finding("warning", "kpi_moved", "results", "s", "goal o/g", "moved", where=Location("s.yaml", 3, 5))
    f3 = Finding("info", "new_goal", "results", "s", "goal o/h", "new")
    report = CheckReport(specs=[SpecCheck("s", "s.yaml", findings=[f2, f3, f1])])
    lines = report_annotations(report)
    assert lines == ["::error file=s.yaml,line=3,col=5,title=s%3A status worse — goal o/g::worse",
                     "::warning file=s.yaml,line=3,col=5,title=s%3A kpi moved — goal o/g::moved"]
    report.strict = True
    assert report_annotations(report)[1].startswith("::error ") and report.exit_code == 1
    assert finding_annotation(f3, fails=False) is None


# ----------------------------------------------------------------- JUnit


def test_junit_validates_against_the_schema():
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(XSD))
    findings = [
        Finding("failure", "status_worse", "results", "s", "goal o/g", "worse & <bad> \"quoted\"", "on_track",
                "at_risk", Location("s.yaml", 3, 5), goal="o/g"),
        Finding("warning", "kpi_moved", "results", "s", "goal o/g", "moved a bit", 1.0, 0.9, goal="o/g"),
        Finding("failure", "target_lowered", "spec", "s", "goal o/g", "lowered", 100, 80, Location("s.yaml", 4, 3),
                goal="o/g"),
        Finding("info", "kpi_redefined", "spec", "s", "kpi k", "ack'd", acknowledged="why"),
        Finding("failure", "effect_lost_significance", "results", "s", "control group c/m", "lost\x01 it"),
    ]
    report = CheckReport(specs=[SpecCheck("s", "s.yaml", as_of="2026-06-30",
                                          goals=[GoalCase("o/g", "G", "at_risk", 1.0, 2.0), GoalCase("o/h", "H",
                                                                                                   "on_track", None, 3)],
                                          findings=findings), SpecCheck("empty", "e.yaml")])
    xml = junit_xml(report)
    schema.validate(xml)
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml)
    assert root.get("tests") == "5" and root.get("failures") == "3"
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["g", "h", "effect_lost_significance: control group c/m",
                                              "target_lowered: goal o/g", "kpi_redefined: kpi k"]
    assert cases[0].find("failure").get("type") == "status_worse"
    assert "moved a bit" in cases[0].find("system-out").text
    assert cases[1].find("failure") is None
    assert cases[4].find("failure") is None and "ack'd" in cases[4].find("system-out").text
    assert cases[2].find("failure").get("message") == "lost it"  # XML-illegal characters dropped


# ----------------------------------------------------------------- git helpers


def test_dirty_paths_and_refs(tmp_path):
    from metricspec.check.git import dirty_paths, repo_root, show_file, verify_ref

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "T")
    (tmp_path / "a.yaml").write_text("name: a\n", encoding="utf-8")
    (tmp_path / "other.txt").write_text("x", encoding="utf-8")
    git("add", "a.yaml")
    git("commit", "-qm", "a")
    root = repo_root(tmp_path / "a.yaml")
    assert root == tmp_path.resolve()
    assert dirty_paths(root, [tmp_path / "a.yaml"]) == []  # other.txt is untracked but not asked about
    (tmp_path / "a.yaml").write_text("name: b\n", encoding="utf-8")
    assert dirty_paths(root, [tmp_path / "a.yaml"]) == [" M a.yaml"]
    assert show_file(root, "HEAD", PurePosixPath("a.yaml")) == "name: a\n"
    assert show_file(root, "HEAD", PurePosixPath("nope.yaml")) is None
    with pytest.raises(UsageError):
        verify_ref(root, "no-such-branch")
    assert repo_root(Path("/")) is None


def test_report_counts_and_json():
    f = Finding("warning", "kpi_moved", "results", "s", "goal o/g", "m", 1.0, float("nan"))
    report = CheckReport(specs=[SpecCheck("s", "s.yaml", findings=[f])])
    assert report.exit_code == 0
    data = report.to_dict()
    assert data["counts"] == {"failure": 0, "warning": 1, "info": 0}
    assert data["specs"][0]["findings"][0]["new"] is None
    assert copy.deepcopy(data) == json.loads(json.dumps(data))


# ----------------------------------------------------------------- baseline update (evaluates a real spec)

MINI_SPEC = """\
name: mini
sources:
  posts: {connector: csv, options: {path: posts.csv}, time_column: day, columns: {day: date}}
kpis:
  clicks: {source: posts, agg: sum, column: clicks}
objectives:
  traffic:
    goals:
      clicks_q1: {kpi: clicks, target: 1000, start: 2026-01-01, deadline: 2026-06-30}
"""


def mini_csv(per_day: int) -> str:
    import datetime as dt

    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(60)]
    return "day,clicks\n" + "".join(f"{d.isoformat()},{per_day}\n" for d in days)


@pytest.fixture
def mini_repo(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "mini.yaml").write_text(MINI_SPEC, encoding="utf-8")
    (tmp_path / "posts.csv").write_text(mini_csv(10), encoding="utf-8")
    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "T")
    git("config", "commit.gpgsign", "false")
    git("add", ".")
    git("commit", "-qm", "init")
    monkeypatch.chdir(tmp_path)
    return tmp_path, git


def test_baseline_update_is_byte_identical(mini_repo):
    from metricspec.check.runner import update_baseline

    root, _git = mini_repo
    update_baseline([Path("mini.yaml")], baseline=Path("a.json"), as_of=None)
    update_baseline([Path("mini.yaml")], baseline=Path("b.json"), as_of=None)
    first = (root / "a.json").read_bytes()
    assert first == (root / "b.json").read_bytes()
    update_baseline([Path("mini.yaml")], baseline=Path("a.json"), as_of=None)  # overwrite in place
    assert (root / "a.json").read_bytes() == first
    data = json.loads(first)
    goal_entry = data["specs"]["mini"]["goals"]["traffic/clicks_q1"]
    assert goal_entry["current"] == 600 and goal_entry["status"] in ("on_track", "at_risk", "off_track")
    assert list(data["specs"]["mini"]) == sorted(data["specs"]["mini"])  # sorted keys
    assert b"\r" not in first and first.endswith(b"}\n")


def test_baseline_update_refuses_a_dirty_tree(mini_repo):
    from metricspec.check.runner import BaselineRefused, update_baseline

    root, git = mini_repo
    (root / "posts.csv").write_text(mini_csv(11), encoding="utf-8")
    with pytest.raises(BaselineRefused) as info:
        update_baseline([Path("mini.yaml")], baseline=Path("b.json"))
    assert info.value.exit_code == 2 and "uncommitted" in str(info.value) and "posts.csv" in str(info.value)
    assert not (root / "b.json").exists()
    (root / "mini.yaml").write_text(MINI_SPEC + "# note\n", encoding="utf-8")
    git("checkout", "--", "posts.csv")
    with pytest.raises(BaselineRefused, match=r"mini\.yaml"):
        update_baseline([Path("mini.yaml")], baseline=Path("b.json"))
    forced = update_baseline([Path("mini.yaml")], baseline=Path("b.json"), force=True)
    assert forced.written == ["mini"] and (root / "b.json").exists()
    assert any("uncommitted" in n.message for n in forced.notes)


def test_baseline_update_refuses_a_regression_and_keeps_other_specs(mini_repo):
    from metricspec.check.runner import BaselineRefused, update_baseline

    root, git = mini_repo
    doc = baseline_document({"other": snap()})
    write_baseline(root / "base.json", doc)
    update_baseline([Path("mini.yaml")], baseline=Path("base.json"))
    assert set(read_baseline(root / "base.json").specs) == {"mini", "other"}
    before = (root / "base.json").read_bytes()
    (root / "posts.csv").write_text(mini_csv(1), encoding="utf-8")
    git("commit", "-qam", "slow data")
    with pytest.raises(BaselineRefused) as info:
        update_baseline([Path("mini.yaml")], baseline=Path("base.json"))
    assert info.value.exit_code == 1 and "clicks_q1" in str(info.value)
    assert (root / "base.json").read_bytes() == before
    forced = update_baseline([Path("mini.yaml")], baseline=Path("base.json"), force=True)
    assert [f.rule for f in forced.overridden] == ["status_worse"]
    assert read_baseline(root / "base.json").specs["mini"].goals["traffic/clicks_q1"].current == 60


def test_baseline_cli_exit_codes(mini_repo):
    from click.testing import CliRunner

    from metricspec.cli import main

    root, _git = mini_repo
    ok = CliRunner().invoke(main, ["baseline", "update", "mini.yaml"])
    assert ok.exit_code == 0, ok.output
    assert (root / ".metricspec" / "baseline.json").exists() and "wrote" in ok.output
    (root / "posts.csv").write_text(mini_csv(2), encoding="utf-8")
    dirty = CliRunner().invoke(main, ["baseline", "update", "mini.yaml"])
    assert dirty.exit_code == 2 and "uncommitted" in dirty.output
    check = CliRunner().invoke(main, ["check", "mini.yaml"])
    assert check.exit_code == 1 and "clicks_q1" in check.output
    strict_ok = CliRunner().invoke(main, ["check", "mini.yaml", "--baseline", ".metricspec/baseline.json"])
    assert strict_ok.exit_code == 1


def test_tracked_inputs_lists_spec_includes_and_data(tmp_path):
    from metricspec.check.runner import tracked_inputs
    from metricspec.loader import load_spec

    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "kpis.yaml").write_text("kpis:\n  n: {source: posts, agg: count}\n", encoding="utf-8")
    (tmp_path / "posts.csv").write_text("day,clicks\n2026-01-01,1\n", encoding="utf-8")
    (tmp_path / "s.yaml").write_text(
        "name: s\ninclude: [shared/kpis.yaml]\n"
        "sources:\n  posts: {connector: csv, options: {path: posts.csv}, time_column: day}\n", encoding="utf-8")
    files = {p.resolve() for p in tracked_inputs(load_spec(tmp_path / "s.yaml"))}
    assert files == {(tmp_path / n).resolve() for n in ("s.yaml", "shared/kpis.yaml", "posts.csv")}


def test_check_without_baseline_warns_but_passes(mini_repo):
    from metricspec.check.runner import check_paths

    report, _warnings = check_paths([Path("mini.yaml")])
    assert report.exit_code == 0
    assert [f.rule for f in report.findings] == ["no_baseline"]
    assert CheckReport(specs=report.specs, strict=True).exit_code == 1


def test_update_outside_git_notes_the_skipped_check(tmp_path, monkeypatch):
    from metricspec.check.runner import update_baseline

    if subprocess.run(["git", "rev-parse"], cwd=tmp_path, capture_output=True).returncode == 0:
        pytest.skip("the temporary folder is inside a git repository")
    (tmp_path / "mini.yaml").write_text(MINI_SPEC, encoding="utf-8")
    (tmp_path / "posts.csv").write_text(mini_csv(10), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    outcome = update_baseline([Path("mini.yaml")])
    assert outcome.written == ["mini"] and any("not a git repository" in n.message for n in outcome.notes)
