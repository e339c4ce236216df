"""Doubly robust estimation: augmented inverse-probability weighting (AIPW).

The outcome regressions of :mod:`.regression`, corrected by the inverse-probability-weighted residuals
of :mod:`.ipw`: right when either the propensity model or the outcome model is right (Robins, Rotnitzky
and Zhao, 1994; Glynn and Quinn, 2010). ATE:
``mu1 = mean(m1 + t (y - m1) / e)``, ``mu0 = mean(m0 + (1 - t)(y - m0) / (1 - e))``; ATT:
``mu1`` the treated's mean outcome and
``mu0 = sum(t m0 + (1 - t) e/(1 - e) (y - m0)) / sum(t)``. Units outside ``[trim, 1 - trim]`` are left
out. The sandwich variance stacks the propensity and both outcome models' equations.
"""

from __future__ import annotations

import numpy as np

from metricspec.engine.experiments import propensity, regression
from metricspec.engine.experiments.inference import (
    Data,
    Fit,
    Options,
    sandwich,
    stabilised,
    two_means,
    used_counts,
)
from metricspec.engine.experiments.ipw import kept


def _equations(data: Data, keep: np.ndarray, e: np.ndarray, m1: np.ndarray, m0: np.ndarray, mu1: float, mu0: float,
               att: bool) -> list[np.ndarray]:
    t, y = data.t, data.y
    if att:
        return [keep * t * (y - mu1), keep * (t * m0 + (1.0 - t) * e / (1.0 - e) * (y - m0) - t * mu0)]
    return [keep * (m1 + t * (y - m1) / e - mu1), keep * (m0 + (1.0 - t) * (y - m0) / (1.0 - e) - mu0)]


def _solve(data: Data, keep: np.ndarray, e: np.ndarray, m1: np.ndarray, m0: np.ndarray, att: bool) -> tuple[float, float]:
    t, y = data.t, data.y
    if att:
        n1 = float((keep * t).sum())
        return (float((keep * t * y).sum()) / n1,
                float((keep * (t * m0 + (1.0 - t) * e / (1.0 - e) * (y - m0))).sum()) / n1)
    n = float(keep.sum())
    return (float((keep * (m1 + t * (y - m1) / e)).sum()) / n,
            float((keep * (m0 + (1.0 - t) * (y - m0) / (1.0 - e))).sum()) / n)


def fit(data: Data, ps: propensity.Propensity, opts: Options, variance: bool = True) -> Fit:
    keep = kept(ps.score, opts.trim)
    att = opts.estimand == "att"
    g1, g0 = regression.coefficients(data)
    mu1, mu0 = _solve(data, keep, ps.score, data.x @ g1, data.x @ g0, att)
    weights = keep * stabilised(ps.score, data.t, opts.estimand)
    n1, n0 = used_counts(weights, data.t)
    cov = None
    if variance:
        k, t = data.x.shape[1], data.t

        def psi(theta: np.ndarray) -> np.ndarray:
            beta, c1, c0 = theta[:k], theta[k:2 * k], theta[2 * k:3 * k]
            e = propensity.expit(data.x @ beta)
            p1, p0 = data.x @ c1, data.x @ c0
            return np.column_stack([
                propensity.score(data.x, t, beta), data.x * (t * (data.y - p1))[:, None],
                data.x * ((1.0 - t) * (data.y - p0))[:, None],
                *_equations(data, keep, e, p1, p0, theta[3 * k], theta[3 * k + 1], att)])

        theta = np.concatenate([ps.beta, g1, g0, [mu1, mu0]])
        _, _, cov = two_means(theta, sandwich(psi, theta))
    return Fit(mu1, mu0, cov, None, weights, n1, n0)
