"""The window kinds give the same Results on polars, DuckDB and PostgreSQL.

``sum``, ``count`` and ``mean`` windows add day-grain aggregates of the fused plan (run as SQL in the
database); ``count_distinct`` windows read the value, segment and time columns of the rows the base
KPI selects (filtered and projected in the database). Times are instants stored in UTC read in
Europe/Warsaw, so rows near midnight and around the daylight-saving change land on local days.
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

from metricspec.engine.run import evaluate, explain
from metricspec.loader import load_spec

# a skip, not an import: importing them at collection costs seconds (docs/contributing.md)
pytestmark = pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ('ibis', 'duckdb')),
                                reason="needs ibis, duckdb: pip install -e '.[test]'")

SPEC = """\
name: windows
timezone: Europe/Warsaw
week_start: sunday
grains: [day, week, month]
sources:
  events: {connector: parquet, options: {path: events.parquet}, time_column: ts, timezone: UTC}
kpis:
  v_sum: {source: events, agg: sum, column: v, filter: "not flag"}
  rows: {source: events, agg: count}
  v_mean: {source: events, agg: mean, column: v}
  e_mean: {source: events, agg: mean, expression: "v * 2 - 1"}
  users: {source: events, agg: count_distinct, column: user, filter: "seg != 'c'"}
  r_sum: {rolling: {kpi: v_sum, days: 3}, segments: [seg]}
  r_rows: {rolling: {kpi: rows, weeks: 1}, scope: {seg: a}}
  r_mean: {rolling: {kpi: v_mean, days: 5}, segments: [seg]}
  r_emean: {rolling: {kpi: e_mean, days: 2}}
  r_users: {rolling: {kpi: users, days: 4}, segments: [seg]}
  mtd: {to_date: {kpi: v_sum, period: month}, segments: [seg]}
  wtd_users: {to_date: {kpi: users, period: week}, segments: [seg]}
  qtd_mean: {to_date: {kpi: v_mean, period: quarter}}
  growth_of_rolling: {growth: r_sum}
"""

START = dt.datetime(2026, 3, 20, 22)  # Warsaw moves to summer time on 29 March
HOURS = 24 * 20
AS_OF = dt.date(2026, 4, 12)


def _write(d: Path, rows: list[tuple[int, str | None, int | None, bool | None, str | None]]) -> Path:
    pl.DataFrame(
        {"ts": [START + dt.timedelta(hours=r[0], minutes=30) for r in rows], "seg": [r[1] for r in rows],
         "v": [r[2] for r in rows], "flag": [r[3] for r in rows], "user": [r[4] for r in rows]},
        schema={"ts": pl.Datetime("us"), "seg": pl.String, "v": pl.Int64, "flag": pl.Boolean, "user": pl.String},
    ).write_parquet(d / "events.parquet")
    (d / "s.yaml").write_text(textwrap.dedent(SPEC))
    return d / "s.yaml"


def _agree(path: Path, databases: dict[str, object]) -> str:
    expected = evaluate(load_spec(path), as_of=AS_OF).to_json()
    for name, pm in databases.items():
        got = evaluate(load_spec(path), as_of=AS_OF, plugin_manager=pm).to_json()
        assert got == expected, f"{name} differs from polars"
    return expected


rows = st.lists(
    st.tuples(st.integers(0, HOURS - 1), st.sampled_from(["a", "b", "c", None]),
              st.one_of(st.none(), st.integers(-5, 40)), st.one_of(st.none(), st.booleans()),
              st.one_of(st.none(), st.sampled_from(["u1", "u2", "u3", "u4", "é"]))),
    min_size=0, max_size=60,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows)
def test_window_kinds_agree_on_every_backend(tmp_path_factory, databases, rows) -> None:
    _agree(_write(tmp_path_factory.mktemp("windows"), rows), databases)


def test_window_kinds_agree_on_a_busy_month(tmp_path: Path, databases) -> None:
    import random

    rnd = random.Random(5)
    data = [(rnd.randrange(HOURS), rnd.choice(["a", "b", "c", None]), rnd.choice([None, *range(-3, 30)]),
             rnd.choice([None, True, False]), rnd.choice([None, *(f"u{i}" for i in range(25))])) for _ in range(900)]
    out = _agree(_write(tmp_path, data), databases)
    assert '"form": "rolling"' in out and '"form": "to_date"' in out


def test_windows_run_in_the_database(tmp_path: Path, monkeypatch, databases) -> None:
    """Not a fallback: the day-grain queries run as SQL, the distinct values come through the
    database's filtered, projected rows, one per value and day (a user's rows of one day are one)."""
    from metricspec.engine.backends.sql import SqlBackend

    path = _write(tmp_path, [(5, "a", 1, False, "u1"), (6, "a", 2, False, "u1"), (7, "a", 3, True, "u1"),
                             (40, "b", 2, True, "u2")])
    seen: list[tuple[str, tuple[str, ...]]] = []
    days: list[int] = []
    real = SqlBackend.events

    def spy(self, query):  # type: ignore[no-untyped-def]
        seen.append((query.source, query.keep))
        rows = real(self, query)
        if query.days:
            got = rows.collect()
            assert got.height == got.unique().height and got["__t"].dt.hour().max() == 0, got
            days.append(got.height)
        return rows

    monkeypatch.setattr(SqlBackend, "events", spy)
    for name, pm in databases.items():
        plan = explain(load_spec(path), as_of=AS_OF, plugin_manager=pm)
        assert {q["runs_in"] for q in plan} == {name}
        assert any(q["grain"] == "day" for q in plan)
        seen.clear()
        evaluate(load_spec(path), as_of=AS_OF, plugin_manager=pm)
        assert seen and {keep for _, keep in seen} <= {("user",), ("user", "seg")}, seen
        assert days and max(days) <= 2, days  # four rows, two users, each on one day
        days.clear()
