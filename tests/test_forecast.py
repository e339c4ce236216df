"""Goal forecasts (metricspec/engine/forecast/): each model against an independent computation,
intervals against statsmodels' and scipy's own, chances monotone in the target (hypothesis); interval
coverage in seeded simulations is tests/test_forecast_coverage.py."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from metricspec.engine.forecast import GoalHistory, chance_of, forecast, target_with_chance
from metricspec.engine.forecast.distribution import ScaledT, ShiftedNegativeBinomial
from metricspec.engine.forecast.exponential_smoothing import MIN_PERIODS, ets_forecast
from metricspec.engine.forecast.period_values import drift_forecast, drift_rule
from metricspec.engine.forecast.period_values import past_errors as period_errors
from metricspec.engine.forecast.running_total import WINDOW, past_errors, run_rate_forecast
from metricspec.engine.forecast.short_history import counts_forecast, independent_days_forecast
from metricspec.engine.forecast.window_rate import mean_spread
from metricspec.engine.goals import safe_round

ROOT = Path(__file__).parent.parent


# -- distributions: scipy's own numbers ---------------------------------------------------------------

def test_scaled_t_is_scipys_t_clipped_at_its_bounds():
    d = ScaledT(100.0, 7.0, 5.0)
    for q in (0.025, 0.1, 0.5, 0.9, 0.975):
        assert d.quantile(q) == pytest.approx(100 + 7 * stats.t.ppf(q, 5))
    assert d.at_least(110) == pytest.approx(stats.t.sf(10 / 7, 5))
    assert d.at_most(95) == pytest.approx(stats.t.cdf(-5 / 7, 5))
    normal = ScaledT(0.0, 1.0)  # df = inf
    assert normal.quantile(0.9) == pytest.approx(stats.norm.ppf(0.9))
    floored = ScaledT(100.0, 7.0, 5.0, floor=98.0)
    assert floored.quantile(0.1) == 98.0  # the tail below the floor sits on it
    assert floored.at_least(98.0) == 1.0 and floored.at_most(97.99) == 0.0
    assert floored.at_least(105) == pytest.approx(d.at_least(105))
    capped = ScaledT(0.95, 0.1, 8.0, ceiling=1.0)
    assert capped.quantile(0.9) == 1.0 and capped.at_least(1.0001) == 0.0 and capped.at_most(1.0) == 1.0
    point = ScaledT(5.0, 0.0)
    assert point.quantile(0.1) == point.quantile(0.9) == 5.0
    assert point.at_least(5.0) == 1.0 and point.at_least(5.01) == 0.0 and point.at_most(4.99) == 0.0


def test_shifted_negative_binomial_is_scipys():
    d = ShiftedNegativeBinomial(40.0, 12.5, 0.3)
    nb = stats.nbinom(12.5, 0.3)
    assert d.quantile(0.9) == 40 + nb.ppf(0.9)
    assert d.at_least(50) == pytest.approx(nb.sf(9))  # P(N >= 10)
    assert d.at_least(50.4) == pytest.approx(nb.sf(10))  # P(N >= 11): counts are whole
    assert d.at_most(50.9) == pytest.approx(nb.cdf(10))
    assert d.at_least(40) == 1.0 and d.at_most(39.5) == 0.0
    assert d.at_least(50.000000000001) == pytest.approx(nb.sf(9))  # float noise is not one more count


def _distributions() -> st.SearchStrategy[object]:
    finite = st.floats(-1e6, 1e6, allow_nan=False)
    scaled = st.builds(ScaledT, finite, st.floats(0, 1e4), st.sampled_from([1.0, 3.0, 30.0, math.inf]),
                       st.one_of(st.none(), finite))
    counts = st.builds(ShiftedNegativeBinomial, st.floats(0, 1e4), st.floats(0.5, 500), st.floats(0.01, 0.99))
    return st.one_of(scaled, counts)


@settings(max_examples=200, deadline=None)
@given(_distributions(), st.lists(st.floats(-2e6, 2e6, allow_nan=False), min_size=2, max_size=6))
def test_the_chance_falls_as_the_target_gets_harder(dist, targets):
    targets = sorted(targets)
    up = [chance_of(dist, t, "increase") for t in targets]  # type: ignore[arg-type]
    down = [chance_of(dist, t, "decrease") for t in targets]  # type: ignore[arg-type]
    assert all(0 <= p <= 1 for p in up + down)
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(up)), up
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(down)), down


@settings(max_examples=200, deadline=None)
@given(_distributions(), st.sampled_from([0.5, 0.8]), st.sampled_from(["increase", "decrease"]),
       st.booleans())
def test_a_suggested_target_is_at_least_as_likely_as_promised(dist, chance, direction, whole):
    # up to float cancellation: (target - loc) / scale loses digits when the spread is tiny beside the value
    target = target_with_chance(dist, chance, direction)  # type: ignore[arg-type]
    assert chance_of(dist, target, direction) >= chance - 1e-6  # type: ignore[arg-type]
    rounded = safe_round(target, direction, whole)
    assert chance_of(dist, rounded, direction) >= chance - 1e-6  # type: ignore[arg-type]
    if target and math.isfinite(target):
        assert abs(rounded - target) <= max(abs(target) * 0.01 + 1e-9, 1.0 if whole else 0.0)


# -- exponential smoothing: statsmodels' own intervals --------------------------------------------------

def test_exponential_smoothing_intervals_are_statsmodels_own():
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rng = np.random.default_rng(3)
    values = 0.2 + np.cumsum(rng.normal(0, 0.004, 48)) + rng.normal(0, 0.01, 48)
    fc = ets_forecast(values, 3)
    assert fc is not None
    y = pd.Series(values)
    fits = {name: ETSModel(y, error="add", trend=trend, damped_trend=trend is not None).fit(disp=False)
            for name, trend in (("A,N,N", None), ("A,Ad,N", "add"))}
    best = fits[fc.model]
    assert best.aicc == min(f.aicc for f in fits.values())
    prediction = best.get_prediction(start=48, end=50)
    for alpha, (lo, hi) in ((0.2, (0.1, 0.9)), (0.05, (0.025, 0.975))):
        low, high = prediction.pred_int(alpha=alpha).iloc[-1]
        assert fc.distribution.quantile(lo) == pytest.approx(low, rel=1e-9)
        assert fc.distribution.quantile(hi) == pytest.approx(high, rel=1e-9)
    assert fc.point == pytest.approx(prediction.predicted_mean.iloc[-1])


def test_histories_of_any_length_use_the_drift_model_exponential_smoothing_only_when_asked():
    """ETS under-covers (docs/goals.md#calibration; tests/test_forecast_coverage.py), so goals use the drift
    model however long the history; the backtest asks for ETS to compare."""
    rng = np.random.default_rng(4)
    long = 100 + rng.normal(0, 3, MIN_PERIODS)
    assert forecast(GoalHistory("period", float(long[-1]), values=long, ahead=2)).model == "drift"  # type: ignore[union-attr]
    assert forecast(GoalHistory("period", float(long[-1]), values=long, ahead=2, use_ets=True)).model == "ets"  # type: ignore[union-attr]
    short = long[:12]
    assert forecast(GoalHistory("period", float(short[-1]), values=short, ahead=2)).model == "drift"  # type: ignore[union-attr]
    assert forecast(GoalHistory("period", 1.0, values=np.asarray([1.0, 2.0]), ahead=2)).model == "few_periods"  # type: ignore[union-attr]
    assert forecast(GoalHistory("period", 1.0, values=np.asarray([1.0]), ahead=2)) is None


# -- the run rate and the drift rule: plain Python --------------------------------------------------------

def test_run_rate_point_and_past_errors_by_hand():
    rng = np.random.default_rng(5)
    daily = rng.poisson(12, 200).astype(float)
    fc = run_rate_forecast(daily, 30, 500.0, counts=True, floor=500.0)
    assert fc is not None and fc.model == "run_rate"
    assert fc.point == pytest.approx(500 + sum(daily[-28:]) / 28 * 30)  # the run rate; the median adds the bias
    horizon = 30
    by_hand = [sum(daily[t:t + horizon]) - sum(daily[t - WINDOW:t]) / WINDOW * horizon
               for t in range(WINDOW, len(daily) - horizon + 1)]
    assert np.allclose(past_errors(daily, horizon), by_hand)
    errors = np.asarray(by_hand)
    dist = fc.distribution
    assert isinstance(dist, ScaledT)
    assert dist.loc == pytest.approx(fc.point + errors.mean())
    assert dist.scale == pytest.approx(errors.std(ddof=1))
    assert dist.df == pytest.approx((200 - WINDOW) / horizon - 1)


def test_drift_model_by_hand():
    """A random walk with drift read from the history: the changes over as many periods as are left."""
    values = np.asarray([10.0, 12, 11, 15, 14, 18, 17, 21, 20, 24])
    assert drift_rule(values, 2) == 24  # the changes are measured from the naive forecast
    by_hand = [values[t] - values[t - 1] for t in range(2, 10)]
    assert np.allclose(period_errors(values, 1), by_hand)
    fc = drift_forecast(values, 1)
    assert fc is not None
    assert fc.distribution.loc == pytest.approx(24 + np.mean(by_hand))  # the average change carries on
    assert fc.distribution.scale == pytest.approx(np.std(by_hand, ddof=1))
    assert fc.distribution.df == pytest.approx(len(by_hand) - 1)
    two = drift_forecast(values, 2)  # two periods ahead: measured on 2-period changes
    by_hand2 = [values[t + 1] - values[t - 1] for t in range(2, 9)]
    assert two is not None and two.check == 2
    assert two.distribution.loc == pytest.approx(24 + np.mean(by_hand2))
    assert two.distribution.df == pytest.approx(len(by_hand2) / 2 - 1)


def test_counts_with_a_short_history_are_poisson_gamma():
    """The predictive count of the days left, integrated by hand: Poisson(λ·left) over the gamma posterior
    of the rate (Jeffreys' prior, the days seen)."""
    days = np.asarray([3.0, 0, 2, 5, 1, 4])
    dist = counts_forecast(days, 10, 7.0)
    shape, rate = days.sum() + 0.5, len(days)

    def pmf(k: int) -> float:
        return integrate.quad(lambda lam: stats.poisson.pmf(k, lam * 10) * stats.gamma.pdf(lam, shape, scale=1 / rate),
                              0, 50)[0]

    cdf = np.cumsum([pmf(k) for k in range(60)])
    for k in (10, 25, 40):
        assert dist.at_most(7 + k) == pytest.approx(cdf[k], abs=1e-6)


def test_independent_days_is_the_textbook_prediction_interval_of_a_sum():
    days = np.asarray([120.0, 80, 95, 140, 60])
    dist = independent_days_forecast(days, 20, 1000.0, None)
    assert dist is not None
    mean, sd, n = days.mean(), days.std(ddof=1), len(days)
    half = stats.t.ppf(0.9, n - 1) * sd * math.sqrt(20 + 20 ** 2 / n)
    assert dist.quantile(0.9) == pytest.approx(1000 + 20 * mean + half)
    assert dist.quantile(0.1) == pytest.approx(1000 + 20 * mean - half)


def test_the_mean_of_the_periods_left_spreads_as_a_random_walk_mean():
    rng = np.random.default_rng(6)
    for m in (1, 2, 3, 6):
        walks = np.cumsum(rng.normal(0, 1, (20000, m)), axis=1)
        middle = max(1, round((m + 1) / 2))
        assert mean_spread(m) == pytest.approx(walks.mean(axis=1).std() / math.sqrt(middle), rel=0.03)


# (coverage in seeded simulations: tests/test_forecast_coverage.py)


# -- the backtest benchmark -------------------------------------------------------------------------------

def test_the_backtest_is_reproducible(tmp_path):
    """Two runs of benchmarks/bench_forecast.py with one seed write the same figures."""
    outputs = []
    for name in ("a.json", "b.json"):
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_forecast.py"), "--series", "3",
                        "--no-examples", "--json", str(tmp_path / name)], check=True, capture_output=True,
                       timeout=300, cwd=ROOT)
        outputs.append(json.loads((tmp_path / name).read_text()))
    assert outputs[0] == outputs[1]
    rows = {r["family"]: r for r in outputs[0]["rows"]}
    assert rows["all generated"]["cases"] > 100
    assert all(0 <= r["coverage_80"] <= 1 and r["brier"] >= 0 for r in rows.values())
