"""Adjusted survival of a comparison that was not randomised: inverse-probability-weighted Kaplan–Meier
curves per group, weighted median tenure and retention at k days with their intervals and lifts, and a
weighted Cox hazard ratio.

Weights: the group's propensity model and estimand, stabilised and trimmed as :mod:`.ipw` does (ATT:
treated 1, controls ``e/(1-e)``; ATE: ``1/e`` and ``1/(1-e)``), whatever the group's ``method``: outcome
models and matches do not apply to censored durations. Units whose propensity is below ``trim`` or above
``1 - trim`` are left out (the spec's ``trim`` for ipw and doubly_robust, else its default 0.01).

Intervals (``interval: sandwich``): each figure's influence function with the weights fixed
(:mod:`.survival_weighted`) plus the part that comes from estimating the propensity, ``g·ψ_i`` with ``g`` the
figure's derivative in the propensity coefficients (central differences) and ``ψ_i`` the logistic
regression's influence — the M-estimation sandwich of the figure stacked with the propensity model
(tests/test_cg_survival_adjusted.py checks it against that stacked sandwich computed numerically).
Retention by a complementary log-log interval, its difference and lift by Wald intervals (delta method),
the median by Brookmeyer–Crowley with the robust standard errors, the hazard ratio on the log scale. With
``bootstrap: N`` every figure instead gets the percentile interval of N seeded resamples of units within
each group, each refitting the propensity model (:mod:`.survival_boot`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from metricspec.engine.cg_results import (
    AdjustedFigures,
    AdjustedSurvival,
    RetentionLift,
    SurvivalArm,
)
from metricspec.engine.experiments import propensity
from metricspec.engine.experiments.dist import norm_isf, norm_sf
from metricspec.engine.experiments.inference import Estimand, stabilised
from metricspec.engine.experiments.ipw import kept
from metricspec.engine.experiments.survival_compare import _cloglog_ci, median_ci, thin_curve
from metricspec.engine.experiments.survival_weighted import (
    Curve,
    Influence,
    cox,
    cox_influence,
    kaplan_meier,
    km_influence,
)
from metricspec.kinds.compute.survival import Survival, median


@dataclass(frozen=True)
class Sample:
    """One arm's units with every covariate and a duration: standardised covariates (intercept first),
    treatment (0/1), durations, events (bool)."""

    x: np.ndarray
    t: np.ndarray
    d: np.ndarray
    e: np.ndarray
    estimand: Estimand
    trim: float


def weights(s: Sample, beta: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Stabilised inverse-probability weights at propensity coefficients ``beta`` (0: trimmed; a propensity of
    exactly 0 or 1 in floating point, possible with ``trim: 0``, is held 1e-12 inside so weights stay finite)."""
    e = np.clip(propensity.expit(s.x @ beta), 1e-12, 1.0 - 1e-12)
    out: np.ndarray = keep * stabilised(e, s.t, s.estimand)
    return out


def curves(s: Sample, w: np.ndarray) -> tuple[Curve, Curve]:
    """The weighted Kaplan–Meier curves of the control and the treated."""
    c, t = s.t == 0.0, s.t == 1.0
    return kaplan_meier(s.d[c], s.e[c], w[c]), kaplan_meier(s.d[t], s.e[t], w[t])


def at_day(c: Curve, day: float) -> int | None:
    """Index of ``S(day)`` in the curve (-1: before the first event, S = 1; None: past the longest follow-up)."""
    if day > c.horizon:
        return None
    return int(np.searchsorted(c.times, day, side="right")) - 1


@dataclass(frozen=True)
class Term:
    """A figure's parts for the robust variance: influence sums with the weights fixed (``q``, ``r`` against the
    propensity's influence) and its derivative ``g`` in the propensity coefficients."""

    q: float
    r: np.ndarray
    g: np.ndarray


def variance(terms: list[tuple[float, Term]], m: np.ndarray) -> float:
    """Variance of ``Σ c_k figure_k`` (figures of different groups, or one figure): ``Σ c² q + 2 G·R + G'MG``."""
    g = sum((c * t.g for c, t in terms), np.zeros(m.shape[0]))
    r = sum((c * t.r for c, t in terms), np.zeros(m.shape[0]))
    return float(sum(c * c * t.q for c, t in terms) + 2.0 * g @ r + g @ m @ g)


