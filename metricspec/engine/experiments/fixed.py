"""The classical fixed-horizon test of the difference, one per metric kind, and CUPED.

* ``proportion`` — two-proportion z-test. The test statistic uses the *pooled* standard error (the
  variance under "no difference"); the confidence interval of the difference uses the *unpooled*
  (Wald) standard error. Matches statsmodels ``proportions_ztest`` and
  ``confint_proportions_2indep(method="wald", compare="diff")``.
* ``mean`` — Welch t-test with Welch–Satterthwaite degrees of freedom (scipy
  ``ttest_ind(equal_var=False)``; CI as statsmodels ``tconfint_diff(usevar="unequal")``).
* ``ratio`` — sum(numerator) / sum(denominator) per group, variance by the delta method on
  unit-level data, z-test on the difference.

CUPED (proportion and mean) replaces Y by ``Y - theta * (X - mean(X))`` with
``theta = cov(Y, X) / var(X)`` on the pooled data and runs the same test on the adjusted values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from metricspec.engine.experiments.dist import norm_isf, norm_ppf, norm_sf, t_isf, t_sf
from metricspec.engine.results import EngineMessage

FloatArray = np.ndarray


@dataclass(frozen=True)
class Levels:
    alpha: float
    power: float
    confidence_level: float

    @property
    def z_ci(self) -> float:
        return norm_isf((1.0 - self.confidence_level) / 2.0)

    @property
    def z_mde(self) -> float:
        return norm_isf(self.alpha / 2.0) + norm_ppf(self.power)


@dataclass(frozen=True)
class Outcome:
    """Kind-specific part of a comparison (group estimates and the test of the difference)."""

    control_value: float | None = None
    treatment_value: float | None = None
    var_c: float | None = None  # variance of the control estimate (SE squared)
    var_t: float | None = None
    statistic: float | None = None
    p_value: float | None = None
    ci: tuple[float, float] | None = None
    warnings: tuple[EngineMessage, ...] = ()


def warning(code: str, **params: str | int | float) -> EngineMessage:
    return EngineMessage(code=code, params=params)


def finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def variance(values: FloatArray, ddof: int) -> float:
    """Variance that is exactly zero for constant data (no rounding noise)."""
    if values.size <= ddof or np.all(values == values[0]):
        return 0.0
    return float(np.var(values, ddof=ddof))


def _z_outcome(m_t: float, m_c: float, var_t: float, var_c: float, se_test: float, levels: Levels) -> Outcome:
    """z-test on ``m_t - m_c`` with ``se_test``; Wald CI from the per-group variances."""
    diff = m_t - m_c
    se_ci = math.sqrt(var_t + var_c)
    ci = (diff - levels.z_ci * se_ci, diff + levels.z_ci * se_ci)
    if se_test <= 0.0:
        return Outcome(m_c, m_t, var_c, var_t, ci=ci, warnings=(warning("cg_zero_variance"),))
    z = diff / se_test
    return Outcome(m_c, m_t, var_c, var_t, z, 2.0 * norm_sf(abs(z)), ci)


def proportion(y_t: FloatArray, y_c: FloatArray, adjusted: bool, levels: Levels) -> Outcome:
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
        v_t, v_c, v_pool = variance(y_t, 0), variance(y_c, 0), variance(np.concatenate([y_t, y_c]), 0)
    se_test = math.sqrt(max(v_pool, 0.0) * (1.0 / n_t + 1.0 / n_c))
    return _z_outcome(p_t, p_c, v_t / n_t, v_c / n_c, se_test, levels)


def welch(y_t: FloatArray, y_c: FloatArray, levels: Levels) -> Outcome:
    """Welch t-test and Welch–Satterthwaite CI of the difference in means."""
    n_t, n_c = y_t.size, y_c.size
    m_t, m_c = float(np.mean(y_t)), float(np.mean(y_c))
    if n_t < 2 or n_c < 2:
        return Outcome(m_c, m_t, warnings=(warning("cg_small_group"),))
    s_t, s_c = variance(y_t, 1) / n_t, variance(y_c, 1) / n_c
    se = math.sqrt(s_t + s_c)
    if se <= 0.0:
        return Outcome(m_c, m_t, s_c, s_t, warnings=(warning("cg_zero_variance"),))
    w_t, w_c = s_t / (s_t + s_c), s_c / (s_t + s_c)  # Welch-Satterthwaite df, written to avoid underflow
    df = 1.0 / (w_t * w_t / (n_t - 1) + w_c * w_c / (n_c - 1))
    diff = m_t - m_c
    t = diff / se
    half = t_isf((1.0 - levels.confidence_level) / 2.0, df) * se
    return Outcome(m_c, m_t, s_c, s_t, t, 2.0 * t_sf(abs(t), df), (diff - half, diff + half))


def ratio_estimate(num: FloatArray, den: FloatArray) -> tuple[float | None, float | None]:
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
    return r, variance(num - r * den, 1) / num.size / mean_d / mean_d


def ratio(n_t: FloatArray, d_t: FloatArray, n_c: FloatArray, d_c: FloatArray, levels: Levels) -> Outcome:
    """Delta-method z-test on the difference of two ratios of sums."""
    r_t, v_t = ratio_estimate(n_t, d_t)
    r_c, v_c = ratio_estimate(n_c, d_c)
    if r_t is None or r_c is None:
        groups = [g for g, r in (("treatment", r_t), ("control", r_c)) if r is None]
        zero = (warning("cg_zero_denominator_both") if len(groups) == 2
                else warning("cg_zero_denominator_group", group=groups[0]))
        return Outcome(r_c, r_t, warnings=(zero,))
    if v_t is None or v_c is None:
        return Outcome(r_c, r_t, warnings=(warning("cg_small_group"),))
    return _z_outcome(r_t, r_c, v_t, v_c, math.sqrt(v_t + v_c), levels)


@dataclass(frozen=True)
class Cuped:
    adjusted: FloatArray  # Y - theta (X - mean X), both groups pooled
    theta: float
    variance_reduction: float | None


def cuped(y: FloatArray, x: FloatArray) -> Cuped | None:
    """Pooled CUPED adjustment; None if var(X) = 0."""
    var_x = variance(x, 1)
    if var_x == 0.0:
        return None
    theta = float(np.cov(y, x, ddof=1)[0, 1]) / var_x
    if not math.isfinite(theta):
        return None
    adjusted = y - theta * (x - float(np.mean(x)))
    var_y = variance(y, 1)
    reduction = finite(1.0 - variance(adjusted, 1) / var_y) if var_y > 0.0 else None
    return Cuped(adjusted, theta, reduction)
