"""Command output in CI logs and pipes: table width, closed pipes, the summary line, validate's
machine-readable output (JSON, JUnit, GitHub annotations)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from metricspec.cli import main
from metricspec.render.formatting import STATUS_LABELS, goal_summary

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "examples"
AS_OF = "2026-11-01"
TRADE_FAIR = EXAMPLES / "trade_fair_campaign.yaml"


def shell(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``command`` in bash with pipefail, ``metricspec`` being this interpreter's ``python -m metricspec``."""
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "GITHUB_ACTIONS")}
    environ.update(env)
    script = f"set -o pipefail\nmetricspec() {{ {sys.executable} -m metricspec \"$@\"; }}\n{command}\n"
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=ROOT, env=environ,
                          timeout=300)


# ---------------------------------------------------------------- the summary line


def test_goal_summary_reads_like_the_issue() -> None:
    statuses = ["achieved"] * 12 + ["on_track"] * 9 + ["at_risk"] * 4 + ["off_track"] * 3 + ["missed"] * 2 + [
        "no_data"]
    assert goal_summary(6, statuses) == ("6 specs · 31 goals: 12 achieved, 9 on track, 4 at risk, 3 off track, "
                                         "2 missed, 1 no data")
    assert goal_summary(1, ["missed"]) == "1 spec · 1 goal: 1 missed"
    assert goal_summary(2, []) == "2 specs · 0 goals"
    with pytest.raises(ValueError, match="unknown goal status"):
        goal_summary(1, ["lost"])


@given(st.lists(st.sampled_from(sorted(STATUS_LABELS))), st.integers(min_value=0, max_value=50))
def test_goal_summary_counts_every_goal_once_in_status_order(statuses: list[str], specs: int) -> None:
    line = goal_summary(specs, statuses)
    head, _, tail = line.partition(": ")
    assert head.split(" · ")[1].split()[0] == str(len(statuses))
    parts = [re.fullmatch(r"(\d+) (.+)", p) for p in tail.split(", ")] if tail else []
    counted = {m[2]: int(m[1]) for m in parts if m}
    assert sum(counted.values()) == len(statuses)
    labels = list(STATUS_LABELS.values())
    assert [labels.index(label) for label in counted] == sorted(labels.index(label) for label in counted)
    assert counted == {STATUS_LABELS[s]: n for s, n in Counter(statuses).items()}


def _statuses_from_json(text: str) -> list[str]:
    docs = json.loads(text)
    docs = docs if isinstance(docs, list) else [docs]
    return [g["status"] for d in docs for o in d["objectives"] for g in o["goals"]]


