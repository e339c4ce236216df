"""A rate or mean over the whole goal window (``measure: total`` of a ratio: the conversion rate of
2026): what is in is in, the rest of the window is forecast.

The value at the deadline mixes today's value over the days so far with the value of the periods
left: ``share × current + (1 − share) × future``, ``share`` the part of the window's days already
seen. ``future``, the mean of the periods left, is taken as the period model's forecast at the
middle of them (:mod:`~metricspec.engine.forecast.period_values`), so its spread shrinks as the
window fills. Weighting by days stands in for the
denominators (leads, impressions) that the coming periods will bring: it is right when they come at
an even pace.
"""

from __future__ import annotations

from dataclasses import dataclass

from metricspec.engine.forecast.distribution import ScaledT


@dataclass(frozen=True)
class WindowForecast:
    point: float
    distribution: ScaledT


def middle(periods_left: int) -> int:
    """The horizon standing for the mean of the next ``periods_left`` periods."""
    return max(1, round((periods_left + 1) / 2))


def mean_spread(periods_left: int) -> float:
    """How much less the mean of the next ``m`` periods spreads than the value at :func:`middle`: for a
    value that wanders like a random walk, Var(mean of X₁…Xₘ) = σ²(m + 1)(2m + 1) / 6m against
    Var(X_middle) = σ² × middle."""
    m = max(periods_left, 1)
    return float(((m + 1) * (2 * m + 1) / (6 * m) / middle(m)) ** 0.5)


def window_forecast(current: float, share: float, future: ScaledT, future_point: float, periods_left: int,
                    ) -> WindowForecast:
    """Mix ``current`` (weight ``share``) with the forecast of the periods left (weight ``1 − share``)."""
    rest = 1.0 - share
    point = share * current + rest * future_point
    def mixed(bound: float | None) -> float | None:
        return None if bound is None else share * current + rest * bound

    dist = ScaledT(share * current + rest * future.loc, rest * future.scale * mean_spread(periods_left), future.df,
                   mixed(future.floor), mixed(future.ceiling))
    return WindowForecast(point, dist)
