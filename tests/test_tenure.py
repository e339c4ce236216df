"""Tenure (the ``tenure`` kind) and its Kaplan–Meier estimator, against statsmodels' ``SurvfuncRight``
and plain-Python durations, with hypothesis properties (survival non-increasing in [0, 1], tenure at
most the observation span) and the kind's errors."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.engine.run import evaluate
from metricspec.errors import DataError, SpecError
from metricspec.kinds.compute.survival import kaplan_meier, median, restricted_mean
from metricspec.loader import load_spec


def SurvfuncRight(*args: Any, **kwargs: Any) -> Any:
    """statsmodels' Kaplan-Meier estimator, imported by the tests that use it (seconds to import)."""
    return pytest.importorskip("statsmodels.duration.survfunc").SurvfuncRight(*args, **kwargs)
AS_OF = dt.date(2026, 10, 31)


def sm_reference(days: list[float], ended: list[bool]) -> tuple[float | None, float]:
    """statsmodels' Kaplan–Meier: its median (S <= 0.5, lifelines' and R's convention: statsmodels
    itself uses S < 0.5, so ask for the quantile just below 0.5) and the area under its curve up to
    the longest follow-up."""
    tau = max(days)
    if not any(ended):
        return None, tau
    sf = SurvfuncRight(np.array(days, dtype=float), np.array(ended, dtype=float))
    q = sf.quantile(0.5 - 1e-9)
    times, probs = np.asarray(sf.surv_times), np.asarray(sf.surv_prob)
    area, last_t, level = 0.0, 0.0, 1.0
    for t, s in zip(times, probs, strict=True):
        if t >= tau:
            break
        area += (t - last_t) * level
        last_t, level = t, s
    area += (tau - last_t) * level
    return (None if np.isnan(q) else float(q)), area


# ------------------------------------------------------------------ the estimator
_SAMPLES = st.lists(st.tuples(st.integers(0, 60), st.booleans()), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(_SAMPLES)
def test_kaplan_meier_equals_statsmodels(sample: list[tuple[int, bool]]) -> None:
    days = [float(d) for d, _ in sample]
    ended = [e for _, e in sample]
    curve = kaplan_meier(days, ended)
    want_median, want_mean = sm_reference(days, ended)
    assert median(curve) == want_median
    assert restricted_mean(curve) == pytest.approx(want_mean, rel=1e-12, abs=1e-12)
    if any(ended):
        sf = SurvfuncRight(np.array(days), np.array(ended, dtype=float))
        assert np.allclose(curve.times, sf.surv_times) and np.allclose(curve.survival, sf.surv_prob)
    # properties: a survival curve, non-increasing in [0, 1]; the mean is at most the follow-up
    assert np.all((curve.survival >= 0) & (curve.survival <= 1))
    assert np.all(np.diff(curve.survival) <= 0)
    assert 0 <= restricted_mean(curve) <= max(days) + 1e-9
    assert median(curve) is None or median(curve) <= max(days)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 400), min_size=1, max_size=50))
