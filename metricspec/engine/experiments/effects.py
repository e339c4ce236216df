"""Effect estimates on the relative and absolute scale from per-group summaries, as GrowthBook's gbstats.

Each group is summarised by :class:`ArmStats` (units, mean, per-unit variance and the mean before any
CUPED adjustment). From two of them this module computes, with gbstats' formulas (gbstats 0.8.0,
``frequentist/tests.py`` and ``bayesian/tests.py``):

* :func:`fixed_test` — the fixed-horizon t-test of ``TwoSidedTTest``: Welch–Satterthwaite degrees of
  freedom, variance of the relative lift by the delta method
  ``var_t / (c² n_t) + var_c t² / (c⁴ n_c)`` (``c``, ``t``: the unadjusted group means);
* :func:`sequential_test` — the always-valid interval and p-value of ``SequentialTwoSidedTTest``
  (Waudby-Smith et al. 2023, eq. 9, 155 and 161) with its tuning parameter;
* :func:`bayesian_effect` — ``EffectBayesianABTest``: a normal posterior of the relative lift (flat
  prior by default, a proper normal prior if given), the chance to beat control, the expected loss
  and the credible interval.

Inputs the formulas cannot take (a control mean of 0, a zero variance, fewer than two units) give
``None``; callers turn that into a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from metricspec.engine.experiments.dist import norm_cdf, norm_pdf, norm_ppf, t_isf, t_sf


@dataclass(frozen=True)
class ArmStats:
    """One group as gbstats sees it."""

    n: int
    mean: float  # the estimate (CUPED-adjusted where CUPED applies)
    variance: float  # variance of one unit's value (the estimate's variance is variance / n)
    unadjusted_mean: float  # the denominator of the relative lift


@dataclass(frozen=True)
class TestFigures:
    estimate: float
    statistic: float  # estimate / standard error (sequential: the same, for reference)
    p_value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Posterior:
    mean: float
    stddev: float
    ci_low: float
    ci_high: float
    chance_to_win: float
    expected_loss: float  # of shipping the treatment
    expected_loss_control: float  # of keeping the control


def _usable(a: ArmStats, b: ArmStats, relative: bool) -> bool:
    """gbstats refuses a group with zero variance; here only both groups at once (a 100% conversion rate in
    one group still has an interval, from the other group's variance)."""
    if a.n < 2 or b.n < 2 or a.variance < 0.0 or b.variance < 0.0 or a.variance + b.variance <= 0.0:
        return False
    return not relative or (a.mean != 0.0 and a.unadjusted_mean != 0.0)


def estimate(a: ArmStats, b: ArmStats, relative: bool) -> float:
    """``b - a``, or ``(b - a) / unadjusted a`` on the relative scale (``a`` is the control)."""
    diff = b.mean - a.mean
    return diff / a.unadjusted_mean if relative else diff


def estimate_variance(a: ArmStats, b: ArmStats, relative: bool) -> float:
    """Variance of :func:`estimate`; relative: ``var_t / (c² n_t) + var_c t² / (c⁴ n_c)`` (inf if it underflows)."""
    if not relative:
        return b.variance / b.n + a.variance / a.n
    ca = a.unadjusted_mean
    q, scale = b.unadjusted_mean / ca, ca * ca
    return math.inf if scale == 0.0 else (b.variance / b.n + a.variance * q * q / a.n) / scale


def welch_dof(a: ArmStats, b: ArmStats) -> float:
    """Welch–Satterthwaite degrees of freedom, written (as gbstats) with the per-unit variances."""
    sa, sb = a.variance / a.n, b.variance / b.n
    if sa + sb <= 0.0:  # both underflow: nothing to weigh, take the smaller group's
        return float(min(a.n, b.n) - 1)
    wa, wb = sa / (sa + sb), sb / (sa + sb)  # shares, so that tiny variances do not underflow
    return 1.0 / (wa * wa / (a.n - 1) + wb * wb / (b.n - 1))


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def fixed_test(a: ArmStats, b: ArmStats, relative: bool, alpha: float) -> TestFigures | None:
    """Two-sided Welch t-test of the difference or the relative lift, with a ``1 - alpha`` interval."""
    if not _usable(a, b, relative):
        return None
    est, var = estimate(a, b, relative), estimate_variance(a, b, relative)
    if not _finite(est, var) or var <= 0.0:
        return None
    se, dof = math.sqrt(var), welch_dof(a, b)
    p = 2.0 * t_sf(abs(est) / se, dof)
    half = t_isf(alpha / 2.0, dof) * se
    return TestFigures(est, est / se, min(p, 1.0), est - half, est + half) if _finite(p, half) else None


def rho(alpha: float, tuning: float) -> float:
    """Mixing parameter of the always-valid interval (eq. 161): tightest after ``tuning`` units."""
    log_a = -2.0 * math.log(alpha)
    return math.sqrt((log_a + math.log(log_a + 1.0)) / tuning)


def sequential_test(a: ArmStats, b: ArmStats, relative: bool, alpha: float, tuning: float) -> TestFigures | None:
    """Always-valid two-sided interval (eq. 9) and p-value (eq. 155, one over the e-value, at most 1)."""
    if not _usable(a, b, relative):
        return None
    est, var = estimate(a, b, relative), estimate_variance(a, b, relative)
    if not _finite(est, var) or var <= 0.0:
        return None
    n = a.n + b.n
    r2 = rho(alpha, tuning) ** 2
    nr2p1 = n * r2 + 1.0
    half = math.sqrt(var * n) * math.sqrt(2.0 * nr2p1 * math.log(math.sqrt(nr2p1) / alpha) / (n * n * r2))
    # e-value exp(r2 st2 / (2 nr2p1)) / sqrt(nr2p1) in logs, so that a huge one cannot overflow
    log_e = r2 * (est * est * n / var) / (2.0 * nr2p1) - 0.5 * math.log(nr2p1)
    p = 1.0 if log_e <= 0.0 else math.exp(-log_e)
    return TestFigures(est, est / math.sqrt(var), p, est - half, est + half) if _finite(half) else None


def bayesian_effect(a: ArmStats, b: ArmStats, *, alpha: float, inverse: bool,
                    prior: tuple[float, float] | None) -> Posterior | None:
    """Normal posterior of the relative lift; ``prior`` is (mean, stddev) of a proper prior, else flat.

    ``inverse`` (a metric whose good direction is down) makes "winning" a negative lift, as gbstats does.
    """
    if not _usable(a, b, relative=True):
        return None
    data_mean, data_var = estimate(a, b, True), estimate_variance(a, b, True)
    if not _finite(data_mean, data_var) or data_var <= 0.0:
        return None
    if prior is None:
        mean, precision = data_mean, 1.0 / data_var
    else:
        prior_var = prior[1] * prior[1]
        precision = 1.0 / data_var + 1.0 / prior_var
        mean = (data_mean / data_var + prior[0] / prior_var) / precision
    sd = math.sqrt(1.0 / precision)
    z = mean / sd
    up = norm_cdf(z)  # P(lift > 0)
    gain = mean * up + sd * norm_pdf(z)  # E[max(lift, 0)]: lost by keeping the control
    drop = -mean * norm_cdf(-z) + sd * norm_pdf(z)  # E[max(-lift, 0)]: lost by shipping the treatment
    chance, loss, loss_control = (1.0 - up, gain, drop) if inverse else (up, drop, gain)
    q = norm_ppf(1.0 - alpha / 2.0) * sd
    return Posterior(mean, sd, mean - q, mean + q, chance, max(loss, 0.0), max(loss_control, 0.0))