@dataclass(frozen=True)
class Robust:
    """Everything the sandwich intervals need: per group, the influence sums and derivatives of the curve at
    each of its event times; for the hazard ratio, the same; ``m`` the propensity influence's ``Σ ψψ'``."""

    control: tuple[Influence, np.ndarray]
    treated: tuple[Influence, np.ndarray]
    cox: Term | None
    m: np.ndarray

    def term(self, group: str, j: int) -> Term:
        inf, g = self.control if group == "control" else self.treated
        if j < 0:
            return Term(0.0, np.zeros(self.m.shape[0]), np.zeros(self.m.shape[0]))
        return Term(float(inf.q[j]), inf.r[j], g[j])

    def curve_se(self, group: str) -> np.ndarray:
        inf, g = self.control if group == "control" else self.treated
        v = inf.q + 2.0 * (g * inf.r).sum(axis=1) + np.einsum("jp,pq,jq->j", g, self.m, g)
        out: np.ndarray = np.sqrt(np.clip(v, 0.0, None))
        return out


def _derivative(f: Callable[[np.ndarray], np.ndarray], beta: np.ndarray) -> np.ndarray:
    """``∂f/∂β`` by central differences (f: coefficients -> a vector); rows: f's entries."""
    cols = []
    for k in range(beta.size):
        h = 1e-5 * max(1.0, abs(float(beta[k])))
        up, down = beta.copy(), beta.copy()
        up[k] += h
        down[k] -= h
        cols.append((f(up) - f(down)) / (2.0 * h))
    return np.column_stack(cols) if cols else np.zeros((0, 0))


def propensity_influence(ps: propensity.Propensity, t: np.ndarray) -> np.ndarray:
    """Each unit's influence on the propensity coefficients, ``H⁻¹ x_i (t_i - e_i)`` (n × p)."""
    e = ps.score
    hessian = (ps.x * (e * (1.0 - e))[:, None]).T @ ps.x
    out: np.ndarray = propensity.score(ps.x, t, ps.beta) @ np.linalg.pinv(hessian)
    return out


def robust(s: Sample, ps: propensity.Propensity, keep: np.ndarray, fit_c: Curve, fit_t: Curve,
           beta_cox: float | None) -> Robust:
    psi = propensity_influence(ps, s.t)
    w = weights(s, ps.beta, keep)
    parts = []
    for arm, curve in ((0.0, fit_c), (1.0, fit_t)):
        mask = s.t == arm
        inf = km_influence(curve, s.d[mask], s.e[mask], w[mask], psi[mask])

        def curve_at(beta: np.ndarray, mask: np.ndarray = mask) -> np.ndarray:
            return kaplan_meier(s.d[mask], s.e[mask], weights(s, beta, keep)[mask]).survival

        parts.append((inf, _derivative(curve_at, ps.beta)))
    term = None
    fit = cox(s.d, s.e, s.t, w, start=beta_cox) if beta_cox is not None else None
    if fit is not None:
        inf = cox_influence(fit, s.d, s.e, s.t, w, psi)

        def log_hr(beta: np.ndarray) -> np.ndarray:
            refit = cox(s.d, s.e, s.t, weights(s, beta, keep), start=fit.beta)
            return np.array([math.nan if refit is None else refit.beta])

        term = Term(float(inf.q[0]), inf.r[0], _derivative(log_hr, ps.beta)[0])
    return Robust(parts[0], parts[1], term, psi.T @ psi)


@dataclass(frozen=True)
class Point:
    """The point estimates of one sample: weights, curves, the log hazard ratio."""

    ps: propensity.Propensity
    keep: np.ndarray
    w: np.ndarray
    control: Curve
    treated: Curve
    log_hr: float | None


def point(s: Sample, start: float = 0.0) -> Point:
    ps = propensity.fit(s.x, s.t)
    keep = kept(ps.score, s.trim)
    w = weights(s, ps.beta, keep)
    fit_c, fit_t = curves(s, w)
    fit = cox(s.d, s.e, s.t, w, start=start)
    return Point(ps, keep, w, fit_c, fit_t, None if fit is None else fit.beta)


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def arm_figures(label: str, s: Sample, p: Point, group: str, se: np.ndarray | None, days: list[int], z: float,
         boot: dict[str, list[tuple[float | None, float | None]]] | None) -> SurvivalArm:
    c = p.control if group == "control" else p.treated
    mask = (s.t == (0.0 if group == "control" else 1.0)) & (p.w > 0.0)
    surv = Survival(c.times, c.survival, c.horizon)
    values, lows, highs = [], [], []
    for k, day in enumerate(days):
        j = at_day(c, day)
        v = None if j is None else 1.0 if j < 0 else float(c.survival[j])
        lo, hi = (boot[f"{group}_retention"][k] if boot is not None else
                  _cloglog_ci(v, None if j is None or se is None else 0.0 if j < 0 else float(se[j]), z))
        values.append(v)
        lows.append(_finite(lo))
        highs.append(_finite(hi))
    med_low, med_high = (boot[f"{group}_median"][0] if boot is not None else
                         median_ci(surv, se, z) if se is not None and c.times.size else (None, None))
    return SurvivalArm(label=label, n=int(mask.sum()), events=int((s.e & mask).sum()),
                       censored=int((~s.e & mask).sum()), median=median(surv) if c.times.size else None,
                       median_ci_low=med_low, median_ci_high=med_high, retention=values, retention_ci_low=lows,
                       retention_ci_high=highs, curve=thin_curve(c.times, c.survival, c.horizon))


