"""Goal statuses, pacing, forecasts and SMART findings on hand-built cases."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import polars as pl
import pytest

from metricspec.engine.run import evaluate
from metricspec.loader import load_spec

START = dt.date(2026, 1, 1)


def write_world(d: Path) -> None:
    days = [START + dt.timedelta(days=i) for i in range(300)]  # to 2026-10-27
    # followers: +10 a day from 1000
    pl.DataFrame({"date": days, "account": ["brand"] * len(days),
                  "followers": [1000 + 10 * i for i in range(len(days))]}).write_csv(d / "followers.csv")
    # sign-ups: exactly 2 a day
    pl.DataFrame({"created_at": [x for x in days for _ in range(2)], "channel": ["social"] * (2 * len(days))}
                 ).write_csv(d / "signups.csv")
    # cost per acquisition falling: cost 100/day, customers 1 a day until June, then 2 a day
    pl.DataFrame({"date": days, "cost": [100.0] * len(days),
                  "customers": [1 if x < dt.date(2026, 6, 1) else 2 for x in days]}).write_csv(d / "costs.csv")


SPEC = """
name: goals
measured_by: Ana
owner: Piotr
grains: [month]
sources:
  followers: {connector: csv, options: {path: followers.csv}, time_column: date, columns: {date: date}}
  signups: {connector: csv, options: {path: signups.csv}, time_column: created_at, columns: {created_at: date}}
  costs: {connector: csv, options: {path: costs.csv}, time_column: date, columns: {date: date}}
kpis:
  followers: {source: followers, agg: last, column: followers, segments: [account]}
  signups: {source: signups, agg: count}
  cost: {source: costs, agg: sum, column: cost}
  customers: {source: costs, agg: sum, column: customers}
  cpa: {ratio: {numerator: cost, denominator: customers}, direction: decrease}
  posts: {source: signups, agg: count, kind: activity}
objectives:
  awareness:
    goals:
      reached: {kpi: followers, scope: {account: brand}, target: 3000, start: 2026-01-01, deadline: 2026-12-31}
      on_track: {kpi: followers, scope: {account: brand}, target: 4000, start: 2026-01-01, deadline: 2026-12-31}
      off_track: {kpi: followers, scope: {account: brand}, target: 9000, start: 2026-01-01, deadline: 2026-12-31}
      missed: {kpi: followers, scope: {account: brand}, target: 9000, start: 2026-01-01, deadline: 2026-05-31}
      nodata: {kpi: followers, scope: {account: nobody}, target: 10, start: 2026-01-01, deadline: 2026-12-31}
      unscoped: {kpi: followers, target: 5000, start: 2026-01-01}
  leads:
    goals:
      signups_total: {kpi: signups, target: 700, start: 2026-01-01, deadline: 2026-12-31}
      cheaper: {kpi: cpa, target: 60, baseline: 100, start: 2026-01-01, deadline: 2026-12-31, measure: latest}
      activity: {kpi: posts, target: 10, start: 2026-10-01, deadline: 2026-10-20}
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("goals")
    write_world(d)
    (d / "spec.yaml").write_text(textwrap.dedent(SPEC))
    return {g.id: g for g in evaluate(load_spec(d / "spec.yaml"), as_of=dt.date(2026, 10, 15)).goals()}


def followers_on(day: dt.date) -> int:
    return 1000 + 10 * (day - START).days


def test_latest_measure_uses_latest_complete_period(results):
    g = results["on_track"]
    # September is the latest complete month on 2026-10-15; its last snapshot is 30 September
    assert g.current == followers_on(dt.date(2026, 9, 30))
    assert g.baseline == followers_on(dt.date(2026, 1, 31))  # no earlier period: the first one
    assert g.baseline_source == "data"
    frac = (dt.date(2026, 10, 15) - START).days / (dt.date(2026, 12, 31) - START).days
    assert g.expected_progress == pytest.approx(frac)
    assert g.expected == pytest.approx(g.baseline + (4000 - g.baseline) * frac)
    assert g.progress == pytest.approx((g.current - g.baseline) / (4000 - g.baseline))


def test_linear_forecast_is_exact_on_a_linear_series(results):
    g = results["on_track"]
    # month-end snapshots grow by 10 × days in month; a least-squares line over the last 8 months
    months = [dt.date(2026, m, 1) for m in range(2, 10)]
    ends = [followers_on((m.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1))
            for m in months]
    xs = list(range(8))
    mx, my = sum(xs) / 8, sum(ends) / 8
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ends, strict=True)) / sum((x - mx) ** 2 for x in xs)
    assert g.forecast == pytest.approx(my + slope * (10 - mx))  # December is index 10 from February
    assert g.status == "on_track"
    assert "linear trend" in g.forecast_method


def test_statuses(results):
    assert results["reached"].status == "achieved"
    assert results["off_track"].status == "off_track"
    assert results["missed"].status == "missed"
    assert results["missed"].forecast == results["missed"].current
    assert results["nodata"].status == "no_data"
    assert results["unscoped"].status == "at_risk"  # no deadline: cannot pace


def test_total_measure_and_run_rate_forecast(results):
    g = results["signups_total"]
    days = (dt.date(2026, 10, 15) - START).days + 1
    assert g.current == 2 * days
    assert g.baseline == 0
    left = (dt.date(2026, 12, 31) - dt.date(2026, 10, 15)).days
    assert g.forecast == pytest.approx(2 * days + 2.0 * left)  # 2 a day over the last 28 days
    assert g.status == "on_track"


def test_decreasing_is_better(results):
    g = results["cheaper"]
    assert g.direction == "decrease"
    assert g.current == pytest.approx(50.0)  # September: 3000 cost / 60 customers
    assert g.status == "achieved"
    assert g.progress == pytest.approx((50 - 100) / (60 - 100))


def test_smart_findings(results):
    def crit(goal, name):
        return next(f for f in results[goal].smart if f.criterion == name)

    assert not crit("unscoped", "specific").ok
    assert crit("on_track", "specific").ok
    assert not crit("unscoped", "time_bound").ok
    assert not crit("nodata", "measurable").ok
    assert not crit("activity", "results_focused").ok
    assert crit("signups_total", "results_focused").ok
    # off_track needs 9000 by December: far above the best monthly growth seen
    assert not crit("off_track", "achievable").ok
    assert crit("on_track", "achievable").ok
    for g in results.values():
        assert {f.criterion for f in g.smart} == {"specific", "measurable", "achievable", "results_focused",
                                                   "time_bound"}
        assert all(f.where and "spec.yaml" in f.where for f in g.smart)
