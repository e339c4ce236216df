"""The window kinds: ``rolling`` (trailing N days or weeks) and ``to_date`` (WTD, MTD, QTD, YTD).

Every value is checked against a plain-Python computation on the same rows: for each period, the
window ends on the period's last day (the as-of date for the current period) and the base's
aggregation is taken over the rows dated in it; count_distinct counts distinct values over the whole
window. Properties (hypothesis): a rolling sum of a constant over a window inside the data is the
constant times the window's days, and a to-date value on the first day of its period equals that
day's value.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.engine.run import evaluate
from metricspec.errors import SpecError
from metricspec.loader import load_spec
from metricspec.plan.periods import period_end, truncate_date

AS_OF = dt.date(2026, 4, 20)
FIRST = dt.date(2026, 1, 1)

SPEC = """\
name: windows
week_start: sunday
grains: [day, week, month, quarter]
sources:
  d: {connector: csv, options: {path: d.csv}, time_column: t}
kpis:
  total: {source: d, agg: sum, column: v}
  rows: {source: d, agg: count, filter: "seg != 'c'"}
  users: {source: d, agg: count_distinct, column: user}
  avg: {source: d, agg: mean, column: v}
  r_total: {rolling: {kpi: total, days: 7}, segments: [seg]}
  r_rows: {rolling: {kpi: rows, weeks: 2}}
  r_users: {rolling: {kpi: users, days: 10}, segments: [seg]}
  r_avg: {rolling: {kpi: avg, days: 28}}
  mtd: {to_date: {kpi: total, period: month}, segments: [seg]}
  qtd_users: {to_date: {kpi: users, period: quarter}}
  wtd_users: {to_date: {kpi: users, period: week}, segments: [seg]}
  ytd_avg: {to_date: {kpi: avg, period: year}}
