"""The propensity score: the probability of treatment given the covariates, by logistic regression.

Maximum likelihood by Newton–Raphson (iteratively reweighted least squares) on standardised
covariates with an intercept: the same coefficients as ``statsmodels.api.Logit`` /
``GLM(family=Binomial())`` (tests/test_adjusted.py checks). ``score`` gives the per-unit estimating
equations ``x (t - e)`` so that the sandwich variance of an estimator can account for the propensity
being estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_ITERATIONS = 100
TOLERANCE = 1e-10
EXTREME = 1e-6
"""A propensity this close to 0 or 1 means the covariates (almost) separate the groups."""


@dataclass(frozen=True)
class Propensity:
    """A fitted propensity model on the standardised design ``x`` (intercept first)."""

    x: np.ndarray
    beta: np.ndarray
    score: np.ndarray  # e(x) per unit
    converged: bool

    @property
    def logit(self) -> np.ndarray:
        out: np.ndarray = self.x @ self.beta
        return out

    @property
    def separated(self) -> bool:
        return bool(np.any(self.score < EXTREME) or np.any(self.score > 1.0 - EXTREME))


def standardise(covariates: np.ndarray) -> np.ndarray:
    """``[1, (X - mean) / sd]``: the intercept and covariates on one scale (constant columns are left out
    by the design)."""
    sd = covariates.std(axis=0)
    sd[sd == 0.0] = 1.0
    return np.column_stack([np.ones(covariates.shape[0]), (covariates - covariates.mean(axis=0)) / sd])


def expit(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for large |z|
    return out


def fit(x: np.ndarray, t: np.ndarray) -> Propensity:
    """Logistic regression of ``t`` (0/1) on ``x`` (already with its intercept column)."""
    beta = np.zeros(x.shape[1])
    mean_t = float(t.mean())
    if 0.0 < mean_t < 1.0:
        beta[0] = np.log(mean_t / (1.0 - mean_t))
    converged = False
    for _ in range(MAX_ITERATIONS):
        p = expit(x @ beta)
        w = np.clip(p * (1.0 - p), 1e-12, None)
        hessian = (x * w[:, None]).T @ x
        step = np.linalg.lstsq(hessian, x.T @ (t - p), rcond=None)[0]
        beta = beta + step
        if float(np.max(np.abs(step))) < TOLERANCE * (1.0 + float(np.max(np.abs(beta)))):
            converged = True
            break
        if float(np.max(np.abs(beta))) > 50.0:  # separation: the likelihood has no finite maximum
            break
    return Propensity(x, beta, expit(x @ beta), converged)


def score(x: np.ndarray, t: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """The logistic regression's estimating equations per unit, ``x_i (t_i - e_i)`` (n × k)."""
    out: np.ndarray = x * (t - expit(x @ beta))[:, None]
    return out
