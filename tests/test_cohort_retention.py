"""Calendar cohorts (the ``cohort_retention`` kind) against a plain-Python cohort triangle, with
hypothesis properties (shares in [0, 1], age 0 is everyone) and the kind's errors."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from collections import defaultdict
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.engine.run import evaluate
from metricspec.errors import SpecError
from metricspec.loader import load_spec
from metricspec.plan.periods import add_periods, truncate_date

AS_OF = dt.date(2026, 9, 15)
SPEC = """
name: cohorts
grains: [month]
week_start: {week_start}
sources:
  orders: {{connector: csv, options: {{path: orders.csv}}, time_column: ordered_at,
           columns: {{ordered_at: datetime}}}}
kpis:
  month_1:
    cohort_retention: {{source: orders, key: customer_id, period: month, age: 1, max_age: 8}}
    unit: percent
    segments: [channel]
  month_3_x:
    cohort_retention: {{source: orders, key: customer_id, period: month, age: 3, filter: "channel != 'email'"}}
    scope: {{channel: x}}
  week_2:
    cohort_retention: {{source: orders, key: customer_id, period: week, age: 2, max_age: 10}}
  orders_count: {{source: orders, agg: count}}
"""


def make_orders(seed: int, n: int = 300) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        t = dt.datetime(2026, 1, 1) + dt.timedelta(hours=int(rng.integers(0, 230 * 24)))
        for _ in range(int(rng.integers(1, 7))):
            rows.append({"customer_id": f"c{i:04d}", "ordered_at": t,
                         "channel": str(rng.choice(["x", "instagram", "email"]))})
            t += dt.timedelta(hours=int(rng.integers(1, 70 * 24)))
    return pl.DataFrame(rows).sort("ordered_at")


def write_world(d: Path, orders: pl.DataFrame, week_start: str = "monday") -> Path:
    orders.write_csv(d / "orders.csv")
    (d / "spec.yaml").write_text(textwrap.dedent(SPEC.format(week_start=week_start)))
    return d / "spec.yaml"


def reference_triangle(rows: list[dict], period: str, max_age: int, as_of: dt.date, week_start: str = "monday",
                       scope: str | None = None, keep=lambda r: True) -> dict[dt.date, tuple[int, list[int | None]]]:
    """Plain Python: cohort = period of the first (kept, in-scope) event; retained at age k when any kept
    event falls in period cohort + k; cells only once that period has ended by the as-of date."""
    cutoff = as_of + dt.timedelta(days=1)
    kept = [r for r in rows if keep(r) and r["ordered_at"].date() < cutoff]
    first: dict[str, dt.datetime] = {}
    first_row: dict[str, dict] = {}
    for r in sorted(kept, key=lambda r: r["ordered_at"]):
        if scope is not None and r["channel"] != scope:
            continue
        if r["customer_id"] not in first:
            first[r["customer_id"]] = r["ordered_at"]
            first_row[r["customer_id"]] = r
    active: dict[str, set[dt.date]] = defaultdict(set)
    for r in kept:
        active[r["customer_id"]].add(truncate_date(r["ordered_at"].date(), period, week_start))
    members: dict[dt.date, list[str]] = defaultdict(list)
    for key, t in first.items():
        members[truncate_date(t.date(), period, week_start)].append(key)
    out = {}
    for c, keys in sorted(members.items()):
        if add_periods(c, period, 1) > cutoff:
            continue
        cells: list[int | None] = []
        for k in range(max_age + 1):
            p = add_periods(c, period, k)
            cells.append(None if add_periods(p, period, 1) > cutoff else sum(p in active[key] for key in keys))
        out[c] = (len(keys), cells)
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], object]:
    orders = make_orders(5)
    spec = write_world(tmp_path_factory.mktemp("cohorts"), orders)
    return orders.to_dicts(), evaluate(load_spec(spec), as_of=AS_OF)


def test_the_cohort_table_equals_a_plain_python_triangle(world) -> None:
    rows, results = world
    table = results.kpi("month_1").cohorts
    assert table is not None and table.period == "month" and table.ages == list(range(9))
    expected = reference_triangle(rows, "month", 8, AS_OF)
    assert [r.cohort for r in table.rows] == list(expected)
    for r in table.rows:
        size, cells = expected[r.cohort]
        assert (r.size, r.retained) == (size, cells), r.label
        assert r.shares == [None if n is None else n / size for n in cells]
        assert r.label == f"{r.cohort.year}-{r.cohort.month:02d}"
    assert expected[dt.date(2026, 8, 1)][1][1] is None  # August's cohort: September is not over
    tidy = table.to_polars()
    assert tidy.columns == ["cohort", "label", "size", "age", "retained", "share"]
    assert tidy.height == len(table.rows) * len(table.ages)
    jan = tidy.filter(pl.col("cohort") == dt.date(2026, 1, 1)).sort("age")
    assert jan["retained"].to_list() == expected[dt.date(2026, 1, 1)][1]


def test_the_kpi_at_an_age_is_the_tables_column(world) -> None:
    rows, results = world
    k = results.kpi("month_1")
    expected = reference_triangle(rows, "month", 8, AS_OF)
    points = {p.period: p.value for p in k.series[0].points}
    for c, (size, cells) in expected.items():
        want = None if cells[1] is None else cells[1] / size
        assert points[c] == pytest.approx(want) if want is not None else points[c] is None, c
    assert points[dt.date(2026, 9, 1)] is None  # no cohort has ended yet
    assert k.headlines[0].period == dt.date(2026, 8, 1) and k.headlines[0].value is None


def test_segments_take_the_first_events_value(world) -> None:
    rows, results = world
    k = results.kpi("month_1")
    first: dict[str, dict] = {}
    for r in sorted(rows, key=lambda r: r["ordered_at"]):
        first.setdefault(r["customer_id"], r)
    for seg in ("x", "instagram", "email"):
        series = next(s for s in k.series if s.segment_value == seg)
        keep = {key for key, r in first.items() if r["channel"] == seg}
        sub = [r for r in rows if r["customer_id"] in keep]
        expected = reference_triangle(sub, "month", 1, AS_OF)
        got = {p.period: p.value for p in series.points}
        for c, (size, cells) in expected.items():
            if cells[1] is not None:
                assert got[c] == pytest.approx(cells[1] / size), (seg, c)


def test_scope_picks_the_cohort_and_the_filter_the_activity(world) -> None:
    rows, results = world
    k = results.kpi("month_3_x")
    expected = reference_triangle(rows, "month", 3, AS_OF, scope="x", keep=lambda r: r["channel"] != "email")
    got = {p.period: p.value for p in k.series[0].points}
    assert any(cells[3] is not None for _, cells in expected.values())
    for c, (size, cells) in expected.items():
        if cells[3] is None:
            assert got.get(c) is None
        else:
            assert got[c] == pytest.approx(cells[3] / size), c


@pytest.mark.parametrize("week_start", ["monday", "sunday"])
def test_weekly_cohorts_follow_the_specs_week_start(tmp_path: Path, week_start: str) -> None:
    orders = make_orders(8, 120)
    results = evaluate(load_spec(write_world(tmp_path, orders, week_start)), as_of=AS_OF)
    k = results.kpi("week_2")
    expected = reference_triangle(orders.to_dicts(), "week", 10, AS_OF, week_start)
    table = k.cohorts
    assert table is not None and {r.cohort: (r.size, r.retained) for r in table.rows} == expected
    assert all(r.cohort.weekday() == (0 if week_start == "monday" else 6) for r in table.rows)
    assert [s.grain for s in k.series] == ["week"]  # the cohorts' period, not the spec's month
    got = {p.period: p.value for p in k.series[0].points}
    for c, (size, cells) in expected.items():
        assert got.get(c) == (None if cells[2] is None else pytest.approx(cells[2] / size))


def test_the_same_spec_and_data_give_the_same_bytes(tmp_path: Path) -> None:
    spec = write_world(tmp_path, make_orders(2, 80))
    assert evaluate(load_spec(spec), as_of=AS_OF).to_json() == evaluate(load_spec(spec), as_of=AS_OF).to_json()


def test_kpis_of_other_kinds_carry_no_table_in_json(tmp_path: Path) -> None:
    spec = write_world(tmp_path, make_orders(2, 40))
    text = evaluate(load_spec(spec), as_of=AS_OF).to_json()
    kpis = json.loads(text)["kpis"]
    assert {k["name"]: "cohorts" in k for k in kpis} == {"month_1": True, "month_3_x": True, "week_2": True,
                                                        "orders_count": False}
    from metricspec.engine.results import Results

    assert Results.model_validate_json(text).to_json() == text


# ------------------------------------------------------------------ properties
_DAYS = st.lists(st.tuples(st.integers(0, 9), st.integers(0, 250)), min_size=1, max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=_DAYS, period=st.sampled_from(["week", "month"]))
def test_shares_are_in_0_1_and_age_0_is_everyone(tmp_path: Path, events: list[tuple[int, int]],
                                                 period: str) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(textwrap.dedent(f"""
        name: p
        sources:
          orders: {{connector: csv, options: {{path: none.csv}}, time_column: ordered_at}}
        kpis:
          c:
            cohort_retention: {{source: orders, key: customer_id, period: {period}, age: 1, max_age: 6}}
        """))
    frame = pl.DataFrame({"customer_id": [f"k{e}" for e, _ in events],
                          "ordered_at": [dt.datetime(2026, 1, 1) + dt.timedelta(days=d) for _, d in events]})
    results = evaluate(load_spec(spec), as_of=dt.date(2026, 9, 30), data={"orders": frame.lazy()})
    k = results.kpi("c")
    table = k.cohorts
    assert table is not None
    assert sum(r.size for r in table.rows) <= len({e for e, _ in events})
    for r in table.rows:
        assert r.retained[0] == r.size and r.shares[0] == 1.0
        assert all(s is None or 0.0 <= s <= 1.0 for s in r.shares)
        # once a cell is unknown, later ages are too (the triangle)
        known = [s is not None for s in r.shares]
        assert known == sorted(known, reverse=True)
    for p in k.series[0].points:
        assert p.value is None or 0.0 <= p.value <= 1.0


# ------------------------------------------------------------------ errors
def _issues(tmp_path: Path, kpi: str) -> list:
    (tmp_path / "d.csv").write_text("t,k\n2026-01-01,a\n")
    (tmp_path / "s.yaml").write_text("name: s\nsources:\n  d: {connector: csv, options: {path: d.csv}, "
                                     "time_column: t}\nkpis:\n  a:\n" + textwrap.indent(textwrap.dedent(kpi), "    "))
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "s.yaml")
    return info.value.issues()


@pytest.mark.parametrize(("kpi", "line", "message", "hint"), [
    ("cohort_retention: {source: d, key: k, period: day, age: 1}\n", 6, "period", "week"),
    ("cohort_retention: {source: d, key: k, period: month, age: 0}\n", 6, "age", ""),
    ("cohort_retention: {source: d, key: k, period: month}\n", 6, "age", ""),
    ("cohort_retention: {source: d, key: k, period: month, age: 1, agee: 2}\n", 6, "unknown key 'agee'", "age"),
    ("cohort_retention: {source: d, key: k, period: month, age: 1}\ngrains: [week]\n", 7,
     "computed per month", "remove `grains:`"),
    ("cohort_retention: {source: nope, key: k, period: month, age: 1}\n", 6, "nope", ""),
    ("cohort_retention: {source: d, key: k, period: week, age: 1}\ngrains: []\n", 7, "computed per week",
     "remove `grains:`"),
])
def test_bad_cohort_kpis_get_a_clear_error(tmp_path: Path, kpi: str, line: int, message: str, hint: str) -> None:
    issues = _issues(tmp_path, kpi)
    issue = next((i for i in issues if message in i.message), None)
    assert issue is not None, [i.format() for i in issues]
    assert issue.where is not None and issue.where.line == line, issue.format()
    assert hint in (issue.hint or "") + issue.message, issue.format()


def test_a_goal_at_another_grain_than_the_cohorts_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("t,k\n2026-01-01,a\n")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""
        name: s
        sources:
          d: {connector: csv, options: {path: d.csv}, time_column: t}
        kpis:
          a: {cohort_retention: {source: d, key: k, period: month, age: 1}}
        objectives:
          o:
            kpis: [a]
            goals:
              g: {kpi: a, target: 0.5, grain: week, deadline: 2026-06-30}
        """))
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "s.yaml")
    issue = next(i for i in info.value.issues() if "goal 'o.g' measures this KPI per week" in i.message)
    assert issue.where is not None and issue.where.line == 6, issue.format()
    assert issue.hint == "set the goal's `grain: month` (or leave it out)"


