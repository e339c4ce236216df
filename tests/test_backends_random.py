"""Property: on random data, polars, DuckDB and PostgreSQL give the same Results.

Random rows with nulls, zero denominators, empty periods and segments, booleans, text, instants around
both daylight-saving changes of Europe/Warsaw (stored in UTC) and naive local times that the clocks
skip or repeat (stored as Warsaw wall-clock times), aggregated by day, by weeks starting on Sunday and by
month: every value, null count and freshness figure must agree. Derived columns of every type (integer
arithmetic, division, round, comparisons, text, a date) and text columns declared float and int are
scoped by a value of their type, and broken down: each has one type on every backend.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import textwrap
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.engine.run import evaluate
from metricspec.loader import load_spec

# a skip, not an import: importing them at collection costs seconds (docs/contributing.md)
pytestmark = pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ('ibis', 'duckdb')),
                                reason="needs ibis, duckdb: pip install -e '.[test]'")

SPEC = """\
name: random
timezone: Europe/Warsaw
week_start: sunday
grains: [day, week, month]
sources:
  events: {connector: parquet, options: {path: events.parquet}, time_column: ts, timezone: UTC,
           columns: {num: float, code: int},
           derive: {both: v + w, quarter: round(v / 3), per_w: v / w, twice: v * 2 + code, num2: "round(num * 2, 1)",
                    big: v > 10, low: lower(s), month_start: "date(year(ts), month(ts), 1)"}}
  local: {connector: parquet, options: {path: local.parquet}, time_column: at, timezone: Europe/Warsaw}
kpis:
  rows: {source: events, agg: count, segments: [seg]}
  valued: {source: events, agg: count, column: v}
  v_sum: {source: events, agg: sum, column: v, segments: [seg]}
  w_sum: {source: events, agg: sum, column: w, segments: [seg]}
  v_mean: {source: events, agg: mean, column: v}
  v_median: {source: events, agg: median, column: v}
  v_min: {source: events, agg: min, column: v, filter: "flag"}
  v_max: {source: events, agg: max, column: v, filter: "not flag and seg != 'b'"}
  v_last: {source: events, agg: last, column: v, segments: [seg]}
  v_first: {source: events, agg: first, column: w}
  texts: {source: events, agg: count_distinct, column: s}
  flagged: {source: events, agg: sum, column: flag}
  both_sum: {source: events, agg: sum, column: both}
  expr_sum: {source: events, agg: sum, expression: "v * 2 - w / 2"}
  hour_rows: {source: events, agg: count, filter: "hour(ts) >= 2 and hour(ts) < 4"}
  days_to_end: {source: events, agg: sum, expression: "days_between(ts, date(2026, 11, 1)) + months_between(date(2025, 1, 31), ts)"}
  ratio: {ratio: {numerator: v_sum, denominator: w_sum}, segments: [seg]}
  share_a: {share: {of: rows, where: "seg == 'a'"}}
  formula: {formula: "(v_sum - w_sum) / (w_sum - 1)"}
  growth: {growth: v_sum}
  by_quarter: {source: events, agg: count, scope: {quarter: 2.0}}
  by_quarter_int: {source: events, agg: sum, column: v, scope: {twice: 4}}
  by_num: {source: events, agg: count, scope: {num2: 3.0}}
  by_code: {source: events, agg: count, scope: {code: 1}}
  by_big: {source: events, agg: count, scope: {big: true}}
  by_low: {source: events, agg: count, scope: {low: x}}
  by_flag: {source: events, agg: count, scope: {flag: false}}
  by_text_number: {source: events, agg: count, scope: {s: 5}}
  by_month_start: {source: events, agg: count, scope: {month_start: '2026-03-01'}}
  per_w_sum: {source: events, agg: sum, column: per_w, segments: [twice]}
  num_mean: {source: events, agg: mean, column: num2}
  local_rows: {source: local, agg: count}
  local_sum: {source: local, agg: sum, column: n}
