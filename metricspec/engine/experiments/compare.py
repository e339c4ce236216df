"""Compare one metric between treatment and control: every figure of a :class:`MetricComparison`.

The verdict (``significant``, ``better``) and the adjusted p-values need the whole family of tests,
so :func:`compare` leaves them empty and :func:`metricspec.engine.experiments.evaluate.decide` fills
them in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, model_validator

from metricspec.engine.experiments import did, effects, fixed
from metricspec.engine.experiments.effects import ArmStats
from metricspec.engine.experiments.fixed import (
    FloatArray,
    Levels,
    Outcome,
    finite,
    variance,
    warning,
)
from metricspec.engine.experiments.multitest import Correction
from metricspec.engine.experiments.quantiles import QuantileArm, quantile_arm
from metricspec.engine.experiments.survival_metric import compare_survival_metric
from metricspec.engine.results import (
    BayesianFigures,
    EngineMessage,
    MetricComparison,
    SequentialFigures,
)

MIN_UNITS = 30
MIN_OUTCOMES = 10
TESTS = {"proportion": "two-proportion z-test", "mean": "Welch t-test", "ratio": "delta-method z-test",
         "quantile": "quantile t-test (order-statistic variance)",
         "survival": "retention at {days} days (Kaplan–Meier, Greenwood z-test)"}
Method = Literal["frequentist", "sequential", "bayesian"]


class MetricDefinition(BaseModel):
    """One metric to compare between the groups."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["proportion", "mean", "ratio", "quantile", "survival"]
    column: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    covariate: str | None = None
    quantile: float | None = None
    direction: Literal["increase", "decrease"] = "increase"
    title: str | None = None
    unit: str | None = None  # how values are shown; default percent for proportions and survival, else number
    duration: str | None = None  # survival: days followed
    event: str | None = None  # survival: the end was seen
    at_days: tuple[int, ...] = (90,)  # survival: retention at these days, the first is the headline
    pre_period: tuple[str, ...] = ()  # the metric before exposure, oldest first: difference-in-differences

    @property
    def shown_unit(self) -> str:
        return self.unit or ("percent" if self.kind in ("proportion", "survival") else "number")

    @model_validator(mode="after")
    def _check_columns(self) -> MetricDefinition:
        if self.kind == "survival":
            if not (self.duration and self.event) or self.column or self.numerator or self.denominator:
                raise ValueError("a survival metric takes duration and event, not column/numerator/denominator")
            return self
        if self.kind == "ratio":
            if not (self.numerator and self.denominator) or self.column:
                raise ValueError("a ratio metric takes numerator and denominator, not column")
        elif not self.column or self.numerator or self.denominator:
            raise ValueError(f"a {self.kind} metric takes column, not numerator/denominator")
        if (self.kind == "quantile") != (self.quantile is not None):
            raise ValueError("a quantile metric takes `quantile` (0 < q < 1); other kinds do not")
        if self.quantile is not None and not 0.0 < self.quantile < 1.0:
            raise ValueError(f"quantile must be strictly between 0 and 1, got {self.quantile}")
        if self.kind == "quantile" and self.covariate:
            raise ValueError("CUPED (covariate) does not apply to quantile metrics")
        return self


@dataclass(frozen=True)
class Analysis:
    """How a control group is analysed (the spec's method, correction and levels)."""

    levels: Levels
    method: Method = "frequentist"
    correction: Correction = "holm"
    sequential_tuning: float = 5000.0
    prior: tuple[float, float] | None = None  # (mean, stddev) of a proper prior on the lift

    @property
    def ci_alpha(self) -> float:
        return 1.0 - self.levels.confidence_level


def metric_columns(metric: MetricDefinition) -> list[str]:
    if metric.kind == "survival":
        return [c for c in (metric.duration, metric.event) if c]
    cols = [metric.numerator, metric.denominator] if metric.kind == "ratio" else [metric.column]
    if metric.covariate and metric.kind not in ("ratio", "quantile"):
        cols.append(metric.covariate)
    return [c for c in cols if c]


