"""The README's example spec is valid and runs on the example data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from metricspec.engine.run import evaluate
from metricspec.loader import load_spec
from metricspec.trust import Confinement

ROOT = Path(__file__).parent.parent


def test_readme_spec_runs(tmp_path):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## A spec\n\n```yaml\n(.*?)```", text, re.S)
    assert block, "README has no example spec"
    spec = tmp_path / "readme.yaml"
    data = (ROOT / "specs" / "examples" / "data").as_posix()
    spec.write_text(block.group(1).replace("data/", data + "/"), encoding="utf-8")
    # the spec points at the examples' data by absolute path, outside its temporary folder
    results = evaluate(load_spec(spec, Confinement(allow_outside=True)), as_of=dt.date(2026, 11, 1))
    goal = results.goals()[0]
    assert goal.id == "fifty_signups" and goal.current == 40
    assert results.kpi("roi").headlines[0].value is not None


def test_readme_has_two_set_up_commands_and_ci_runs_the_test_one():
    """One command installs and runs the bundled examples, one runs the tests; .ci/run runs the latter."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh|bash|shell)\n(.*?)```", text, re.S)
    commands = [line for b in blocks for line in b.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2, commands
    install, tests = commands
    # the duckdb extra: specs/examples/warehouse_sales.yaml computes its KPIs in a DuckDB file
    assert install.startswith('pip install -e ".[duckdb]" ') and "metricspec run specs/examples" in install
    assert "python -m pytest" in tests and "-e \".[test]\"" in tests
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line.strip() and not line.startswith("#")]
    assert tests in ci, ".ci/run must run exactly the README's test command"
    assert tests.endswith('-m "not slow"'), "README's test command is the fast lane"
    rest = ci[ci.index(tests) + 1]
    assert rest == "python -m pytest -q -p no:cacheprovider -n auto --dist loadfile -m slow", \
        ".ci/run runs the slow lane after it"