"""

Row = tuple[dt.datetime, str, int | None, str]


def _rows(seed: int, n: int = 600) -> list[Row]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        day = FIRST + dt.timedelta(days=rnd.randint(0, 130))  # past the as-of date too
        v = None if rnd.random() < 0.1 else rnd.randint(-3, 20)
        out.append((dt.datetime.combine(day, dt.time(rnd.randint(0, 23))), f"u{rnd.randint(1, 40)}", v,
                    rnd.choice("abc")))
    return out


def _write(tmp: Path, rows: list[Row], spec: str = SPEC) -> Path:
    lines = ["t,user,v,seg"] + [f"{t.isoformat()},{u},{'' if v is None else v},{s}" for t, u, v, s in rows]
    (tmp / "d.csv").write_text("\n".join(lines) + "\n")
    (tmp / "s.yaml").write_text(textwrap.dedent(spec))
    return tmp / "s.yaml"


def _results(path: Path, as_of: dt.date = AS_OF) -> dict[str, Any]:
    return json.loads(evaluate(load_spec(path), as_of=as_of).to_json())  # type: ignore[no-any-return]


# ------------------------------------------------------------ the reference computation
def _base_value(agg: str, rows: list[Row], filt: Any) -> float | None:
    picked = [r for r in rows if filt(r)]
    if agg == "count":
        return float(len(picked))
    values = [r[2] for r in picked if r[2] is not None]
    if agg == "sum":
        return float(sum(values))
    if agg == "mean":
        return sum(values) / len(values) if values else None
    return float(len({r[1] for r in picked}))  # count_distinct of user (never null here)


def _reference(rows: list[Row], kpi: str, grain: str, period: dt.date, segment: str | None,
               as_of: dt.date = AS_OF) -> float | None:
    bases = {"total": ("sum", lambda r: True), "rows": ("count", lambda r: r[3] != "c"),
             "users": ("count_distinct", lambda r: True), "avg": ("mean", lambda r: True)}
    windows = {"r_total": ("total", 7, None), "r_rows": ("rows", 14, None), "r_users": ("users", 10, None),
               "r_avg": ("avg", 28, None), "mtd": ("total", None, "month"), "qtd_users": ("users", None, "quarter"),
               "wtd_users": ("users", None, "week"), "ytd_avg": ("avg", None, "year")}
    base, days, reach = windows[kpi]
    agg, filt = bases[base]
    end = min(period_end(period, grain) - dt.timedelta(days=1), as_of)
    start = end - dt.timedelta(days=days - 1) if days else truncate_date(end, reach or "", "sunday")
    inside = [r for r in rows if start <= r[0].date() <= end and (segment is None or r[3] == segment)]
    return _base_value(agg, inside, filt)


def test_every_window_value_equals_a_plain_python_computation(tmp_path: Path) -> None:
    rows = _rows(7)
    results = _results(_write(tmp_path, rows))
    checked = 0
    for kpi in results["kpis"]:
        if kpi["form"] not in ("rolling", "to_date"):
            continue
        for series in kpi["series"]:
            points = series["points"]
            assert points, (kpi["name"], series["grain"])
            first = dt.date.fromisoformat(points[0]["period"])
            assert first == truncate_date(FIRST, series["grain"], "sunday")  # from the first data
            last = dt.date.fromisoformat(points[-1]["period"])
            assert last == truncate_date(AS_OF, series["grain"], "sunday")  # to the as-of date
            for point in points:
                want = _reference(rows, kpi["name"], series["grain"], dt.date.fromisoformat(point["period"]),
                                  series["segment_value"])
                got = point["value"]
                assert (got is None) == (want is None), (kpi["name"], series["grain"], point)
                if want is not None:
                    assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (kpi["name"], series["grain"], point)
                checked += 1
    assert checked > 2000


def test_count_distinct_is_over_the_whole_window_not_a_sum_of_days(tmp_path: Path) -> None:
    """One user every day of a week: 1 distinct user over 7 days (a sum of daily counts says 7)."""
    rows = [(dt.datetime(2026, 4, d, 9), "u1", 1, "a") for d in range(10, 17)]
    spec = SPEC.replace("grains: [day, week, month, quarter]", "grains: [day]")
    results = _results(_write(tmp_path, rows, spec), as_of=dt.date(2026, 4, 16))
    r_users = next(k for k in results["kpis"] if k["name"] == "r_users")
    day = next(s for s in r_users["series"] if s["kind"] == "headline")
    assert [p["value"] for p in day["points"]] == [1.0] * 7
    r_total = next(k for k in results["kpis"] if k["name"] == "r_total")
    day = next(s for s in r_total["series"] if s["kind"] == "headline")
    assert [p["value"] for p in day["points"]] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]


def test_a_window_reaching_before_the_run_start_has_no_value(tmp_path: Path) -> None:
    rows = _rows(3)
    spec = SPEC.replace("week_start: sunday", "week_start: sunday\nperiod: {start: 2026-02-10, end: 2026-04-20}")
    results = _results(_write(tmp_path, rows, spec))
    r_total = next(k for k in results["kpis"] if k["name"] == "r_total")
    day = next(s for s in r_total["series"] if s["kind"] == "headline" and s["grain"] == "day")
    values = {p["period"]: p["value"] for p in day["points"]}
    assert values["2026-02-15"] is None  # 9..15 February: the 9th is before the start
    assert values["2026-02-16"] is not None
    want = _reference(rows, "r_total", "day", dt.date(2026, 2, 16), None)
    assert values["2026-02-16"] == pytest.approx(want)
    mtd = next(k for k in results["kpis"] if k["name"] == "mtd")
    month = next(s for s in mtd["series"] if s["kind"] == "headline" and s["grain"] == "month")
    assert {p["period"]: p["value"] for p in month["points"]}["2026-02-01"] is None  # from 1 Feb: not read
    assert {p["period"]: p["value"] for p in month["points"]}["2026-03-01"] is not None


def test_windows_end_on_their_period_s_last_day_even_after_the_data_ends(tmp_path: Path) -> None:
    """Data ending on 10 April, run as of the 20th: the last periods are those of the base KPI (the
    10th's); a complete period's window ends on its last day (the week of 5-11 April on the 11th) and
    only the running period's on the as-of date (April's on the 20th), not on the 10th: a 7-day window
    ending on the 20th holds no row (issue 21: it showed the week before the data ended)."""
    rows = [r for r in _rows(5) if r[0].date() <= dt.date(2026, 4, 10)]
    results = _results(_write(tmp_path, rows))
    by_name = {k["name"]: k for k in results["kpis"]}
    for name in ("r_total", "r_users", "mtd", "wtd_users", "ytd_avg"):
        for series in by_name[name]["series"]:
            if series["kind"] != "headline":
                continue
            base = next(s for s in by_name["total"]["series"] if s["grain"] == series["grain"])
            assert series["points"][-1]["period"] == base["points"][-1]["period"], (name, series["grain"])
            last = series["points"][-1]
            want = _reference(rows, name, series["grain"], dt.date.fromisoformat(last["period"]), None)
            assert last["value"] == pytest.approx(want), (name, series["grain"])
    month = next(s for s in by_name["r_total"]["series"] if s["kind"] == "headline" and s["grain"] == "month")
    assert month["points"][-1] == {**month["points"][-1], "period": "2026-04-01", "value": 0.0}


def test_a_complete_month_s_window_ends_on_its_last_day_not_on_the_last_row(tmp_path: Path) -> None:
    """The issue's case: a source whose last row is 20 March, run on 1 May. March's 7-day window is
    25-31 March (no rows: 0), its 90-day window ends on 31 March; it was cut at the 20th."""
    rows: list[Row] = [(dt.datetime(2026, 3, d, 12), f"u{d}", d, "a") for d in range(1, 21)]
    spec = SPEC.replace("grains: [day, week, month, quarter]", "grains: [month]").replace(
        "r_rows: {rolling: {kpi: rows, weeks: 2}}", "r_90: {rolling: {kpi: total, days: 90}}")
    results = _results(_write(tmp_path, rows, spec), as_of=dt.date(2026, 5, 1))
    values = {k["name"]: {p["period"]: p["value"] for s in k["series"] if s["kind"] == "headline"
                          for p in s["points"]} for k in results["kpis"]}
    assert values["r_total"]["2026-03-01"] == 0.0  # 25-31 March: no row
    assert values["r_users"]["2026-03-01"] == 0.0  # 22-31 March
    assert values["r_90"]["2026-03-01"] == float(sum(range(1, 21)))  # 1 Jan - 31 March: every row
    assert values["mtd"]["2026-03-01"] == float(sum(range(1, 21)))
    assert "2026-04-01" not in values["r_total"]  # no period after the data's last one


LOCAL_SPEC = """\
name: local
timezone: Europe/Warsaw
grains: [day, month]
sources:
  d: {connector: csv, options: {path: d.csv}, time_column: t, timezone: UTC}
