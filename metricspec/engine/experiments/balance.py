"""Balance and overlap diagnostics of an adjusted comparison.

* **Standardised mean difference** of every covariate (each category's indicator on its own): the
  difference of the group means divided by a standard deviation that stays the same before and after
  adjustment — the treated's for ATT, ``sqrt((s²_t + s²_c) / 2)`` for ATE (sample variances; cobalt's
  ``s.d.denom``). After adjustment the means are weighted as the estimate weighs the units. The usual
  threshold is 0.1 (Austin, 2009).
* **Overlap**: each group's range of propensities; units outside the other group's range have no
  comparable counterpart (common support).
* **Effective sample size** of each group's weights, ``(Σw)² / Σw²`` (Kish).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from metricspec.engine.cg_results import CovariateBalance

SMD_THRESHOLD = 0.1


def _var(values: np.ndarray) -> float:
    return float(np.var(values, ddof=1)) if values.size > 1 else 0.0


def _mean(values: np.ndarray, weights: np.ndarray) -> float:
    total = float(weights.sum())
    return float((values * weights).sum() / total) if total > 0.0 else float("nan")


def smd_table(x: np.ndarray, names: list[str], t: np.ndarray, weights: np.ndarray, estimand: str,
              threshold: float = SMD_THRESHOLD) -> list[CovariateBalance]:
    """One row per column of ``x`` (covariates as given, not standardised)."""
    treated, control = t == 1.0, t == 0.0
    rows = []
    for j, name in enumerate(names):
        col = x[:, j]
        v_t, v_c = _var(col[treated]), _var(col[control])
        sd = math.sqrt(v_t) if estimand == "att" else math.sqrt((v_t + v_c) / 2.0)
        m_t, m_c = float(col[treated].mean()), float(col[control].mean())
        a_t, a_c = _mean(col[treated], weights[treated]), _mean(col[control], weights[control])
        before = (m_t - m_c) / sd if sd > 0.0 else None
        after = (a_t - a_c) / sd if sd > 0.0 and math.isfinite(a_t - a_c) else None
        rows.append(CovariateBalance(name=name, treated_mean=m_t, control_mean=m_c, treated_mean_adjusted=a_t,
                                     control_mean_adjusted=a_c, smd_before=before, smd_after=after,
                                     balanced=after is not None and abs(after) < threshold))
    return rows


def effective_n(weights: np.ndarray) -> float:
    """Kish's effective sample size of ``weights`` (0 for none)."""
    square = float((weights ** 2).sum())
    return float(weights.sum()) ** 2 / square if square > 0.0 else 0.0


@dataclass(frozen=True)
class Overlap:
    treated: tuple[float, float]
    control: tuple[float, float]
    outside: int  # units outside the common support [max of minima, min of maxima]


def overlap(score: np.ndarray, t: np.ndarray) -> Overlap:
    e_t, e_c = score[t == 1.0], score[t == 0.0]
    rt = (float(e_t.min()), float(e_t.max()))
    rc = (float(e_c.min()), float(e_c.max()))
    low, high = max(rt[0], rc[0]), min(rt[1], rc[1])
    return Overlap(rt, rc, int(((score < low) | (score > high)).sum()))
