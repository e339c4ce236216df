"""Every hookspec is typed, documented, tested and described in the docs (like datasette)."""

from __future__ import annotations

import inspect
from pathlib import Path

from metricspec import hookspecs

ROOT = Path(__file__).parent.parent


def hook_names() -> list[str]:
    return [n for n, f in vars(hookspecs).items() if n.startswith("metricspec_") and callable(f)]


def test_there_are_hookspecs():
    assert {"metricspec_connectors", "metricspec_template_paths"} <= set(hook_names())


def test_each_hookspec_is_typed_and_documented():
    for name in hook_names():
        fn = getattr(hookspecs, name)
        assert inspect.getdoc(fn), f"{name} has no docstring"
        assert "return" in fn.__annotations__, f"{name} has no return annotation"


def test_each_hookspec_has_a_test_and_a_docs_entry():
    tests = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py")
                    if p.name != "test_hookspecs.py")
    docs = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md"))
    for name in hook_names():
        assert name in tests, f"hookspec {name} is not exercised by any test"
        assert name in docs, f"hookspec {name} is not documented in docs/"
