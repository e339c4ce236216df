"""Quantile metrics (median, p90 of revenue per customer): estimates, intervals and gbstats' quantile test.

* The group's quantile is the sample quantile with linear interpolation (numpy's default, the same as
  pandas, DuckDB ``quantile_cont`` and Excel ``PERCENTILE.INC``).
* Its interval is the distribution-free **order-statistic interval**: the ranks come from the
  Binomial(n, q) distribution of the number of units below the true quantile, so the coverage is at
  least the confidence level for any distribution (as ``scipy.stats.quantile_test(...).confidence_interval``).
* The comparison is gbstats' quantile test (``QuantileStatistic``): the standard error of each group's
  quantile comes from the width of the interval between the sample quantiles at
  ``q ± 1.96 sqrt(q (1 - q) / n)`` (GrowthBook's ``getQuantileBoundValues`` with n* = n), then the same
  Welch t-test / sequential / Bayesian formulas as means (:mod:`metricspec.engine.experiments.effects`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from metricspec.engine.experiments.dist import binom_isf, binom_ppf, norm_ppf
from metricspec.engine.experiments.effects import ArmStats

#: gbstats fixes the bounds (and so the variance they give) at 95%, whatever the test's level.
_Z95 = norm_ppf(0.975)


@dataclass(frozen=True)
class QuantileArm:
    """One group's quantile, its interval and, when the test can use it, its gbstats summary."""

    n: int
    value: float
    ci: tuple[float, float] | None
    stats: ArmStats | None
    problem: str | None  # why ``stats`` is None: "too_few" or "ties"


def order_statistic_ci(sorted_values: np.ndarray, q: float, level: float) -> tuple[float, float] | None:
    """Two-sided interval ``[x_(l), x_(u)]`` of the ``q`` quantile; None when n is too small for ``level``."""
    n = int(sorted_values.size)
    if n == 0:
        return None
    tail = (1.0 - level) / 2.0
    low, high = binom_ppf(tail, n, q) - 1, binom_isf(tail, n, q)
    if low < 0 or high >= n:
        return None
    return float(sorted_values[low]), float(sorted_values[high])


def quantile_arm(values: np.ndarray, q: float, level: float) -> QuantileArm:
    """Summarise one group for a ``q`` quantile comparison at confidence ``level``."""
    x = np.sort(values)
    n = int(x.size)
    value = float(np.quantile(x, q))
    ci = order_statistic_ci(x, q, level)
    # gbstats' QuantileStatistic._has_zero_variance: too few units for the 95% bounds to exist
    if n <= _Z95 * _Z95 * max(q / (1.0 - q), (1.0 - q) / q) or n < 2:
        return QuantileArm(n, value, ci, None, "too_few")
    half = _Z95 * math.sqrt(q * (1.0 - q) / n)
    levels = [max(q - half, 1e-8), min(q + half, 1.0 - 1e-8)]
    lower, upper = (float(v) for v in np.quantile(x, levels))
    variance = (n - 1) * ((upper - lower) / (2.0 * _Z95)) ** 2  # variance_init with n* = n
    if not variance > 0.0:
        return QuantileArm(n, value, ci, None, "ties")
    return QuantileArm(n, value, ci, ArmStats(n, value, variance, value), None)