def all_columns(metric: MetricDefinition) -> list[str]:
    """Every column the metric reads: its own and its pre-periods."""
    return [*metric_columns(metric), *metric.pre_period]


def _arrays(data: pl.DataFrame, cols: list[str]) -> tuple[list[FloatArray], int]:
    """Float arrays of ``cols`` with rows missing/non-finite in any column dropped."""
    mats = [data.get_column(c).cast(pl.Float64).to_numpy().astype(np.float64) for c in cols]
    keep = np.logical_and.reduce([np.isfinite(m) for m in mats])
    return [m[keep] for m in mats], int(keep.size - keep.sum())


def warning_fields(warnings: list[EngineMessage]) -> dict[str, object]:
    """Model fields for ``warnings``: the English sentences and the same as message codes."""
    return {"warnings": [w.english for w in warnings], "warning_codes": list(warnings)}


@dataclass(frozen=True)
class _Prepared:
    """A metric's data after dropping missing values and CUPED: what the tests read."""

    y_t: FloatArray
    y_c: FloatArray
    raw_t: list[FloatArray]  # the metric's columns as read (numerator, denominator or value, covariate)
    raw_c: list[FloatArray]
    cuped: fixed.Cuped | None


def compare(data_t: pl.DataFrame, data_c: pl.DataFrame, metric: MetricDefinition, an: Analysis) -> MetricComparison:
    """Compare one metric between treatment and control (verdict left for :func:`decide`)."""
    if metric.kind == "survival":
        return compare_survival_metric(data_t, data_c, metric, an)
    result = _compare(data_t, data_c, metric, an)
    if metric.pre_period and metric.column:
        cols = [metric.column, *metric.pre_period]
        figures = did.did([_column(data_t, c) for c in cols], [_column(data_c, c) for c in cols],
                          list(metric.pre_period), an.levels)
        extra = ([warning("cg_did_pre_trends", pre_column=metric.pre_period[-2],
                          p=figures.pre_trend_p_value or 0.0)] if figures.parallel is False else [])
        result = result.model_copy(update={"did": figures, **warning_fields([*result.warning_codes, *extra])})
    return result


def _column(data: pl.DataFrame, column: str) -> FloatArray:
    out: FloatArray = data.get_column(column).cast(pl.Float64).to_numpy().astype(np.float64)
    return out


def _compare(data_t: pl.DataFrame, data_c: pl.DataFrame, metric: MetricDefinition, an: Analysis) -> MetricComparison:
    cols = metric_columns(metric)
    (t_arrays, dropped_t), (c_arrays, dropped_c) = _arrays(data_t, cols), _arrays(data_c, cols)
    warnings: list[EngineMessage] = []
    if dropped_t + dropped_c:
        warnings.append(warning("cg_dropped_missing", n=dropped_t + dropped_c, columns=", ".join(cols),
                                n_treatment=dropped_t, n_control=dropped_c))
    if metric.covariate and metric.kind == "ratio":
        warnings.append(warning("cg_covariate_ratio"))
    n_t, n_c = t_arrays[0].size, c_arrays[0].size
    base: dict[str, object] = {
        "name": metric.name, "title": metric.title or metric.name, "kind": metric.kind, "test": TESTS[metric.kind],
        "control_n": n_c, "treatment_n": n_t, "direction": metric.direction, "quantile": metric.quantile,
        "unit": metric.shown_unit}
    empty = [g for g, n in (("treatment", n_t), ("control", n_c)) if n == 0]
    if empty:
        warnings.append(warning("cg_no_data_both") if len(empty) == 2 else warning("cg_no_data_group", group=empty[0]))
        return _empty(base, warnings)
    if metric.kind == "proportion" and not all(np.isin(a, (0.0, 1.0)).all() for a in (t_arrays[0], c_arrays[0])):
        warnings.append(warning("cg_not_proportion", column=metric.column or ""))
        return _empty(base, warnings)
    if metric.kind == "quantile":
        return _compare_quantile(base, t_arrays[0], c_arrays[0], metric, an, warnings)
    prep = _prepare(t_arrays, c_arrays, metric, warnings)
    warnings += _size_warnings(metric.kind, t_arrays[0], c_arrays[0])
    if metric.kind == "proportion":
        outcome = fixed.proportion(prep.y_t, prep.y_c, prep.cuped is not None, an.levels)
    elif metric.kind == "mean":
        outcome = fixed.welch(prep.y_t, prep.y_c, an.levels)
    else:
        outcome = fixed.ratio(t_arrays[0], t_arrays[1], c_arrays[0], c_arrays[1], an.levels)
    extra: dict[str, object] = {"cuped": prep.cuped is not None,
                                "variance_reduction": prep.cuped.variance_reduction if prep.cuped else None}
    return _finish(base, outcome, _arms(metric, prep), metric, an, warnings, extra)


