"""Weighted Kaplan–Meier curves and a weighted Cox model, with each unit's influence on them.

The building blocks of adjusted survival (:mod:`.survival_adjusted`): each group's curve and the hazard
ratio with the units weighted by their inverse-probability weights. Besides the estimates, every function
gives what a robust variance needs: the influence of each unit with the weights held fixed, summed in
closed form (so no n × times matrix is built):

* Kaplan–Meier ``S(t) = Π (1 - D_j / Y_j)`` over the event times ``t_j <= t``, with ``D_j`` the weight of
  the units ending at ``t_j`` and ``Y_j`` the weight of those still at risk. A unit's influence on
  ``log S(t)`` is ``-w_i (a_i 1{T_i <= t} - C(min(t, T_i)))`` with ``a_i = δ_i / (Y - D)`` at its own time
  and ``C(t) = Σ_{t_j <= t} D_j / (Y_j (Y_j - D_j))``. Unweighted, the sum of squares is the
  infinitesimal-jackknife variance, which Greenwood's formula approximates.
* Cox's partial likelihood with the group as its only covariate and Breslow's ties, weighted; a unit's
  influence on the log hazard ratio is its score residual over the information (Lin and Wei, 1989): the
  robust variance of ``coxph(weights=, robust=TRUE)``, or of statsmodels ``PHReg`` on units repeated
  as often as their (whole) weight with the unit as the cluster (tests/test_cg_survival_adjusted.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Curve:
    """A weighted Kaplan–Meier curve with what its influence functions need."""

    times: np.ndarray  # event times (some weight ends there)
    survival: np.ndarray
    at_risk: np.ndarray  # Y_j
    deaths: np.ndarray  # D_j
    horizon: float  # the longest follow-up of a unit with weight


def kaplan_meier(d: np.ndarray, e: np.ndarray, w: np.ndarray) -> Curve:
    """The product-limit estimate of durations ``d`` with events ``e`` (bool), unit ``i`` counted ``w_i`` times."""
    used = w > 0.0
    d, e, w = d[used], e[used], w[used]
    if d.size == 0:
        empty = np.empty(0)
        return Curve(empty, empty, empty, empty, 0.0)
    order = np.argsort(d, kind="stable")
    ds, ws = d[order], w[order]
    from_end = np.cumsum(ws[::-1])[::-1]  # weight with duration >= ds[i]
    times = np.unique(d[e])
    at_risk = from_end[np.searchsorted(ds, times, side="left")]
    deaths = np.bincount(np.searchsorted(times, d[e]), weights=w[e], minlength=times.size)
    survival = np.cumprod(1.0 - deaths / at_risk)
    return Curve(times, np.clip(survival, 0.0, 1.0), at_risk, deaths, float(ds[-1]))


@dataclass(frozen=True)
class Influence:
    """Sums over units of a statistic's influence ``φ_i`` (weights fixed): ``q = Σ φ_i²`` and ``r = Σ φ_i ψ_i``
    against another influence ``ψ`` (the propensity model's, n × p), one row per time of the grid."""

    q: np.ndarray
    r: np.ndarray


def _survivors(values: np.ndarray, d: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``Σ_{d_i > t} values_i`` for every ``t`` of ``grid`` (values: n or n × p)."""
    order = np.argsort(d, kind="stable")
    ds, vs = d[order], values[order]
    cum = np.concatenate([np.zeros((1, *vs.shape[1:])), np.cumsum(vs, axis=0)])
    out: np.ndarray = cum[-1] - cum[np.searchsorted(ds, grid, side="right")]
    return out


def _settled(values: np.ndarray, d: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``Σ_{d_i <= t} values_i`` for every ``t`` of ``grid``."""
    order = np.argsort(d, kind="stable")
    ds, vs = d[order], values[order]
    cum = np.concatenate([np.zeros((1, *vs.shape[1:])), np.cumsum(vs, axis=0)])
    out: np.ndarray = cum[np.searchsorted(ds, grid, side="right")]
    return out


def km_influence(c: Curve, d: np.ndarray, e: np.ndarray, w: np.ndarray, psi: np.ndarray) -> Influence:
    """The influence sums of ``S(t_j)`` at each of the curve's event times (``psi``: n × p, the other influence)."""
    if c.times.size == 0:
        return Influence(np.empty(0), np.empty((0, psi.shape[1])))
    left = c.at_risk - c.deaths
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(left > 0.0, c.deaths / (c.at_risk * left), 0.0)
        own = np.where(left > 0.0, 1.0 / left, 0.0)
    cum = np.cumsum(step)
    at = np.searchsorted(c.times, d, side="right") - 1  # the last event time <= d_i
    c_i = np.where(at >= 0, cum[np.clip(at, 0, None)], 0.0)
    a_i = np.where(e & (at >= 0) & (c.times[np.clip(at, 0, None)] == d), own[np.clip(at, 0, None)], 0.0)
    u = w * (a_i - c_i)  # -influence on log S of a unit whose time has come
    q_log = _settled(u * u, d, c.times) + cum ** 2 * _survivors(w * w, d, c.times)
    r_log = -_settled(u[:, None] * psi, d, c.times) + cum[:, None] * _survivors(w[:, None] * psi, d, c.times)
    return Influence(c.survival ** 2 * q_log, c.survival[:, None] * r_log)


@dataclass(frozen=True)
class Cox:
    """A weighted Cox fit of treatment (1) vs control (0): the log hazard ratio and its information."""

    beta: float
    information: float
    times: np.ndarray
    share: np.ndarray  # p_j: the treated's share of the weighted risk at t_j (with the hazard ratio)
    s0: np.ndarray  # Y0 + Y1 e^beta
    deaths: np.ndarray


def _risk_sets(d: np.ndarray, e: np.ndarray, z: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Event times and per time: weighted at risk control, treated, deaths, deaths treated (n_times × 4)."""
    used = w > 0.0
    times = np.unique(d[e & used])
    stats = np.zeros((times.size, 4))
    for col, arm in ((0, 0.0), (1, 1.0)):
        mask = used & (z == arm)
        stats[:, col] = _survivors(w[mask], d[mask], np.nextafter(times, -np.inf))  # d_i >= t
    dead = e & used
    idx = np.searchsorted(times, d[dead])
    stats[:, 2] = np.bincount(idx, weights=w[dead], minlength=times.size)
    stats[:, 3] = np.bincount(idx, weights=(w * z)[dead], minlength=times.size)
    return times, stats


def cox(d: np.ndarray, e: np.ndarray, z: np.ndarray, w: np.ndarray, start: float = 0.0) -> Cox | None:
    """Newton–Raphson on the weighted Breslow partial likelihood (None: no events, or no finite maximum)."""
    times, stats = _risk_sets(d, e, z, w)
    if times.size == 0:
        return None
    beta = start
    for _ in range(60):
        r = math.exp(beta)
        share = stats[:, 1] * r / (stats[:, 0] + stats[:, 1] * r)
        info = float((stats[:, 2] * share * (1.0 - share)).sum())
        if info <= 0.0:
            return None
        step = float((stats[:, 3] - stats[:, 2] * share).sum()) / info
        beta += step
        if abs(step) < 1e-12 or abs(beta) > 30.0:
            break
    if not math.isfinite(beta) or abs(beta) > 30.0:
        return None
    r = math.exp(beta)
    s0 = stats[:, 0] + stats[:, 1] * r
    share = stats[:, 1] * r / s0
    return Cox(beta, float((stats[:, 2] * share * (1.0 - share)).sum()), times, share, s0, stats[:, 2])


def cox_influence(fit: Cox, d: np.ndarray, e: np.ndarray, z: np.ndarray, w: np.ndarray, psi: np.ndarray) -> Influence:
    """The influence sums of the log hazard ratio: score residual over information, per unit (Lin and Wei)."""
    at = np.searchsorted(fit.times, d, side="right") - 1
    safe = np.clip(at, 0, None)
    hit = e & (at >= 0) & (fit.times[safe] == d)
    treated_part = np.cumsum(fit.deaths * (1.0 - fit.share) / fit.s0) * math.exp(fit.beta)
    control_part = np.cumsum(fit.deaths * (-fit.share) / fit.s0)
    risk = np.where(at >= 0, np.where(z == 1.0, treated_part[safe], control_part[safe]), 0.0)
    residual = w * (np.where(hit, z - fit.share[safe], 0.0) - risk)
    phi = residual / fit.information
    return Influence(np.array([float(phi @ phi)]), (phi @ psi)[None, :])
