"""Goal forecasts' intervals by coverage: for every model, seeded simulations with known dynamics count how
often the truth falls inside the 80 % and the 95 % interval (bounded in time); point forecasts against
an independent computation in plain numpy.

Each family simulates what its model is chosen for (metricspec/engine/forecast/__init__.py), 1,500
independent goals with a fixed seed. The goal is 75–85 % for the 80 % interval and 92.5–97.5 % for the
95 % one; 1,500 cases measure coverage to about ±0.010 and ±0.006 (one standard error), so the bands
below are the goal widened by 1.5 standard errors. Models meant to be wide (a few periods of history)
must cover at least their rate, and are allowed to cover more.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest

from metricspec.engine.forecast import GoalHistory, forecast
from metricspec.engine.forecast.exponential_smoothing import MIN_PERIODS
from metricspec.engine.forecast.running_total import MIN_HISTORY

COVER_80 = (0.735, 0.865)
COVER_95 = (0.915, 0.985)
CASES = 1500
SECONDS = 60  # each simulation's time budget (a loaded, shared machine; about 1-3 s when idle)

Case = tuple[GoalHistory, float]


def coverage(cases: list[Case], model: str) -> tuple[float, float]:
    """The share of truths inside the 80 % and the 95 % interval; every case made by ``model``."""
    inside80 = inside95 = 0
    for history, truth in cases:
        fc = forecast(history)
        assert fc is not None and fc.model == model, (fc and fc.model, model)
        d = fc.distribution
        assert d.quantile(0.025) <= d.quantile(0.1) <= fc.point <= d.quantile(0.9) <= d.quantile(0.975)
        inside80 += d.quantile(0.1) <= truth <= d.quantile(0.9)
        inside95 += d.quantile(0.025) <= truth <= d.quantile(0.975)
    return inside80 / len(cases), inside95 / len(cases)


def simulate(make: Callable[[np.random.Generator], Case], n: int, seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    return [make(rng) for _ in range(n)]


def running_total(daily: np.ndarray, seen: int, counts: bool) -> Case:
    current = float(daily[:seen].sum())
    history = GoalHistory("running_total", current, daily=daily[:seen], days_left=len(daily) - seen, offset=current,
                          counts=counts, floor=current if counts else None)
    return history, float(daily.sum())


# -- running totals and levels that move by daily steps ------------------------------------------------------

def counts_wandering(rng: np.random.Generator) -> Case:
    """Daily counts at a rate that wanders (a log random walk) with a weekly cycle, 120–300 days seen."""
    n, left = int(rng.integers(120, 300)), int(rng.integers(14, 90))
    t = np.arange(n + left)
    rate = 20 * np.exp(np.cumsum(rng.normal(0, 0.02, n + left))) * (1 + 0.3 * np.sin(2 * np.pi * t / 7))
    return running_total(rng.poisson(rate).astype(float), n, counts=True)


def followers(rng: np.random.Generator) -> Case:
    """A level (followers) whose daily net change wanders around a growing pace, with unfollow days."""
    n, left = int(rng.integers(120, 300)), int(rng.integers(14, 90))
    pace = 8 * np.exp(np.cumsum(rng.normal(0, 0.02, n + left)))
    changes = np.round(pace + rng.normal(0, 15, n + left))
    start = 10_000.0
    current = start + float(changes[:n].sum())
    history = GoalHistory("level", current, daily=changes[:n], days_left=left, offset=current)
    return history, start + float(changes.sum())


def counts_few_days(rng: np.random.Generator) -> Case:
    """A count seen for a few days (3 to 50): Poisson days at a steady rate."""
    n, left = int(rng.integers(3, MIN_HISTORY - 6)), int(rng.integers(7, 90))
    return running_total(rng.poisson(rng.gamma(2, 5), n + left).astype(float), n, counts=True)


def sums_few_days(rng: np.random.Generator) -> Case:
    """A sum (revenue) seen for a few days: independent normal days."""
    n, left = int(rng.integers(3, MIN_HISTORY - 6)), int(rng.integers(7, 90))
    return running_total(rng.normal(rng.uniform(50, 500), rng.uniform(5, 80), n + left), n, counts=False)


# -- levels and rates per period ---------------------------------------------------------------------------

def monthly_rates(low: int, high: int, ahead: tuple[int, int] = (1, 5)) -> Callable[[np.random.Generator], Case]:
    """Monthly rates: a level drifting as a random walk, seen through month-to-month noise."""
    def make(rng: np.random.Generator) -> Case:
        n, k = int(rng.integers(low, high)), int(rng.integers(*ahead))
        y = 0.2 + np.cumsum(rng.normal(0, 0.005, n + k)) + rng.normal(0, 0.01, n + k)
        return GoalHistory("period", float(y[n - 1]), values=y[:n], ahead=k), float(y[n + k - 1])
    return make


def window_rates(rng: np.random.Generator) -> Case:
    """The conversion rate over a 12-month window, 1 to 10 months in, 10 to 23 months of history before
    it; the level's steps and the monthly noise each 0.002 to 0.01."""
    months, seen, before = 12, int(rng.integers(1, 11)), int(rng.integers(10, 24))
    steps, noise = rng.uniform(0.002, 0.01, 2)
    y = 0.2 + np.cumsum(rng.normal(0, steps, before + months)) + rng.normal(0, noise, before + months)
    window = y[before:]
    history = GoalHistory("window", float(window[:seen].mean()), values=y[:before + seen], ahead=months - seen,
                          share=seen / months)
    return history, float(window.mean())


