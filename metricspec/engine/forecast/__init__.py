"""A goal's value at its deadline as a probability distribution, by a model chosen by the measure.

| the goal measures | model (module) |
|---|---|
| a running total (``total`` of a count or sum) | run rate, judged by its past errors (:mod:`.running_total`); a count with a short history: Poisson–gamma; another sum: independent days (:mod:`.short_history`) |
| a level that moves day by day (``latest`` of a snapshot: followers) | the same, on the daily changes |
| a level or rate per period (``latest`` of a ratio, share, mean, …) | latest value with its drift, judged by its past errors (:mod:`.period_values`), at any length (statsmodels' exponential smoothing, :mod:`.exponential_smoothing`, only with ``use_ets``: its intervals under-cover); a few periods: a wide interval (:mod:`.short_history`) |
| a rate over the whole window (``total`` of a ratio) | what is in, plus the periods left (:mod:`.window_rate`) |

Everything here is plain numbers in, a :class:`Forecast` out: the engine (:mod:`metricspec.engine.goals`)
gathers the histories, ``benchmarks/bench_forecast.py`` backtests the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from metricspec.engine.forecast import exponential_smoothing as ets
from metricspec.engine.forecast.distribution import (
    Distribution,
    ScaledT,
    chance_of,
    target_with_chance,
)
from metricspec.engine.forecast.period_values import drift_forecast
from metricspec.engine.forecast.running_total import run_rate_forecast
from metricspec.engine.forecast.short_history import few_periods_forecast
from metricspec.engine.forecast.window_rate import middle, window_forecast

__all__ = ["Distribution", "Forecast", "GoalHistory", "ScaledT", "chance_of", "forecast", "target_with_chance"]

Measure = Literal["running_total", "level", "period", "window"]
MODELS = ("run_rate", "counts_short_history", "days_short_history", "level_run_rate", "level_days_short_history",
          "drift", "drift_no_statsmodels", "ets", "few_periods", "window_drift", "window_drift_no_statsmodels",
          "window_ets", "window_few_periods")
"""Every ``Forecast.model`` (the goal's ``forecast_model``; its method sentence is ``forecast_model_<model>``),
but ``final_period``: the deadline's period is already complete."""


@dataclass(frozen=True)
class GoalHistory:
    """What a goal's forecast reads.

    ``running_total`` and ``level``: ``daily`` values (a running total's daily amounts, a level's
    daily changes), oldest first; the value at the deadline is ``offset`` + the sum of the next
    ``days_left`` days. ``period`` and ``window``: ``values`` of the complete periods, oldest first;
    the value ``ahead`` periods after the last one (``window``: the mean of the ``ahead`` periods
    left, mixed with ``current`` by ``share``, the part of the window seen).
    """

    measure: Measure
    current: float
    daily: np.ndarray | None = None
    days_left: int = 0
    offset: float = 0.0
    counts: bool = False
    floor: float | None = None
    ceiling: float | None = None  # ``period`` and ``window``: a share cannot pass 1
    values: np.ndarray | None = None
    ahead: int = 0
    share: float = 0.0
    use_ets: bool = False  # statsmodels' ETS for long histories: off, its 80 % intervals covered 71 % (docs/goals.md)


@dataclass(frozen=True)
class Forecast:
    """A model's answer: the point forecast, the distribution, and what the method sentence says."""

    model: str
    point: float  # the median of the distribution
    distribution: Distribution
    params: dict[str, str | int | float] = field(default_factory=dict)
    short_history: bool = False


def forecast(h: GoalHistory) -> Forecast | None:
    """The value at the deadline; None when the history cannot support any forecast. The point
    forecast is the distribution's median, so it always lies inside its intervals."""
    fc = _forecast(h)
    if fc is None:
        return None
    return Forecast(fc.model, fc.distribution.quantile(0.5), fc.distribution, fc.params, fc.short_history)


def _forecast(h: GoalHistory) -> Forecast | None:
    if h.measure in ("running_total", "level"):
        return _daily(h)
    if h.values is None or h.ahead < 0:
        return None
    if h.ahead == 0:  # the deadline's period is the latest complete one
        return Forecast("final_period", h.current, ScaledT(h.current, 0.0))
    if h.measure == "period":
        return _periods(h.values, h.ahead, h.floor, h.ceiling, h.use_ets)
    inner = _periods(h.values, middle(h.ahead), h.floor, h.ceiling, h.use_ets)
    if inner is None or not isinstance(inner.distribution, ScaledT):
        return None
    mixed = window_forecast(h.current, h.share, inner.distribution, inner.point, h.ahead)
    return Forecast(f"window_{inner.model}", mixed.point, mixed.distribution,
                    {**inner.params, "seen": h.share}, inner.short_history)


def _daily(h: GoalHistory) -> Forecast | None:
    if h.daily is None:
        return None
    rf = run_rate_forecast(h.daily, h.days_left, h.offset, counts=h.counts, floor=h.floor)
    if rf is None:
        return None
    prefix = "level_" if h.measure == "level" else ""
    return Forecast(prefix + rf.model, rf.point, rf.distribution,
                    {"days": rf.days, "rate": rf.rate, "left": h.days_left}, rf.model != "run_rate")


def _periods(values: np.ndarray, ahead: int, floor: float | None, ceiling: float | None, use_ets: bool,
             ) -> Forecast | None:
    n = len(values)
    long_history = use_ets and n >= ets.MIN_PERIODS
    if long_history and ets.available():
        fit = ets.ets_forecast(values, ahead)
        if fit is not None:
            return Forecast("ets", fit.point, _bounded(fit.distribution, floor, ceiling), {"n": n, "model": fit.model})
    drift = drift_forecast(values, ahead)
    if drift is not None:
        model = "drift_no_statsmodels" if long_history and not ets.available() else "drift"
        return Forecast(model, drift.point, _bounded(drift.distribution, floor, ceiling), {"n": n})
    few = few_periods_forecast(values, ahead)
    if few is None:
        return None
    return Forecast("few_periods", few.loc, _bounded(few, floor, ceiling), {"n": n}, short_history=True)


def _bounded(dist: ScaledT, floor: float | None, ceiling: float | None) -> ScaledT:
    return ScaledT(dist.loc, dist.scale, dist.df, floor, ceiling)