kpis:
  total: {source: d, agg: sum, column: v}
  rows: {source: d, agg: count, filter: "seg != 'c'"}
  users: {source: d, agg: count_distinct, column: user}
  avg: {source: d, agg: mean, column: v}
  total_1d: {rolling: {kpi: total, days: 1}}
  rows_1d: {rolling: {kpi: rows, days: 1}}
  users_1d: {rolling: {kpi: users, days: 1}}
  avg_1d: {rolling: {kpi: avg, days: 1}}
  total_m: {to_date: {kpi: total, period: month}}
  rows_m: {to_date: {kpi: rows, period: month}}
  users_m: {to_date: {kpi: users, period: month}}
  avg_m: {to_date: {kpi: avg, period: month}}
"""


def test_one_day_windows_and_month_to_date_equal_the_base_in_the_spec_time_zone(tmp_path: Path) -> None:
    """Rows stored in UTC, read in Europe/Warsaw (late-evening rows fall on the next local day, the
    clocks change on 29 March): a 1-day rolling window is the base's daily value and a month to date
    on the month grain is the base's monthly value, for every aggregation."""
    rnd = random.Random(2)
    rows = [(dt.datetime(2026, 3, 1) + dt.timedelta(minutes=rnd.randrange(60 * 24 * 50)), f"u{rnd.randint(1, 9)}",
             rnd.choice([None, *range(10)]), rnd.choice("abc")) for _ in range(500)]
    results = _results(_write(tmp_path, rows, LOCAL_SPEC), as_of=dt.date(2026, 4, 30))
    by_name = {k["name"]: k for k in results["kpis"]}
    for base in ("total", "rows", "users", "avg"):
        for window, grain in ((f"{base}_1d", "day"), (f"{base}_m", "month")):
            want = next(s for s in by_name[base]["series"] if s["grain"] == grain)["points"]
            got = next(s for s in by_name[window]["series"] if s["grain"] == grain)["points"]
            assert [(p["period"], p["value"]) for p in got] == [(p["period"], p["value"]) for p in want], window


