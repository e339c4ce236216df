"""Typed results of control groups beyond the two-group test: adjusted estimates and their diagnostics,
difference-in-differences, survival (retention and tenure) and the verdict of each metric.

Kept apart from :mod:`metricspec.engine.results` (which holds the rest of a run's Results) so that module
stays readable; the Results document includes these models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

#: One verdict per metric, from the figure the group decides on (after the correction):
#: ``better`` / ``worse`` (significant, in or against the metric's good direction), ``no_difference``
#: (not significant, the test had the power), ``too_small`` (too few units, outcomes or power to conclude:
#: never also "significant"), ``no_test`` (no figure to decide on), ``not_adjusted`` (a comparison that was
#: not randomised whose metric could not be adjusted: a difference, not an effect).
Verdict = Literal["better", "worse", "no_difference", "too_small", "no_test", "not_adjusted"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use (start-up)


class AdjustedFigures(_Model):
    """One metric's effect after adjusting for the covariates (``method`` and ``estimand`` of the group)."""

    method: str
    estimand: str
    interval: Literal["sandwich", "abadie_imbens", "bootstrap"]
    treated_mean: float | None  # mu1: the estimand population's mean outcome treated
    control_mean: float | None  # mu0: ... had it not been treated
    difference: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None
    relative_lift: float | None
    relative_lift_ci_low: float | None
    relative_lift_ci_high: float | None
    standard_error: float | None
    p_value: float | None  # normal test of the difference (from the standard error)
    treatment_n: int  # units in the estimate (after trimming, or the matched ones)
    control_n: int
    bootstrap: int | None = None  # resamples
    seed: int | None = None
    p_value_adjusted: float | None = None  # after the group's correction (None: correction none)


class CovariateBalance(_Model):
    """Standardised mean difference of one covariate (or one category's indicator) before and after."""

    name: str
    treated_mean: float
    control_mean: float
    treated_mean_adjusted: float  # weighted as the estimate weighs the units (matched, trimmed, reweighted)
    control_mean_adjusted: float
    smd_before: float | None
    smd_after: float | None
    balanced: bool  # |smd_after| below the threshold


class Diagnostics(_Model):
    """Whether the adjustment could work: balance of every covariate, overlap of the propensities, the
    effective sample size."""

    arm: str  # the treatment arm compared with the control
    method: str
    estimand: str
    covariates: list[str]
    dropped_covariates: list[str]  # constant or collinear: not in the models
    smd_threshold: float
    balance: list[CovariateBalance]
    propensity_treated_min: float
    propensity_treated_max: float
    propensity_control_min: float
    propensity_control_max: float
    outside_support: int  # units whose propensity lies outside the other group's range
    outside_support_share: float
    trimmed: int  # units left out by `trim` (ipw, doubly_robust) or without a match (matching)
    trim: float | None
    caliper: float | None
    replacement: bool | None
    effective_n_treated: float  # (Σw)² / Σw² of each group's weights
    effective_n_control: float
    max_weight: float | None  # the largest stabilised weight (ipw, doubly_robust)
    n_missing: int  # units left out for a missing covariate
    converged: bool  # the propensity model's fit converged (no separation)


class DidFigures(_Model):
    """Difference-in-differences: the change in the treated minus the change in the controls."""

    pre_column: str  # the pre-period the change is measured from (the latest)
    treated_change: float | None
    control_change: float | None
    difference: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None
    p_value: float | None
    pre_trend_difference: float | None  # the same between the two latest pre-periods (a placebo)
    pre_trend_p_value: float | None
    parallel: bool | None  # None: one pre-period, no check possible


class SurvivalPoint(_Model):
    """A step of a Kaplan–Meier curve: from ``days`` on, ``survival`` (exact there). A curve keeps the steps where
    it has fallen by at least a point since the last one kept, and its last event (see
    :func:`metricspec.engine.experiments.survival_compare.thin_curve`)."""

    days: float
    survival: float


class SurvivalArm(_Model):
    """One group's Kaplan–Meier curve and its summaries."""

    label: str
    n: int
    events: int
    censored: int
    median: float | None  # None: more than half still active at the longest follow-up
    median_ci_low: float | None
    median_ci_high: float | None
    retention: list[float | None]  # S(k) at each of ``SurvivalFigures.at_days``
    retention_ci_low: list[float | None]
    retention_ci_high: list[float | None]
    curve: list[SurvivalPoint]


class RetentionLift(_Model):
    days: int
    difference: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None
    relative_lift: float | None
    p_value: float | None
    relative_lift_ci_low: float | None = None  # adjusted survival only (delta method or bootstrap)
    relative_lift_ci_high: float | None = None


class AdjustedSurvival(_Model):
    """Survival with every unit weighted by its inverse-probability weight (the group's propensity model,
    estimand and trimming): both groups as they would be in the estimand's population."""

    estimand: str
    interval: Literal["sandwich", "bootstrap"]
    trim: float
    control: SurvivalArm  # n, events, censored: the units with weight (not trimmed)
    treatment: SurvivalArm
    hazard_ratio: float | None  # weighted Cox, robust (sandwich) or bootstrap interval
    hazard_ratio_ci_low: float | None
    hazard_ratio_ci_high: float | None
    hazard_ratio_p_value: float | None
    lifts: list[RetentionLift]
    bootstrap: int | None = None
    seed: int | None = None


class SurvivalFigures(_Model):
    """Survival of two groups: curves, medians, the log-rank test, the hazard ratio, retention at k days."""

    at_days: list[int]
    control: SurvivalArm
    treatment: SurvivalArm
    logrank_chi2: float | None
    logrank_p_value: float | None
    hazard_ratio: float | None  # treatment vs control (Cox, Breslow ties): below 1 = treated leave later
    hazard_ratio_ci_low: float | None
    hazard_ratio_ci_high: float | None
    hazard_ratio_p_value: float | None
    lifts: list[RetentionLift]
    adjusted: AdjustedSurvival | None = None  # a comparison that was not randomised, adjusted