FAMILIES = [
    # (family, model, simulation, cases, seed)
    ("running total of counts", "run_rate", counts_wandering, CASES, 20261102),
    ("followers (a daily level)", "level_run_rate", followers, CASES, 12),
    ("counts, a few days seen", "counts_short_history", counts_few_days, CASES, 13),
    ("sums, a few days seen", "days_short_history", sums_few_days, CASES, 14),
    ("monthly rate, 10-24 months", "drift", monthly_rates(10, 25), CASES, 8),
    ("monthly rate, 36-60 months", "drift", monthly_rates(MIN_PERIODS, 61, (1, 7)), CASES, 9),  # no ETS: it covered 71 %
    ("rate over the window", "window_drift", window_rates, CASES, 15),
]


@pytest.mark.parametrize(("family", "model", "make", "n", "seed"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_intervals_cover_at_their_rate(family, model, make, n, seed):
    started = time.perf_counter()
    c80, c95 = coverage(simulate(make, n, seed), model)
    assert COVER_80[0] <= c80 <= COVER_80[1], (family, c80)
    assert COVER_95[0] <= c95 <= COVER_95[1], (family, c95)
    assert time.perf_counter() - started < SECONDS


def test_a_few_periods_get_an_interval_at_least_as_wide_as_promised():
    """2 to 4 periods of history: the wide, honest interval covers at least its rate (and is not useless)."""
    c80, c95 = coverage(simulate(monthly_rates(2, 5, (1, 4)), CASES, 16), "few_periods")
    assert COVER_80[0] <= c80 <= 0.95 and COVER_95[0] <= c95 <= 0.995, (c80, c95)


# -- point forecasts: plain numpy, independent of the package's code -----------------------------------------

def drift_median(values: np.ndarray, ahead: int) -> float:
    """The drift model's point forecast written out: the latest value plus the mean change over ``check``
    periods (from every origin with two values before it) scaled to ``ahead``."""
    n = len(values)
    check = min(ahead, max(1, (n - 2) // 3))
    changes = [values[t + check - 1] - values[t - 1] for t in range(2, n - check + 1)]
    return float(values[-1] + np.mean(changes) * ahead / check)


def test_point_forecasts_by_hand():
    rng = np.random.default_rng(21)
    for _ in range(50):
        values = 0.2 + np.cumsum(rng.normal(0.001, 0.005, int(rng.integers(10, 30))))
        ahead = int(rng.integers(1, 6))
        fc = forecast(GoalHistory("period", float(values[-1]), values=values, ahead=ahead, use_ets=False))
        assert fc is not None and fc.model == "drift"
        assert fc.point == pytest.approx(drift_median(values, ahead), rel=1e-9)
        # a rate over a window: what is in, weighted by the part seen, and the mean of the periods left
        share, current = float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.1, 0.3))
        middle = max(1, round((ahead + 1) / 2))  # the periods left stand at their middle one
        win = forecast(GoalHistory("window", current, values=values, ahead=ahead, share=share, use_ets=False))
        assert win is not None and win.model == "window_drift"
        assert win.point == pytest.approx(share * current + (1 - share) * drift_median(values, middle), rel=1e-9)
        # a few periods: the latest value
        few = forecast(GoalHistory("period", float(values[2]), values=values[:3], ahead=ahead))
        assert few is not None and few.model == "few_periods" and few.point == pytest.approx(values[2])
    # a running total with a short history: today's total + the mean day so far × days left
    days = rng.poisson(7, 20).astype(float)
    fc = forecast(GoalHistory("running_total", 140.0, daily=days, days_left=30, offset=140.0))
    assert fc is not None and fc.model == "days_short_history"
    assert fc.point == pytest.approx(140 + days.mean() * 30)