"""

UTC_START = dt.datetime(2026, 3, 26)
HOURS = 24 * 9  # 26 March .. 3 April: the spring change (29 March) and empty days around it
AUTUMN = dt.datetime(2026, 10, 23)


rows = st.lists(
    st.tuples(
        st.integers(0, 2 * HOURS - 1),  # hour slot (unique: no two rows share a time, so `last` is defined)
        st.sampled_from(["a", "b", "c", None]),
        st.one_of(st.none(), st.integers(-5, 40)),
        st.one_of(st.none(), st.sampled_from([0, 0, 1, 2, 3])),
        st.one_of(st.none(), st.booleans()),
        st.one_of(st.none(), st.sampled_from(["x", "y", "z", "é", "5", "X"])),
        st.one_of(st.none(), st.sampled_from(["1.5", "0.75", "-2", "1.45", "2"])),  # text declared float
        st.one_of(st.none(), st.sampled_from(["1", "2", " 3", "0"])),  # text declared int
    ),
    min_size=0, max_size=40, unique_by=lambda r: r[0],
)
local_rows = st.lists(st.tuples(st.sampled_from([(3, 29), (10, 25), (3, 28), (10, 24)]), st.integers(0, 23),
                                st.sampled_from([0, 30]), st.integers(0, 9)), min_size=0, max_size=20)


def _time(slot: int) -> dt.datetime:
    base = UTC_START if slot < HOURS else AUTUMN
    return base + dt.timedelta(hours=slot % HOURS, minutes=17)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows, local=local_rows)
def test_backends_agree_on_random_data(tmp_path_factory, databases, rows, local) -> None:
    d = tmp_path_factory.mktemp("random")
    pl.DataFrame(
        {"ts": [_time(r[0]) for r in rows], "seg": [r[1] for r in rows], "v": [r[2] for r in rows],
         "w": [r[3] for r in rows], "flag": [r[4] for r in rows], "s": [r[5] for r in rows],
         "num": [r[6] for r in rows], "code": [r[7] for r in rows]},
        schema={"ts": pl.Datetime("us"), "seg": pl.String, "v": pl.Int64, "w": pl.Int64, "flag": pl.Boolean,
                "s": pl.String, "num": pl.String, "code": pl.String},
    ).write_parquet(d / "events.parquet")
    pl.DataFrame(  # Warsaw wall-clock times, 02:00-03:00 included: skipped in March, repeated in October
        {"at": [dt.datetime(2026, m, day, h, mi) for (m, day), h, mi, _ in local], "n": [n for *_, n in local]},
        schema={"at": pl.Datetime("us"), "n": pl.Int64},
    ).write_parquet(d / "local.parquet")
    (d / "s.yaml").write_text(textwrap.dedent(SPEC))
    as_of = dt.date(2026, 11, 1)
    expected = evaluate(load_spec(d / "s.yaml"), as_of=as_of).to_json()
    for name, pm in databases.items():
        got = evaluate(load_spec(d / "s.yaml"), as_of=as_of, plugin_manager=pm).to_json()
        assert got == expected, f"{name} differs from polars"


def test_the_random_spec_exercises_the_database(tmp_path: Path, databases) -> None:
    """The property above really runs in the databases (no silent fallback to polars)."""
    from metricspec.engine.run import explain

    pl.DataFrame({"ts": [dt.datetime(2026, 3, 29, 1)], "seg": ["a"], "v": [1], "w": [0], "flag": [True],
                  "s": ["x"], "num": ["1.5"], "code": ["2"]}).write_parquet(tmp_path / "events.parquet")
    pl.DataFrame({"at": [dt.datetime(2026, 3, 29, 2, 30)], "n": [1]}).write_parquet(tmp_path / "local.parquet")
    (tmp_path / "s.yaml").write_text(textwrap.dedent(SPEC))
    for name, pm in databases.items():
        plan = explain(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 11, 1), plugin_manager=pm)
        assert {q["runs_in"] for q in plan} == {name}
