"""Inverse-probability weighting: each unit weighted by the inverse of its chance of the group it is in.

Ratio (Hájek) estimates, the weighted mean outcome per group, with stabilised weights
(:func:`.inference.stabilised`). ATE weights ``1/e`` and ``1/(1-e)`` stand both groups for everyone;
ATT weights ``1`` and ``e/(1-e)`` stand the controls for the treated. Units whose propensity is below
``trim`` or above ``1 - trim`` are left out (they would take extreme weights; the estimate is then
for the units with common support, said in the output). The same estimate as a weighted least squares
of the outcome on treatment (statsmodels WLS; tests/test_adjusted.py checks); its sandwich variance
stacks the propensity model's equations, so the propensity's own uncertainty is counted.
"""

from __future__ import annotations

import numpy as np

from metricspec.engine.experiments import propensity
from metricspec.engine.experiments.inference import (
    Data,
    Fit,
    Options,
    propensity_weights,
    sandwich,
    stabilised,
    two_means,
    used_counts,
)


def kept(e: np.ndarray, trim: float) -> np.ndarray:
    """1.0 for units whose propensity is within [trim, 1 - trim], else 0.0."""
    return ((e >= trim) & (e <= 1.0 - trim)).astype(np.float64)


def _means(data: Data, e: np.ndarray, keep: np.ndarray, estimand: str) -> tuple[float, float]:
    w1, w0 = propensity_weights(e, data.t, "ate" if estimand == "ate" else "att")
    a, b = keep * data.t * w1, keep * (1.0 - data.t) * w0
    return float((a * data.y).sum() / a.sum()), float((b * data.y).sum() / b.sum())


def fit(data: Data, ps: propensity.Propensity, opts: Options, variance: bool = True) -> Fit:
    keep = kept(ps.score, opts.trim)
    mu1, mu0 = _means(data, ps.score, keep, opts.estimand)
    weights = keep * stabilised(ps.score, data.t, opts.estimand)
    n1, n0 = used_counts(weights, data.t)
    cov = None
    if variance:
        k = data.x.shape[1]

        def psi(theta: np.ndarray) -> np.ndarray:
            beta = theta[:k]
            e = propensity.expit(data.x @ beta)
            w1, w0 = propensity_weights(e, data.t, opts.estimand)
            return np.column_stack([propensity.score(data.x, data.t, beta),
                                    keep * data.t * w1 * (data.y - theta[k]),
                                    keep * (1.0 - data.t) * w0 * (data.y - theta[k + 1])])

        _, _, cov = two_means(np.concatenate([ps.beta, [mu1, mu0]]),
                              sandwich(psi, np.concatenate([ps.beta, [mu1, mu0]])))
    return Fit(mu1, mu0, cov, None, weights, n1, n0)
