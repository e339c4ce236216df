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
parameters) or by an fnmatch pattern (with ``*``). A name that matches no collected test stops the run (a renamed test would otherwise
drop out of its lane silently). In the fast lane a test that takes longer than
:data:`FAST_TEST_SECONDS` is listed at the end of the run, with how to move it.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
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
    "postgres": frozenset({"postgres_base", "postgres_pm", "databases", "database_loaders", "postgres"}),
    "spark": frozenset({"spark_pm", "spark"}),
    "browser": frozenset({"driver"}),
}

#: Markers by node id prefix (relative to tests/). Keep each group sorted; a prefix that matches
#: nothing is an error.
MARKED: dict[str, tuple[str, ...]] = {
    "browser": ("test_site_browser.py",),
    "postgres": (
        "test_connectors_postgres.py",
        "test_kind_quantiles.py::test_postgres_took_part_when_it_is_installed",  # reads what the pg tests saw
        "test_paths_segments_backends.py::*[[]postgres]",  # its `pm` fixture picks the database by name
    ),
    "spark": (
        "test_hour_grain.py::test_spark_gives_the_same_hours",  # starts its own local Spark session
        "test_query_differential.py::test_queries_in_spark_equal_polars",  # starts its own local Spark session
        "test_spark_sandbox.py",  # its module fixture starts a local Spark session
    ),
    # the longest tests of timed runs (pytest --durations; seconds on 2 cores shared with other work, about
    # 3-5 times an idle machine's); the fast lane keeps a quicker test of each module and feature
    "slow": (
        "test_action.py::test_the_action_passes_fails_and_reports",  # 31 s: installs the action into a venv
        "test_adjusted.py::test_adjusted_intervals_cover_the_truth_and_the_naive_ones_do_not",  # 8 × 12-23 s: seeded coverage
        "test_adjusted_bootstrap.py::test_bootstrap_intervals_cover_the_truth",  # 4 × 48-142 s: bootstrap coverage
        "test_attribution_paths.py::test_property_paths_equal_rows_and_credits_add_up",  # 7 s
        "test_backends_differential.py",  # every example on DuckDB and PostgreSQL against the golden files
        "test_cg_arms.py::test_dunnett_normal_form_equals_the_multivariate_normal",  # 37-71 s: scipy's multivariate normal
        "test_cg_survival.py::test_known_hazard_ratio_is_covered",  # 13 s: seeded coverage
        "test_cg_survival_adjusted.py::test_adjusted_retention_intervals_cover_the_truth_and_the_unadjusted_do_not",  # 2 × 10-21 s: seeded coverage
        "test_cli.py::test_polars_engine_choice_gives_identical_results",  # 15 s
        "test_cli_output.py::test_a_closed_pipe_exits_quietly_with_0",  # 4 × 15-27 s: subprocesses
        "test_cli_output.py::test_a_closed_pipe_keeps_a_regression_exit_code",  # 56 s
        "test_cli_output.py::test_columns_and_width_lay_out_tables",  # 11 s
        "test_cli_output.py::test_narrow_tables_never_cut_status_or_deadline[[]100]*",  # 18 s
        "test_cli_output.py::test_narrow_tables_never_cut_status_or_deadline[[]60]*",  # 22 s (80 columns stays fast)
        "test_cli_output.py::test_run_ends_with_the_summary_line_on_stderr",  # 18 s
        "test_cli_output.py::test_tables_in_a_pipe_are_not_cut",  # 6 s
        "test_control_groups_render.py::test_bayesian_scorecard_and_segments",  # 9 s
        "test_control_groups_render.py::test_frequentist_labels_say_which_p_is_which",  # 21 s
        "test_control_groups_render.py::test_sequential_scorecard",  # 38 s
        "test_control_groups_render.py::test_spanish_scorecard_translates_the_new_labels",  # 23 s
        "test_date_functions.py::test_date_differences_equal_python_on_dates",  # 66 s
        "test_docs.py::test_walkthrough_runs",  # 7-131 s: every command of the walk-throughs
        "test_engine_kpis.py::test_derived_kpis_as_frame_columns_equal_the_join_path",  # 16 s
        "test_engine_kpis.py::test_frame_columns_equal_join_path_on_random_data",  # 12 s
        "test_engine_messages_i18n.py",  # its module fixture renders every example in es and pl (30 s)
        "test_example_data.py::test_generator_reproduces_committed_files",  # 30 s: regenerates the data
        "test_example_data.py::test_warehouse_holds_the_csv_files_typed",  # 47 s: builds the DuckDB warehouse
        "test_experiments.py::test_adjustment_properties",  # 122 s
        "test_experiments.py::test_binomial_quantiles_equal_scipy_stats",  # 10 s
        "test_experiments.py::test_distribution_functions_equal_scipy_stats",  # 9 s
        "test_experiments.py::test_properties_bayesian",  # 8 s
        "test_experiments.py::test_properties_cuped",  # 11 s
        "test_experiments.py::test_properties_mean",  # 11 s
        "test_experiments.py::test_properties_proportion",  # 13 s
        "test_experiments.py::test_properties_ratio",  # 15 s
        "test_experiments.py::test_sequential_looks_do_not_inflate_false_positives",  # 8 s
        "test_fuzz_contract.py::test_mutated_specs_run_or_are_refused_with_file_and_line",  # 22 s
        "test_goal_views_agree.py",  # its one test renders every view of 200 random goals (17-19 s)
        "test_html.py::test_lang_attribute_and_semantics",  # 11 s
        "test_joins.py::test_property_join_is_a_lookup_that_keeps_every_row",  # 12 s
        "test_joins_differential.py",  # joins pushed into DuckDB and PostgreSQL, random joins (75 s)
        "test_kill_safety.py::test_sigkilled_build_leaves_no_workers_behind",  # 32 s
        "test_number_formats.py::test_fast_number_formats_equal_babels",  # 9 s
        "test_number_formats.py::test_no_raw_floats_in_check_output",  # 12 s
        "test_number_formats.py::test_no_raw_floats_on_any_page",  # 3 × 9-12 s
        "test_oracle_random.py",  # random data against a DuckDB oracle (9 s)
        "test_plugin_hooks.py::test_metricspec_output_renderers_adds_a_format",  # 17 s
        "test_release.py::test_the_wheel_runs_in_a_clean_venv_outside_the_checkout",  # python -m build, a venv
        "test_release.py::test_wheel_and_sdist_hold_everything",
        "test_retention_conventions.py::test_retention_by_order_and_by_calendar_day_equals_plain_python",  # 23 s
        "test_schema.py::test_examples_validate_against_schema",  # 7 × 6-12 s
        "test_scorecard_charts.py::test_a_segment_goal_draws_its_target_on_that_segment_only",  # 7 s
        "test_site_build.py::test_a_chart_vl_convert_cannot_draw_is_named",  # 9 s
        "test_site_build.py::test_a_script_from_stdin_can_render_and_build",  # 11 s
        "test_site_build.py::test_every_example_chart_is_valid_vega_lite",  # 55 s
        "test_site_build.py::test_worker_processes_build_the_same_site",  # 37 s
        "test_sql_translation.py::test_engine_duckdb_on_the_example_files_gives_the_golden_results",  # 7 × 6-20 s
        "test_sql_translation.py::test_naive_times_localise_as_in_polars",  # 14 s
        "test_vs_offsets.py::test_the_comparison_shows_in_terminal_markdown_and_html",  # 101 s
    ),
}

