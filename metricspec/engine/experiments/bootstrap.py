"""A seeded bootstrap of an adjusted estimate: resample units within each group, refit everything
(propensity, outcome models, matches), and read the interval from the resampled estimates.

Percentile intervals of the difference and of the lift; the standard error (and the p-value from it)
is the resampled estimates' standard deviation. The same seed gives the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from metricspec.engine.experiments.inference import Fit


@dataclass(frozen=True)
class Bootstrap:
    se: float | None
    difference_ci: tuple[float, float] | None
    lift_ci: tuple[float, float] | None
    failed: int  # resamples whose estimate could not be computed


def resample(estimate: Callable[[np.ndarray, np.ndarray, np.ndarray], Fit], x: np.ndarray, t: np.ndarray,
             y: np.ndarray, replicates: int, seed: int, level: float) -> Bootstrap:
    rng = np.random.default_rng(seed)
    treated, control = np.flatnonzero(t == 1.0), np.flatnonzero(t == 0.0)
    diffs, lifts = [], []
    failed = 0
    for _ in range(replicates):
        rows = np.concatenate([rng.choice(treated, treated.size), rng.choice(control, control.size)])
        with np.errstate(all="ignore"):
            fit = estimate(x[rows], t[rows], y[rows])
        if not math.isfinite(fit.effect):
            failed += 1
            continue
        diffs.append(fit.effect)
        if fit.mu0 != 0.0 and math.isfinite(fit.mu1 / fit.mu0):
            lifts.append(fit.mu1 / fit.mu0 - 1.0)
    tail = (1.0 - level) / 2.0 * 100.0
    if len(diffs) < 2:
        return Bootstrap(None, None, None, failed)
    d = np.array(diffs)
    lift_ci = None
    if len(lifts) == len(diffs):
        lo, hi = np.percentile(np.array(lifts), [tail, 100.0 - tail])
        lift_ci = (float(lo), float(hi))
    lo, hi = np.percentile(d, [tail, 100.0 - tail])
    return Bootstrap(float(np.std(d, ddof=1)), (float(lo), float(hi)), lift_ci, failed)
