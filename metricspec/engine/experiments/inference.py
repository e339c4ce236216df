"""What every adjusted estimator shares: its data, its result and the robust (sandwich) variance.

Each estimator (:mod:`.ipw`, :mod:`.matching`, :mod:`.regression`, :mod:`.aipw`) gives the mean outcome
of the estimand's population treated (``mu1``) and untreated (``mu0``); the effect is ``mu1 - mu0`` and
the lift ``mu1 / mu0 - 1``. The sandwich variance stacks the estimator's equations with those of the
models it fits (the propensity, the outcome regressions), so the uncertainty of those models is in the
interval (M-estimation; Stefanski and Boos, 2002): ``V = A⁻¹ B A⁻ᵀ / n`` with ``A`` the derivative of the
mean estimating function (by central differences) and ``B`` the mean outer product of the per-unit
estimating functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from metricspec.engine.experiments.propensity import Propensity

Estimand = Literal["att", "ate"]


@dataclass(frozen=True)
class Data:
    """One metric's units: the standardised covariates with an intercept, treatment (0/1) and outcome."""

    x: np.ndarray
    t: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Options:
    estimand: Estimand
    trim: float = 0.0
    caliper: float | None = None
    replacement: bool = True


@dataclass(frozen=True)
class Fit:
    """An estimator's figures. ``cov`` is the covariance of ``(mu1, mu0)`` (None: only ``var_effect`` is known,
    or nothing); ``weights`` are what each unit counts for in the comparison (0: left out), for balance."""

    mu1: float
    mu0: float
    cov: np.ndarray | None
    var_effect: float | None
    weights: np.ndarray
    n_treated: int  # units of each group in the estimate (after trimming or matching)
    n_control: int

    @property
    def effect(self) -> float:
        return self.mu1 - self.mu0


def jacobian(f: Callable[[np.ndarray], np.ndarray], theta: np.ndarray) -> np.ndarray:
    """``∂f/∂θ`` by central differences (``f`` maps p parameters to p equations)."""
    out = np.empty((theta.size, theta.size))
    for j in range(theta.size):
        h = 1e-5 * max(1.0, abs(float(theta[j])))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        out[:, j] = (f(up) - f(down)) / (2.0 * h)
    return out


def sandwich(psi: Callable[[np.ndarray], np.ndarray], theta: np.ndarray) -> np.ndarray | None:
    """The covariance of ``theta``, the root of ``mean(psi(theta)) = 0`` (psi: n × p per-unit equations)."""
    values = psi(theta)
    n = values.shape[0]
    a = jacobian(lambda th: psi(th).mean(axis=0), theta)
    b = values.T @ values / n
    try:
        a_inv = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return None
    cov: np.ndarray = a_inv @ b @ a_inv.T / n
    return cov if np.all(np.isfinite(cov)) else None


def ols(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares coefficients (minimum norm when ``x`` is rank-deficient within a group)."""
    coef: np.ndarray = np.linalg.lstsq(x, y, rcond=None)[0]
    return coef


def two_means(theta: np.ndarray, cov: np.ndarray | None) -> tuple[float, float, np.ndarray | None]:
    """``(mu1, mu0)`` at the end of ``theta`` and their covariance block."""
    return float(theta[-2]), float(theta[-1]), None if cov is None else cov[-2:, -2:]


def propensity_weights(e: np.ndarray, t: np.ndarray, estimand: Estimand) -> tuple[np.ndarray, np.ndarray]:
    """Inverse-probability weights ``(w1, w0)`` of the treated and untreated, before stabilisation."""
    if estimand == "ate":
        return 1.0 / e, 1.0 / (1.0 - e)
    return np.ones_like(e), e / (1.0 - e)


def stabilised(e: np.ndarray, t: np.ndarray, estimand: Estimand) -> np.ndarray:
    """Stabilised weights (Robins et al., 2000): each inverse-probability weight times the share of the
    group it stands for, so weights average about 1 and large ones are easy to spot. ATE:
    ``P(T=1)/e`` and ``P(T=0)/(1-e)``; ATT: 1 and ``e/(1-e) · P(T=0)/P(T=1)``. Ratio (Hájek) estimates are the
    same with or without the stabilising factor."""
    share = float(t.mean())
    w1, w0 = propensity_weights(e, t, estimand)
    if estimand == "ate":
        out: np.ndarray = np.where(t == 1.0, share * w1, (1.0 - share) * w0)
    else:
        out = np.where(t == 1.0, w1, w0 * (1.0 - share) / share)
    return out


def used_counts(weights: np.ndarray, t: np.ndarray) -> tuple[int, int]:
    return int(((weights > 0.0) & (t == 1.0)).sum()), int(((weights > 0.0) & (t == 0.0)).sum())


__all__ = ["Data", "Estimand", "Fit", "Options", "Propensity", "jacobian", "ols", "propensity_weights", "sandwich",
           "stabilised", "two_means", "used_counts"]