def test_without_censoring_it_is_the_sample_mean_and_lower_median(days: list[int]) -> None:
    curve = kaplan_meier(days, [True] * len(days))
    assert restricted_mean(curve) == pytest.approx(sum(days) / len(days))
    ordered = sorted(days)
    assert median(curve) == ordered[(len(days) + 1) // 2 - 1]


def test_a_known_curve() -> None:
    # 6 at risk; deaths at 2 (1), 4 (2, one censored at 4 too), censored at 5, death at 7
    curve = kaplan_meier([2, 4, 4, 4, 5, 7], [True, True, True, False, False, True])
    assert list(curve.times) == [2, 4, 7]
    assert curve.survival == pytest.approx([5 / 6, 5 / 6 * 3 / 5, 0.0])
    assert median(curve) == 4  # S(4) = 0.5
    assert restricted_mean(curve) == pytest.approx(2 * 1 + 2 * 5 / 6 + 3 * 0.5)
    assert median(kaplan_meier([3, 5], [False, False])) is None


# ------------------------------------------------------------------ the kind, end to end
SPEC = """
name: tenure
grains: [month]
sources:
  customers: {connector: csv, options: {path: customers.csv}, time_column: signed_up_at,
              columns: {signed_up_at: datetime, churned_at: datetime}}
  orders: {connector: csv, options: {path: orders.csv}, time_column: ordered_at, columns: {ordered_at: datetime}}
kpis:
  median_tenure:
    tenure: {source: customers, key: customer_id, churn_column: churned_at}
    segments: [plan]
  mean_tenure:
    tenure: {source: customers, key: customer_id, churn_column: churned_at, measure: mean}
  active_tenure:
    tenure: {source: orders, key: customer_id, inactivity_days: 45}
  active_mean_x:
    tenure: {source: orders, key: customer_id, inactivity_days: 45, measure: mean, filter: "channel != 'email'"}
    scope: {channel: x}
"""


def make_world(d: Path, seed: int) -> tuple[list[dict], list[dict]]:
    rng = np.random.default_rng(seed)
    customers, orders = [], []
    for i in range(400):
        start = dt.datetime(2026, 1, 1) + dt.timedelta(hours=int(rng.integers(0, 280 * 24)))
        churn = start + dt.timedelta(days=int(rng.integers(0, 250))) if rng.random() < 0.6 else None
        customers.append({"customer_id": f"c{i:04d}", "signed_up_at": start, "churned_at": churn,
                          "plan": str(rng.choice(["free", "pro"]))})
        t = start
        for _ in range(int(rng.integers(1, 6))):
            orders.append({"customer_id": f"c{i:04d}", "ordered_at": t, "channel": str(rng.choice(["x", "email"]))})
            t += dt.timedelta(hours=int(rng.integers(1, 80 * 24)))
    pl.DataFrame(customers).write_csv(d / "customers.csv")
    pl.DataFrame(orders).sort("ordered_at").write_csv(d / "orders.csv")
    (d / "spec.yaml").write_text(textwrap.dedent(SPEC))
    return customers, orders


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("tenure")
    customers, orders = make_world(d, 3)
    return customers, orders, evaluate(load_spec(d / "spec.yaml"), as_of=AS_OF)


def churn_durations(customers: list[dict], plan: str | None = None) -> dict[dt.date, tuple[list[float], list[bool]]]:
    """Plain Python: per signup month, days from signup to churn (churn by the as-of date) or to the as-of date."""
    out: dict[dt.date, tuple[list[float], list[bool]]] = defaultdict(lambda: ([], []))
    for c in customers:
        start = c["signed_up_at"].date()
        if start > AS_OF or (plan is not None and c["plan"] != plan):
            continue
        churn = c["churned_at"].date() if c["churned_at"] is not None else None
        ended = churn is not None and churn <= AS_OF
        days, flags = out[start.replace(day=1)]
        days.append(float(((churn if ended else AS_OF) - start).days))  # type: ignore[operator]
        flags.append(ended)
    return out


def inactivity_durations(orders: list[dict], gap: int, keep=lambda r: True, scope: str | None = None,
                         ) -> dict[dt.date, tuple[list[float], list[bool]]]:
    """Plain Python: start = first (in-scope) order, left once ``gap`` days passed after the last order."""
    rows = sorted((r for r in orders if keep(r) and r["ordered_at"].date() <= AS_OF), key=lambda r: r["ordered_at"])
    first: dict[str, dt.date] = {}
    last: dict[str, dt.date] = {}
    for r in rows:
        if scope is None or r["channel"] == scope:
            first.setdefault(r["customer_id"], r["ordered_at"].date())
        last[r["customer_id"]] = r["ordered_at"].date()
    out: dict[dt.date, tuple[list[float], list[bool]]] = defaultdict(lambda: ([], []))
    for key, start in first.items():
        end = max(last[key], start)
        ended = (AS_OF - end).days >= gap
        days, flags = out[start.replace(day=1)]
        days.append(float(((end if ended else AS_OF) - start).days))
        flags.append(ended)
    return out


def _check(series, groups, measure: str) -> None:
    got = {p.period: p.value for p in series.points}
    assert groups
    for month, (days, ended) in groups.items():
        want_median, want_mean = sm_reference(days, ended)
        want = want_median if measure == "median" else want_mean
        if want is None:
            assert got[month] is None, month
        else:
            assert got[month] == pytest.approx(want, rel=1e-9), month
        # tenure is at most the observation span of the month's starters
        if got[month] is not None:
            assert got[month] <= (AS_OF - month).days


def test_tenure_with_a_churn_column_equals_statsmodels(world) -> None:
    customers, _, results = world
    _check(results.kpi("median_tenure").series[0], churn_durations(customers), "median")
    _check(results.kpi("mean_tenure").series[0], churn_durations(customers), "mean")
    for plan in ("free", "pro"):
        series = next(s for s in results.kpi("median_tenure").series if s.segment_value == plan)
        _check(series, churn_durations(customers, plan), "median")
    assert results.kpi("median_tenure").unit == "days"


def test_tenure_from_inactivity_equals_statsmodels(world) -> None:
    _, orders, results = world
    _check(results.kpi("active_tenure").series[0], inactivity_durations(orders, 45), "median")
    groups = inactivity_durations(orders, 45, keep=lambda r: r["channel"] != "email", scope="x")
    _check(results.kpi("active_mean_x").series[0], groups, "mean")


def test_tenure_is_deterministic(tmp_path: Path) -> None:
    make_world(tmp_path, 9)
    spec = load_spec(tmp_path / "spec.yaml")
    assert evaluate(spec, as_of=AS_OF).to_json() == evaluate(spec, as_of=AS_OF).to_json()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 300)), min_size=1, max_size=40),
       st.integers(1, 120), st.sampled_from(["median", "mean"]))
