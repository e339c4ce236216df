"""The CI gate never passes blind (issue 21): the baseline is found from the project root wherever
the check runs, its path is printed, a missing baseline is exit 2 in CI, and annotations name files
relative to the repository root. Each scenario runs in a real git repository."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
import test_check_e2e
from test_check_e2e import AS_OF, git, invoke, posts_csv

repo = test_check_e2e.repo  # the fixture: a committed spec, its data and its baseline


def _regress(root: Path) -> None:
    (root / "data" / "posts.csv").write_text(posts_csv(slow_from=dt.date(2026, 3, 1)), encoding="utf-8")
    git(root, "commit", "-qam", "the data regresses")


def test_check_from_a_subfolder_compares_with_the_baseline_at_the_root(repo, monkeypatch):
    """Run from specs/, the check looked for specs/.metricspec/baseline.json, found none, said the
    results were not compared and exited 0 with the regression present."""
    _regress(repo)
    monkeypatch.chdir(repo / "specs")
    result = invoke("check", "social.yaml", "--as-of", AS_OF)
    assert result.exit_code == 1, result.output
    assert "on_track → off_track" in result.output and "not compared" not in result.output
    assert "baseline: ../.metricspec/baseline.json" in result.stderr


def test_baseline_update_from_a_subfolder_writes_the_root_baseline(repo, monkeypatch):
    before = (repo / ".metricspec" / "baseline.json").read_bytes()
    monkeypatch.chdir(repo / "specs")
    result = invoke("baseline", "update", "social.yaml", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "wrote ../.metricspec/baseline.json (social)" in result.output
    assert not (repo / "specs" / ".metricspec").exists(), "a second baseline"
    assert (repo / ".metricspec" / "baseline.json").read_bytes() == before, "the same entry, byte for byte"
    assert json.loads(before)["specs"]["social"]["path"] == "specs/social.yaml"


def test_root_option_names_where_the_baseline_lives(repo, tmp_path, monkeypatch):
    _regress(repo)
    monkeypatch.chdir(tmp_path)
    result = invoke("check", str(repo / "specs"), "--as-of", AS_OF, "--root", str(repo))
    assert result.exit_code == 1, result.output
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (moved / "specs").mkdir()
    (moved / "data").mkdir()
    for name in ("specs/social.yaml", "data/posts.csv"):
        (moved / name).write_text((repo / name).read_text(encoding="utf-8"), encoding="utf-8")
    alone = invoke("check", str(moved / "specs"), "--as-of", AS_OF, "--root", str(moved))
    assert alone.exit_code == 0 and "no baseline at" in alone.stderr, alone.output


@pytest.mark.parametrize("variable", ["CI", "GITHUB_ACTIONS"])
def test_a_missing_baseline_is_exit_2_in_ci(repo, variable):
    git(repo, "rm", "-q", ".metricspec/baseline.json")
    git(repo, "commit", "-qm", "no baseline")
    env = {variable: "true"}
    result = invoke("check", "specs", "--as-of", AS_OF, env=env)
    assert result.exit_code == 2, result.output
    assert "error: no baseline at .metricspec/baseline.json" in result.output
    assert "--allow-missing-baseline" in result.output
    allowed = invoke("check", "specs", "--as-of", AS_OF, "--allow-missing-baseline", env=env)
    assert allowed.exit_code == 0, allowed.output
    assert "results were NOT compared" in allowed.stderr


def test_a_missing_baseline_is_a_loud_warning_locally(repo):
    (repo / ".metricspec" / "baseline.json").unlink()
    result = invoke("check", "specs", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "warning: no baseline at .metricspec/baseline.json: results were NOT compared, so a regression would " \
           "pass" in result.stderr
    strict = invoke("check", "specs", "--as-of", AS_OF, "--strict")
    assert strict.exit_code == 1, strict.output


def test_a_baseline_deleted_in_the_range_is_still_compared_in_ci(repo):
    """With --against, the baseline the ref has is compared (and the deletion must be acknowledged):
    that is not a missing baseline."""
    git(repo, "rm", "-q", ".metricspec/baseline.json")
    git(repo, "commit", "-qm", "delete the baseline")
    result = invoke("check", "specs", "--as-of", AS_OF, "--against", "HEAD~1", env={"CI": "true"})
    assert result.exit_code == 1, result.output
    assert "baseline_changed" in result.output or "baseline changed" in result.output


def test_annotations_name_files_relative_to_the_repository_root(repo, monkeypatch):
    """GitHub cannot place file=../specs/social.yaml."""
    _regress(repo)
    monkeypatch.chdir(repo / "data")
    result = invoke("check", "../specs", "--as-of", AS_OF, env={"GITHUB_ACTIONS": "true"})
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("::error ")]
    assert errors and all(line.startswith("::error file=specs/social.yaml,line=") for line in errors), errors
    assert "../specs/social.yaml:" in result.output  # the terminal keeps paths you can open from here
    (repo / "specs" / "social.yaml").write_text("name: social\nkpis: {x: 1}\n", encoding="utf-8")
    broken = invoke("validate", "../specs", env={"GITHUB_ACTIONS": "true"})
    assert broken.exit_code == 2
    assert "::error file=specs/social.yaml,line=2," in broken.output, broken.output


def test_annotations_outside_a_repository_are_relative_to_the_workspace(tmp_path, monkeypatch):
    from metricspec.check.github import annotation

    (tmp_path / "ws" / "sub").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "ws" / "sub")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path / "ws"))
    if any((p / ".git").exists() for p in (tmp_path, *tmp_path.parents)):
        pytest.skip("the temporary folder is inside a git repository")
    assert annotation("error", "m", file="../m.yaml", line=3) == "::error file=m.yaml,line=3::m"
    assert annotation("error", "m", file=os.path.join(str(tmp_path), "x.yaml")).startswith("::error file=/")


# ---------------------------------------------------------------- spec changes the gate missed


def _rules(result) -> set[str]:
    data = json.loads(result.stdout)
    return {f["rule"] for s in data["specs"] for f in s["findings"] if f["severity"] == "failure"}


def test_taking_a_kpi_off_an_objective_needs_acknowledging(repo):
    spec = repo / "specs" / "social.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("    kpis: [clicks]\n", "    kpis: []\n"), encoding="utf-8")
    result = invoke("check", "specs", "--as-of", AS_OF, "--against", "HEAD", "--format", "json")
    assert result.exit_code == 1, result.output
    assert _rules(result) == {"kpi_removed"}
    assert "KPI 'clicks' was taken off objective 'traffic'" in result.output
    spec.write_text(text.replace("    kpis: [clicks]\n", "    kpis: []\n")
                    + "acknowledged:\n  - {change: kpi_removed, kpi: clicks, reason: tracked by the brand spec}\n",
                    encoding="utf-8")
    ok = invoke("check", "specs", "--as-of", AS_OF, "--against", "HEAD")
    assert ok.exit_code == 0, ok.output


def test_adding_a_grain_to_a_goal_needs_acknowledging(repo):
    spec = repo / "specs" / "social.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("        target: 6000\n", "        target: 6000\n        grain: quarter\n"),
                    encoding="utf-8")
    result = invoke("check", "specs", "--as-of", AS_OF, "--against", "HEAD", "--format", "json")
    assert result.exit_code == 1, result.output
    assert _rules(result) == {"kpi_redefined"}
    assert "grain None → 'quarter'" in result.output
    spec.write_text(text.replace("        target: 6000\n", "        target: 6000\n        grain: quarter\n"
                                 "        acknowledged: [{change: kpi_redefined, reason: paced by quarter}]\n"),
                    encoding="utf-8")
    assert invoke("check", "specs", "--as-of", AS_OF, "--against", "HEAD").exit_code == 0


def test_every_goal_field_is_compared_or_named_as_not_changing_the_status():
    """A new goal field is compared by the gate unless it is named as a note (title …) or has a rule."""
    from metricspec.check.specdiff import (
        COMPARABLE_GOAL_FIELDS,
        GOAL_NOTE_FIELDS,
        GOAL_RULED_FIELDS,
    )
    from metricspec.spec.models import Goal

    groups = [set(COMPARABLE_GOAL_FIELDS), set(GOAL_NOTE_FIELDS), set(GOAL_RULED_FIELDS)]
    assert set().union(*groups) == set(Goal.model_fields)
    assert sum(len(g) for g in groups) == len(Goal.model_fields)
    assert {"grain", "kpi", "scope", "measure", "baseline", "start"} <= groups[0]
