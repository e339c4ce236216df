"""Golden Results files: every example spec, evaluated at a fixed as-of date, byte for byte.

The engine may be refactored (backends, KPI kinds) but these documents must not change unless a
change means to change them; then regenerate them explicitly and review the diff::

    python -m pytest tests/test_golden.py --update-golden
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from golden_support import golden_mismatch

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
    mismatch = golden_mismatch(text, golden.read_text(encoding="utf-8"))
    if mismatch:
        pytest.fail(f"{name} against {golden.name}: {mismatch}")


def test_the_lowest_versions_tolerance_still_catches_changes():
    """The relative tolerance of the lowest-versions lane (tests/golden_support.py) lets only last digits
    differ: a moved number, a key, a length, a string or an integer turned float still fail."""
    import json

    golden = json.dumps({"a": [0.160308391394, 3], "b": "x", "c": {"d": 1e-22}})
    assert golden_mismatch(golden, golden, rel_tol=0) is None
    near = json.dumps({"a": [0.160308391505, 3], "b": "x", "c": {"d": 1.0000000001e-22}})
    assert golden_mismatch(near, golden, rel_tol=1e-8) is None
    assert golden_mismatch(near, golden, rel_tol=0) is not None  # every other lane: byte for byte
    for changed in ({"a": [0.1603085, 3], "b": "x", "c": {"d": 1e-22}}, {"a": [0.160308391394, 3.0], "b": "x",
                    "c": {"d": 1e-22}}, {"a": [0.160308391394], "b": "x", "c": {"d": 1e-22}},
                    {"a": [0.160308391394, 3], "b": "y", "c": {"d": 1e-22}},
                    {"a": [0.160308391394, 3], "b": "x", "c": {}}):
        assert golden_mismatch(json.dumps(changed), golden, rel_tol=1e-8), changed