def test_tenure_never_exceeds_the_observation_span(tmp_path: Path, events: list[tuple[int, int]], gap: int,
                                                   measure: str) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(textwrap.dedent(f"""
        name: p
        grains: [quarter]
        sources:
          orders: {{connector: csv, options: {{path: none.csv}}, time_column: t}}
        kpis:
          k: {{tenure: {{source: orders, key: c, inactivity_days: {gap}, measure: {measure}}}}}
        """))
    frame = pl.DataFrame({"c": [f"k{e}" for e, _ in events],
                          "t": [dt.datetime(2026, 1, 1) + dt.timedelta(days=d) for _, d in events]})
    as_of = dt.date(2026, 10, 31)
    results = evaluate(load_spec(spec), as_of=as_of, data={"orders": frame.lazy()})
    for p in results.kpi("k").series[0].points:
        starts = [dt.date(2026, 1, 1) + dt.timedelta(days=d) for _, d in events]
        span = (as_of - min(s for s in starts if s >= p.period)).days if any(s >= p.period for s in starts) else 0
        assert p.value is None or 0 <= p.value <= span


# ------------------------------------------------------------------ errors
def _issues(tmp_path: Path, kpi: str) -> list:
    (tmp_path / "d.csv").write_text("t,k,end\n2026-01-01,a,\n")
    (tmp_path / "s.yaml").write_text("name: s\nsources:\n  d: {connector: csv, options: {path: d.csv}, "
                                     "time_column: t}\nkpis:\n  a:\n" + textwrap.indent(textwrap.dedent(kpi), "    "))
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "s.yaml")
    return info.value.issues()


@pytest.mark.parametrize(("kpi", "line", "message", "hint"), [
    ("tenure: {source: d, key: k}\n", 6, "needs to know when an entity has left", "inactivity_days: 90"),
    ("tenure: {source: d, key: k, churn_column: end, inactivity_days: 30}\n", 6, "not both", "remove"),
    ("tenure: {source: d, key: k, inactivity_days: 0}\n", 6, "inactivity_days", ""),
    ("tenure: {source: d, key: k, inactivity_days: 9, measure: mode}\n", 6, "measure", "median"),
    ("tenure: {source: d, key: k, inactivity_days: 9, churn_colum: end}\n", 6, "unknown key 'churn_colum'",
     "churn_column"),
])
def test_bad_tenure_kpis_get_a_clear_error(tmp_path: Path, kpi: str, line: int, message: str, hint: str) -> None:
    issues = _issues(tmp_path, kpi)
    issue = next((i for i in issues if message in i.message), None)
    assert issue is not None, [i.format() for i in issues]
    assert issue.where is not None and issue.where.line == line, issue.format()
    assert hint in (issue.hint or "") + issue.message, issue.format()


def test_a_churn_before_the_start_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("id,start,end\na,2026-03-01,2026-02-01\nb,2026-03-01,\n")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""
        name: s
        sources:
          c: {connector: csv, options: {path: c.csv}, time_column: start, columns: {start: date, end: date}}
        kpis:
          t: {tenure: {source: c, key: id, churn_column: end}}
        """))
    with pytest.raises(DataError) as info:
        evaluate(load_spec(tmp_path / "s.yaml"), as_of=AS_OF)
    err = info.value
    assert "end before they start" in str(err) and "'a'" in str(err)
    assert "s.yaml:6" in str(err.where) and "churn" in (err.hint or "")