def test_window_results_are_byte_identical_across_runs(tmp_path: Path) -> None:
    path = _write(tmp_path, _rows(11))
    first = evaluate(load_spec(path), as_of=AS_OF).to_json()
    assert evaluate(load_spec(path), as_of=AS_OF).to_json() == first


# ------------------------------------------------------------ properties
CONSTANT_SPEC = """\
name: constant
grains: [day, week, month]
sources:
  d: {connector: csv, options: {path: d.csv}, time_column: t}
kpis:
  total: {source: d, agg: sum, column: v}
  rolled: {rolling: {kpi: total, days: DAYS}}
  mtd: {to_date: {kpi: total, period: PERIOD}}
"""


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(c=st.integers(-50, 50), days=st.integers(1, 40), span=st.integers(1, 120),
       period=st.sampled_from(["week", "month", "quarter", "year"]), extra=st.integers(0, 3))
def test_rolling_sum_of_a_constant_is_the_constant_times_the_window(tmp_path_factory, c: int, days: int, span: int,
                                                                    period: str, extra: int) -> None:
    """c on every day (``extra`` more rows of 0 on some days): a window fully inside the data sums to
    c × days; a to-date value on its period's first day equals that day's value."""
    tmp = tmp_path_factory.mktemp("const")
    start = dt.date(2025, 12, 1)
    rows: list[Row] = [(dt.datetime.combine(start + dt.timedelta(days=i), dt.time(12)), "u", c, "a")
                       for i in range(span)]
    rows += [(dt.datetime.combine(start + dt.timedelta(days=3 * i), dt.time(1)), "u", 0, "a") for i in range(extra)]
    spec = CONSTANT_SPEC.replace("DAYS", str(days)).replace("PERIOD", period)
    as_of = start + dt.timedelta(days=span - 1)
    results = _results(_write(tmp, rows, spec), as_of=as_of)
    by_name = {k["name"]: k for k in results["kpis"]}
    day_points = next(s for s in by_name["rolled"]["series"] if s["grain"] == "day")["points"]
    for p in day_points:
        end = dt.date.fromisoformat(p["period"])
        if end - dt.timedelta(days=days - 1) >= start:
            assert p["value"] == c * days, p
    base = {p["period"]: p["value"] for p in next(s for s in by_name["total"]["series"] if s["grain"] == "day")["points"]}
    for p in next(s for s in by_name["mtd"]["series"] if s["grain"] == "day")["points"]:
        day = dt.date.fromisoformat(p["period"])
        if truncate_date(day, period) == day:
            assert p["value"] == base[p["period"]] == c, p


