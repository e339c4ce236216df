"""Shared pytest options and fixtures."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", default=False,
        help="rewrite the golden files under tests/golden/ from the current code instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session", autouse=True)
def chart_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
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
