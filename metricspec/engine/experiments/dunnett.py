"""Dunnett's many-to-one adjustment: several treatment arms compared with one shared control.

The arms' test statistics are correlated through the shared control: with group sizes ``n_i`` and
``n_0``, ``corr(Z_i, Z_j) = s_i s_j`` with ``s_i = sqrt(n_i / (n_i + n_0))`` (equal variances). The
adjusted p-value of arm i is ``P(max_j |Z_j| >= |z_i|)`` under that joint distribution: normal for
``df=None`` (large samples, what the engine uses), or a multivariate t with ``df`` degrees of freedom as
``scipy.stats.dunnett`` computes (tests/test_cg_arms.py checks both against it). Each arm's ``|z|`` is read
back from its two-sided p-value, so the adjustment applies to any of the group's tests.

The normal case uses the one-factor form of that correlation (Dunnett, 1955): ``Z_i = s_i W +
sqrt(1 - s_i²) E_i`` with independent standard normals, so
``P(all |Z_i| < c) = ∫ φ(w) Π_i [Φ((c - s_i w) / r_i) - Φ((-c - s_i w) / r_i)] dw`` — a one-dimensional
integral, computed by Simpson's rule on a fine grid: exact to about 1e-10, deterministic, and without
scipy.stats (which takes a second or more to import).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special

GRID = np.linspace(-9.0, 9.0, 4001)  # φ(±9) is below 1e-17
SEED = 20240101


def shares(n_arms: Sequence[int], n_control: int) -> np.ndarray:
    arms = np.array(n_arms, dtype=np.float64)
    out: np.ndarray = np.sqrt(arms / (arms + n_control))
    return out


def correlation(n_arms: Sequence[int], n_control: int) -> np.ndarray:
    s = shares(n_arms, n_control)
    corr: np.ndarray = np.outer(s, s)
    np.fill_diagonal(corr, 1.0)
    return corr


def _inside_normal(c: float, s: np.ndarray) -> float:
    """``P(max_i |Z_i| < c)`` for the one-factor correlation ``s_i s_j``."""
    r = np.sqrt(1.0 - s * s)[:, None]
    w = GRID[None, :]
    box = special.ndtr((c - s[:, None] * w) / r) - special.ndtr((-c - s[:, None] * w) / r)
    integrand = np.exp(-0.5 * GRID * GRID) / np.sqrt(2.0 * np.pi) * np.prod(box, axis=0)
    h = GRID[1] - GRID[0]
    weights = np.ones_like(GRID)
    weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
    return float(h / 3.0 * np.sum(weights * integrand))


def _inside_t(c: float, corr: np.ndarray, df: float) -> float:
    # scipy.stats takes a second or more to import: only the t form (tests, small samples) pays for it
    from scipy import stats  # heavy: scipy.stats, only the t form needs it

    k = corr.shape[0]
    return float(stats.multivariate_t.cdf(np.full(k, c), loc=np.zeros(k), shape=corr, df=df,
                                          lower_limit=np.full(k, -c), random_state=np.random.default_rng(SEED)))


def adjust(pvalues: Sequence[float | None], n_arms: Sequence[int], n_control: int,
           df: float | None = None) -> list[float | None]:
    """Dunnett-adjusted two-sided p-values (``None`` stays ``None`` and leaves its arm out of the family)."""
    present = [i for i, p in enumerate(pvalues) if p is not None]
    out: list[float | None] = [None] * len(pvalues)
    if not present:
        return out
    sizes = [n_arms[i] for i in present]
    for i in present:
        p = float(pvalues[i])  # type: ignore[arg-type]
        if df is None:
            inside = _inside_normal(float(-special.ndtri(p / 2.0)), shares(sizes, n_control))
        else:
            inside = _inside_t(float(-special.stdtrit(df, p / 2.0)), correlation(sizes, n_control), df)
        out[i] = float(min(1.0, max(p, 1.0 - inside)))
    return out
