"""Attribution from aggregated paths and KPIs broken down by several segment columns at once give the
same Results on polars, DuckDB and PostgreSQL.

The harness of ``tests/backend_support.py`` loads what each connector reads into the database, so the KPI
queries (grouped by the combination of segment columns) run as SQL there and attribution reads its path
rows from the database; the Results JSON must be byte-identical to the polars run.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pluggy
import pytest

from metricspec.engine.run import evaluate, explain
from metricspec.loader import load_spec

# a skip, not an import: importing them at collection costs seconds (docs/contributing.md)
pytestmark = pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ('ibis', 'duckdb')),
                                reason="needs ibis, duckdb: pip install -e '.[test]'")

FIXTURES = Path(__file__).parent / "fixtures" / "attribution"
AS_OF = dt.date(2026, 3, 31)

PATHS_SPEC = """\
name: paths-backends
sources:
  paths: {connector: csv, options: {path: paths.csv}}
  spend: {connector: csv, options: {path: spend.csv}}
attribution:
  paths: {source: paths, path: path, conversions: total_conversions, value: total_conversion_value,
          nulls: total_null}
  spend: {source: spend, channel: channel, amount: amount}
  drop_direct: true
  models: [first_touch, last_touch, linear, position_based, markov, {kind: markov, order: 2, name: m2}, shapley]
"""


def write_paths(folder: Path) -> Path:
    (folder / "paths.csv").write_text((FIXTURES / "paths.csv").read_text())
    (folder / "spend.csv").write_text("channel,amount\ninstagram,900.5\nx,400\nemail,10\n")
    (folder / "s.yaml").write_text(PATHS_SPEC)
    return folder / "s.yaml"


def run_json(spec: Path, pm: pluggy.PluginManager | None = None) -> str:
    return evaluate(load_spec(spec), as_of=AS_OF, plugin_manager=pm).to_json()


@pytest.fixture(params=["duckdb", "postgres"])
def pm(request: pytest.FixtureRequest) -> pluggy.PluginManager:
    return request.getfixturevalue(f"{request.param}_pm")


def test_paths_attribution_same_on_every_backend(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    spec = write_paths(tmp_path)
    expected = run_json(spec)
    assert '"attributed_conversions"' in expected
    assert run_json(spec, pm) == expected


def test_segment_combinations_same_on_every_backend(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    """Aggregations, derived KPIs (ratio, share, formula, growth, moving average) and goals broken down by a
    combination of columns (and by one column beside it), with a scope: the queries group by several
    columns in SQL."""
    from test_segment_combinations import make_rows, write

    spec = write(tmp_path, make_rows(11, 600), extra="""  avg_ctr:
    moving_average: {kpi: ctr, window: 2}
    segments: [[tab, network]]
objectives:
  o:
    type: engagement
    kpis: [ctr, clicks]
    goals:
      g: {kpi: ctr, target: 0.05, grain: month, deadline: 2026-06-30, scope: {network: x, tab: feed}}
      h: {kpi: clicks, target: 900, deadline: 2026-06-30, scope: {network: facebook, tab: reels}}
""")
    expected = run_json(spec)
    assert '"segment_columns"' in expected and '"segment": "network · tab"' in expected
    assert run_json(spec, pm) == expected
    plan = explain(load_spec(spec), as_of=AS_OF, plugin_manager=pm)
    combos = [q for q in plan if q["segments"] == ["network", "tab"]]
    assert combos and all(q["runs_in"] != "polars" and "GROUP BY" in str(q["sql"]) for q in combos), combos


def test_row_level_kinds_by_a_combination_same_on_every_backend(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    """Funnels and retention read the combination's columns from the database with their rows."""
    from test_segment_combinations import FUNNEL_SPEC, funnel_rows

    (tmp_path / "events.csv").write_text("person,t,step,network,tab\n" + "".join(
        f"{p},{t.isoformat(sep=' ')},{s},{n},{tb}\n" for p, t, s, n, tb in funnel_rows(8)))
    (tmp_path / "s.yaml").write_text(FUNNEL_SPEC)
    expected = run_json(tmp_path / "s.yaml")
    assert '"segment": "network · tab"' in expected
    assert run_json(tmp_path / "s.yaml", pm) == expected
