"""``metricspec.load``, ``evaluate`` and ``query`` take a plugin manager (issue 26, move 5).

The connectors come from the manager given, for loading (validation) and reading alike, and only
for that call: the process's manager is neither used nor changed, so tests need not monkeypatch
``sources.connector_registry``. The values are checked against plain Python sums of the rows the
fake connector returns.
"""

from __future__ import annotations

import ast
import datetime as dt
import textwrap
import threading
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import metricspec
from metricspec import plugins
from metricspec.engine import run
from metricspec.engine.query import Question, explain_query, run_query
from metricspec.errors import SpecError
from metricspec.plugin_api import (
    Connector,
    ConnectorOptions,
    SourceContext,
    connector_registry,
    hookimpl,
)

DAYS = [dt.date(2026, 10, d) for d in range(1, 11)]
VALUES = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
CHANNELS = ["a", "b"] * 5

SPEC = """\
name: fake-plugin
title: A spec read through a plugin given to the call
timezone: UTC
sources:
  rows:
    connector: fake_rows
    options: {scale: 10}
    time_column: day
kpis:
  total:
    title: Total
    source: rows
    agg: sum
    column: v
    unit: count
"""


class FakeOptions(ConnectorOptions):
    scale: int = 1


class FakeRows(Connector):
    name = "fake_rows"
    Options = FakeOptions

    def scan(self, options: FakeOptions, context: SourceContext) -> pl.LazyFrame:
        return pl.LazyFrame({"day": DAYS, "v": [v * options.scale for v in VALUES], "channel": CHANNELS})


class FakePlugin:
    @hookimpl
    def metricspec_connectors(self) -> list[type[Connector]]:
        return [FakeRows]


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(SPEC), encoding="utf-8")
    return path


@pytest.fixture
def pm() -> Any:
    return plugins.make_plugin_manager(load_entry_points=False, builtins=False, plugins=(FakePlugin(),))


def test_the_process_manager_does_not_know_the_fake_connector(spec: Path) -> None:
    with pytest.raises(SpecError, match="unknown connector 'fake_rows'"):
        metricspec.load(spec, root=spec.parent)


def test_load_and_evaluate_read_through_the_manager_given(spec: Path, pm: Any) -> None:
    loaded = metricspec.load(spec, root=spec.parent, plugin_manager=pm)
    results = metricspec.evaluate(loaded, as_of="2026-10-10", plugin_manager=pm)
    frame = results.kpi("total").to_polars()
    assert frame["value"].drop_nulls().sum() == pytest.approx(10 * sum(VALUES))
    # a path too: loading and reading both use the manager
    again = metricspec.evaluate(spec, as_of="2026-10-10", root=spec.parent, plugin_manager=pm)
    assert again.to_json() == results.to_json()
    # and nothing leaked into the process's manager
    assert "fake_rows" not in connector_registry()
    assert plugins.current_plugin_manager() is plugins.plugin_manager()


def test_query_reads_through_the_manager_given(spec: Path, pm: Any) -> None:
    frame = metricspec.query(spec, "total", by="channel", root=spec.parent, plugin_manager=pm)
    by_channel = dict(zip(frame["channel"].to_list(), frame["total"].to_list(), strict=True))
    expected = {c: 10 * sum(v for v, ch in zip(VALUES, CHANNELS, strict=True) if ch == c) for c in set(CHANNELS)}
    assert by_channel == pytest.approx(expected)


