"""An adjusted comparison of one treatment arm with the control: the propensity model, the diagnostics that
say whether adjustment could work, and each metric's adjusted effect with its interval.

Intervals are normal intervals from the robust (sandwich) standard error of the method
(:mod:`.inference`; Abadie–Imbens for matching), or percentile intervals of a seeded bootstrap
(:mod:`.bootstrap`) when the spec asks for ``bootstrap: N``. Which one is said in the output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from metricspec.engine.cg_results import AdjustedFigures, Diagnostics
from metricspec.engine.experiments import (
    aipw,
    balance,
    bootstrap,
    ipw,
    matching,
    propensity,
    regression,
)
from metricspec.engine.experiments.design import Design
from metricspec.engine.experiments.dist import norm_isf, norm_sf
from metricspec.engine.experiments.fixed import warning
from metricspec.engine.experiments.inference import Data, Fit, Options
from metricspec.engine.results import EngineMessage

OVERLAP_WARNING_SHARE = 0.05
"""Share of units outside common support above which the scorecard warns."""
ESS_WARNING_SHARE = 0.5
"""An effective sample below this share of a group's units is a warning (a few units carry the weight)."""


@dataclass(frozen=True)
class Settings:
    """The spec's ``adjust:`` as the engine reads it."""

    covariates: tuple[str, ...]
    method: str = "doubly_robust"
    estimand: str = "att"
    bootstrap: int | None = None
    seed: int = 20240101
    trim: float = 0.01
    caliper: float | None = 0.2
    replacement: bool = True

    @property
    def options(self) -> Options:
        trim = self.trim if self.method in ("ipw", "doubly_robust") else 0.0
        return Options("ate" if self.estimand == "ate" else "att", trim, self.caliper, self.replacement)


Estimator = Callable[[Data, propensity.Propensity, Options, bool], Fit]


def _regression(data: Data, ps: propensity.Propensity, opts: Options, variance: bool) -> Fit:
    return regression.fit(data, opts, variance)


ESTIMATORS: dict[str, Estimator] = {"ipw": ipw.fit, "matching": matching.fit, "regression": _regression,
                                    "doubly_robust": aipw.fit}


def fit_all(x: np.ndarray, t: np.ndarray, y: np.ndarray, settings: Settings, variance: bool = True) -> Fit:
    """Propensity model and the method's estimate on standardised covariates ``x`` (with intercept)."""
    ps = propensity.fit(x, t)
    return ESTIMATORS[settings.method](Data(x, t, y), ps, settings.options, variance)


@dataclass(frozen=True)
class Prepared:
    """One arm's units with every covariate present: what all its metrics share."""

    design: Design
    x: np.ndarray  # standardised, intercept first
    t: np.ndarray
    ps: propensity.Propensity
    diagnostics: Diagnostics
    warnings: list[EngineMessage]


def prepare(design: Design, t_all: np.ndarray, settings: Settings, arm: str) -> Prepared:
    """Fit the propensity and compute the diagnostics (on the units whose covariates are all present)."""
    t = t_all[design.keep]
    x = propensity.standardise(design.matrix)
    ps = propensity.fit(x, t)
    weights = ESTIMATORS[settings.method](Data(x, t, np.zeros_like(t)), ps, settings.options, False).weights
    diag = _diagnostics(design, t, ps, weights, settings, arm)
    return Prepared(design, x, t, ps, diag, _warnings(diag, t, settings))


def _diagnostics(design: Design, t: np.ndarray, ps: propensity.Propensity, weights: np.ndarray, settings: Settings,
                 arm: str) -> Diagnostics:
    lap = balance.overlap(ps.score, t)
    opts = settings.options
    matched = settings.method == "matching"
    left_out = int(((weights == 0.0) & (t == 1.0)).sum()) if matched and opts.estimand == "att" else \
        int((weights == 0.0).sum()) if settings.method != "regression" else 0
    ipw_like = settings.method in ("ipw", "doubly_robust")
    return Diagnostics(
        arm=arm, method=settings.method, estimand=settings.estimand, covariates=list(settings.covariates),
        dropped_covariates=design.dropped, smd_threshold=balance.SMD_THRESHOLD,
        balance=balance.smd_table(design.matrix, design.names, t, _balance_weights(ps, t, weights, settings),
                                  settings.estimand),
        propensity_treated_min=lap.treated[0], propensity_treated_max=lap.treated[1],
        propensity_control_min=lap.control[0], propensity_control_max=lap.control[1],
        outside_support=lap.outside, outside_support_share=lap.outside / t.size if t.size else 0.0,
        trimmed=left_out, trim=opts.trim if ipw_like else None, caliper=opts.caliper if matched else None,
        replacement=opts.replacement if matched else None,
        effective_n_treated=balance.effective_n(weights[t == 1.0]),
        effective_n_control=balance.effective_n(weights[t == 0.0]),
        max_weight=float(weights.max()) if ipw_like and weights.size else None,
        n_missing=int((~design.keep).sum()), converged=ps.converged and not ps.separated)


def _balance_weights(ps: propensity.Propensity, t: np.ndarray, weights: np.ndarray, settings: Settings) -> np.ndarray:
    """Regression adjustment reweights no unit: its balance is shown on the inverse-probability weights."""
    if settings.method != "regression":
        return weights
    out: np.ndarray = ipw.fit(Data(ps.x, t, np.zeros_like(t)), ps, settings.options, False).weights
    return out


