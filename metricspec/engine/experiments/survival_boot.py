"""Bootstrap intervals of adjusted survival (``bootstrap: N``): N resamples of units within each group, each
refitting the propensity model, the weights, both weighted Kaplan–Meier curves and the weighted Cox model.

Percentile intervals of retention at each day (per group, their difference and lift), of each group's
median (a resample whose curve stays above one half counts as "not reached", beyond every other) and of
the hazard ratio; p-values from the resamples' standard deviation (normal test), as :mod:`.bootstrap`
does for the other adjusted metrics. The same seed gives the same intervals.
"""

from __future__ import annotations

import math

import numpy as np

from metricspec.engine.cg_results import AdjustedSurvival, RetentionLift
from metricspec.engine.experiments.dist import norm_sf
from metricspec.engine.experiments.survival_adjusted import (
    Point,
    Sample,
    arm_figures,
    at_day,
    point,
)
from metricspec.kinds.compute.survival import Survival, median

Interval = tuple[float | None, float | None]


def _value(p: Point, group: str, day: int) -> float:
    c = p.control if group == "control" else p.treated
    j = at_day(c, day)
    return math.nan if j is None else 1.0 if j < 0 else float(c.survival[j])


def _median(p: Point, group: str) -> float:
    c = p.control if group == "control" else p.treated
    m = median(Survival(c.times, c.survival, c.horizon)) if c.times.size else None
    return math.inf if m is None else m


def _draws(s: Sample, days: list[int], replicates: int, seed: int, start: float) -> dict[str, np.ndarray]:
    """Each resample's figures: retention per group and day, medians, log hazard ratio (NaN: not computable)."""
    rng = np.random.default_rng(seed)
    treated, control = np.flatnonzero(s.t == 1.0), np.flatnonzero(s.t == 0.0)
    out: dict[str, list[list[float]]] = {"control": [], "treated": [], "median": [], "log_hr": []}
    for _ in range(replicates):
        rows = np.concatenate([rng.choice(treated, treated.size), rng.choice(control, control.size)])
        with np.errstate(all="ignore"):
            p = point(Sample(s.x[rows], s.t[rows], s.d[rows], s.e[rows], s.estimand, s.trim), start)
        for group in ("control", "treated"):
            out[group].append([_value(p, group, day) for day in days])
        out["median"].append([_median(p, "control"), _median(p, "treated")])
        out["log_hr"].append([math.nan if p.log_hr is None else p.log_hr])
    return {k: np.array(v, dtype=np.float64) for k, v in out.items()}


def _percentile(values: np.ndarray, level: float) -> Interval:
    """The central ``level`` percentile interval of the finite-or-infinite draws (NaN draws left out)."""
    v = np.sort(values[~np.isnan(values)])
    if v.size < 2:
        return None, None
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(v, [tail, 1.0 - tail], method="linear") if np.all(np.isfinite(v)) else \
        np.quantile(v, [tail, 1.0 - tail], method="nearest")
    return (float(lo) if math.isfinite(lo) else None), (float(hi) if math.isfinite(hi) else None)


def _sd_p(estimate: float | None, values: np.ndarray) -> float | None:
    v = values[np.isfinite(values)]
    if estimate is None or v.size < 2:
        return None
    sd = float(np.std(v, ddof=1))
    return 2.0 * norm_sf(abs(estimate) / sd) if sd > 0.0 else None


def _lift(k: int, day: int, p: Point, draws: dict[str, np.ndarray], level: float) -> tuple[RetentionLift, float | None]:
    sc, st = _value(p, "control", day), _value(p, "treated", day)
    if math.isnan(sc) or math.isnan(st):
        return RetentionLift(days=day, difference=None, difference_ci_low=None, difference_ci_high=None,
                             relative_lift=None, p_value=None), None
    diffs = draws["treated"][:, k] - draws["control"][:, k]
    with np.errstate(all="ignore"):
        lifts = np.where(draws["control"][:, k] > 0.0, draws["treated"][:, k] / draws["control"][:, k] - 1.0, np.nan)
    lo, hi = _percentile(diffs, level)
    llo, lhi = _percentile(lifts, level) if sc > 0.0 else (None, None)
    finite = diffs[np.isfinite(diffs)]
    se = float(np.std(finite, ddof=1)) if finite.size >= 2 else None
    return RetentionLift(days=day, difference=st - sc, difference_ci_low=lo, difference_ci_high=hi,
                         relative_lift=st / sc - 1.0 if sc > 0.0 else None, p_value=_sd_p(st - sc, diffs),
                         relative_lift_ci_low=llo, relative_lift_ci_high=lhi), se


def bootstrap_figures(s: Sample, days: list[int], level: float, labels: tuple[str, str], replicates: int,
                      seed: int) -> tuple[AdjustedSurvival, float | None]:
    """Every adjusted survival figure with its bootstrap percentile interval, and the headline difference's
    bootstrap standard error."""
    p = point(s)
    draws = _draws(s, days, replicates, seed, p.log_hr or 0.0)
    boot = {f"{g}_retention": [_percentile(draws[g][:, k], level) for k in range(len(days))]
            for g in ("control", "treated")}
    boot |= {"control_median": [_percentile(draws["median"][:, 0], level)],
             "treated_median": [_percentile(draws["median"][:, 1], level)]}
    lifts = [_lift(k, day, p, draws, level) for k, day in enumerate(days)]
    hr: dict[str, float | None] = dict.fromkeys(("hazard_ratio", "hazard_ratio_ci_low", "hazard_ratio_ci_high",
                                                 "hazard_ratio_p_value"))
    if p.log_hr is not None:
        lo, hi = _percentile(draws["log_hr"][:, 0], level)
        hr = {"hazard_ratio": math.exp(p.log_hr), "hazard_ratio_ci_low": None if lo is None else math.exp(lo),
              "hazard_ratio_ci_high": None if hi is None else math.exp(hi),
              "hazard_ratio_p_value": _sd_p(p.log_hr, draws["log_hr"][:, 0])}
    return AdjustedSurvival(
        estimand=s.estimand, interval="bootstrap", trim=s.trim, bootstrap=replicates, seed=seed,
        control=arm_figures(labels[0], s, p, "control", None, days, 0.0, boot),
        treatment=arm_figures(labels[1], s, p, "treated", None, days, 0.0, boot),
        **hr, lifts=[x for x, _ in lifts]), lifts[0][1]