def _prepare(t_arrays: list[FloatArray], c_arrays: list[FloatArray], metric: MetricDefinition,
             warnings: list[EngineMessage]) -> _Prepared:
    y_t, y_c = t_arrays[0], c_arrays[0]
    adj = None
    if len(t_arrays) == 2 and metric.kind != "ratio":
        adj = fixed.cuped(np.concatenate([y_t, y_c]), np.concatenate([t_arrays[1], c_arrays[1]]))
        if adj is None:
            warnings.append(warning("cg_cuped_skipped", covariate=metric.covariate or ""))
        else:
            y_t, y_c = adj.adjusted[:y_t.size], adj.adjusted[y_t.size:]
    return _Prepared(y_t, y_c, t_arrays, c_arrays, adj)


def _arm(metric: MetricDefinition, y: FloatArray, raw: list[FloatArray], cup: fixed.Cuped | None) -> ArmStats | None:
    """One group as gbstats summarises it (``ProportionStatistic``, ``SampleMeanStatistic``,
    ``RatioStatistic`` or ``RegressionAdjustedStatistic``)."""
    n = int(raw[0].size)
    if metric.kind == "ratio":
        r, var = fixed.ratio_estimate(raw[0], raw[1])
        return None if r is None or var is None else ArmStats(n, r, var * n, r)
    post = raw[0]
    mean = float(np.mean(post))
    post_var = mean * (1.0 - mean) if metric.kind == "proportion" else variance(post, 1)
    if cup is None:
        return ArmStats(n, mean, post_var, mean)
    if n < 2:
        return None
    pre = raw[1]
    cov = float(np.cov(post, pre, ddof=1)[0, 1]) if variance(pre, 1) > 0.0 else 0.0
    adjusted_var = post_var + cup.theta ** 2 * variance(pre, 1) - 2.0 * cup.theta * cov
    return ArmStats(n, float(np.mean(y)), adjusted_var, mean)


def _arms(metric: MetricDefinition, prep: _Prepared) -> tuple[ArmStats, ArmStats] | None:
    a = _arm(metric, prep.y_c, prep.raw_c, prep.cuped)
    b = _arm(metric, prep.y_t, prep.raw_t, prep.cuped)
    return None if a is None or b is None else (a, b)