def _warnings(d: Diagnostics, t: np.ndarray, settings: Settings) -> list[EngineMessage]:
    """The diagnostics' warnings, shown beside every adjusted estimate of the arm."""
    out = []
    if d.n_missing:
        out.append(warning("cg_missing_covariates", n=d.n_missing))
    if d.dropped_covariates:
        out.append(warning("cg_covariates_dropped", columns=", ".join(d.dropped_covariates)))
    if not d.converged:
        out.append(warning("cg_propensity_separation"))
    poor = [b for b in d.balance if not b.balanced]
    if poor:
        worst = max(poor, key=lambda b: math.inf if b.smd_after is None else abs(b.smd_after))
        out.append(warning("cg_poor_balance", n=len(poor), column=worst.name, smd_threshold=d.smd_threshold,
                           smd=math.nan if worst.smd_after is None else abs(worst.smd_after)))
    if d.outside_support_share > OVERLAP_WARNING_SHARE:
        out.append(warning("cg_poor_overlap", outside=d.outside_support, share=d.outside_support_share))
    if d.trimmed:
        if settings.method == "matching":
            out.append(warning("cg_unmatched", trimmed=d.trimmed))
        else:
            out.append(warning("cg_trimmed", trimmed=d.trimmed, share=d.trim or 0.0))
    if settings.method in ("ipw", "doubly_robust"):
        for group, ess, count in (("treatment", d.effective_n_treated, int((t == 1.0).sum())),
                                  ("control", d.effective_n_control, int((t == 0.0).sum()))):
            if count and ess < ESS_WARNING_SHARE * count:
                out.append(warning("cg_low_ess", group=group, ess=round(ess), n=count))
    return out


def estimate(prep: Prepared, y_all: np.ndarray, settings: Settings, level: float) -> AdjustedFigures:
    """One metric's adjusted effect: ``y_all`` holds the outcome of every unit of the arm's frame (NaN: missing)."""
    y = y_all[prep.design.keep]
    ok = np.isfinite(y)
    x, t, y = prep.x[ok], prep.t[ok], y[ok]
    base = {"method": settings.method, "estimand": settings.estimand}
    if min(int((t == 1.0).sum()), int((t == 0.0).sum())) < 2:
        return _figures(base, None, None, None, None, "sandwich", 0, 0)
    fit = fit_all(x, t, y, settings, variance=settings.bootstrap is None)
    z = norm_isf((1.0 - level) / 2.0)
    if settings.bootstrap is not None:
        boot = bootstrap.resample(lambda xx, tt, yy: fit_all(xx, tt, yy, settings, False), x, t, y,
                                  settings.bootstrap, settings.seed, level)
        figures = _figures(base, fit, boot.se, boot.difference_ci, boot.lift_ci, "bootstrap", fit.n_treated,
                           fit.n_control)
        return figures.model_copy(update={"bootstrap": settings.bootstrap, "seed": settings.seed})
    se, lift_se = _standard_errors(fit)
    diff_ci = None if se is None else (fit.effect - z * se, fit.effect + z * se)
    lift = _lift(fit)
    lift_ci = None if lift_se is None or lift is None else (lift - z * lift_se, lift + z * lift_se)
    kind = "abadie_imbens" if settings.method == "matching" else "sandwich"
    return _figures(base, fit, se, diff_ci, lift_ci, kind, fit.n_treated, fit.n_control)


def _lift(fit: Fit) -> float | None:
    return fit.mu1 / fit.mu0 - 1.0 if fit.mu0 != 0.0 and math.isfinite(fit.mu1 / fit.mu0) else None


def _standard_errors(fit: Fit) -> tuple[float | None, float | None]:
    """Of the difference and (by the delta method) of the lift ``mu1 / mu0 - 1``."""
    if fit.cov is None:
        return (math.sqrt(fit.var_effect) if fit.var_effect is not None and fit.var_effect >= 0.0 else None), None
    diff = float(np.array([1.0, -1.0]) @ fit.cov @ np.array([1.0, -1.0]))
    lift = None
    if fit.mu0 != 0.0:
        g = np.array([1.0 / fit.mu0, -fit.mu1 / fit.mu0 ** 2])
        lift = float(g @ fit.cov @ g)
    return (math.sqrt(diff) if diff >= 0.0 else None), (math.sqrt(lift) if lift is not None and lift >= 0.0 else None)


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def _figures(base: dict[str, str], fit: Fit | None, se: float | None, diff_ci: tuple[float, float] | None,
             lift_ci: tuple[float, float] | None, interval: str, n1: int, n0: int) -> AdjustedFigures:
    effect = _finite(fit.effect) if fit is not None else None
    se = _finite(se)
    p = 2.0 * norm_sf(abs(effect / se)) if effect is not None and se is not None and se > 0.0 else None
    return AdjustedFigures.model_validate({
        **base, "interval": interval, "treated_mean": _finite(fit.mu1) if fit else None,
        "control_mean": _finite(fit.mu0) if fit else None, "difference": effect,
        "difference_ci_low": _finite(diff_ci[0]) if diff_ci else None,
        "difference_ci_high": _finite(diff_ci[1]) if diff_ci else None,
        "relative_lift": _lift(fit) if fit is not None else None,
        "relative_lift_ci_low": _finite(lift_ci[0]) if lift_ci else None,
        "relative_lift_ci_high": _finite(lift_ci[1]) if lift_ci else None,
        "standard_error": se, "p_value": p, "treatment_n": n1, "control_n": n0})
