"""A corpus of bad specs: each gives exit 2, file:line, a fix, and never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from metricspec.cli import main

CORPUS = Path(__file__).parent / "bad_specs"
CASES = sorted(CORPUS.glob("*.yaml"))


def header(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"#\s*(\w+):\s*(.*)", line)
        if not m:
            break
        out[m.group(1)] = m.group(2).strip()
    return out


def test_corpus_is_large_enough():
    assert len(CASES) >= 20


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_spec(path: Path, monkeypatch):
    meta = header(path)
    monkeypatch.chdir(CORPUS)
    args = ["validate", path.name, *meta.get("args", "").split()]
    result = CliRunner().invoke(main, args)
    output = result.output
    assert result.exit_code == 2, output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert meta["expect"] in output, output
    # names the file and the line (file:line or file:line:col)
    assert re.search(rf"{re.escape(path.name)}:{meta['line']}\b", output), output
    # every error line carries a hint after an em dash
    errors = [ln for ln in output.splitlines() if ": error: " in ln]
    assert errors and all(" — " in ln for ln in errors), output


def test_all_problems_reported_together(tmp_path):
    spec = tmp_path / "many.yaml"
    spec.write_text("name: many\nkpiz: {}\nkpis:\n  a: {formula: 'b + 1'}\n  c: {source: nowhere, agg: count}\n")
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == 2
    assert "unknown key 'kpiz'" in result.output


def test_valid_spec_passes(tmp_path):
    (tmp_path / "d.csv").write_text("t,x\n2026-01-01,1\n")
    spec = tmp_path / "ok.yaml"
    spec.write_text("name: ok\nsources:\n  d: {connector: csv, options: {path: d.csv}, time_column: t}\n"
                    "kpis:\n  x: {source: d, agg: sum, column: x}\n")
    result = CliRunner().invoke(main, ["validate", str(spec), "--data"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 spec(s) valid" in result.output
