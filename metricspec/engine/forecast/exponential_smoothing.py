"""Long histories of levels and rates: statsmodels' exponential smoothing (ETS) and its own intervals.

Two state-space ETS models with additive errors are fitted by maximum likelihood — simple
exponential smoothing, ETS(A,N,N), and the damped additive trend, ETS(A,Ad,N) — and the one with the
lower AICc forecasts. Its prediction at the horizon is normal with statsmodels' exact forecast
variance (``get_prediction(...).var_pred_mean``, the variance behind ``pred_int``).

Not used by goals unless asked (``GoalHistory(use_ets=True)``, for the backtest's comparison): its
intervals leave out the uncertainty of the fitted parameters and under-cover — 64 % of outcomes in
the 80 % interval on 10 to 24 periods (``benchmarks/bench_forecast.py --ets``), 71 % on 36 to 120
periods of a local level, the very model it fits (docs/goals.md#calibration) — where the drift model
of :mod:`~metricspec.engine.forecast.period_values` covers 75–83 %. When asked, only from
:data:`MIN_PERIODS` periods on.

statsmodels is an optional dependency (``pip install 'metricspec-cli[forecast]'``): without it
:func:`available` is False and those histories get the drift model (``drift_no_statsmodels``).
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from dataclasses import dataclass

import numpy as np

from metricspec.engine.forecast.distribution import ScaledT

MIN_PERIODS = 36


@dataclass(frozen=True)
class EtsForecast:
    model: str  # "A,N,N" or "A,Ad,N"
    point: float
    distribution: ScaledT
    periods: int


def available() -> bool:
    return importlib.util.find_spec("statsmodels") is not None


def ets_forecast(values: np.ndarray, ahead: int) -> EtsForecast | None:
    """The value ``ahead`` (≥ 1) periods after the last of ``values``; None when neither model fits."""
    # optional heavy dependency (pandas, statsmodels: about a second to import), imported only here
    import pandas as pd  # optional heavy dependency
    from statsmodels.tools.sm_exceptions import ConvergenceWarning  # optional heavy dependency
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel  # optional heavy dependency

    y = pd.Series(np.asarray(values, dtype=float))
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, trend in (("A,N,N", None), ("A,Ad,N", "add")):
            try:
                fit = ETSModel(y, error="add", trend=trend, damped_trend=trend is not None).fit(disp=False)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if math.isfinite(fit.aicc):
                fits.append((float(fit.aicc), name, fit))
    if not fits:
        return None
    _, name, best = min(fits, key=lambda f: f[0])
    n = len(y)
    prediction = best.get_prediction(start=n, end=n + ahead - 1)
    mean = float(prediction.predicted_mean.iloc[-1])
    variance = float(np.asarray(prediction.var_pred_mean)[-1])
    if not (math.isfinite(mean) and math.isfinite(variance)):
        return None
    return EtsForecast(name, mean, ScaledT(mean, math.sqrt(max(variance, 0.0))), n)
