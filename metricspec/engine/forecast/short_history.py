"""Forecasts for short histories: wide on purpose, and said to be so.

* :func:`counts_forecast` — a count KPI seen for a few days: the days' counts are Poisson with one
  unknown rate; with Jeffreys' prior the rate's posterior is gamma and the count of the days left is
  negative binomial (the Poisson–gamma predictive distribution). It knows how little a few days say
  about the rate, but not whether counts come in bursts (overdispersion): with a few days there is
  nothing to measure that on.
* :func:`independent_days_forecast` — other sums: the prediction interval of the sum of the days
  left as independent draws from the days seen (their mean's uncertainty included; Student's t with
  one degree of freedom fewer than the days seen).
* :func:`few_periods_forecast` — a level or a rate with a few periods: the latest value, give or take
  the spread of all values seen × √(1 + periods ahead), Student's t with one degree of freedom fewer
  than the periods seen (two periods give Cauchy tails: an interval as wide as the data allow).
"""

from __future__ import annotations

import math

import numpy as np

from metricspec.engine.forecast.distribution import ScaledT, ShiftedNegativeBinomial

JEFFREYS = 0.5
"""The gamma prior's shape for a Poisson rate (Jeffreys' prior)."""


def counts_forecast(days: np.ndarray, left: int, offset: float) -> ShiftedNegativeBinomial:
    """``offset`` + the count of the next ``left`` days, from the counts of ``days``."""
    seen = len(days)
    return ShiftedNegativeBinomial(offset, float(days.sum()) + JEFFREYS, seen / (seen + left))


def independent_days_forecast(days: np.ndarray, left: int, offset: float, floor: float | None,
                              ) -> ScaledT | None:
    """``offset`` + the sum of the next ``left`` days, the days being independent draws like ``days``."""
    n = len(days)
    if n < 2:
        return None
    mean, sd = float(days.mean()), float(days.std(ddof=1))
    return ScaledT(offset + left * mean, sd * math.sqrt(left + left * left / n), n - 1, floor)


def few_periods_forecast(values: np.ndarray, ahead: int) -> ScaledT | None:
    """The value ``ahead`` periods after the last of ``values`` (None with fewer than 2 values)."""
    n = len(values)
    if n < 2:
        return None
    sd = float(values.std(ddof=1))
    return ScaledT(float(values[-1]), sd * math.sqrt(1 + ahead), n - 1)
