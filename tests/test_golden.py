"""Golden Results files: every example spec, evaluated at a fixed as-of date, byte for byte.

The engine may be refactored (backends, KPI kinds) but these documents must not change unless a
change means to change them; then regenerate them explicitly and review the diff::

    python -m pytest tests/test_golden.py --update-golden
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from metricspec.engine.run import evaluate
from metricspec.loader import load_spec

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "specs" / "examples"
GOLDEN = Path(__file__).parent / "golden"
AS_OF = "2026-11-01"
SPECS = sorted(p.name for p in EXAMPLES.glob("*.yaml"))


def results_json(name: str) -> str:
    import datetime as dt

    cwd = Path.cwd()
    os.chdir(ROOT)  # the document records the spec's path as given: keep it relative to the repository
    try:
        loaded = load_spec(Path("specs/examples") / name)
        return evaluate(loaded, as_of=dt.date.fromisoformat(AS_OF)).to_json()
    finally:
        os.chdir(cwd)


def test_every_example_has_a_golden_file():
    assert SPECS, "no example specs found"
    stale = sorted({p.stem for p in GOLDEN.glob("*.json")} - {Path(s).stem for s in SPECS})
    assert not stale, f"golden files without an example spec: {stale}"


@pytest.mark.parametrize("name", SPECS)
def test_results_match_golden(name: str, update_golden: bool):
    text = results_json(name)
    golden = GOLDEN / f"{Path(name).stem}.json"
    if update_golden:
        golden.write_text(text, encoding="utf-8")
        return
    assert golden.exists(), f"{golden} is missing: run pytest tests/test_golden.py --update-golden"
    expected = golden.read_text(encoding="utf-8")
    if text != expected:
        import difflib

        diff = "".join(list(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                                 "golden", "now", n=2))[:80])
        pytest.fail(f"{name}: Results differ from {golden.name} (first lines of the diff):\n{diff}")
