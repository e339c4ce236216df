"""Kaplan–Meier survival of right-censored durations, its median and its restricted mean.

Small and dependency-free (numpy): lifelines would bring pandas, autograd and formulaic for one
estimator. ``tests/test_tenure.py`` checks it against statsmodels' ``SurvfuncRight``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

TOLERANCE = 1e-9
"""How far above 0.5 a product of survival factors may land by rounding and still be 0.5."""


@dataclass(frozen=True)
class Survival:
    """The Kaplan–Meier curve: S(t) = ``survival[i]`` for ``times[i] <= t < times[i + 1]`` (1 before the
    first time), and the longest follow-up (event or censored) of the sample."""

    times: npt.NDArray[np.float64]
    survival: npt.NDArray[np.float64]
    horizon: float


def kaplan_meier(durations: npt.ArrayLike, observed: npt.ArrayLike) -> Survival:
    """The product-limit estimate from ``durations`` (>= 0) and ``observed`` (True: the end was seen;
    False: censored, still active at the end of observation). Ties: events before censorings."""
    d = np.asarray(durations, dtype=np.float64)
    e = np.asarray(observed, dtype=bool)
    if d.size == 0:
        return Survival(np.empty(0), np.empty(0), 0.0)
    ordered = np.sort(d)
    times, deaths = np.unique(d[e], return_counts=True)
    at_risk = d.size - np.searchsorted(ordered, times, side="left")
    survival = np.cumprod(1.0 - deaths / at_risk).astype(np.float64)
    return Survival(times.astype(np.float64), survival, float(ordered[-1]))


def median(s: Survival) -> float | None:
    """The first time the curve reaches 0.5 or below (None: it never does within the follow-up);
    a curve at 0.5 up to rounding (0.8 × 0.75 × 5/6) counts as 0.5."""
    hit = np.flatnonzero(s.survival <= 0.5 + TOLERANCE)
    return float(s.times[hit[0]]) if hit.size else None


def restricted_mean(s: Survival, tau: float | None = None) -> float:
    """The area under the curve from 0 to ``tau`` (default: the longest follow-up): the mean time
    survived within the first ``tau``."""
    end = s.horizon if tau is None else tau
    edges = np.concatenate(([0.0], s.times[s.times < end], [end]))
    levels = np.concatenate(([1.0], s.survival[s.times < end]))
    return float(np.sum(np.diff(edges) * levels))
