"""Nearest-neighbour matching on the propensity score (one match per unit).

Distances are on the logit of the propensity. ATT matches every treated unit to the nearest control;
ATE also matches every control to the nearest treated unit. A ``caliper`` (in standard deviations of
the logit, 0.2 by default as Austin 2011 recommends) leaves out units with no match that close. With
replacement a control may be the match of several treated units; without, treated units are matched
greedily from the largest propensity down (MatchIt's ``m.order = "largest"``) and each control is used
once. Ties go to the unit that comes first in the data.

The variance is Abadie and Imbens' (2006) for matching estimators with one match: the spread of the
matched differences plus, for units used ``K`` times as a match, ``K(K-1)`` (ATT) or ``K(K+1)`` (ATE) times
their conditional variance, estimated from their nearest neighbour within their own group. It treats
the propensity as known (Abadie and Imbens, 2016, adjust for its estimation; tests/test_adjusted.py
checks the coverage). The bootstrap is not valid with replacement (Abadie and Imbens, 2008): the spec
refuses that combination.
"""

from __future__ import annotations

import numpy as np

from metricspec.engine.experiments import propensity
from metricspec.engine.experiments.inference import Data, Fit, Options


def _nearest(sources: np.ndarray, targets: np.ndarray, limit: float | None) -> np.ndarray:
    """For each source score, the index of the nearest target (-1 when none within ``limit``); with replacement."""
    order = np.argsort(targets, kind="stable")
    ranked = targets[order]
    pos = np.searchsorted(ranked, sources)
    left, right = np.clip(pos - 1, 0, ranked.size - 1), np.clip(pos, 0, ranked.size - 1)
    d_left, d_right = np.abs(sources - ranked[left]), np.abs(sources - ranked[right])
    # equal distances: the target that comes first in the data
    pick_right = (d_right < d_left) | ((d_right == d_left) & (order[right] < order[left]))
    chosen = np.where(pick_right, order[right], order[left])
    dist = np.minimum(d_left, d_right)
    if limit is not None:
        chosen = np.where(dist <= limit, chosen, -1)
    return chosen


def _greedy(sources: np.ndarray, targets: np.ndarray, limit: float | None) -> np.ndarray:
    """Without replacement: sources from the largest score down take the nearest target still free."""
    free = np.ones(targets.size, dtype=bool)
    chosen = np.full(sources.size, -1)
    for i in np.argsort(-sources, kind="stable"):
        if not free.any():
            break
        candidates = np.flatnonzero(free)
        dist = np.abs(targets[candidates] - sources[i])
        best = int(np.argmin(dist))  # argmin keeps the first of equal distances (data order)
        if limit is None or dist[best] <= limit:
            chosen[i] = candidates[best]
            free[candidates[best]] = False
    return chosen


def _conditional_variance(score: np.ndarray, y: np.ndarray) -> np.ndarray:
    """σ²(x_i) = ½ (y_i - y_l)² with l the nearest other unit of the same group (Abadie–Imbens, J = 1)."""
    if y.size < 2:
        return np.zeros_like(y)
    order = np.argsort(score, kind="stable")
    s, v = score[order], y[order]
    gaps = np.diff(s)
    left = np.concatenate([[np.inf], gaps])
    right = np.concatenate([gaps, [np.inf]])
    neighbour = np.where(right < left, np.arange(s.size) + 1, np.arange(s.size) - 1)
    out = np.empty_like(y)
    out[order] = 0.5 * (v - v[neighbour]) ** 2
    return out


def _match(score: np.ndarray, t: np.ndarray, opts: Options, sources_treated: bool) -> tuple[np.ndarray, np.ndarray]:
    """Matches of the treated (``sources_treated``) or of the controls: source and target indices."""
    src = np.flatnonzero(t == (1.0 if sources_treated else 0.0))
    tgt = np.flatnonzero(t == (0.0 if sources_treated else 1.0))
    limit = None if opts.caliper is None else opts.caliper * float(score.std())
    picks = (_nearest if opts.replacement else _greedy)(score[src], score[tgt], limit)
    found = picks >= 0
    return src[found], tgt[picks[found]]


def fit(data: Data, ps: propensity.Propensity, opts: Options, variance: bool = True) -> Fit:
    score, t, y = ps.logit, data.t, data.y
    pairs = [_match(score, t, opts, True)]
    if opts.estimand == "ate":
        pairs.append(_match(score, t, opts, False))
    sources = np.concatenate([p[0] for p in pairs])
    targets = np.concatenate([p[1] for p in pairs])
    if sources.size == 0:
        return Fit(float("nan"), float("nan"), None, None, np.zeros_like(t), 0, 0)
    y1 = np.where(t[sources] == 1.0, y[sources], y[targets])
    y0 = np.where(t[sources] == 1.0, y[targets], y[sources])
    mu1, mu0 = float(y1.mean()), float(y0.mean())
    uses = np.bincount(targets, minlength=t.size).astype(np.float64)
    weights = np.zeros_like(t)
    weights[sources] = 1.0
    weights += uses
    var = None
    if variance:
        sigma2 = np.empty_like(y)
        for group in (t == 1.0, t == 0.0):
            sigma2[group] = _conditional_variance(score[group], y[group])
        factor = uses * (uses + 1.0) if opts.estimand == "ate" else uses * (uses - 1.0)
        n = sources.size
        var = float((((y1 - y0) - (mu1 - mu0)) ** 2).sum() + (factor * sigma2).sum()) / n / n
    n1 = int(((weights > 0.0) & (t == 1.0)).sum())
    n0 = int(((weights > 0.0) & (t == 0.0)).sum())
    return Fit(mu1, mu0, None, var, weights, n1, n0)
