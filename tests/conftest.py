"""Shared pytest options and fixtures, and the lanes of the suite (docs/contributing.md, "Tests").

Lanes: ``pytest -m "not slow"`` is the fast lane (README's test command, a few minutes on 2 cores);
``pytest -m slow`` is the rest, which ``.ci/run`` runs after it. Every test gets its markers here,
at collection, so a new test file is classified without anyone remembering to:

* ``postgres``: uses a PostgreSQL server (one of the fixtures in :data:`MARKER_FIXTURES`, or a
  test named in :data:`MARKED`);
* ``spark``: starts a local Spark session (a JVM);
* ``browser``: drives Chromium through selenium;
* ``slow``: every ``postgres``, ``spark`` and ``browser`` test, and the tests named in
  :data:`MARKED` (the slowest of a timed full run, ``--durations``).

:data:`MARKED` names tests by node id prefix (a file, or ``file::test`` for a test and all its
parameters). A name that matches no collected test stops the run (a renamed test would otherwise
drop out of its lane silently). In the fast lane a test that takes longer than
:data:`FAST_TEST_SECONDS` is listed at the end of the run, with how to move it.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pytest

LANE_MARKERS = {
    "slow": "not in the fast lane (`pytest -m 'not slow'`): long, or needs a server, a JVM or a browser",
    "postgres": "uses a throwaway PostgreSQL server (apt-get install postgresql)",
    "spark": "uses a local Spark session (a Java runtime)",
    "browser": "drives Chromium through selenium (apt-get install chromium chromium-driver)",
}

#: A test that uses one of these fixtures (directly or through another fixture) gets the marker.
MARKER_FIXTURES: dict[str, frozenset[str]] = {
    "postgres": frozenset({"postgres_base", "postgres_registry", "databases", "database_loaders", "postgres"}),
    "spark": frozenset({"spark_registry"}),
    "browser": frozenset({"driver"}),
}

#: Markers by node id prefix (relative to tests/). Keep each group sorted; a prefix that matches
#: nothing is an error.
MARKED: dict[str, tuple[str, ...]] = {
    "browser": ("test_site_browser.py",),
    "postgres": (
        "test_connectors_postgres.py",
        "test_kind_quantiles.py::test_postgres_took_part_when_it_is_installed",  # reads what the pg tests saw
    ),
    "slow": (
        "test_action.py::test_the_action_passes_fails_and_reports",  # installs the action into a venv
        "test_release.py::test_the_wheel_runs_in_a_clean_venv_outside_the_checkout",  # python -m build, a venv
        "test_release.py::test_wheel_and_sdist_hold_everything",
    ),
}

#: In the fast lane, a test whose call takes longer than this (seconds) is reported at the end.
FAST_TEST_SECONDS = float(os.environ.get("METRICSPEC_FAST_TEST_SECONDS", "10"))

IMPLIES_SLOW = ("postgres", "spark", "browser")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", default=False,
        help="rewrite the golden files under tests/golden/ from the current code instead of comparing",
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, text in LANE_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


def _relative(nodeid: str) -> str:
    return nodeid.removeprefix("tests/")


def _matches(nodeid: str, prefix: str) -> bool:
    rel = _relative(nodeid)
    return rel == prefix or rel.startswith((prefix + "::", prefix + "["))


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    used: set[str] = set()
    files = {_relative(item.nodeid).split("::", 1)[0] for item in items}
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        markers = {m for m, fixtures in MARKER_FIXTURES.items() if names & fixtures}
        for marker, prefixes in MARKED.items():
            for prefix in prefixes:
                if _matches(item.nodeid, prefix):
                    markers.add(marker)
                    used.add(prefix)
        if markers & set(IMPLIES_SLOW):
            markers.add("slow")
        for marker in sorted(markers):
            item.add_marker(marker)
    stale = [p for prefixes in MARKED.values() for p in prefixes
             if p not in used and p.split("::", 1)[0] in files]
    if stale:
        raise pytest.UsageError(f"tests/conftest.py MARKED names tests that were not collected: {stale}; "
                                "rename or remove them there")


_over_budget: list[tuple[str, float]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.duration > FAST_TEST_SECONDS and "slow" not in report.keywords:
        _over_budget.append((report.nodeid, report.duration))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _over_budget or "not slow" not in (config.getoption("markexpr") or ""):
        return
    terminalreporter.section("fast lane: tests over their budget", yellow=True)
    for nodeid, seconds in sorted(_over_budget, key=lambda t: -t[1]):
        terminalreporter.write_line(f"{seconds:6.1f}s  {nodeid}")
    terminalreporter.write_line(
        f"each took longer than {FAST_TEST_SECONDS:g} s: make it faster, or add it to MARKED['slow'] in "
        "tests/conftest.py (docs/contributing.md)")


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session", autouse=True)
def chart_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Charts drawn by the tests are cached in a folder of the test session, not in ~/.cache."""
    from metricspec.render.chart_cache import CACHE_VARIABLE

    folder = str(tmp_path_factory.mktemp("chart-cache"))
    old = os.environ.get(CACHE_VARIABLE)
    os.environ[CACHE_VARIABLE] = folder
    yield folder
    if old is None:
        os.environ.pop(CACHE_VARIABLE, None)
    else:
        os.environ[CACHE_VARIABLE] = old


@pytest.fixture(scope="session")
def postgres_base() -> Iterator[str]:
    """One throwaway PostgreSQL server for the whole session: ``user:password@127.0.0.1:port/postgres``
    (skips the test when the server binaries or psycopg are missing)."""
    pytest.importorskip("psycopg")
    from pg_server import postgres_server

    with postgres_server() as base:
        yield base


@pytest.fixture(scope="session")
def duckdb_loader() -> Any:
    """An in-memory DuckDB (through ibis) that frames are loaded into, for the whole session."""
    pytest.importorskip("ibis")
    pytest.importorskip("duckdb")
    from backend_support import DuckDBLoader

    return DuckDBLoader()


@pytest.fixture(scope="session")
def database_loaders(request: pytest.FixtureRequest, duckdb_loader: Any) -> dict[str, Any]:
    """A loader per database the differential tests compare polars with: DuckDB, and PostgreSQL when
    psycopg is installed (the test skips when it is but the server binaries are not)."""
    from backend_support import PostgresLoader

    loaders: dict[str, Any] = {"duckdb": duckdb_loader}
    if importlib.util.find_spec("psycopg") is not None:
        loaders["postgres"] = PostgresLoader(f"postgres://{request.getfixturevalue('postgres_base')}")
    return loaders


@pytest.fixture(scope="session")
def databases(database_loaders: dict[str, Any]) -> dict[str, object]:
    """A connector registry per database (:func:`backend_support.database_registry`): monkeypatch it over
    ``metricspec.sources.connector_registry`` and a spec runs on that database's SQL backend."""
    from backend_support import database_registry

    return {name: database_registry(loader) for name, loader in database_loaders.items()}


@pytest.fixture(scope="session")
def duckdb_registry(duckdb_loader: Any) -> object:
    from backend_support import database_registry

    return database_registry(duckdb_loader)


@pytest.fixture(scope="session")
def postgres_registry(postgres_base: str) -> object:
    from backend_support import PostgresLoader, database_registry

    return database_registry(PostgresLoader(f"postgres://{postgres_base}"))
