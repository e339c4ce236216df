"""Survival (tenure, retention) of the treatment and control groups: Kaplan–Meier curves with censoring,
median tenure with its interval, the log-rank test, the hazard ratio and retention at k days with its lift.

* Curves: :func:`metricspec.kinds.compute.survival.kaplan_meier`; Greenwood's standard error
  ``S(t) sqrt(Σ d / (n (n - d)))``.
* Median interval: the Brookmeyer–Crowley interval on the complementary log-log scale (the event
  times where ``|g(S) - g(0.5)| / (g'(S) se)`` is within the normal quantile), as SAS LIFETEST and
  statsmodels ``SurvfuncRight.quantile_ci``; no upper end when the interval reaches past the follow-up.
* Log-rank: observed minus expected events of the treated summed over event times, over its
  hypergeometric variance (as statsmodels ``survdiff``).
* Hazard ratio: a Cox proportional-hazards model with the group as its only covariate, Breslow's
  handling of ties (statsmodels ``PHReg(ties="breslow")``), Wald interval.
* Retention at k days: ``S(k)`` per group with a complementary log-log interval; the difference with a
  Wald interval from both Greenwood variances and its z-test; the lift ``S_t(k) / S_c(k) - 1``. A group
  followed for less than k days has no retention at k (censoring would make it up).

tests/test_cg_survival.py checks each figure against statsmodels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from metricspec.engine.cg_results import RetentionLift, SurvivalArm, SurvivalFigures, SurvivalPoint
from metricspec.engine.experiments.dist import chi2_sf, norm_isf, norm_sf
from metricspec.kinds.compute.survival import Survival, kaplan_meier, median

CURVE_STEP = 0.01
"""A stored (and drawn) curve keeps a step wherever the curve has fallen by at least this much since the last
step kept: one point of survival, 2 px on the scorecard's 220 px high chart."""


@dataclass(frozen=True)
class Arm:
    durations: np.ndarray
    events: np.ndarray  # bool

    @property
    def curve(self) -> Survival:
        return kaplan_meier(self.durations, self.events)


