"""Adjusted p-values for a family of tests: Holm–Bonferroni and Benjamini–Hochberg.

The same numbers as ``statsmodels.stats.multitest.multipletests(p, method="holm" | "fdr_bh")``
(tests/test_experiments.py checks). Tests without a p-value (``None``) are not part of the family.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Correction = Literal["holm", "bh", "dunnett", "none"]


def holm(pvalues: Sequence[float]) -> list[float]:
    """Step-down: the i-th smallest p times (m - i + 1), made monotone, capped at 1."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Step-up: the i-th smallest p times m / i, made monotone from the largest down, capped at 1."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [0.0] * m
    running = 1.0
    for rank in range(m - 1, -1, -1):
        i = order[rank]
        running = min(running, m / (rank + 1) * pvalues[i])
        out[i] = running
    return out


def adjust(pvalues: Sequence[float | None], method: Correction) -> list[float | None]:
    """Adjusted p-values in the input's order; ``None`` stays ``None`` (and everything is ``None`` for "none")."""
    if method in ("none", "dunnett"):  # dunnett needs the group sizes: metricspec.engine.experiments.verdict
        return [None] * len(pvalues)
    present = [i for i, p in enumerate(pvalues) if p is not None]
    values = [float(p) for p in pvalues if p is not None]
    adjusted = holm(values) if method == "holm" else benjamini_hochberg(values)
    out: list[float | None] = [None] * len(pvalues)
    for i, value in zip(present, adjusted, strict=True):
        out[i] = value
    return out