def _compare_quantile(base: dict[str, object], y_t: FloatArray, y_c: FloatArray, metric: MetricDefinition,
                      an: Analysis, warnings: list[EngineMessage]) -> MetricComparison:
    """gbstats' quantile test on the difference; each group's quantile with its order-statistic interval."""
    q = float(metric.quantile or 0.5)
    arm_t, arm_c = (quantile_arm(y, q, an.levels.confidence_level) for y in (y_t, y_c))
    warnings += _size_warnings("quantile", y_t, y_c)
    for label, arm in (("treatment", arm_t), ("control", arm_c)):
        if arm.problem == "too_few":
            warnings.append(warning("cg_quantile_too_few", group=label, n=arm.n, quantile=q))
        elif arm.problem == "ties":
            warnings.append(warning("cg_quantile_ties", group=label, quantile=q))
    arms = (arm_c.stats, arm_t.stats) if arm_c.stats and arm_t.stats else None
    outcome = Outcome(arm_c.value, arm_t.value)
    if arms is not None:
        test = effects.fixed_test(*arms, relative=False, alpha=an.ci_alpha)
        var_c, var_t = arms[0].variance / arms[0].n, arms[1].variance / arms[1].n
        outcome = Outcome(arm_c.value, arm_t.value, var_c, var_t, test.statistic if test else None,
                          test.p_value if test else None, (test.ci_low, test.ci_high) if test else None)
    return _finish(base, outcome, arms, metric, an, warnings, {"cuped": False, "variance_reduction": None,
                                                              **_arm_ci("control", arm_c), **_arm_ci("treatment", arm_t)})


def _arm_ci(label: str, arm: QuantileArm) -> dict[str, float | None]:
    low, high = arm.ci if arm.ci is not None else (None, None)
    return {f"{label}_ci_low": low, f"{label}_ci_high": high}


def _size_warnings(kind: str, y_t: FloatArray, y_c: FloatArray) -> list[EngineMessage]:
    """"Too small to conclude" warnings from group sizes (and 0/1 outcome counts)."""
    out = []
    for label, y in (("treatment", y_t), ("control", y_c)):
        if y.size < MIN_UNITS:
            out.append(warning("cg_too_few_units", group=label, n=int(y.size), minimum=MIN_UNITS))
        if kind == "proportion":
            successes = int(y.sum())
            if min(successes, y.size - successes) < MIN_OUTCOMES:
                out.append(warning("cg_too_few_outcomes", group=label, successes=successes,
                                   failures=int(y.size - successes), minimum=MIN_OUTCOMES))
    return out


_EMPTY_FIELDS = ("control_value", "treatment_value", "difference", "difference_ci_low", "difference_ci_high",
                 "relative_lift", "relative_lift_ci_low", "relative_lift_ci_high", "statistic", "p_value",
                 "significant", "better", "variance_reduction", "mde")


def _empty(base: dict[str, object], warnings: list[EngineMessage]) -> MetricComparison:
    return MetricComparison.model_validate({**base, **dict.fromkeys(_EMPTY_FIELDS), "cuped": False,
                                            **warning_fields(warnings)})


def _sanitize(o: Outcome) -> tuple[Outcome, bool]:
    """Replace non-finite numbers by None; report whether everything was finite."""
    values = (o.control_value, o.treatment_value, o.var_c, o.var_t, o.statistic, o.p_value)
    c = [None if v is None else finite(v) for v in values]
    ci = o.ci if o.ci is None or all(map(math.isfinite, o.ci)) else None
    cleaned = Outcome(c[0], c[1], c[2], c[3], c[4], c[5], ci, o.warnings)
    return cleaned, tuple(c) == values and ci == o.ci


def _lift(o: Outcome, arms: tuple[ArmStats, ArmStats] | None, an: Analysis) -> dict[str, float | None]:
    """Relative lift ``(t - c) / c`` (c before CUPED) with gbstats' delta-method test and interval."""
    test = effects.fixed_test(*arms, relative=True, alpha=an.ci_alpha) if arms else None
    if test is not None:
        return {"relative_lift": finite(test.estimate), "relative_lift_ci_low": finite(test.ci_low),
                "relative_lift_ci_high": finite(test.ci_high), "relative_p_value": test.p_value}
    t, c = o.treatment_value, o.control_value
    if arms is not None:
        t, c = arms[0].unadjusted_mean + arms[1].mean - arms[0].mean, arms[0].unadjusted_mean
    lift = finite((t - c) / c) if t is not None and c is not None and c != 0.0 else None
    return {"relative_lift": lift, "relative_lift_ci_low": None, "relative_lift_ci_high": None,
            "relative_p_value": None}