#: In the fast lane, a test whose call takes longer than this (seconds) is reported at the end.
FAST_TEST_SECONDS = float(os.environ.get("METRICSPEC_FAST_TEST_SECONDS", "10"))

IMPLIES_SLOW = ("postgres", "spark", "browser")

#: Every collected test's markers (node id -> lane markers), for tests/test_lanes.py.
LANES = pytest.StashKey[dict[str, set[str]]]()


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
    if "*" in prefix:  # a pattern (fnmatch: `[[]` is a literal `[`)
        return fnmatch.fnmatchcase(rel, prefix)
    return rel == prefix or rel.startswith((prefix + "::", prefix + "["))


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    used: set[str] = set()
    lanes: dict[str, set[str]] = {}
    config.stash[LANES] = lanes
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
        lanes[item.nodeid] = markers
    # a file collected only in part (`pytest tests/x.py::test_a`) cannot show that a name is stale
    partial = {Path(arg.split("::", 1)[0]).name for arg in config.args if "::" in arg}
    stale = [p for prefixes in MARKED.values() for p in prefixes
             if p not in used and p.split("::", 1)[0] in files - partial]
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
def databases(database_loaders: dict[str, Any]) -> dict[str, Any]:
    """A plugin manager per database (:func:`backend_support.database_plugin_manager`): pass it as
    ``plugin_manager=`` and a spec runs on that database's SQL backend."""
    from backend_support import database_plugin_manager

    return {name: database_plugin_manager(loader) for name, loader in database_loaders.items()}


@pytest.fixture(scope="session")
def duckdb_pm(duckdb_loader: Any) -> Any:
    from backend_support import database_plugin_manager

    return database_plugin_manager(duckdb_loader)


@pytest.fixture(scope="session")
def postgres_pm(postgres_base: str) -> Any:
    from backend_support import PostgresLoader, database_plugin_manager

    return database_plugin_manager(PostgresLoader(f"postgres://{postgres_base}"))


@pytest.fixture(autouse=True)
def not_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see a developer's machine, even when CI runs them: ``check`` treats a missing baseline
    as an error in CI (CI=true / GITHUB_ACTIONS=true), and annotates under GitHub Actions. Tests
    that want CI set the variables themselves."""
    for name in ("CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
