"""Typed results of control groups (the part of the Results document of :mod:`metricspec.engine.results`
about them): each group's comparison of its metrics (:class:`ExperimentResult`), with sample-ratio checks,
sequential and Bayesian figures, and beyond the two-group test adjusted estimates and their diagnostics,
difference-in-differences, survival (retention and tenure) and the verdict of each metric.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from metricspec.engine.result_base import EngineMessage, ResultModel

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


class SequentialFigures(ResultModel):
    """Always-valid p-values and intervals (gbstats' sequential test), safe to look at after every new unit."""

    tuning: float
    p_value: float | None
    p_value_adjusted: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None
    relative_p_value: float | None
    relative_p_value_adjusted: float | None
    relative_lift_ci_low: float | None
    relative_lift_ci_high: float | None


class BayesianFigures(ResultModel):
    """Posterior of the relative lift (gbstats' effect model; a flat prior unless one is given)."""

    prior_mean: float | None  # None: gbstats' default flat (improper) prior
    prior_stddev: float | None
    relative_lift: float | None  # posterior mean
    relative_lift_stddev: float | None
    credible_interval_low: float | None
    credible_interval_high: float | None
    chance_to_beat_control: float | None  # P(treatment is better), in the metric's good direction
    expected_loss: float | None  # relative lift given up, on average, by shipping the treatment
    expected_loss_control: float | None  # ... by keeping the control


class MetricComparison(ResultModel):
    """Result of comparing one metric; ``None`` where a value cannot be computed."""

    name: str
    title: str
    kind: str
    test: str
    control_n: int
    treatment_n: int
    control_value: float | None
    treatment_value: float | None
    difference: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None
    relative_lift: float | None
    relative_lift_ci_low: float | None
    relative_lift_ci_high: float | None
    statistic: float | None
    p_value: float | None  # the test of the difference (``test``), before any correction
    significant: bool | None  # the method's verdict (after the correction, if any)
    better: bool | None
    cuped: bool
    variance_reduction: float | None
    mde: float | None
    warnings: list[str]
    warning_codes: list[EngineMessage] = Field(default_factory=list)  # the same warnings as message codes
    direction: str = "increase"
    quantile: float | None = None  # kind quantile: 0.5 = median
    relative_p_value: float | None = None  # delta-method test of the relative lift (gbstats' default)
    p_value_adjusted: float | None = None  # after the control group's correction; None when it is "none"
    relative_p_value_adjusted: float | None = None
    control_ci_low: float | None = None  # kind quantile: order-statistic interval of each group's quantile
    control_ci_high: float | None = None
    treatment_ci_low: float | None = None
    treatment_ci_high: float | None = None
    sequential: SequentialFigures | None = None
    bayesian: BayesianFigures | None = None
    verdict: Verdict | None = None  # the one conclusion shown for the metric
    unit: str | None = None  # how values are shown: number, count, percent, currency (the group's), days
    arm: str | None = None  # several treatment arms: the arm this row compares with the control
    adjusted: AdjustedFigures | None = None  # randomised: false with adjust: the effect after adjustment
    did: DidFigures | None = None  # pre_period: difference-in-differences
    survival: SurvivalFigures | None = None  # kind survival


class SampleRatioCheck(ResultModel):
    """Chi-square goodness of fit of the group sizes against the expected split."""

    expected_treatment_share: float
    control_n: int
    treatment_n: int
    chi2: float | None
    p_value: float | None
    mismatch: bool
    threshold: float = 0.001
    group_counts: dict[str, int] | None = None  # several arms: units of each group by label, the control last
    planned_shares: dict[str, float] | None = None  # several arms: the planned share of each group


class SegmentResult(ResultModel):
    """The comparison within one value of a segment column."""

    column: str
    value: str | None  # None: units with no value in the column
    srm: SampleRatioCheck
    metrics: list[MetricComparison]


class ExperimentResult(ResultModel):
    """All comparisons of one control group."""

    name: str
    alpha: float
    power: float
    confidence_level: float
    control_label: str
    treatment_label: str
    srm: SampleRatioCheck
    metrics: list[MetricComparison]
    warnings: list[str]
    warning_codes: list[EngineMessage] = Field(default_factory=list)
    title: str | None = None
    description: str | None = None
    method: Literal["frequentist", "sequential", "bayesian"] = "frequentist"
    correction: Literal["holm", "bh", "dunnett", "none"] = "none"
    time_column: str | None = None  # units entered when this column fell in [window_start, window_end]
    window_start: dt.date | None = None
    window_end: dt.date | None = None  # the window's end or the as-of date, whichever is earlier
    campaign: str | None = None
    segments: list[SegmentResult] = Field(default_factory=list)
    randomised: bool = True  # false: a comparison of groups that chose themselves, not an experiment
    arms: list[str] = Field(default_factory=list)  # several treatment arms: their labels (else empty)
    currency: str | None = None  # the spec's, for metrics in currency
    diagnostics: list[Diagnostics] = Field(default_factory=list)  # adjust: one per treatment arm
