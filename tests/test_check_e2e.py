"""`metricspec check` end to end in a temporary git repository (spec + CSV data + baseline)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from metricspec.cli import main

XSD = Path(__file__).parent / "fixtures" / "junit" / "junit-10.xsd"
AS_OF = "2026-03-31"

SPEC = """\
name: social
title: Social scorecard
owner: Ana
grains: [month]

sources:
  posts:
    connector: csv
    options: {path: ../data/posts.csv}
    time_column: day
    columns: {day: date}

kpis:
  clicks:
    title: Link clicks
    source: posts
    agg: sum
    column: clicks
  posts:
    title: Posts
    source: posts
    agg: count
    kind: activity

objectives:
  traffic:
    title: Website traffic
    type: website_traffic
    kpis: [clicks]
    goals:
      clicks_h1:
        title: 6,000 link clicks in H1
        kpi: clicks
        target: 6000
        start: 2026-01-01
        deadline: 2026-06-30
"""

GOAL_LINE = SPEC.splitlines().index("      clicks_h1:") + 1


def posts_csv(slow_from: dt.date | None = None) -> str:
    """40 clicks a day in Q1 (on track for 6,000 by June); 5 a day from ``slow_from`` (falls behind)."""
    lines = ["day,clicks"]
    day = dt.date(2026, 1, 1)
    while day <= dt.date(2026, 3, 31):
        clicks = 5 if slow_from and day >= slow_from else 40
        lines.append(f"{day.isoformat()},{clicks}")
        day += dt.timedelta(days=1)
    return "\n".join(lines) + "\n"


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return proc.stdout


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A committed spec, its data and its baseline; the working directory is the repository."""
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "specs" / "social.yaml").write_text(SPEC, encoding="utf-8")
    (root / "data" / "posts.csv").write_text(posts_csv(), encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "ci@example.com")
    git(root, "config", "user.name", "CI")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", ".")
    git(root, "commit", "-qm", "spec and data")
    monkeypatch.chdir(root)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    result = invoke("baseline", "update", "specs", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert (root / ".metricspec" / "baseline.json").exists()
    git(root, "add", ".metricspec/baseline.json")
    git(root, "commit", "-qm", "baseline")
    return root


def validate_junit(path: Path) -> ET.Element:
    xmlschema = pytest.importorskip("xmlschema")
    xmlschema.XMLSchema(str(XSD)).validate(str(path))
    return ET.parse(path).getroot()


def test_baseline_content(repo):
    data = json.loads((repo / ".metricspec" / "baseline.json").read_text(encoding="utf-8"))
    entry = data["specs"]["social"]
    goal = entry["goals"]["traffic/clicks_h1"]
    assert goal["status"] == "on_track" and goal["current"] == 3600 and goal["target"] == 6000
    assert entry["as_of"] == AS_OF and entry["path"] == "specs/social.yaml"
    assert entry["kpis"]["clicks"]["headlines"]["month"]["value"] == 40 * 31
    assert goal["kpi_headlines"] == {"month": 40 * 31}


def test_a_unchanged_passes(repo, tmp_path):
    junit = tmp_path / "junit.xml"
    result = invoke("check", "specs", "--as-of", AS_OF, "--junit", str(junit))
    assert result.exit_code == 0, result.output
    assert "OK:" in result.output and "clicks_h1" in result.output
    root = validate_junit(junit)
    assert root.get("failures") == "0"
    assert [c.get("name") for c in root.iter("testcase")] == ["clicks_h1"]


def test_b_goal_falls_behind_fails(repo, tmp_path):
    (repo / "data" / "posts.csv").write_text(posts_csv(slow_from=dt.date(2026, 3, 1)), encoding="utf-8")
    junit = tmp_path / "reports" / "junit.xml"
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    result = invoke("check", "specs", "--as-of", AS_OF, "--junit", str(junit), env=env)
    assert result.exit_code == 1, result.output
    assert "clicks_h1" in result.output and "on_track → off_track" in result.output
    assert "specs/social.yaml:" in result.output  # file and line
    # GitHub annotations and job summary
    errors = [line for line in result.output.splitlines() if line.startswith("::error ")]
    assert errors, result.output
    assert errors[0].startswith("::error file=specs/social.yaml,line=")
    assert ",col=" in errors[0] and ",title=social%3A status worse" in errors[0]
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n") and "regression" in text and "clicks_h1" in text
    # JUnit: the goal's test case fails
    root = validate_junit(junit)
    case = next(c for c in root.iter("testcase") if c.get("name") == "clicks_h1")
    assert case.find("failure") is not None and case.get("classname") == "metricspec.social.traffic"
    # machine-readable
    as_json = invoke("check", "specs", "--as-of", AS_OF, "--format", "json")
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    failing = [f for s in data["specs"] for f in s["findings"] if f["severity"] == "failure"]
    assert {f["rule"] for f in failing} == {"status_worse"}
    assert failing[0]["old"] == "on_track" and failing[0]["new"] == "off_track" and failing[0]["line"] == GOAL_LINE
    md = invoke("check", "specs", "--as-of", AS_OF, "--format", "markdown")
    assert md.exit_code == 1 and "| ❌ |" in md.output


def test_c_lowered_target_needs_acknowledgement(repo):
    spec = repo / "specs" / "social.yaml"
    spec.write_text(SPEC.replace("target: 6000", "target: 5000"), encoding="utf-8")
    git(repo, "commit", "-qam", "lower the target")
    result = invoke("check", "specs", "--as-of", AS_OF, "--against", "HEAD~1")
    assert result.exit_code == 1, result.output
    assert "target_lowered" in result.output or "target lowered" in result.output
    assert "clicks_h1" in result.output and "6,000" in result.output and "5,000" in result.output
    assert "specs/social.yaml:" in result.output
    # acknowledged on the goal: reported, but passing
    spec.write_text(SPEC.replace("target: 6000", "target: 5000\n        acknowledged:\n"
                                 "          - {change: target_lowered, reason: budget cut in March}"),
                    encoding="utf-8")
    ok = invoke("check", "specs", "--as-of", AS_OF, "--against", "HEAD~1")
    assert ok.exit_code == 0, ok.output
    assert "acknowledged: budget cut in March" in ok.output
    git(repo, "commit", "-qam", "acknowledge")
    assert invoke("check", "specs", "--as-of", AS_OF, "--against", "HEAD~2").exit_code == 0


def test_c2_other_spec_regressions(repo):
    spec = repo / "specs" / "social.yaml"
    redefined = SPEC.replace("    column: clicks\n", "    column: clicks\n    filter: clicks > 10\n")
    redefined = redefined.replace("deadline: 2026-06-30", "deadline: 2026-09-30")
    redefined = redefined.replace("  posts:\n    title: Posts\n    source: posts\n    agg: count\n    kind: activity\n",
                                  "")
    spec.write_text(redefined, encoding="utf-8")
    result = invoke("check", "specs", "--as-of", AS_OF, "--against", "HEAD", "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    rules = {f["rule"] for s in data["specs"] for f in s["findings"] if f["severity"] == "failure"}
    assert {"deadline_extended", "kpi_redefined", "kpi_removed"} <= rules
    assert "target_lowered" not in rules


def test_d_broken_spec_is_exit_2(repo):
    (repo / "specs" / "social.yaml").write_text(SPEC.replace("agg: sum", "agg: total"), encoding="utf-8")
    result = invoke("check", "specs", "--as-of", AS_OF)
    assert result.exit_code == 2, result.output
    assert "social.yaml" in result.output


def test_usage_errors_are_exit_2(repo):
    assert invoke("check", "specs", "--against", "no-such-ref").exit_code == 2
    assert invoke("check", "specs", "--baseline", "missing.json").exit_code == 2
    assert invoke("check", "specs", "--as-of", "yesterday-ish").exit_code == 2
    assert invoke("check", "nowhere").exit_code == 2


def test_missing_data_is_exit_2(repo):
    (repo / "data" / "posts.csv").unlink()
    assert invoke("check", "specs", "--as-of", AS_OF).exit_code == 2


def test_removed_goal_fails_against_baseline_and_ref_until_acknowledged(repo):
    spec = repo / "specs" / "social.yaml"
    head, _, _goal = SPEC.partition("    goals:\n")
    without_goal = head.replace("    kpis: [clicks]\n", "    kpis: [clicks]\n    goals: {}\n")
    spec.write_text(without_goal, encoding="utf-8")
    result = invoke("check", "specs", "--as-of", AS_OF, "--against", "HEAD", "--format", "json")
    assert result.exit_code == 1, result.output
    failing = {(f["rule"], f["subject"]) for s in json.loads(result.stdout)["specs"] for f in s["findings"]
               if f["severity"] == "failure"}
    assert failing == {("goal_missing", "goal traffic/clicks_h1"), ("goal_removed", "goal traffic/clicks_h1")}
    spec.write_text(without_goal + "acknowledged:\n  - {change: goal_removed, goal: clicks_h1, reason: merged"
                    " into the brand spec}\n", encoding="utf-8")
    ok = invoke("check", "specs", "--as-of", AS_OF, "--against", "HEAD")
    assert ok.exit_code == 0, ok.output
    assert ok.output.count("acknowledged: merged into the brand spec") == 2


def test_strict_turns_warnings_into_failures(repo):
    # 35 clicks a day from 20 to 29 March: still on track (a 99 % chance), but the total moved the wrong way
    # (20 a day made the goal's chance 58 %: at risk, a failure)
    lines = posts_csv().splitlines()
    lines = [line.replace(",40", ",35") if line.startswith("2026-03-2") else line for line in lines]
    (repo / "data" / "posts.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    relaxed = invoke("check", "specs", "--as-of", AS_OF)
    assert relaxed.exit_code == 0, relaxed.output
    assert "WARN" in relaxed.output and "kpi_moved" not in relaxed.output
    strict = invoke("check", "specs", "--as-of", AS_OF, "--strict")
    assert strict.exit_code == 1, strict.output


def test_spec_errors_are_annotated_on_github(repo):
    (repo / "specs" / "social.yaml").write_text(SPEC.replace("agg: sum", "agg: total"), encoding="utf-8")
    result = invoke("check", "specs", "--as-of", AS_OF, env={"GITHUB_ACTIONS": "true"})
    assert result.exit_code == 2, result.output
    assert "::error file=specs/social.yaml,line=" in result.output


def test_corrupt_baseline_needs_force(repo):
    (repo / ".metricspec" / "baseline.json").write_text("{oops", encoding="utf-8")
    git(repo, "commit", "-qam", "break the baseline")
    assert invoke("check", "specs", "--as-of", AS_OF).exit_code == 2
    assert invoke("baseline", "update", "specs", "--as-of", AS_OF).exit_code == 2
    forced = invoke("baseline", "update", "specs", "--as-of", AS_OF, "--force")
    assert forced.exit_code == 0, forced.output
    assert invoke("check", "specs", "--as-of", AS_OF).exit_code == 0