def test_the_engine_functions_read_through_the_manager_given(spec: Path, pm: Any) -> None:
    """``engine.run.evaluate``, ``explain``, ``explain_run`` and ``engine.query.run_query``,
    ``explain_query`` (what the commands and the differential tests call) take the manager too."""
    loaded = metricspec.load(spec, root=spec.parent, plugin_manager=pm)
    day = dt.date(2026, 10, 10)
    question = Question(("total",), ("channel",))
    for call in (lambda: run.evaluate(loaded, as_of=day), lambda: run.explain(loaded, as_of=day),
                 lambda: run_query(loaded, question), lambda: explain_query(loaded, question)):
        with pytest.raises(SpecError, match="connector 'fake_rows' is not installed"):
            call()  # without it, the process's manager: no such connector
    results = run.evaluate(loaded, as_of=day, plugin_manager=pm)
    assert results.to_json() == metricspec.evaluate(loaded, as_of=day, plugin_manager=pm).to_json()
    assert results.kpi("total").to_polars()["value"].drop_nulls().sum() == pytest.approx(10 * sum(VALUES))
    plan = run.explain(loaded, as_of=day, plugin_manager=pm)
    assert [(q["source"], str(q["runs_in"]).split()[0]) for q in plan] == [("rows", "polars")]
    assert run.explain_run(loaded, as_of=day, plugin_manager=pm)["queries"] == plan
    frame = run_query(loaded, question, plugin_manager=pm).frame
    totals = dict(zip(frame["channel"].to_list(), frame["total"].to_list(), strict=True))
    assert totals == pytest.approx({c: 10 * sum(v for v, ch in zip(VALUES, CHANNELS, strict=True) if ch == c)
                                    for c in set(CHANNELS)})
    queried = explain_query(loaded, question, plugin_manager=pm)
    assert [(q["source"], q["segments"]) for q in queried] == [("rows", ["channel"])]
    assert plugins.scoped_plugin_manager() is None


def test_a_manager_without_the_builtins_knows_no_csv(pm: Any) -> None:
    example = Path(__file__).resolve().parent.parent / "specs" / "examples" / "x_brand_awareness.yaml"
    with pytest.raises(SpecError, match="unknown connector 'csv'"):
        metricspec.load(example, plugin_manager=pm)


def test_the_scope_ends_with_the_call_even_on_an_error(pm: Any) -> None:
    process = plugins.plugin_manager()
    with pytest.raises(RuntimeError), plugins.using_plugin_manager(pm):
        assert plugins.current_plugin_manager() is pm
        inner = plugins.make_plugin_manager(load_entry_points=False, builtins=False)
        with plugins.using_plugin_manager(inner):
            assert plugins.current_plugin_manager() is inner
        assert plugins.current_plugin_manager() is pm
        with plugins.using_plugin_manager(None):  # None changes nothing
            assert plugins.current_plugin_manager() is pm
        raise RuntimeError
    assert plugins.current_plugin_manager() is process
    assert plugins.scoped_plugin_manager() is None


def test_the_scope_is_this_threads_only(pm: Any) -> None:
    seen: list[object] = []
    with plugins.using_plugin_manager(pm):
        thread = threading.Thread(target=lambda: seen.append(plugins.current_plugin_manager()))
        thread.start()
        thread.join()
    assert seen == [plugins.plugin_manager()]


def _registry_patches(path: Path) -> list[str]:
    """Where a test module replaces the connector registry: ``setattr``/``monkeypatch.setattr``/
    ``mock.patch`` naming ``connector_registry``, or an assignment to an attribute of that name."""
    found: list[int] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            texts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if name in {"setattr", "delattr", "patch", "object"} and any("connector_registry" in t for t in texts):
                found.append(node.lineno)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "connector_registry" for t in targets):
                found.append(node.lineno)
    return [f"{path.name}:{line}" for line in sorted(found)]


def test_no_test_module_patches_the_connector_registry() -> None:
    """Tests choose connectors by passing a plugin manager (``backend_support.database_plugin_manager``
    for the SQL backends), not by replacing ``sources.connector_registry`` for the whole process."""
    found = [hit for path in sorted(Path(__file__).parent.rglob("*.py")) for hit in _registry_patches(path)]
    assert not found, ("these replace the connector registry; pass plugin_manager= to load/evaluate/query "
                       f"(or explain/explain_run/run_query) instead: {', '.join(found)}")


def test_the_registry_patch_finder_finds_each_form(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    # NAME stands for the registry's name, so that grepping tests/ for a patch of it finds none here
    sample.write_text(textwrap.dedent("""\
        monkeypatch.setattr(sources, "NAME", registry)
        setattr(sources, "NAME", registry)
        monkeypatch.setattr("metricspec.sources.NAME", registry)
        mock.patch.object(sources, "NAME", registry)
        sources.NAME = registry
        registry = NAME(pm)
        monkeypatch.setattr(sources, "other", NAME)
        """).replace("NAME", "connector_registry"), encoding="utf-8")
    assert _registry_patches(sample) == [f"test_sample.py:{n}" for n in (1, 2, 3, 4, 5)]
