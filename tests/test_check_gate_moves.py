"""The CI gate is not passed by moving things (issue 11): renamed or moved spec files, renamed specs,
deleted specs, flipped directions, widened tolerances, and baselines rewritten in the same change.
Each scenario runs `metricspec check --against` in a real git repository."""

from __future__ import annotations

import datetime as dt
import json

import test_check_e2e
from test_check_e2e import AS_OF, SPEC, git, invoke, posts_csv

repo = test_check_e2e.repo  # the fixture: a committed spec, its data and its baseline

OTHER = """\
name: other
sources:
  posts: {connector: csv, options: {path: ../data/posts.csv}, time_column: day, columns: {day: date}}
kpis:
  days: {source: posts, agg: count}
"""


def failing(*args: str) -> tuple[int, set[str], str]:
    result = invoke("check", "specs", "--as-of", AS_OF, "--format", "json", *args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    data = json.loads(result.stdout) if result.exit_code in (0, 1) else {"specs": []}
    rules = {f["rule"] for s in data["specs"] for f in s["findings"] if f["severity"] == "failure"}
    return result.exit_code, rules, result.output


def commit(repo_dir, message: str) -> None:
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", message)


def test_renamed_file_with_a_lowered_target_fails(repo):
    git(repo, "mv", "specs/social.yaml", "specs/social_2026.yaml")
    (repo / "specs" / "social_2026.yaml").write_text(SPEC.replace("target: 6000", "target: 100"))
    commit(repo, "rename and lower")
    code, rules, out = failing("--against", "HEAD~1")
    assert code == 1 and "target_lowered" in rules, out
    assert "continues specs/social.yaml" in out


def test_renamed_file_and_spec_name_is_matched_by_goal_ids(repo):
    git(repo, "mv", "specs/social.yaml", "specs/brand.yaml")
    (repo / "specs" / "brand.yaml").write_text(SPEC.replace("name: social", "name: brand")
                                               .replace("target: 6000", "target: 100"))
    commit(repo, "rename everything")
    code, rules, out = failing("--against", "HEAD~1")
    assert code == 1 and {"target_lowered", "spec_renamed"} <= rules, out
    assert "spec_removed" not in rules


def test_spec_name_change_is_caught_against_the_ref_and_the_baseline(repo):
    spec = repo / "specs" / "social.yaml"
    spec.write_text(SPEC.replace("name: social", "name: social-renamed"))
    (repo / "data" / "posts.csv").write_text(posts_csv(slow_from=dt.date(2026, 3, 1)))
    commit(repo, "rename the spec, and the data regresses")
    code, rules, out = failing("--against", "HEAD~1")
    assert code == 1 and {"spec_renamed", "status_worse"} <= rules, out
    code, rules, out = failing()  # the baseline alone: found by the spec's path
    assert code == 1 and {"spec_renamed", "status_worse"} <= rules, out
    spec.write_text(SPEC.replace("name: social", "name: social-renamed")
                    + "acknowledged:\n  - {change: spec_renamed, reason: new naming scheme}\n")
    (repo / "data" / "posts.csv").write_text(posts_csv())
    code, rules, out = failing("--against", "HEAD~1")
    assert code == 0 and not rules, out


def test_deleted_spec_fails_until_another_spec_acknowledges_it(repo):
    (repo / "specs" / "other.yaml").write_text(OTHER)
    commit(repo, "another spec")
    git(repo, "rm", "-q", "specs/social.yaml")
    commit(repo, "delete social")
    code, rules, out = failing("--against", "HEAD~1")
    assert code == 1 and rules == {"spec_removed"}, out
    (repo / "specs" / "other.yaml").write_text(
        OTHER + "acknowledged:\n  - {change: spec_removed, spec: social, reason: replaced by the brand spec}\n")
    code, rules, out = failing("--against", "HEAD~1")
    assert code == 0, out
    # acknowledging another spec's removal does not cover this one
    (repo / "specs" / "other.yaml").write_text(
        OTHER + "acknowledged:\n  - {change: spec_removed, spec: nope, reason: something else}\n")
    assert failing("--against", "HEAD~1")[0] == 1


def test_spec_moved_under_shared_counts_as_removed(repo):
    (repo / "specs" / "other.yaml").write_text(OTHER)
    commit(repo, "another spec")
    (repo / "specs" / "shared").mkdir()
    git(repo, "mv", "specs/social.yaml", "specs/shared/social.yaml")
    commit(repo, "hide it")
    code, rules, out = failing("--against", "HEAD~1")
    assert code == 1 and rules == {"spec_removed"}, out


def test_direction_flip_on_a_goal_fails(repo):
    spec = repo / "specs" / "social.yaml"
    spec.write_text(SPEC.replace("        target: 6000\n", "        target: 6000\n        direction: decrease\n"))
    commit(repo, "flip")
    code, rules, out = failing("--against", "HEAD~1")
    assert code == 1 and "direction_changed" in rules, out
    spec.write_text(SPEC.replace("        target: 6000\n", "        target: 6000\n        direction: decrease\n"
                                 "        acknowledged: [{change: direction_changed, reason: we now count churn}]\n"))
    code, rules, out = failing("--against", "HEAD~1")
    assert "direction_changed" not in rules, out


def test_widened_tolerance_fails(repo):
    spec = repo / "specs" / "social.yaml"
    spec.write_text(SPEC.replace("        target: 6000\n", "        target: 6000\n        tolerance: 2\n"))
    commit(repo, "tolerance 2")
    spec.write_text(SPEC.replace("        target: 6000\n", "        target: 6000\n        tolerance: 1000\n"))
    commit(repo, "tolerance 1000")
    code, rules, out = failing("--against", "HEAD~1")
    assert code == 1 and rules == {"tolerance_widened"}, out
    assert "from relative 2 to relative 1000" in out
    spec.write_text(SPEC.replace("        target: 6000\n", "        target: 6000\n        tolerance: 1\n"))
    assert failing("--against", "HEAD~1")[1] == set()  # narrowing is fine


def test_baseline_deleted_with_a_data_regression_fails(repo):
    (repo / "data" / "posts.csv").write_text(posts_csv(slow_from=dt.date(2026, 3, 1)))
    git(repo, "rm", "-q", ".metricspec/baseline.json")
    commit(repo, "data regresses, baseline gone")
    code, rules, out = failing("--against", "HEAD~1")
    assert code == 1 and {"baseline_changed", "status_worse"} <= rules, out


def test_baseline_regenerated_with_a_data_regression_fails_until_acknowledged(repo):
    spec = repo / "specs" / "social.yaml"
    (repo / "data" / "posts.csv").write_text(posts_csv(slow_from=dt.date(2026, 3, 1)))
    commit(repo, "data regresses")
    forced = invoke("baseline", "update", "specs", "--as-of", AS_OF, "--force")
    assert forced.exit_code == 0, forced.output
    commit(repo, "regenerate the baseline")
    assert failing()[0] == 0  # against the new baseline alone, nothing moved
    code, rules, out = failing("--against", "HEAD~2")
    assert code == 1 and rules == {"baseline_changed"}, out
    assert "this change rewrote the baseline" in out
    spec.write_text(SPEC + "acknowledged:\n  - {change: baseline_changed, reason: March data was corrected}\n")
    code, rules, out = failing("--against", "HEAD~2")
    assert code == 0 and "acknowledged: March data was corrected" in out, out


def test_unchanged_baseline_and_specs_still_pass(repo):
    assert failing("--against", "HEAD")[:2] == (0, set())