def test_run_ends_with_the_summary_line_on_stderr() -> None:
    done = shell(f"metricspec run {EXAMPLES} --as-of {AS_OF} --format json")
    assert done.returncode == 0, done.stderr
    counts = Counter(_statuses_from_json(done.stdout))  # counted independently from the JSON
    n_specs = len(list(Path(EXAMPLES).glob("*.yaml")))
    expected = f"{n_specs} specs · {sum(counts.values())} goals: " + ", ".join(
        f"{counts[s]} {label}" for s, label in STATUS_LABELS.items() if counts[s])
    assert done.stderr.strip().splitlines()[-1] == expected
    quiet = shell(f"metricspec run {TRADE_FAIR} --as-of {AS_OF} --format json -q")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_check_ends_with_the_summary_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(TRADE_FAIR), "--as-of", AS_OF, "--baseline",
                                       str(tmp_path / "none.json")])
    assert result.exit_code == 2  # an explicit baseline must exist
    result = CliRunner().invoke(main, ["check", str(TRADE_FAIR), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    runs = CliRunner().invoke(main, ["run", str(TRADE_FAIR), "--as-of", AS_OF, "--format", "json", "-q"])
    counts = Counter(_statuses_from_json(runs.output))
    assert result.output.strip().splitlines()[-1] == goal_summary(1, counts.elements())


# ---------------------------------------------------------------- width


def _longest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def test_tables_in_a_pipe_are_not_cut() -> None:
    done = shell(f"metricspec run {TRADE_FAIR} --as-of {AS_OF} -q | cat")
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout, "a header, date or name was cut"
    assert "Responsible" in done.stdout and "Karolina Wiśniewska" in done.stdout
    assert re.search(r"\b2026-05-17\b", done.stdout)
    assert _longest_line(done.stdout) > 80


def test_columns_and_width_lay_out_tables() -> None:
    narrow = shell(f"metricspec run {TRADE_FAIR} --as-of {AS_OF} -q | cat", COLUMNS="72")
    assert narrow.returncode == 0, narrow.stderr
    assert _longest_line(narrow.stdout) <= 72
    chosen = shell(f"COLUMNS=72 metricspec run {TRADE_FAIR} --as-of {AS_OF} -q --width 100 | cat")
    assert chosen.returncode == 0, chosen.stderr
    assert 72 < _longest_line(chosen.stdout) <= 100
    assert CliRunner().invoke(main, ["run", str(TRADE_FAIR), "--width", "3"]).exit_code == 2


def test_table_width_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    from metricspec.cli.clicommon import table_width
    from metricspec.render.table import WIDE_LAYOUT

    class Stream:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    monkeypatch.delenv("COLUMNS", raising=False)
    assert table_width(stream=Stream(False)) == WIDE_LAYOUT
    assert table_width(stream=Stream(True)) is None  # rich asks the terminal
    assert table_width(55, stream=Stream(True)) == 55
    monkeypatch.setenv("COLUMNS", "120")
    assert table_width(stream=Stream(False)) == 120
    monkeypatch.setenv("COLUMNS", "wide")
    assert table_width(stream=Stream(False)) == WIDE_LAYOUT


# ---------------------------------------------------------------- closed pipes


def _quiet(stderr: str) -> bool:
    return not any(word in stderr for word in ("Traceback", "Broken pipe", "BrokenPipe", "Exception"))


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_a_closed_pipe_exits_quietly_with_0(fmt: str) -> None:
    done = shell(f"metricspec run {EXAMPLES} --as-of {AS_OF} --format {fmt} | head -n 2")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 2
    assert _quiet(done.stderr), done.stderr
    # `true` exits at once: the pipe is closed before metricspec writes its first byte
    closed = shell(f"metricspec run {TRADE_FAIR} --as-of {AS_OF} --format {fmt} | true")
    assert closed.returncode == 0, closed.stderr
    assert _quiet(closed.stderr), closed.stderr


def test_a_closed_pipe_keeps_a_regression_exit_code(tmp_path: Path) -> None:
    """``check | head`` still fails on a regression: 1, not 0 (nor 120 from a failed flush)."""
    import shutil

    spec_dir = tmp_path / "specs"
    shutil.copytree(EXAMPLES, spec_dir, symlinks=True)
    baseline = tmp_path / "baseline.json"
    made = shell(f"metricspec baseline update {spec_dir} --baseline {baseline} --as-of 2026-06-30 --force")
    assert made.returncode == 0, made.stderr
    done = shell(f"metricspec check {spec_dir} --baseline {baseline} --as-of {AS_OF} | true")
    assert done.returncode == 1, done.stderr
    assert _quiet(done.stderr), done.stderr
    passing = shell(f"metricspec check {spec_dir} --baseline {baseline} --as-of 2026-06-30 | true")
    assert passing.returncode == 0, passing.stderr
    assert _quiet(passing.stderr), passing.stderr


# ---------------------------------------------------------------- validate: JSON, JUnit, annotations


BAD_SPEC = """\
name: broken
kpis:
  clicks: {source: posts, agg: sum, colum: link_clicks}
"""


def _write_specs(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "bad.yaml").write_text(BAD_SPEC, encoding="utf-8")
    good = folder / "good.yaml"
    good.write_text((EXAMPLES / "trade_fair_campaign.yaml").read_text(encoding="utf-8").replace(
        "path: data/", f"path: {EXAMPLES.as_posix()}/data/"), encoding="utf-8")
    return folder, good


def test_validate_json(tmp_path: Path) -> None:
    folder, good = _write_specs(tmp_path)
    result = CliRunner().invoke(main, ["validate", str(folder), "--format", "json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["exit_code"] == 2
    files = {Path(f["path"]).name: f for f in doc["files"]}
    assert files["good.yaml"]["ok"] and files["good.yaml"]["issues"] == []
    (issue,) = [i for i in files["bad.yaml"]["issues"] if i["level"] == "error"]
    assert issue["line"] == 3 and issue["column"] and "colum" in issue["message"]
    assert issue["hint"] and "column" in issue["hint"]
    assert doc["counts"] == {"error": 1, "warning": 0, "specs": 2, "valid": 1}
    ok = CliRunner().invoke(main, ["validate", str(good), "--format", "json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True


def test_validate_junit(tmp_path: Path) -> None:
    import xmlschema

    folder, _good = _write_specs(tmp_path)
    report = tmp_path / "out" / "validate.xml"
    result = CliRunner().invoke(main, ["validate", str(folder), "--junit", str(report)])
    assert result.exit_code == 2
    xmlschema.XMLSchema(str(ROOT / "tests" / "fixtures" / "junit" / "junit-10.xsd")).validate(str(report))
    root = ET.parse(report).getroot()
    assert root.get("tests") == "2" and root.get("failures") == "1"
    cases = {Path(c.get("name") or "").name: c for c in root.iter("testcase")}
    failure = cases["bad.yaml"].find("failure")
    assert failure is not None and "bad.yaml:3:" in (failure.text or "")
    assert cases["good.yaml"].find("failure") is None


def test_validate_annotations_under_github_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _good = _write_specs(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.startswith("::")]
    assert len(lines) == 1
    assert re.match(r"::error file=[^,]*bad\.yaml,line=3,col=\d+,title=metricspec%3A error::unknown key 'colum'",
                    lines[0]), lines[0]
    monkeypatch.delenv("GITHUB_ACTIONS")
    plain = CliRunner().invoke(main, ["validate", str(folder)])
    assert not any(ln.startswith("::") for ln in plain.output.splitlines())


def test_validate_strict_annotates_warnings_as_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from metricspec.errors import Issue, Level, Location
    from metricspec.validation.report import FileValidation, ValidationReport

    report = ValidationReport([FileValidation("a.yaml", [Issue(Level.WARNING, "w", Location("a.yaml", 2, 3))])],
                              strict=True)
    assert report.exit_code == 2 and report.to_dict()["ok"] is False
    from metricspec.check.junit import validation_junit_xml

    assert "<failure" in validation_junit_xml(report)
    assert ValidationReport(report.files).exit_code == 0


@pytest.mark.parametrize("width", [60, 80, 100])
def test_narrow_tables_never_cut_status_or_deadline(width: int) -> None:
    """Issue 25: at 80 columns the status and deadline cells were cut (`achiev…`, `2026-0…`); now
    low-priority columns are left out first and titles wrap."""
    import datetime as dt

    import metricspec
    from metricspec.render.formatting import STATUS_LABELS

    examples = sorted((ROOT / "specs" / "examples").glob("*.yaml"))
    result = CliRunner().invoke(main, ["run", *map(str, examples), "--as-of", AS_OF, "--width", str(width), "-q"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line.rstrip()) <= width for line in lines), max(lines, key=len)
    rows = [line for line in lines if line.startswith("│") and "│" in line[1:]]
    goal_rows = []
    for path in examples:
        for g in metricspec.evaluate(path, as_of=dt.date.fromisoformat(AS_OF)).goals():
            label = STATUS_LABELS[g.status]
            first_words = g.title.split()[0]
            row = next(r for r in rows if r.split("│")[1].strip().startswith(first_words) and
                       label.split()[0] in r)  # the goal's first line
            cells = [c.strip() for c in row.split("│")]
            goal_rows.append(row)
            assert label in cells, (label, row)
            if g.deadline:
                assert str(g.deadline) in cells, (g.deadline, row)
    assert not [r for r in goal_rows if "…" in r]


def test_validate_strict_counts_specs_with_warnings_as_not_valid(tmp_path: Path) -> None:
    """Issue 25: `validate --strict` said `1 of 1 spec(s) valid` and exited 2."""
    spec = tmp_path / "s.yaml"
    spec.write_text("name: s\nsources:\n  d: {connector: csv, options: {path: d.csv}, time_column: day}\n"
                    "kpis:\n  n: {source: d, agg: count}\nobjectives:\n  o:\n    type: engagement\n    kpis: [n]\n"
                    "    goals:\n      g: {kpi: n, target: 5, baseline: 5, deadline: 2026-12-31}\n", encoding="utf-8")
    plain = CliRunner().invoke(main, ["validate", str(spec)])
    assert plain.exit_code == 0, plain.output
    assert "1 of 1 spec(s) valid; 0 error(s), 1 warning(s)" in plain.output
    strict = CliRunner().invoke(main, ["validate", str(spec), "--strict"])
    assert strict.exit_code == 2, strict.output
    assert "0 of 1 spec(s) valid; 0 error(s), 1 warning(s) (--strict: warnings fail)" in strict.output
    assert "ok  " not in strict.output


def test_quiet_means_no_progress_and_no_summary_for_run_render_and_build(tmp_path: Path) -> None:
    """Issue 25: `run -q` left out the summary line, `render -q` and `build -q` printed theirs."""
    commands = {"run": ["run", str(TRADE_FAIR), "--as-of", AS_OF, "-o", str(tmp_path / "r.txt")],
                "render": ["render", str(TRADE_FAIR), "--as-of", AS_OF, "-o", str(tmp_path / "c.html")],
                "build": ["build", str(TRADE_FAIR), "--as-of", AS_OF, "-o", str(tmp_path / "site")]}
    for name, args in commands.items():
        loud = CliRunner().invoke(main, [*args, "--force"] if name == "build" else args)
        assert loud.exit_code == 0, loud.output
        assert loud.stderr.strip(), f"{name} prints a summary line"
        quiet = CliRunner().invoke(main, [*args, "-q", *(["--force"] if name == "build" else [])])
        assert quiet.exit_code == 0, quiet.output
        assert quiet.stderr == "", f"{name} -q: {quiet.stderr!r}"


def test_check_in_a_terminal_has_colours_run_s_status_words_and_progress(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 25: `check` printed `at_risk` (run says `at risk`), had no colour and showed nothing for
    the seconds it evaluates; in a pipe it stays plain."""
    import importlib

    from metricspec.check.findings import CheckReport
    from metricspec.check.render import Style
    from metricspec.cli.commands import check as check_command
    from metricspec.progress import Progress

    check_render = importlib.import_module("metricspec.check.render")  # the package exports a function `render`
    monkeypatch.chdir(tmp_path)
    piped = CliRunner().invoke(main, ["check", str(EXAMPLES / "x_brand_awareness.yaml"), "--as-of", AS_OF])
    assert piped.exit_code == 0, piped.output
    assert " at risk " in piped.stdout and "at_risk" not in piped.stdout and "\x1b[" not in piped.output
    assert "evaluating" not in piped.stderr
    texts: dict[bool, str] = {}
    real_render = check_render.render_text

    def capture(report: CheckReport, *, style: Style | None = None) -> str:
        texts[style is not None] = real_render(report, style=style)
        texts[style is None] = real_render(report, style=None if style is not None else check_command.ansi_style)
        return texts[style is not None]

    monkeypatch.setattr(check_render, "render_text", capture)
    bars: list[Progress] = []

    class FakeBar(Progress):
        def __init__(self) -> None:
            super().__init__()
            bars.append(self)

    tty = type("T", (), {"isatty": lambda self: True})()
    from metricspec.progress import TerminalProgress

    assert isinstance(check_command._progress(tty), TerminalProgress)
    assert not isinstance(check_command._progress(io.StringIO()), TerminalProgress)
    monkeypatch.setattr(check_command, "_progress", lambda stream: FakeBar())
    assert check_command._colour(tty)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not check_command._colour(tty)
    monkeypatch.delenv("NO_COLOR")
    CliRunner().invoke(main, ["check", str(EXAMPLES / "x_brand_awareness.yaml"), "--as-of", AS_OF])
    assert bars and bars[0].counts.get("specs") == 1, "a progress bar over the specs on a terminal"
    coloured = texts[True]
    assert "\x1b[" in coloured and "\x1b[" not in texts[False]
    assert click_unstyle(coloured) == texts[False]
    import click

    assert click.style(f"{'at risk':<10}", fg="yellow") in coloured
    assert click.style("WARN", fg="yellow", bold=True) in coloured and click.style("OK", fg="green", bold=True) in coloured


def click_unstyle(text: str) -> str:
    import click

    return click.unstyle(text)