# ------------------------------------------------------------ errors
def _spec_error(tmp: Path, kpis: str) -> str:
    spec = ("name: s\nsources:\n  d: {connector: csv, options: {path: d.csv}, time_column: t}\nkpis:\n"
            "  total: {source: d, agg: sum, column: v}\n  mid: {source: d, agg: median, column: v}\n"
            "  both: {ratio: {numerator: total, denominator: total}}\n"
            "  expr: {source: d, agg: count_distinct, expression: \"v * 2\"}\n" + kpis)
    (tmp / "d.csv").write_text("t,user,v,seg\n2026-01-01T00:00:00,u,1,a\n")
    (tmp / "s.yaml").write_text(spec)
    with pytest.raises(SpecError) as info:
        load_spec(tmp / "s.yaml")
    return "\n".join(i.format() for i in info.value.issues())


@pytest.mark.parametrize(("kpi", "message", "hint"), [
    ("  w: {rolling: {kpi: total, days: 7, weeks: 1}}\n", "either `days: N` or `weeks: N`", None),
    ("  w: {rolling: {kpi: total}}\n", "either `days: N` or `weeks: N`", None),
    ("  w: {rolling: {kpi: total, days: 0}}\n", "greater than or equal to 1", None),
    ("  w: {rolling: {kpi: mid, days: 7}}\n", "cannot take agg 'median'", "sum, count, mean, count_distinct"),
    ("  w: {rolling: {kpi: both, days: 7}}\n", "must name a base (agg) KPI; 'both' is a ratio KPI",
     "point `kpi:` at a KPI"),
    ("  w: {to_date: {kpi: expr, period: month}}\n", "count_distinct needs a column", "give the base KPI `column:`"),
    ("  w: {to_date: {kpi: total, period: decade}}\n", "'week', 'month', 'quarter' or 'year'", None),
    ("  w: {to_date: {kpi: nothing, period: month}}\n", "nothing", None),
])
def test_bad_windows_get_a_clear_error_with_the_line(tmp_path: Path, kpi: str, message: str,
                                                     hint: str | None) -> None:
    text = _spec_error(tmp_path, kpi)
    assert "s.yaml:9" in text, text
    assert message in text, text
    if hint:
        assert hint in text, text


@pytest.mark.parametrize(("deadline", "expected", "code"), [
    (dt.date(2026, 3, 31), 10.0 * 31, "forecast_model_run_rate"),  # this month: 10 a day for its 31 days
    (dt.date(2026, 4, 15), 10.0 * 15, "forecast_model_run_rate"),  # next month's MTD on its 15th day
])
def test_a_goal_on_a_to_date_total_forecasts_the_total_at_the_deadline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deadline: dt.date, expected: float, code: str) -> None:
    """A trend through the month-to-date series (it drops back at every month start) overshot: a goal
    forecast 1,694.9 on a series of 10 a day. The forecast is now the base KPI's run rate, from the
    restart: this month's days so far plus the days left, or the deadline month's days up to it."""
    monkeypatch.chdir(tmp_path)
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(69)]  # to 10 March
    (tmp_path / "d.csv").write_text("t,v\n" + "".join(f"{d},10\n" for d in days), encoding="utf-8")
    (tmp_path / "s.yaml").write_text(textwrap.dedent(f"""\
        name: mtd-goal
        grains: [day]
        sources:
          d: {{connector: csv, options: {{path: d.csv}}, time_column: t}}
        kpis:
          total: {{source: d, agg: sum, column: v}}
          mtd: {{to_date: {{kpi: total, period: month}}}}
        objectives:
          o:
            goals:
              g: {{kpi: mtd, target: 300, start: 2026-02-01, deadline: {deadline}, measure: latest}}
        """), encoding="utf-8")
    goal = evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 3, 10)).objectives[0].goals[0]
    assert goal.current == pytest.approx(100.0)
    assert goal.forecast == pytest.approx(expected)
    assert goal.forecast_method_code == code
    assert goal.chance == (1.0 if expected >= 300 else 0.0)  # 10 a day, every day: certain