def greenwood_se(arm: Arm, s: Survival) -> np.ndarray:
    """Greenwood's standard error of S at each of the curve's event times."""
    ordered = np.sort(arm.durations)
    deaths = np.array([int(((arm.durations == t) & arm.events).sum()) for t in s.times], dtype=np.float64)
    at_risk = arm.durations.size - np.searchsorted(ordered, s.times, side="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk > deaths, deaths / (at_risk * (at_risk - deaths)), np.inf)
        out: np.ndarray = np.where(s.survival > 0.0, s.survival * np.sqrt(np.cumsum(terms)), 0.0)
    return out


def _at(s: Survival, se: np.ndarray, day: float) -> tuple[float | None, float | None]:
    """S(day) and its standard error (None past the longest follow-up)."""
    if day > s.horizon:
        return None, None
    i = int(np.searchsorted(s.times, day, side="right")) - 1
    if i < 0:
        return 1.0, 0.0
    return float(s.survival[i]), float(se[i])


def _cloglog_ci(p: float | None, se: float | None, z: float) -> tuple[float | None, float | None]:
    if p is None or se is None or not 0.0 < p < 1.0 or not math.isfinite(se):
        return p, p
    half = z * se / abs(p * math.log(p))
    return math.exp(-math.exp(math.log(-math.log(p)) + half)), math.exp(-math.exp(math.log(-math.log(p)) - half))


def median_ci(s: Survival, se: np.ndarray, z: float) -> tuple[float | None, float | None]:
    """Brookmeyer–Crowley on the cloglog scale (statsmodels' ``quantile_ci(0.5)``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.log(-np.log(s.survival)) - math.log(-math.log(0.5))
        r = g / (-1.0 / (s.survival * np.log(s.survival)) * se)
    inside = np.flatnonzero(np.abs(r) <= z)
    if inside.size == 0:
        return None, None
    upper = None if inside[-1] == s.times.size - 1 else float(s.times[inside[-1] + 1])
    return float(s.times[inside[0]]), upper


def logrank(a: Arm, b: Arm) -> tuple[float | None, float | None]:
    """Chi-square (1 df) and p-value of the log-rank test of ``b`` against ``a``."""
    d = np.concatenate([a.durations, b.durations])
    e = np.concatenate([a.events, b.events])
    g = np.concatenate([np.zeros(a.durations.size), np.ones(b.durations.size)])
    times = np.unique(d[e])
    if times.size == 0:
        return None, None
    observed = expected = var = 0.0
    for t in times:
        risk = d >= t
        n, n1 = float(risk.sum()), float((risk & (g == 1)).sum())
        dead = (d == t) & e
        deaths, deaths1 = float(dead.sum()), float((dead & (g == 1)).sum())
        observed += deaths1
        expected += deaths * n1 / n
        if n > 1:
            var += deaths * (n1 / n) * (1 - n1 / n) * (n - deaths) / (n - 1)
    if var <= 0.0:
        return None, None
    chi2 = (observed - expected) ** 2 / var
    return chi2, chi2_sf(chi2, 1)


def cox_binary(a: Arm, b: Arm) -> tuple[float, float] | None:
    """Log hazard ratio of ``b`` vs ``a`` and its standard error: Cox partial likelihood, Breslow ties."""
    d = np.concatenate([a.durations, b.durations])
    e = np.concatenate([a.events, b.events])
    g = np.concatenate([np.zeros(a.durations.size), np.ones(b.durations.size)])
    times = np.unique(d[e])
    if times.size == 0:
        return None
    rows = [(float((d >= t).sum() - ((d >= t) & (g == 1)).sum()), float(((d >= t) & (g == 1)).sum()),
             float(((d == t) & e).sum()), float(((d == t) & e & (g == 1)).sum())) for t in times]
    stats = np.array(rows)  # at risk control, at risk treated, deaths, deaths treated
    beta = 0.0
    for _ in range(50):
        r = np.exp(beta)
        share = stats[:, 1] * r / (stats[:, 0] + stats[:, 1] * r)
        grad = float((stats[:, 3] - stats[:, 2] * share).sum())
        info = float((stats[:, 2] * share * (1.0 - share)).sum())
        if info <= 0.0:
            return None
        step = grad / info
        beta += step
        if abs(step) < 1e-12 or abs(beta) > 30:
            break
    if not math.isfinite(beta) or abs(beta) > 30:
        return None
    r = math.exp(beta)
    share = stats[:, 1] * r / (stats[:, 0] + stats[:, 1] * r)
    info = float((stats[:, 2] * share * (1.0 - share)).sum())
    return beta, 1.0 / math.sqrt(info)


def _arm(label: str, arm: Arm, days: list[int], z: float) -> tuple[SurvivalArm, list[tuple[float | None, float | None]]]:
    s = arm.curve
    se = greenwood_se(arm, s)
    med_low, med_high = median_ci(s, se, z) if s.times.size else (None, None)
    at = [_at(s, se, k) for k in days]
    cis = [_cloglog_ci(p, q, z) for p, q in at]
    return SurvivalArm(label=label, n=int(arm.durations.size), events=int(arm.events.sum()),
                       censored=int((~arm.events).sum()), median=median(s) if s.times.size else None,
                       median_ci_low=med_low, median_ci_high=med_high, retention=[p for p, _ in at],
                       retention_ci_low=[lo for lo, _ in cis], retention_ci_high=[hi for _, hi in cis],
                       curve=thin_curve(s.times, s.survival, s.horizon)), at


def thin_curve(times: np.ndarray, survival: np.ndarray, horizon: float) -> list[SurvivalPoint]:
    """The steps a reader needs of a Kaplan–Meier curve: (0, 100 %), every event time where the curve has fallen
    by at least :data:`CURVE_STEP` since the last step kept, the last event time, and the end of follow-up.

    Each kept step holds the curve's exact value, so the drawn step line (step-after) is exact at every step
    shown and never more than one point above the curve between them; a curve falls at most from 1 to 0, so at
    most 100 steps are kept, plus the last event and the end of follow-up."""
    points = [SurvivalPoint(days=0.0, survival=1.0)]
    last = 1.0
    for i, (t, v) in enumerate(zip(times.tolist(), survival.tolist(), strict=True)):
        if last - v >= CURVE_STEP * (1.0 - 1e-9) or i == times.size - 1:
            points.append(SurvivalPoint(days=t, survival=v))
            last = v
    if times.size and horizon > float(times[-1]):
        points.append(SurvivalPoint(days=horizon, survival=last))
    return points


def _lift(day: int, c: tuple[float | None, float | None], t: tuple[float | None, float | None],
          z: float) -> RetentionLift:
    if c[0] is None or t[0] is None or c[1] is None or t[1] is None:
        return RetentionLift(days=day, difference=None, difference_ci_low=None, difference_ci_high=None,
                             relative_lift=None, p_value=None)
    diff = t[0] - c[0]
    se = math.sqrt(c[1] ** 2 + t[1] ** 2)
    p = 2.0 * norm_sf(abs(diff) / se) if se > 0.0 else None
    return RetentionLift(days=day, difference=diff, difference_ci_low=diff - z * se, difference_ci_high=diff + z * se,
                         relative_lift=t[0] / c[0] - 1.0 if c[0] > 0.0 else None, p_value=p)


def compare_survival(control: Arm, treatment: Arm, days: list[int], level: float,
                     labels: tuple[str, str] = ("control", "treatment")) -> SurvivalFigures:
    z = norm_isf((1.0 - level) / 2.0)
    arm_c, at_c = _arm(labels[0], control, days, z)
    arm_t, at_t = _arm(labels[1], treatment, days, z)
    chi2, p = logrank(control, treatment)
    cox = cox_binary(control, treatment)
    hr = lo = hi = hr_p = None
    if cox is not None:
        beta, se = cox
        hr, lo, hi = math.exp(beta), math.exp(beta - z * se), math.exp(beta + z * se)
        hr_p = 2.0 * norm_sf(abs(beta / se))
    return SurvivalFigures(at_days=days, control=arm_c, treatment=arm_t, logrank_chi2=chi2, logrank_p_value=p,
                           hazard_ratio=hr, hazard_ratio_ci_low=lo, hazard_ratio_ci_high=hi,
                           hazard_ratio_p_value=hr_p,
                           lifts=[_lift(k, c, t, z) for k, c, t in zip(days, at_c, at_t, strict=True)])
