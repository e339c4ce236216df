"""Dunnett's many-to-one adjustment: several treatment arms compared with one shared control.

The arms' test statistics are correlated through the shared control: with group sizes ``n_i`` and
``n_0``, ``corr(Z_i, Z_j) = sqrt(n_i / (n_i + n_0)) sqrt(n_j / (n_j + n_0))`` (equal variances). The
adjusted p-value of arm i is ``P(max_j |Z_j| >= |z_i|)`` under that joint distribution: a multivariate
t with ``df`` degrees of freedom, or normal for ``df=None`` (large samples), as
``scipy.stats.dunnett`` (tests/test_cg_arms.py checks). Each arm's ``|z|`` is read back from its
two-sided p-value, so the adjustment applies to any of the group's tests. The multivariate probabilities
are computed with a fixed seed, so results are reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SEED = 20240101


def correlation(n_arms: Sequence[int], n_control: int) -> np.ndarray:
    share = np.sqrt(np.array(n_arms, dtype=np.float64) / (np.array(n_arms, dtype=np.float64) + n_control))
    corr: np.ndarray = np.outer(share, share)
    np.fill_diagonal(corr, 1.0)
    return corr


def adjust(pvalues: Sequence[float | None], n_arms: Sequence[int], n_control: int,
           df: float | None = None) -> list[float | None]:
    """Dunnett-adjusted two-sided p-values (``None`` stays ``None`` and leaves its arm out of the family)."""
    # scipy.stats takes ~0.3 s to import: only groups with `correction: dunnett` pay for it
    # (tests/test_experiments.py keeps it out of `import metricspec.engine.experiments`)
    from scipy import stats

    present = [i for i, p in enumerate(pvalues) if p is not None]
    out: list[float | None] = [None] * len(pvalues)
    if not present:
        return out
    corr = correlation([n_arms[i] for i in present], n_control)
    k = len(present)
    for i in present:
        p = float(pvalues[i])  # type: ignore[arg-type]
        if df is None:
            z = float(stats.norm.isf(p / 2.0))
            inside = stats.multivariate_normal.cdf(np.full(k, z), mean=np.zeros(k), cov=corr,
                                                   lower_limit=np.full(k, -z), rng=np.random.default_rng(SEED))
        else:
            z = float(stats.t.isf(p / 2.0, df))
            inside = stats.multivariate_t.cdf(np.full(k, z), loc=np.zeros(k), shape=corr, df=df,
                                              lower_limit=np.full(k, -z), random_state=np.random.default_rng(SEED))
        out[i] = float(min(1.0, max(p, 1.0 - float(inside))))
    return out