def _lift(day: int, p: Point, rb: Robust, z: float) -> tuple[RetentionLift, float | None]:
    """Retention lift at ``day`` with its sandwich intervals, and the difference's standard error."""
    jc, jt = at_day(p.control, day), at_day(p.treated, day)
    if jc is None or jt is None:
        return RetentionLift(days=day, difference=None, difference_ci_low=None, difference_ci_high=None,
                             relative_lift=None, p_value=None), None
    sc = 1.0 if jc < 0 else float(p.control.survival[jc])
    st = 1.0 if jt < 0 else float(p.treated.survival[jt])
    tc, tt = rb.term("control", jc), rb.term("treated", jt)
    se = math.sqrt(max(variance([(1.0, tt), (-1.0, tc)], rb.m), 0.0))
    diff = st - sc
    lift = lift_lo = lift_hi = None
    if sc > 0.0:
        lift = st / sc - 1.0
        se_lift = math.sqrt(max(variance([(1.0 / sc, tt), (-st / sc ** 2, tc)], rb.m), 0.0))
        lift_lo, lift_hi = lift - z * se_lift, lift + z * se_lift
    p_value = 2.0 * norm_sf(abs(diff) / se) if se > 0.0 else None
    return RetentionLift(days=day, difference=diff, difference_ci_low=diff - z * se, difference_ci_high=diff + z * se,
                         relative_lift=lift, p_value=p_value, relative_lift_ci_low=lift_lo,
                         relative_lift_ci_high=lift_hi), se if se > 0.0 else None


def _hazard(p: Point, rb: Robust, z: float) -> dict[str, float | None]:
    out: dict[str, float | None] = dict.fromkeys(("hazard_ratio", "hazard_ratio_ci_low", "hazard_ratio_ci_high",
                                                  "hazard_ratio_p_value"))
    if p.log_hr is None or rb.cox is None:
        return out
    v = variance([(1.0, rb.cox)], rb.m)
    out["hazard_ratio"] = math.exp(p.log_hr)
    if math.isfinite(v) and v > 0.0:
        se = math.sqrt(v)
        out.update(hazard_ratio_ci_low=math.exp(p.log_hr - z * se), hazard_ratio_ci_high=math.exp(p.log_hr + z * se),
                   hazard_ratio_p_value=2.0 * norm_sf(abs(p.log_hr) / se))
    return out


def sandwich_figures(s: Sample, days: list[int], level: float,
                     labels: tuple[str, str]) -> tuple[AdjustedSurvival, float | None]:
    """Every adjusted survival figure with its robust (sandwich) interval, and the standard error of the
    headline difference (retention at the first day)."""
    z = norm_isf((1.0 - level) / 2.0)
    p = point(s)
    rb = robust(s, p.ps, p.keep, p.control, p.treated, p.log_hr)
    lifts = [_lift(day, p, rb, z) for day in days]
    return AdjustedSurvival(
        estimand=s.estimand, interval="sandwich", trim=s.trim,
        control=arm_figures(labels[0], s, p, "control", rb.curve_se("control"), days, z, None),
        treatment=arm_figures(labels[1], s, p, "treated", rb.curve_se("treated"), days, z, None),
        **_hazard(p, rb, z), lifts=[x for x, _ in lifts]), lifts[0][1]


def headline(a: AdjustedSurvival, se: float | None) -> AdjustedFigures:
    """The metric's adjusted figures: retention at the first day (the row of the main table and the verdict).
    ``method`` says how it was adjusted: always by inverse-probability weighting."""
    lift = a.lifts[0]
    return AdjustedFigures(
        method="ipw", estimand=a.estimand, interval=a.interval, treated_mean=a.treatment.retention[0],
        control_mean=a.control.retention[0], difference=lift.difference, difference_ci_low=lift.difference_ci_low,
        difference_ci_high=lift.difference_ci_high, relative_lift=lift.relative_lift,
        relative_lift_ci_low=lift.relative_lift_ci_low, relative_lift_ci_high=lift.relative_lift_ci_high,
        standard_error=se, p_value=lift.p_value, treatment_n=a.treatment.n, control_n=a.control.n,
        bootstrap=a.bootstrap, seed=a.seed)
