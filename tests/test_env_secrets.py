"""Secrets from ``${ENV}`` never reach outputs (issue 21): the variables are expanded only in connector
options that take them, and every expanded value is masked in every message, log line, annotation,
JUnit report and ``--explain``; and spec text cannot smuggle a workflow command into GitHub Actions."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from metricspec import envsecrets
from metricspec.cli import main
from metricspec.streams import GuardedStream, guarded_descriptor

HOSTILE = Path(__file__).parent / "hostile"
SECRETS = {"MS_USER": "alice-analyst", "MS_PASSWORD": "hunter2-pass", "MS_HOST": "db7.internal.example",
           "MS_DB": "revenue_prod", "PG_PASSWORD": "pg-secret-9", "PG_USER": "pguser-x", "PG_HOST": "pghost-y",
           "PG_DB": "pgdb-z", "GITHUB_TOKEN": "ghp_tokentoken"}


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(HOSTILE / "specs")
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    envsecrets.forget()
    yield
    envsecrets.forget()


def _leaks(text: str) -> list[str]:
    return [value for value in SECRETS.values() if value in text]


def test_titles_descriptions_and_labels_are_never_expanded(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", "env_in_text.yaml", "--format", "json", "--as-of", "2026-03-01"])
    assert result.exit_code == 0, result.output
    assert not _leaks(result.output) and "Reach for ${HOME} and ${PG_PASSWORD}" in result.stdout
    page = tmp_path / "card.html"
    rendered = CliRunner().invoke(main, ["render", "env_in_text.yaml", "-o", str(page), "--as-of", "2026-03-01"])
    assert rendered.exit_code == 0, rendered.output
    html = page.read_text(encoding="utf-8")
    assert not _leaks(html) and "Goal ${PG_PASSWORD}" in html


def test_connection_string_values_are_masked_everywhere(tmp_path: Path) -> None:
    """Only the password was masked: the host, user and database name of a failing connection were printed."""
    result = CliRunner().invoke(main, ["run", "env_uri_secrets.yaml", "--as-of", "2026-03-01"])
    assert result.exit_code == 2, result.output
    assert not _leaks(result.output), result.output
    assert "${MS_HOST}" in result.output and "env_uri_secrets.yaml:5" in result.output
    junit = tmp_path / "validate.xml"
    validated = CliRunner().invoke(main, ["validate", "env_uri_secrets.yaml", "--data", "--junit", str(junit)],
                                   env={"GITHUB_ACTIONS": "true"})
    assert validated.exit_code == 2, validated.output
    assert "::error file=" in validated.output and not _leaks(validated.output), validated.output
    assert not _leaks(junit.read_text(encoding="utf-8")) and "${MS_HOST}" in junit.read_text(encoding="utf-8")
    explained = CliRunner().invoke(main, ["run", "env_uri_secrets.yaml", "--explain", "--as-of", "2026-03-01"])
    assert explained.exit_code == 2 and not _leaks(explained.output), explained.output


def test_child_processes_write_through_the_mask(capfd: pytest.CaptureFixture[str]) -> None:
    """Spark's JVM logs its master URL straight to the descriptor: a child started inside
    guarded_descriptor writes through the mask for as long as it lives."""
    envsecrets.register("MS_HOST", SECRETS["MS_HOST"])
    code = f"import os, time; os.write(2, b'connecting to {SECRETS['MS_HOST']}:7077\\n'); time.sleep(0.2)"
    with guarded_descriptor(2):
        child = subprocess.Popen([sys.executable, "-c", code])
    child.wait(timeout=30)
    import time

    time.sleep(0.5)  # the pump thread forwards the child's last line
    err = capfd.readouterr().err
    assert "connecting to ${MS_HOST}:7077" in err and SECRETS["MS_HOST"] not in err


# ----------------------------------------------------------------- workflow commands


def _guarded(text: str, *, github: bool = True, chunks: int = 1) -> str:
    out = io.StringIO()
    stream = GuardedStream(out, github=github)  # type: ignore[arg-type]
    size = max(1, len(text) // chunks)
    for i in range(0, len(text), size):
        stream.write(text[i:i + size])
        stream.flush()
    stream.close_guard()
    return out.getvalue()


def _obeyed_lines(output: str) -> list[str]:
    """The lines a GitHub runner would obey: outside stop-commands fences, a line starting with `::`
    after blanks, or holding `##[` (the runner splits lines at CR and LF)."""
    import re

    obeyed, stopped = [], None
    for line in re.split(r"\r\n|\r|\n", output):
        bare = line.lstrip()
        if stopped is not None:
            if bare == f"::{stopped}::":
                stopped = None
            continue
        if bare.startswith("::stop-commands::"):
            stopped = bare.split("::")[2]
            continue
        if bare.startswith("::") or "##[" in line:
            obeyed.append(line)
    return obeyed


@pytest.mark.parametrize("text", [
    "title\n::error file=README.md,line=1::pwned\n",
    "a\r::warning::carriage return\n",
    "  \t ::stop-commands::token\nlater ::error::x\n",
    "cell ##[add-mask]secret │\n",
    "no line break at the end ::error::x\n::set-output name=a::b",
])
@pytest.mark.parametrize("chunks", [1, 3, 17])
def test_untrusted_lines_are_fenced_and_kept(text: str, chunks: int) -> None:
    import re

    output = _guarded(text, chunks=chunks)
    assert _obeyed_lines(output) == []
    tokens = set(re.findall(r"::stop-commands::([0-9a-f]{32})\n", output))
    shown = re.sub("|".join(rf"::stop-commands::{t}\n|::{t}::\n" for t in tokens) or "^$", "", output)
    assert shown == (text if text.endswith("\n") else text + "\n")  # the text as it was, only fenced
    assert _guarded(text, github=False) == text  # outside GitHub Actions, nothing changes


def test_own_annotations_are_obeyed_and_spec_text_is_not(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    data = (HOSTILE / "data" / "posts.csv").as_posix()
    spec.write_text(
        'name: s\ntitle: "T\\n::error file=README.md,line=1::pwned\\n::stop-commands::token"\n'
        f"sources:\n  posts: {{connector: csv, options: {{path: '{data}'}}, time_column: posted_at}}\n"
        'kpis:\n  impressions: {source: posts, agg: sum, column: "x\\n::error file=README.md::col"}\n',
        encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(spec), "--root", str(HOSTILE), "--as-of", "2026-03-01"],
                                env={"GITHUB_ACTIONS": "true"})
    assert result.exit_code == 2
    obeyed = _obeyed_lines(result.output)
    assert len(obeyed) == 1 and obeyed[0].startswith("::error file=") and "README.md" not in obeyed[0].split("::")[1]
    assert "%0A::error file=README.md::col" in obeyed[0]  # the message escaped as GitHub documents
