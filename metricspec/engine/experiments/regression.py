"""Regression adjustment: a linear model of the outcome on the covariates in each group, averaged.

Each group's outcome is regressed on the covariates (ordinary least squares, separately, so the
effect may differ with the covariates); ``mu1`` and ``mu0`` are the two models' average predictions
over the estimand's population (ATE: every unit; ATT: the treated, where ``mu1`` is the treated's mean
outcome). With an interaction of treatment and centred covariates this is the coefficient of treatment
in one regression (Imbens and Wooldridge, 2009; tests/test_adjusted.py checks with statsmodels OLS).
The sandwich variance stacks both regressions' normal equations.
"""

from __future__ import annotations

import numpy as np

from metricspec.engine.experiments.inference import Data, Fit, Options, ols, sandwich, two_means


def coefficients(data: Data) -> tuple[np.ndarray, np.ndarray]:
    treated, control = data.t == 1.0, data.t == 0.0
    return ols(data.x[treated], data.y[treated]), ols(data.x[control], data.y[control])


def fit(data: Data, opts: Options, variance: bool = True) -> Fit:
    g1, g0 = coefficients(data)
    att = opts.estimand == "att"
    if att:
        mu1 = float(data.y[data.t == 1.0].mean())
        mu0 = float((data.x[data.t == 1.0] @ g0).mean())
    else:
        mu1, mu0 = float((data.x @ g1).mean()), float((data.x @ g0).mean())
    weights = np.ones_like(data.t)  # no unit is reweighted: balance is shown on the propensity weights
    cov = None
    if variance:
        k = data.x.shape[1]
        t = data.t

        def psi(theta: np.ndarray) -> np.ndarray:
            c1, c0 = theta[:k], theta[k:2 * k]
            p1, p0 = data.x @ c1, data.x @ c0
            means = ([t * (data.y - theta[2 * k]), t * (p0 - theta[2 * k + 1])] if att
                     else [p1 - theta[2 * k], p0 - theta[2 * k + 1]])
            return np.column_stack([data.x * (t * (data.y - p1))[:, None],
                                    data.x * ((1.0 - t) * (data.y - p0))[:, None], *means])

        theta = np.concatenate([g1, g0, [mu1, mu0]])
        _, _, cov = two_means(theta, sandwich(psi, theta))
    return Fit(mu1, mu0, cov, None, weights, int((data.t == 1.0).sum()), int((data.t == 0.0).sum()))
