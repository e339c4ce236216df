"""Start-up of ``metricspec run`` (issue 27), guarded without timing: what a CSV run imports and which
pydantic models it builds, and that models built on first use (spec/base.py ``BUILT_ON_USE``) validate,
serialise and describe themselves exactly as the same type inline."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import Field, ValidationError

from metricspec.spec.base import BUILT_ON_USE, OnUse, StrictModel, untitle_built_on_use

SPEC = """\
name: startup-probe
sources:
  posts: {connector: csv, options: {path: posts.csv}, time_column: posted_at}
kpis:
  posts: {source: posts, agg: count, segments: [platform]}
  clicks: {source: posts, agg: sum, column: clicks}
  ctr: {ratio: {numerator: clicks, denominator: posts}, unit: percent}
"""

PROBE = """
import contextlib, io, json, sys
from pydantic import BaseModel
from metricspec.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    main.main(["run", sys.argv[1], "--as-of", "2025-06-30", "--format", "json", "--quiet"], standalone_mode=False)
def subclasses(c):
    for s in c.__subclasses__():
        yield s
        yield from subclasses(s)
built = sorted({f"{c.__module__}.{c.__qualname__}" for c in subclasses(BaseModel)
                if c.__module__.startswith("metricspec") and c.__pydantic_complete__})
print(json.dumps({"results": json.loads(out.getvalue()), "modules": sorted(sys.modules), "built": built}))
"""

NOT_FOR_CSV = ("numpy", "scipy", "statsmodels", "pandas", "pyarrow", "ibis", "duckdb", "sqlalchemy", "jinja2",
               "rich", "babel", "altair", "vl_convert", "connectorx", "fastexcel", "metricspec.engine.goals",
               "metricspec.engine.forecast", "metricspec.engine.experiments_run", "metricspec.engine.attribution_run",
               # the control-group and attribution parts of Results (OnUse), the SQL backend and its dialects
               "metricspec.engine.cg_results", "metricspec.engine.attribution", "metricspec.engine.backends.sql",
               "metricspec.engine.backends.dialects", "metricspec.engine.approximation",
               # the kinds the spec does not use
               "metricspec.kinds.funnel", "metricspec.kinds.retention", "metricspec.kinds.cohort_retention",
               "metricspec.kinds.tenure", "metricspec.kinds.rolling", "metricspec.kinds.to_date",
               "metricspec.kinds.share", "metricspec.kinds.growth", "metricspec.kinds.formula")


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("startup")
    rows = ["posted_at,platform,clicks"] + [f"2025-0{1 + i % 6}-{1 + i % 28:02d} 10:00:00,{'xy'[i % 2]},{i}"
                                            for i in range(60)]
    (folder / "posts.csv").write_text("\n".join(rows) + "\n")
    (folder / "probe.yaml").write_text(SPEC)
    return _probe(folder / "probe.yaml")


def _probe(spec: Path) -> dict[str, Any]:
    """PROBE's report of ``metricspec run`` of ``spec`` in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(spec)], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_a_csv_run_imports_no_database_statistics_or_rendering_library(csv_run: dict[str, object]) -> None:
    results = csv_run["results"]
    assert isinstance(results, dict) and [k["name"] for k in results["kpis"]] == ["posts", "clicks", "ctr"]
    modules = csv_run["modules"]
    assert isinstance(modules, list)
    loaded = [m for m in NOT_FOR_CSV if m in modules]
    assert not loaded, f"a CSV run without goals imported {loaded}: import them where a spec needs them"


def test_a_csv_run_builds_only_the_models_it_uses(csv_run: dict[str, object]) -> None:
    built = csv_run["built"]
    assert isinstance(built, list)
    names = {b.rsplit(".", 1)[1] for b in built}
    # the sections and kinds the spec does not have, and the Results parts it does not produce
    unused = {"Objective", "Goal", "ControlGroup", "AttributionSpec", "Campaign", "Benchmark", "CalendarEntry",
              "Notify", "Acknowledgement", "Join", "FunnelKPI", "RetentionKPI", "CohortRetentionKPI",
              "ObjectiveResult", "GoalResult", "ExperimentResult", "AttributionReport", "CohortTable"}
    assert not names & unused, f"built without being used: {sorted(names & unused)}"
    assert {"Spec", "AggregateKPI", "RatioKPI", "Results", "KpiResult"} <= names
    assert len(built) <= 12, f"{len(built)} models built: {built}"


def test_a_database_table_source_is_not_parsed_so_duckdb_stays_unloaded(tmp_path: Path) -> None:
    """``SELECT * FROM`` a table only reads as built: checking it loaded DuckDB (15 MiB, and an in-memory
    database) into every PostgreSQL and SQLite run. A ``query:`` is still checked (tests/test_trust.py)."""
    con = sqlite3.connect(tmp_path / "d.db")
    with con:
        con.execute("CREATE TABLE posts (posted_at TEXT, platform TEXT, clicks INTEGER)")
        con.executemany("INSERT INTO posts VALUES (?, ?, ?)",
                        [(f"2025-0{1 + i % 6}-{1 + i % 28:02d} 10:00:00", "xy"[i % 2], i) for i in range(60)])
    con.close()
    (tmp_path / "probe.yaml").write_text(SPEC.replace(
        "{connector: csv, options: {path: posts.csv}", "{connector: sqlite, options: {path: d.db, table: posts}"))
    probe = _probe(tmp_path / "probe.yaml")
    assert [k["name"] for k in probe["results"]["kpis"]] == ["posts", "clicks", "ctr"]
    assert sum(p["value"] for p in probe["results"]["kpis"][1]["series"][0]["points"]) == sum(range(60))
    assert "duckdb" not in probe["modules"]


