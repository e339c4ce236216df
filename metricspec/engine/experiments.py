"""Control-group comparison statistics: treatment vs control on one row per unit.

Pure library (no I/O). :func:`evaluate_experiment` compares the two groups on each
:class:`MetricDefinition` and checks the sample ratio. Tests used:

* ``proportion`` — two-proportion z-test. The test statistic uses the *pooled* standard
  error (the variance under "no difference"); the confidence interval of the difference uses
  the *unpooled* (Wald) standard error. Matches statsmodels ``proportions_ztest`` and
  ``confint_proportions_2indep(method="wald", compare="diff")``.
* ``mean`` — Welch t-test with Welch–Satterthwaite degrees of freedom (scipy
  ``ttest_ind(equal_var=False)``; CI as statsmodels ``tconfint_diff(usevar="unequal")``).
* ``ratio`` — sum(numerator) / sum(denominator) per group, variance by the delta method on
  unit-level data, z-test on the difference.

Optional CUPED adjustment (proportion and mean) replaces Y by
``Y - theta * (X - mean(X))`` with ``theta = cov(Y, X) / var(X)`` on the pooled data and runs
the same test on the adjusted values. Degenerate inputs (zero variance, zero denominators,
empty groups) give ``None`` and a warning, never inf/NaN or an exception.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, model_validator
from scipy import special

from metricspec.engine.results import EngineMessage

# Distribution functions straight from scipy.special: they are exactly what scipy.stats' norm, t and
# chi2 compute (tests/test_experiments.py checks equality), without the second scipy.stats takes to import.


def _norm_sf(x: float) -> float:
    return float(special.ndtr(-x))


def _norm_isf(q: float) -> float:
    return float(-special.ndtri(q))


def _norm_ppf(q: float) -> float:
    return float(special.ndtri(q))


def _t_sf(x: float, df: float) -> float:
    return float(special.stdtr(df, -x))


def _t_isf(q: float, df: float) -> float:
    return float(-special.stdtrit(df, q))


def _chi2_sf(x: float, df: float) -> float:
    return float(special.chdtrc(df, x))


MIN_UNITS = 30
MIN_OUTCOMES = 10
SRM_THRESHOLD = 0.001
TESTS = {"proportion": "two-proportion z-test", "mean": "Welch t-test", "ratio": "delta-method z-test"}

FloatArray = np.ndarray


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricDefinition(_Frozen):
    """One metric to compare between the groups."""

    name: str
    kind: Literal["proportion", "mean", "ratio"]
    column: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    covariate: str | None = None
    direction: Literal["increase", "decrease"] = "increase"
    title: str | None = None

    @model_validator(mode="after")
    def _check_columns(self) -> MetricDefinition:
        if self.kind == "ratio":
            if not (self.numerator and self.denominator) or self.column:
                raise ValueError("a ratio metric takes numerator and denominator, not column")
        elif not self.column or self.numerator or self.denominator:
            raise ValueError(f"a {self.kind} metric takes column, not numerator/denominator")
        return self


class MetricComparison(_Frozen):
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
    p_value: float | None
    significant: bool | None
    better: bool | None
    cuped: bool
    variance_reduction: float | None
    mde: float | None
    warnings: list[str]
    warning_codes: list[EngineMessage] = []  # the same warnings as message codes (translated scorecards)


class SampleRatioCheck(_Frozen):
    """Chi-square goodness of fit of the group sizes against the expected split."""

    expected_treatment_share: float
    control_n: int
    treatment_n: int
    chi2: float | None
    p_value: float | None
    mismatch: bool


class ExperimentResult(_Frozen):
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
    warning_codes: list[EngineMessage] = []


@dataclass(frozen=True)
class _Levels:
    alpha: float
    power: float
    confidence_level: float

    @property
    def z_ci(self) -> float:
        return _norm_isf((1.0 - self.confidence_level) / 2.0)

    @property
    def z_mde(self) -> float:
        return _norm_isf(self.alpha / 2.0) + _norm_ppf(self.power)


@dataclass(frozen=True)
class _Outcome:
    """Kind-specific part of a comparison (group estimates and the test)."""

    control_value: float | None = None
    treatment_value: float | None = None
    var_c: float | None = None  # variance of the control estimate (SE squared)
    var_t: float | None = None
    statistic: float | None = None
    p_value: float | None = None
    ci: tuple[float, float] | None = None
    warnings: tuple[EngineMessage, ...] = ()


def _warning(code: str, **params: str | int | float) -> EngineMessage:
    return EngineMessage(code=code, params=params)


def _warning_fields(warnings: Sequence[EngineMessage]) -> dict[str, object]:
    """Model fields for ``warnings``: the English sentences and the same as message codes."""
    return {"warnings": [w.english for w in warnings], "warning_codes": list(warnings)}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _var(values: FloatArray, ddof: int) -> float:
    """Variance that is exactly zero for constant data (no rounding noise)."""
    if values.size <= ddof or np.all(values == values[0]):
        return 0.0
    return float(np.var(values, ddof=ddof))


def _z_outcome(m_t: float, m_c: float, var_t: float, var_c: float, se_test: float,
               levels: _Levels, warnings: list[EngineMessage]) -> _Outcome:
    """z-test on ``m_t - m_c`` with ``se_test``; Wald CI from the per-group variances."""
    diff = m_t - m_c
    se_ci = math.sqrt(var_t + var_c)
    ci = (diff - levels.z_ci * se_ci, diff + levels.z_ci * se_ci)
    if se_test <= 0.0:
        warnings.append(_warning("cg_zero_variance"))
        return _Outcome(m_c, m_t, var_c, var_t, ci=ci, warnings=tuple(warnings))
    z = diff / se_test
    p = 2.0 * _norm_sf(abs(z))
    return _Outcome(m_c, m_t, var_c, var_t, z, p, ci, tuple(warnings))


def _proportion(y_t: FloatArray, y_c: FloatArray, adjusted: bool, levels: _Levels) -> _Outcome:
    """Two-proportion z-test: pooled SE for the statistic, unpooled SE for the CI.

    Without CUPED the group variances are ``p(1 - p)`` from the counts. With CUPED the same
    formulas are applied to the adjusted values using population (ddof=0) variances, which
    reduce to ``p(1 - p)`` for 0/1 data.
    """
    n_t, n_c = y_t.size, y_c.size
    if not adjusted:
        p_t, p_c = float(y_t.sum()) / n_t, float(y_c.sum()) / n_c
        pooled = float(y_t.sum() + y_c.sum()) / (n_t + n_c)
        v_t, v_c, v_pool = p_t * (1 - p_t), p_c * (1 - p_c), pooled * (1 - pooled)
    else:
        p_t, p_c = float(np.mean(y_t)), float(np.mean(y_c))
        v_t, v_c, v_pool = _var(y_t, 0), _var(y_c, 0), _var(np.concatenate([y_t, y_c]), 0)
    se_test = math.sqrt(max(v_pool, 0.0) * (1.0 / n_t + 1.0 / n_c))
    return _z_outcome(p_t, p_c, v_t / n_t, v_c / n_c, se_test, levels, [])


def _welch(y_t: FloatArray, y_c: FloatArray, levels: _Levels) -> _Outcome:
    """Welch t-test and Welch–Satterthwaite CI of the difference in means."""
    n_t, n_c = y_t.size, y_c.size
    m_t, m_c = float(np.mean(y_t)), float(np.mean(y_c))
    if n_t < 2 or n_c < 2:
        return _Outcome(m_c, m_t, warnings=(_warning("cg_small_group"),))
    s_t, s_c = _var(y_t, 1) / n_t, _var(y_c, 1) / n_c
    se = math.sqrt(s_t + s_c)
    if se <= 0.0:
        return _Outcome(m_c, m_t, s_c, s_t,
                        warnings=(_warning("cg_zero_variance"),))
    w_t, w_c = s_t / (s_t + s_c), s_c / (s_t + s_c)  # Welch-Satterthwaite df, written to avoid underflow
    df = 1.0 / (w_t * w_t / (n_t - 1) + w_c * w_c / (n_c - 1))
    diff = m_t - m_c
    t = diff / se
    p = 2.0 * _t_sf(abs(t), df)
    half = _t_isf((1.0 - levels.confidence_level) / 2.0, df) * se
    return _Outcome(m_c, m_t, s_c, s_t, t, p, (diff - half, diff + half))


def _ratio_estimate(num: FloatArray, den: FloatArray) -> tuple[float | None, float | None]:
    """``R = sum(num) / sum(den)`` and its delta-method variance.

    ``Var(R) ~ (var_n - 2 R cov_nd + R^2 var_d) / (n mean_d^2)``, computed as the sample
    variance (ddof=1) of the residuals ``num - R den`` which is the same quantity.
    """
    total_d = float(den.sum())
    if total_d == 0.0:
        return None, None
    r = float(num.sum()) / total_d
    if num.size < 2:
        return r, None
    mean_d = total_d / num.size
    return r, _var(num - r * den, 1) / num.size / mean_d / mean_d


def _ratio(n_t: FloatArray, d_t: FloatArray, n_c: FloatArray, d_c: FloatArray,
           levels: _Levels) -> _Outcome:
    """Delta-method z-test on the difference of two ratios of sums."""
    r_t, v_t = _ratio_estimate(n_t, d_t)
    r_c, v_c = _ratio_estimate(n_c, d_c)
    if r_t is None or r_c is None:
        groups = [g for g, r in (("treatment", r_t), ("control", r_c)) if r is None]
        zero = _warning("cg_zero_denominator_both") if len(groups) == 2 else _warning("cg_zero_denominator_group",
                                                                                      group=groups[0])
        return _Outcome(r_c, r_t, warnings=(zero,))
    if v_t is None or v_c is None:
        return _Outcome(r_c, r_t, warnings=(_warning("cg_small_group"),))
    return _z_outcome(r_t, r_c, v_t, v_c, math.sqrt(v_t + v_c), levels, [])


def _relative_lift(o: _Outcome, z: float) -> tuple[float | None, float | None, float | None]:
    """Lift ``(t - c) / c`` and its delta-method CI; all ``None`` when ``c`` is 0."""
    t, c = o.treatment_value, o.control_value
    if t is None or c is None or c == 0.0:
        return None, None, None
    lift = _finite((t - c) / c)
    if lift is None or o.var_t is None or o.var_c is None:
        return lift, None, None
    # var(t/c) ~ var_t/c^2 + t^2 var_c/c^4 = (var_t + (t/c)^2 var_c) / c^2
    q = t / c
    half = z * math.sqrt(o.var_t + q * q * o.var_c) / abs(c)
    return lift, _finite(lift - half), _finite(lift + half)


def _cuped(y: FloatArray, x: FloatArray) -> tuple[FloatArray, float | None] | None:
    """Pooled CUPED adjustment; returns (adjusted y, variance reduction) or None if var(X)=0."""
    var_x = _var(x, 1)
    if var_x == 0.0:
        return None
    theta = float(np.cov(y, x, ddof=1)[0, 1]) / var_x
    if not math.isfinite(theta):
        return None
    adjusted = y - theta * (x - float(np.mean(x)))
    var_y = _var(y, 1)
    reduction = _finite(1.0 - _var(adjusted, 1) / var_y) if var_y > 0.0 else None
    return adjusted, reduction


def _metric_columns(metric: MetricDefinition) -> list[str]:
    cols = [metric.numerator, metric.denominator] if metric.kind == "ratio" else [metric.column]
    if metric.covariate and metric.kind != "ratio":
        cols.append(metric.covariate)
    return [c for c in cols if c]


def _arrays(data: pl.DataFrame, cols: list[str]) -> tuple[list[FloatArray], int]:
    """Float arrays of ``cols`` with rows missing/non-finite in any column dropped."""
    mats = [data.get_column(c).cast(pl.Float64).to_numpy().astype(np.float64) for c in cols]
    keep = np.logical_and.reduce([np.isfinite(m) for m in mats])
    return [m[keep] for m in mats], int(keep.size - keep.sum())


def _compare(data_t: pl.DataFrame, data_c: pl.DataFrame, metric: MetricDefinition,
             levels: _Levels) -> MetricComparison:
    """Compare one metric between treatment and control."""
    cols = _metric_columns(metric)
    (t_arrays, dropped_t), (c_arrays, dropped_c) = _arrays(data_t, cols), _arrays(data_c, cols)
    warnings: list[EngineMessage] = []
    if dropped_t + dropped_c:
        warnings.append(_warning("cg_dropped_missing", n=dropped_t + dropped_c, columns=", ".join(cols),
                                 n_treatment=dropped_t, n_control=dropped_c))
    if metric.covariate and metric.kind == "ratio":
        warnings.append(_warning("cg_covariate_ratio"))
    n_t, n_c = t_arrays[0].size, c_arrays[0].size
    base = {"name": metric.name, "title": metric.title or metric.name, "kind": metric.kind,
            "test": TESTS[metric.kind], "control_n": n_c, "treatment_n": n_t}
    empty = [g for g, n in (("treatment", n_t), ("control", n_c)) if n == 0]
    if empty:
        warnings.append(_warning("cg_no_data_both") if len(empty) == 2 else _warning("cg_no_data_group",
                                                                                     group=empty[0]))
        return _empty(base, warnings)
    if metric.kind == "proportion" and not all(np.isin(a, (0.0, 1.0)).all() for a in (t_arrays[0], c_arrays[0])):
        warnings.append(_warning("cg_not_proportion", column=metric.column or ""))
        return _empty(base, warnings)
    cuped, reduction = False, None
    y_t, y_c = t_arrays[0], c_arrays[0]
    if len(cols) == 2 and metric.kind != "ratio":
        adj = _cuped(np.concatenate([y_t, y_c]), np.concatenate([t_arrays[1], c_arrays[1]]))
        if adj is None:
            warnings.append(_warning("cg_cuped_skipped", covariate=metric.covariate or ""))
        else:
            cuped, reduction = True, adj[1]
            y_t, y_c = adj[0][:n_t], adj[0][n_t:]
    warnings += _size_warnings(metric.kind, t_arrays[0], c_arrays[0])
    if metric.kind == "proportion":
        outcome = _proportion(y_t, y_c, cuped, levels)
    elif metric.kind == "mean":
        outcome = _welch(y_t, y_c, levels)
    else:
        outcome = _ratio(t_arrays[0], t_arrays[1], c_arrays[0], c_arrays[1], levels)
    return _finish(base, outcome, metric, levels, warnings, cuped, reduction)


def _size_warnings(kind: str, y_t: FloatArray, y_c: FloatArray) -> list[EngineMessage]:
    """"Too small to conclude" warnings from group sizes (and 0/1 outcome counts)."""
    out = []
    for label, y in (("treatment", y_t), ("control", y_c)):
        if y.size < MIN_UNITS:
            out.append(_warning("cg_too_few_units", group=label, n=int(y.size), minimum=MIN_UNITS))
        if kind == "proportion":
            successes = int(y.sum())
            if min(successes, y.size - successes) < MIN_OUTCOMES:
                out.append(_warning("cg_too_few_outcomes", group=label, successes=successes,
                                    failures=int(y.size - successes), minimum=MIN_OUTCOMES))
    return out


def _empty(base: dict[str, object], warnings: list[EngineMessage]) -> MetricComparison:
    nones = dict.fromkeys(
        ("control_value", "treatment_value", "difference", "difference_ci_low", "difference_ci_high",
         "relative_lift", "relative_lift_ci_low", "relative_lift_ci_high", "statistic", "p_value",
         "significant", "better", "variance_reduction", "mde"))
    return MetricComparison.model_validate({**base, **nones, "cuped": False, **_warning_fields(warnings)})


def _sanitize(o: _Outcome) -> tuple[_Outcome, bool]:
    """Replace non-finite numbers by None; report whether everything was finite."""
    fields = ("control_value", "treatment_value", "var_c", "var_t", "statistic", "p_value")
    values = {f: getattr(o, f) for f in fields}
    cleaned = {f: None if v is None else _finite(v) for f, v in values.items()}
    ci = o.ci if o.ci is None or all(map(math.isfinite, o.ci)) else None
    clean = cleaned == values and ci == o.ci
    return _Outcome(**cleaned, ci=ci, warnings=o.warnings), clean


def _finish(base: dict[str, object], o: _Outcome, metric: MetricDefinition, levels: _Levels,
            warnings: list[EngineMessage], cuped: bool, reduction: float | None) -> MetricComparison:
    """Shared part: difference, lift, significance, MDE and the warnings that depend on them."""
    o, clean = _sanitize(o)
    warnings = warnings + list(o.warnings)
    if not clean:
        warnings.append(_warning("cg_overflow"))
    t, c = o.treatment_value, o.control_value
    diff = _finite(t - c) if t is not None and c is not None else None
    lift, lift_low, lift_high = _relative_lift(o, levels.z_ci)
    if lift is None and diff is not None:
        warnings.append(_warning("cg_zero_control"))
    significant = None if o.p_value is None else o.p_value < levels.alpha
    better = None
    if significant is not None and diff is not None:
        good = diff > 0 if metric.direction == "increase" else diff < 0
        better = significant and good
    mde = None
    if o.var_t is not None and o.var_c is not None:
        mde = _finite(levels.z_mde * math.sqrt(o.var_t + o.var_c))
        if mde is not None and diff is not None and not significant and abs(diff) < mde:
            warnings.append(_warning("cg_below_mde", difference=diff, mde=mde, alpha=levels.alpha,
                                     power=levels.power))
    ci = o.ci
    return MetricComparison.model_validate({
        **base, "control_value": c, "treatment_value": t, "difference": diff,
        "difference_ci_low": None if ci is None else ci[0],
        "difference_ci_high": None if ci is None else ci[1],
        "relative_lift": lift, "relative_lift_ci_low": lift_low, "relative_lift_ci_high": lift_high,
        "statistic": o.statistic,
        "p_value": o.p_value, "significant": significant, "better": better, "cuped": cuped,
        "variance_reduction": reduction, "mde": mde, **_warning_fields(warnings)})


def sample_ratio_check(control_n: int, treatment_n: int, expected_treatment_share: float) -> SampleRatioCheck:
    """Chi-square goodness of fit (1 df) of the observed split vs the expected share."""
    total = control_n + treatment_n
    chi2 = p = None
    if total > 0:
        exp_t = total * expected_treatment_share
        exp_c = total - exp_t
        chi2 = (treatment_n - exp_t) ** 2 / exp_t + (control_n - exp_c) ** 2 / exp_c
        p = _chi2_sf(chi2, 1)
    return SampleRatioCheck(expected_treatment_share=expected_treatment_share, control_n=control_n,
                            treatment_n=treatment_n, chi2=chi2, p_value=p,
                            mismatch=p is not None and p < SRM_THRESHOLD)


def _group_mask(series: pl.Series, label: object) -> pl.Expr:
    """Rows whose group equals ``label`` by Python ``==`` (so 1 matches True, "1" does not)."""
    uniques = series.drop_nulls().unique(maintain_order=True).to_list()
    matches = [pl.col(series.name) == pl.lit(u, dtype=series.dtype) for u in uniques if u == label]
    return pl.any_horizontal(matches).fill_null(False) if matches else pl.lit(False)


def _check_settings(frame: pl.DataFrame, group_column: str, metrics: Sequence[MetricDefinition],
                    treatment_label: object, control_label: object, probabilities: dict[str, float]) -> None:
    for key, value in probabilities.items():
        if not 0.0 < value < 1.0:
            raise ValueError(f"{key} must be strictly between 0 and 1, got {value}")
    if treatment_label == control_label:
        raise ValueError("treatment_label and control_label must differ")
    needed = {group_column} | {c for m in metrics for c in _metric_columns(m)}
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise ValueError(f"columns not in the data: {', '.join(missing)}")
    for col in sorted(needed - {group_column}):
        dtype = frame.schema[col]
        if not (dtype.is_numeric() or dtype == pl.Boolean or dtype == pl.Null):
            raise ValueError(f"column {col} must be numeric or boolean, got {dtype}")


def evaluate_experiment(frame: pl.DataFrame, *, name: str, group_column: str,
                        treatment_label: object, control_label: object,
                        metrics: Sequence[MetricDefinition], alpha: float = 0.05, power: float = 0.8,
                        expected_treatment_share: float = 0.5,
                        confidence_level: float | None = None) -> ExperimentResult:
    """Compare treatment and control on each metric (one row per unit in ``frame``).

    Rows whose group is neither label are ignored. ``confidence_level`` defaults to
    ``1 - alpha`` and sets the confidence intervals; ``alpha`` and ``power`` set significance
    and the minimum detectable effect. Raises ``ValueError`` only for bad settings or
    columns missing from / of the wrong type in ``frame``.
    """
    level = 1.0 - alpha if confidence_level is None else confidence_level
    _check_settings(frame, group_column, metrics, treatment_label, control_label,
                    {"alpha": alpha, "power": power, "expected_treatment_share": expected_treatment_share,
                     "confidence_level": level})
    levels = _Levels(alpha, power, level)
    series = frame.get_column(group_column)
    data_t = frame.filter(_group_mask(series, treatment_label))
    data_c = frame.filter(_group_mask(series, control_label))
    warnings: list[EngineMessage] = []
    ignored = frame.height - data_t.height - data_c.height
    if ignored:
        warnings.append(_warning("cg_ignored_rows", n=ignored, group_column=group_column,
                                 treatment_label=repr(treatment_label), control_label=repr(control_label)))
    for label, data in (("treatment", data_t), ("control", data_c)):
        if data.height == 0:
            warnings.append(_warning("cg_no_group_units", group=label))
    srm = sample_ratio_check(data_c.height, data_t.height, expected_treatment_share)
    if srm.mismatch:
        assert srm.p_value is not None
        warnings.append(_warning("cg_sample_ratio_mismatch", n_treatment=data_t.height, n_control=data_c.height,
                                 share=expected_treatment_share, p=srm.p_value))
    results = [_compare(data_t, data_c, m, levels) for m in metrics]
    return ExperimentResult(name=name, alpha=alpha, power=power, confidence_level=level,
                            control_label=str(control_label), treatment_label=str(treatment_label),
                            srm=srm, metrics=results, **_warning_fields(warnings))
