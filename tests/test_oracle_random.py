"""The base aggregations against an independent DuckDB SQL oracle on random data (issue 11).

Hypothesis draws rows (timestamps over five months, a segment, a value with nulls and negative
numbers, an entity id), every aggregation is evaluated by metricspec at every grain, headline and
per segment, and DuckDB computes the same from the same CSV file with plain SQL.
"""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.engine.run import evaluate
from metricspec.loader import load_spec

AS_OF = dt.date(2026, 4, 30)
START = dt.datetime(2025, 12, 1)
AGGS = {  # KPI -> (metricspec agg, DuckDB expression)
    "n": ("count", "count(*)"),
    "people": ("count_distinct", "count(DISTINCT person)"),
    "total": ("sum", "sum(value)"),
    "average": ("mean", "avg(value)"),
    "middle": ("median", "median(value)"),
    "low": ("min", "min(value)"),
    "high": ("max", "max(value)"),
}
ADDITIVE = {"n", "people", "total"}
GRAINS = ("day", "week", "month", "quarter")
_EXPLORE = os.environ.get("METRICSPEC_FUZZ_EXAMPLES")
ORACLE = settings(max_examples=int(_EXPLORE or 12), deadline=None, derandomize=_EXPLORE is None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

rows = st.lists(
    st.tuples(
        st.integers(0, 150 * 86400 - 1),  # seconds after START
        st.sampled_from(["x", "linkedin", "tiktok"]),
        st.one_of(st.none(), st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 3))),
        st.sampled_from(["p1", "p2", "p3", "p4", "p5"]),
    ),
    min_size=1, max_size=60,
)


def _spec(folder: Path) -> Path:
    kpis = "\n".join(
        f"  {name}: {{source: events, agg: {agg}{'' if agg == 'count' else ', column: ' + ('person' if agg == 'count_distinct' else 'value')}, segments: [segment]}}"
        for name, (agg, _sql) in AGGS.items())
    path = folder / "spec.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: oracle
        grains: [{", ".join(GRAINS)}]
        sources:
          events:
            connector: csv
            options: {{path: events.csv}}
            time_column: at
            columns: {{at: datetime, value: float}}
        kpis:
        """) + kpis + "\n")
    return path


def _table(csv: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE events AS SELECT * FROM read_csv('{csv}', types={{'at': 'TIMESTAMP', "
                "'value': 'DOUBLE', 'segment': 'VARCHAR', 'person': 'VARCHAR'})")
    return con


def _oracle(con: duckdb.DuckDBPyConnection, sql: str, grain: str, segment: bool) -> dict[tuple[Any, ...], float | None]:
    group = "segment, " if segment else ""
    query = f"SELECT {group}date_trunc('{grain}', \"at\")::DATE AS period, {sql} AS v FROM events GROUP BY ALL"
    out = {}
    for row in con.execute(query).fetchall():
        *key, value = row
        out[tuple(key)] = None if value is None else float(value)
    return out


def _ours(results: Any, kpi: str, grain: str, segment: bool) -> dict[tuple[Any, ...], float | None]:
    k = results.kpi(kpi)
    out: dict[tuple[Any, ...], float | None] = {}
    for s in k.series:
        if s.grain != grain or s.kind != ("segment" if segment else "headline"):
            continue
        for p in s.points:
            out[(s.segment_value, p.period) if segment else (p.period,)] = p.value
    return out


@given(data=rows)
@ORACLE
def test_base_aggregations_match_duckdb_on_random_data(tmp_path: Path, data: list[tuple[Any, ...]]) -> None:
    csv = tmp_path / "events.csv"
    lines = ["at,segment,value,person"]
    for secs, segment, value, person in data:
        at = START + dt.timedelta(seconds=secs)
        lines.append(f"{at:%Y-%m-%d %H:%M:%S},{segment},{'' if value is None else value},{person}")
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = evaluate(load_spec(_spec(tmp_path)), as_of=AS_OF)
    con = _table(csv)
    for kpi, (_agg, sql) in AGGS.items():
        for grain in GRAINS:
            for segment in (False, True):
                want = _oracle(con, sql, grain, segment)
                got = _ours(results, kpi, grain, segment)
                for key, value in want.items():
                    if value is None and kpi in ADDITIVE:
                        value = 0.0  # an additive KPI over rows whose values are all null is 0
                    assert key in got, (kpi, grain, key)
                    if value is None:
                        assert got[key] is None, (kpi, grain, key)
                    else:
                        assert got[key] == pytest.approx(value, rel=1e-10, abs=1e-9), (kpi, grain, key)
                # periods without rows: 0 for additive KPIs, no value otherwise
                for key in set(got) - set(want):
                    assert got[key] == (0 if kpi in ADDITIVE else None), (kpi, grain, key, got[key])
