"""The lanes of the suite (tests/conftest.py, docs/contributing.md): every marker is assigned by a fixture
that exists or by a name that matches, and every test module keeps a test in the fast lane unless all of
its tests need a server, a JVM or a browser or the whole file is listed as slow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import LANES, MARKED, MARKER_FIXTURES

TESTS = Path(__file__).parent


def test_the_marker_fixtures_exist() -> None:
    defined = {m.group(1) for p in TESTS.glob("*.py")
               for m in re.finditer(r"@pytest\.fixture[^\n]*\n(?:@[^\n]*\n)*def (\w+)\(", p.read_text(encoding="utf-8"))}
    missing = sorted(name for names in MARKER_FIXTURES.values() for name in names if name not in defined)
    assert not missing, f"tests/conftest.py MARKER_FIXTURES names fixtures that no longer exist: {missing}"


def test_every_module_has_a_fast_test(request: pytest.FixtureRequest) -> None:
    lanes = request.config.stash.get(LANES, {})
    by_file: dict[str, list[set[str]]] = {}
    for nodeid, markers in lanes.items():
        by_file.setdefault(nodeid.removeprefix("tests/").split("::", 1)[0], []).append(markers)
    if len(by_file) < len(list(TESTS.glob("test_*.py"))):
        pytest.skip("only part of the suite was collected")
    whole_files = {p for prefixes in MARKED.values() for p in prefixes if "::" not in p and "*" not in p}
    only_slow = sorted(f for f, tests in by_file.items()
                       if all("slow" in m for m in tests) and f not in whole_files
                       and not all(m & {"postgres", "spark", "browser"} for m in tests))
    assert not only_slow, (f"every test of {only_slow} is in the slow lane: keep a quick one in the fast lane, or "
                           "list the whole file in MARKED['slow'] (tests/conftest.py) with the reason")