def _finish(base: dict[str, object], o: Outcome, arms: tuple[ArmStats, ArmStats] | None, metric: MetricDefinition,
            an: Analysis, warnings: list[EngineMessage], extra: dict[str, object]) -> MetricComparison:
    """Shared part: difference, lift, method figures, MDE and the warnings that depend on them."""
    o, clean = _sanitize(o)
    warnings = warnings + list(o.warnings)
    if not clean:
        warnings.append(warning("cg_overflow"))
    t, c = o.treatment_value, o.control_value
    diff = finite(t - c) if t is not None and c is not None else None
    lift = _lift(o, arms, an)
    if lift["relative_lift"] is None and diff is not None:
        warnings.append(warning("cg_zero_control"))
    mde = None
    if o.var_t is not None and o.var_c is not None:
        mde = finite(an.levels.z_mde * math.sqrt(o.var_t + o.var_c))
        raw_significant = o.p_value is not None and o.p_value < an.levels.alpha
        if mde is not None and diff is not None and not raw_significant and abs(diff) < mde:
            warnings.append(warning("cg_below_mde", difference=diff, mde=mde, alpha=an.levels.alpha,
                                    power=an.levels.power))
    ci = o.ci
    return MetricComparison.model_validate({
        **base, "control_value": c, "treatment_value": t, "difference": diff,
        "difference_ci_low": None if ci is None else ci[0], "difference_ci_high": None if ci is None else ci[1],
        **lift, "statistic": o.statistic, "p_value": o.p_value, "significant": None, "better": None,
        "mde": mde, **extra, **warning_fields(warnings),
        "sequential": _sequential(arms, an) if an.method == "sequential" else None,
        "bayesian": _bayesian(arms, metric, an) if an.method == "bayesian" else None})


def _sequential(arms: tuple[ArmStats, ArmStats] | None, an: Analysis) -> SequentialFigures:
    absolute = effects.sequential_test(*arms, False, an.ci_alpha, an.sequential_tuning) if arms else None
    relative = effects.sequential_test(*arms, True, an.ci_alpha, an.sequential_tuning) if arms else None
    return SequentialFigures(
        tuning=an.sequential_tuning, p_value=absolute.p_value if absolute else None, p_value_adjusted=None,
        difference_ci_low=absolute.ci_low if absolute else None,
        difference_ci_high=absolute.ci_high if absolute else None,
        relative_p_value=relative.p_value if relative else None, relative_p_value_adjusted=None,
        relative_lift_ci_low=relative.ci_low if relative else None,
        relative_lift_ci_high=relative.ci_high if relative else None)


def _bayesian(arms: tuple[ArmStats, ArmStats] | None, metric: MetricDefinition, an: Analysis) -> BayesianFigures:
    post = effects.bayesian_effect(*arms, alpha=an.ci_alpha, inverse=metric.direction == "decrease",
                                   prior=an.prior) if arms else None
    prior_mean, prior_sd = an.prior if an.prior is not None else (None, None)
    if post is None:
        return BayesianFigures(prior_mean=prior_mean, prior_stddev=prior_sd, relative_lift=None,
                               relative_lift_stddev=None, credible_interval_low=None, credible_interval_high=None,
                               chance_to_beat_control=None, expected_loss=None, expected_loss_control=None)
    return BayesianFigures(
        prior_mean=prior_mean, prior_stddev=prior_sd, relative_lift=post.mean, relative_lift_stddev=post.stddev,
        credible_interval_low=post.ci_low, credible_interval_high=post.ci_high,
        chance_to_beat_control=post.chance_to_win, expected_loss=post.expected_loss,
        expected_loss_control=post.expected_loss_control)