def test_a_kpi_reading_it_at_another_grain_gets_a_clear_error(tmp_path: Path) -> None:
    from metricspec.errors import DataError

    (tmp_path / "d.csv").write_text("t,k\n2026-01-01,a\n")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""
        name: s
        sources:
          d: {connector: csv, options: {path: d.csv}, time_column: t}
        kpis:
          a: {cohort_retention: {source: d, key: k, period: month, age: 1}}
          b: {growth: a, grains: [week]}
        """))
    with pytest.raises(DataError) as info:
        evaluate(load_spec(tmp_path / "s.yaml"), as_of=AS_OF)
    assert "computed per month" in str(info.value) and "s.yaml:6" in str(info.value.where)
    assert info.value.hint == "give the KPIs that read it `grains: [month]`"


def test_first_events_at_the_same_instant_take_the_smallest_segment_value(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(textwrap.dedent("""
        name: p
        sources:
          orders: {connector: csv, options: {path: none.csv}, time_column: t}
        kpis:
          c:
            cohort_retention: {source: orders, key: k, period: month, age: 1}
            segments: [channel]
        """))
    t0, t1 = dt.datetime(2026, 1, 5), dt.datetime(2026, 2, 5)
    for order in ([0, 1, 2], [2, 1, 0]):
        rows = [("a", t0, "x"), ("a", t0, "email"), ("a", t1, "x")]
        frame = pl.DataFrame([rows[i] for i in order], schema=["k", "t", "channel"], orient="row")
        k = evaluate(load_spec(spec), as_of=dt.date(2026, 3, 31), data={"orders": frame.lazy()}).kpi("c")
        assert [s.segment_value for s in k.series if s.kind == "segment"] == ["email"]
