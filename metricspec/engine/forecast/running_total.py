"""Running totals (and levels that move by daily steps): the run rate, judged by its own past errors.

The value at the deadline is today's value plus the sum of the days left. The point forecast is
the **run rate**: the mean daily value of the last :data:`WINDOW` days × the days left. Its
uncertainty is not assumed but read from the history (a bootstrap over past periods): at every past
day ``t`` with :data:`WINDOW` days before it, the same rule forecasts the next ``hh`` days and is
compared with what happened. The errors' mean (the rule's bias, e.g. on a growing series) and
spread give a Student-t distribution with as many degrees of freedom as the history holds
independent ``hh``-day stretches, less one.

``hh`` is the days left, or less when the history is too short to check the rule over that many
days at least :data:`MIN_STRETCHES` times; the errors are then extrapolated to the days left: the
bias in proportion to the horizon (a rate that is off by a steady amount), the spread with its power
1.5 (a rate that wanders like a random walk). Both choices are measured by
``benchmarks/bench_forecast.py`` and ``tests/test_forecast.py`` (docs/goals.md#calibration): a bias
growing with the square of the horizon (a trend in the rate) covered 70 % on rates that wander.

With less history than that (:data:`MIN_HISTORY` days), counts get the Poisson–gamma (negative
binomial) forecast and other sums an interval for the sum of independent days
(:mod:`metricspec.engine.forecast.short_history`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metricspec.engine.forecast.distribution import Distribution, ScaledT
from metricspec.engine.forecast.short_history import counts_forecast, independent_days_forecast

WINDOW = 28
"""Days of the run rate."""
MIN_STRETCHES = 4
"""Independent stretches of ``hh`` days the history must hold to check the rule over ``hh`` days."""
MIN_CHECK_DAYS = 7
"""The shortest horizon checked; with less history the short-history forecasts apply."""
MIN_HISTORY = WINDOW + MIN_STRETCHES * MIN_CHECK_DAYS
BIAS_POWER = 1.0
SPREAD_POWER = 1.5


@dataclass(frozen=True)
class RateForecast:
    model: str  # "run_rate", "counts_short_history" or "days_short_history"
    point: float
    distribution: Distribution
    days: int  # days of history used
    rate: float  # the run rate (per day)


def run_rate_forecast(daily: np.ndarray, left: int, offset: float, *, counts: bool, floor: float | None,
                      ) -> RateForecast | None:
    """The value ``offset + (sum of the next `left` days)`` from the daily values so far (oldest
    first, no missing days). ``counts``: whole non-negative numbers (a count KPI); ``floor``: the
    value cannot end below it. None when there is not a single day of history."""
    n = len(daily)
    if n == 0:
        return None
    w = min(WINDOW, n)
    rate = float(daily[-w:].mean())
    point = offset + rate * left
    if left <= 0:
        return RateForecast("run_rate", offset, ScaledT(offset, 0.0, floor=floor), n, rate)
    check = min(left, (n - WINDOW) // MIN_STRETCHES)
    if n < MIN_HISTORY or check < MIN_CHECK_DAYS:
        if counts:
            dist: Distribution = counts_forecast(daily[-w:], left, offset)
            return RateForecast("counts_short_history", point, dist, w, rate)
        short = independent_days_forecast(daily[-w:], left, offset, floor)
        return None if short is None else RateForecast("days_short_history", point, short, w, rate)
    errors = past_errors(daily, check)
    factor = left / check
    bias = float(errors.mean()) * factor ** BIAS_POWER
    spread = float(errors.std(ddof=1)) * factor ** SPREAD_POWER
    df = max(1.0, (n - WINDOW) / check - 1)
    return RateForecast("run_rate", point, ScaledT(point + bias, spread, df, floor), n, rate)


def past_errors(daily: np.ndarray, horizon: int) -> np.ndarray:
    """What the run rate would have got wrong: for every day ``t`` with :data:`WINDOW` days before it
    and ``horizon`` days after, the sum of those days minus the rate of the window before × horizon."""
    sums = np.concatenate([[0.0], np.cumsum(daily, dtype=float)])
    t = np.arange(WINDOW, len(daily) - horizon + 1)
    rate = (sums[t] - sums[t - WINDOW]) / WINDOW
    actual = sums[t + horizon] - sums[t]
    return np.asarray(actual - rate * horizon, dtype=float)
