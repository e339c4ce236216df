"""Levels and rates per period (a conversion rate per month, a share, a mean): the latest value moved
by its average change, spread as the value has moved before — a random walk with drift, read from the
history.

At every earlier period the value ``check`` periods later is compared with the value then (the naive
forecast); those changes' mean is the drift and their spread the uncertainty: the value ``ahead``
periods after the latest complete one is the latest value + mean change × (ahead / check), Student-t
with spread × √(ahead / check) and as many degrees of freedom as the history holds independent
``check``-period stretches, less one. ``check`` is ``ahead``, or less when the history is too short
to look that far back :data:`MIN_STRETCHES` times. One jump moves the drift little; a steady trend
carries on. (A drift over the last three periods, the first version, extrapolated every jump; the
backtest scored it worse.)

Used at every length: statsmodels' exponential smoothing
(:mod:`~metricspec.engine.forecast.exponential_smoothing`) under-covered on short and long histories
alike (docs/goals.md#calibration). With too few periods to check the rule even once,
:func:`~metricspec.engine.forecast.short_history.few_periods_forecast` applies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metricspec.engine.forecast.distribution import ScaledT

FIRST_ORIGIN = 2
"""The first change is measured from the second value on."""
MIN_STRETCHES = 3
MIN_ERRORS = 3


@dataclass(frozen=True)
class DriftForecast:
    point: float
    distribution: ScaledT
    periods: int  # periods of history used
    check: int  # the horizon its errors were measured at


def drift_rule(values: np.ndarray, ahead: int) -> float:
    """The naive forecast the changes are measured from: the latest value."""
    return float(values[-1])


def drift_forecast(values: np.ndarray, ahead: int) -> DriftForecast | None:
    """The value ``ahead`` (≥ 1) periods after the last of ``values``; None when the history is too
    short to measure the rule's errors."""
    n = len(values)
    check = min(ahead, max(1, (n - FIRST_ORIGIN) // MIN_STRETCHES))
    errors = past_errors(values, check)
    if len(errors) < MIN_ERRORS:
        return None
    point = drift_rule(values, ahead)
    factor = ahead / check
    bias = float(errors.mean()) * factor
    spread = float(errors.std(ddof=1)) * factor ** 0.5
    df = max(1.0, len(errors) / check - 1)
    return DriftForecast(point, ScaledT(point + bias, spread, df), n, check)


def past_errors(values: np.ndarray, check: int) -> np.ndarray:
    """The change over ``check`` periods (the value then minus the naive forecast), from every origin
    with :data:`FIRST_ORIGIN` values before it."""
    out = [float(values[t + check - 1]) - drift_rule(values[:t], check)
           for t in range(FIRST_ORIGIN, len(values) - check + 1)]
    return np.asarray(out, dtype=float)