class _Goal(StrictModel):
    target: float
    note: str = Field("x", description="a note")


class _Lazy(StrictModel):
    goals: Annotated[dict[str, _Goal], BUILT_ON_USE] = Field(default_factory=dict, description="the goals")
    best: Annotated[_Goal | None, BUILT_ON_USE] = None
    items: Annotated[list[_Goal], BUILT_ON_USE] = Field(default_factory=list)


_LOADED: list[str] = []


def _load_items() -> Any:
    _LOADED.append("items")
    return list[_Goal]


def _load_best() -> Any:
    _LOADED.append("best")
    return _Goal | None


class _OnUse(StrictModel):  # _Lazy with its types loaded on use (as Results loads its control-group parts)

    goals: Annotated[OnUse(lambda: dict[str, _Goal], shape=dict[str, Any]), BUILT_ON_USE] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="the goals")
    best: Annotated[OnUse(_load_best, shape=Any | None), BUILT_ON_USE] = None  # type: ignore[valid-type]
    items: Annotated[OnUse(_load_items, shape=list[Any]), BUILT_ON_USE] = Field(default_factory=list)  # type: ignore[valid-type]


class _Inline(StrictModel):
    goals: dict[str, _Goal] = Field(default_factory=dict, description="the goals")
    best: _Goal | None = None
    items: list[_Goal] = Field(default_factory=list)


BAD = [{"goals": {"a": {"target": "x"}, "b": {"target": True}, "c": {"targt": 1}}},
       {"best": {"target": 1, "nope": 2}}, {"items": [{"target": 1}, 3]}, {"items": {"a": 1}}, {"goals": []}]


@pytest.mark.parametrize("bad", BAD)
def test_built_on_use_gives_the_errors_of_the_type_inline(bad: dict[str, object]) -> None:
    errors = []
    for model in (_Lazy, _OnUse, _Inline):
        with pytest.raises(ValidationError) as info:
            model.model_validate(bad)
        errors.append(info.value.errors(include_url=False))
    assert errors[0] == errors[1] == errors[2]


def test_built_on_use_validates_serialises_and_describes_as_inline() -> None:
    good = {"goals": {"a": {"target": 1}}, "best": {"target": 2, "note": "y"}, "items": [{"target": 3}]}
    for data in (good, {}, {"goals": {}, "best": None, "items": []}):
        lazy, inline = _Lazy.model_validate(data), _Inline.model_validate(data)
        assert lazy.model_dump() == inline.model_dump()
        assert lazy.model_dump(mode="json", exclude_defaults=True) == inline.model_dump(mode="json",
                                                                                      exclude_defaults=True)
        assert lazy.model_dump_json() == inline.model_dump_json()
        assert _Lazy.model_validate_json(lazy.model_dump_json()) == lazy
    lazy_schema = untitle_built_on_use(_Lazy, _Lazy.model_json_schema())
    assert {**lazy_schema, "title": "_Inline"} == _Inline.model_json_schema()


def test_on_use_types_load_when_a_value_needs_them_and_behave_as_inline() -> None:
    class Fresh(StrictModel):  # its own validators: the loaders have not run for it
        goals: Annotated[dict[str, _Goal], BUILT_ON_USE] = Field(default_factory=dict, description="the goals")
        best: Annotated[OnUse(_load_best, shape=Any | None), BUILT_ON_USE] = None  # type: ignore[valid-type]
        items: Annotated[OnUse(_load_items, shape=list[Any]), BUILT_ON_USE] = Field(default_factory=list)  # type: ignore[valid-type]

    _LOADED.clear()
    for data in ({}, {"goals": {}, "best": None, "items": []}):  # empty values need no type: nothing loads
        assert Fresh.model_validate(data).model_dump() == _Inline.model_validate(data).model_dump()
        assert Fresh.model_validate(data).model_dump_json() == _Inline.model_validate(data).model_dump_json()
    assert _LOADED == []
    good = {"goals": {"a": {"target": 1}}, "best": {"target": 2, "note": "y"}, "items": [{"target": 3}]}
    assert Fresh.model_validate(good).model_dump() == _Inline.model_validate(good).model_dump()
    assert sorted(_LOADED) == ["best", "items"]
    on_use, inline = _OnUse.model_validate(good), _Inline.model_validate(good)
    assert on_use.model_dump() == inline.model_dump() and on_use.model_dump_json() == inline.model_dump_json()
    assert _OnUse.model_validate_json(on_use.model_dump_json()) == on_use
    schema = untitle_built_on_use(_OnUse, _OnUse.model_json_schema())
    assert {**schema, "title": "_Inline"} == _Inline.model_json_schema()
