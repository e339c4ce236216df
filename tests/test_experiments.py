"""Tests for metricspec.engine.experiments against scipy/statsmodels and hand-built cases."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from metricspec.engine.experiments import (
    ExperimentResult,
    MetricComparison,
    MetricDefinition,
    evaluate_experiment,
)

REL = 1e-9


class _Stats:
    """``scipy.stats``, imported on first use (it takes a second or two: collection stays fast)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # pytest probes every module attribute for its markers at collection
            raise AttributeError(name)
        import scipy.stats

        return getattr(scipy.stats, name)


stats = _Stats()


# statsmodels takes seconds to import: the tests that compare with it import it (pytest collects in
# a few seconds; docs/contributing.md, "Collection")
def proportions_ztest(*args: Any, **kwargs: Any) -> Any:
    from statsmodels.stats.proportion import proportions_ztest as reference

    return reference(*args, **kwargs)


def confint_proportions_2indep(*args: Any, **kwargs: Any) -> Any:
    from statsmodels.stats.proportion import confint_proportions_2indep as reference

    return reference(*args, **kwargs)


def welch_confint(a: Any, b: Any, **kwargs: Any) -> Any:
    """statsmodels' ``CompareMeans(DescrStatsW(a), DescrStatsW(b)).tconfint_diff(**kwargs)``."""
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    return CompareMeans(DescrStatsW(a), DescrStatsW(b)).tconfint_diff(**kwargs)


def close(actual: float | None, expected: float) -> bool:
    assert actual is not None
    return math.isclose(actual, float(expected), rel_tol=REL, abs_tol=1e-12)


def frame(treat: dict[str, Any], ctrl: dict[str, Any], group: str = "g",
          labels: tuple[Any, Any] = ("t", "c")) -> pl.DataFrame:
    """One frame from per-group column lists; treatment rows first."""
    n_t = len(next(iter(treat.values())))
    n_c = len(next(iter(ctrl.values())))
    data = {k: list(treat[k]) + list(ctrl[k]) for k in treat}
    data[group] = [labels[0]] * n_t + [labels[1]] * n_c
    return pl.DataFrame(data, strict=False)


def run(df: pl.DataFrame, *metrics: MetricDefinition, **kw: Any) -> ExperimentResult:
    kw.setdefault("treatment_label", "t")
    kw.setdefault("control_label", "c")
    return evaluate_experiment(df, name="exp", group_column="g", metrics=list(metrics), **kw)


def one(df: pl.DataFrame, metric: MetricDefinition, **kw: Any) -> MetricComparison:
    return run(df, metric, **kw).metrics[0]


PROP = MetricDefinition(name="cr", kind="proportion", column="y")
MEAN = MetricDefinition(name="rev", kind="mean", column="y")
RATIO = MetricDefinition(name="cpa", kind="ratio", numerator="num", denominator="den")


def _binary(rng: np.random.Generator, n: int, p: float) -> list[int]:
    return (rng.random(n) < p).astype(int).tolist()


# --------------------------------------------------------------------------- reference matches


@pytest.mark.parametrize("level", [None, 0.9])
def test_proportion_matches_statsmodels(level: float | None) -> None:
    rng = np.random.default_rng(7)
    y_t, y_c = _binary(rng, 1200, 0.14), _binary(rng, 1100, 0.11)
    m = one(frame({"y": y_t}, {"y": y_c}), PROP, confidence_level=level)
    x_t, x_c, n_t, n_c = sum(y_t), sum(y_c), len(y_t), len(y_c)
    z, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff",
                                           alpha=1 - (level or 0.95))
    assert m.test == "two-proportion z-test"
    assert (m.treatment_n, m.control_n) == (n_t, n_c)
    assert close(m.treatment_value, x_t / n_t) and close(m.control_value, x_c / n_c)
    assert close(m.difference, x_t / n_t - x_c / n_c)
    assert close(m.statistic, z) and close(m.p_value, p)
    assert close(m.difference_ci_low, low) and close(m.difference_ci_high, high)


@pytest.mark.parametrize("level", [None, 0.99])
def test_welch_matches_scipy_and_statsmodels(level: float | None) -> None:
    rng = np.random.default_rng(11)
    y_t, y_c = rng.normal(10.5, 4.0, 80), rng.normal(9.0, 2.0, 45)
    m = one(frame({"y": y_t}, {"y": y_c}), MEAN, confidence_level=level)
    ref = stats.ttest_ind(y_t, y_c, equal_var=False)
    low, high = welch_confint(y_t, y_c,
                              alpha=1 - (level or 0.95), usevar="unequal")
    assert m.test == "Welch t-test"
    assert close(m.difference, y_t.mean() - y_c.mean())
    assert close(m.statistic, ref.statistic) and close(m.p_value, ref.pvalue)
    assert close(m.difference_ci_low, low) and close(m.difference_ci_high, high)


@pytest.mark.parametrize(("n_c", "n_t", "share"), [(1000, 1300, 0.5), (700, 300, 0.3), (510, 490, 0.5)])
def test_srm_matches_scipy_chisquare(n_c: int, n_t: int, share: float) -> None:
    df = frame({"y": [1] * n_t}, {"y": [0] * n_c})
    srm = run(df, PROP, expected_treatment_share=share).srm
    total = n_c + n_t
    ref = stats.chisquare([n_c, n_t], f_exp=[total * (1 - share), total * share])
    assert (srm.control_n, srm.treatment_n) == (n_c, n_t)
    assert close(srm.chi2, ref.statistic) and close(srm.p_value, ref.pvalue)
    assert srm.mismatch == (ref.pvalue < 0.001)


def _cuped_manual(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float]:
    theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
    adj = y - theta * (x - x.mean())
    return adj, 1 - np.var(adj, ddof=1) / np.var(y, ddof=1)


def test_cuped_mean_matches_manual_numpy() -> None:
    rng = np.random.default_rng(3)
    x_t, x_c = rng.gamma(2, 50, 300), rng.gamma(2, 50, 280)
    y_t = 0.9 * x_t + rng.normal(3, 15, 300)
    y_c = 0.9 * x_c + rng.normal(0, 15, 280)
    metric = MetricDefinition(name="rev", kind="mean", column="y", covariate="x")
    m = one(frame({"y": y_t, "x": x_t}, {"y": y_c, "x": x_c}), metric)
    adj, reduction = _cuped_manual(np.concatenate([y_t, y_c]), np.concatenate([x_t, x_c]))
    a_t, a_c = adj[:300], adj[300:]
    ref = stats.ttest_ind(a_t, a_c, equal_var=False)
    low, high = welch_confint(a_t, a_c, usevar="unequal")
    assert m.cuped and close(m.variance_reduction, reduction)
    assert m.variance_reduction is not None and m.variance_reduction > 0.5
    assert close(m.treatment_value, a_t.mean()) and close(m.control_value, a_c.mean())
    assert close(m.statistic, ref.statistic) and close(m.p_value, ref.pvalue)
    assert close(m.difference_ci_low, low) and close(m.difference_ci_high, high)
    plain = one(frame({"y": y_t, "x": x_t}, {"y": y_c, "x": x_c}), MEAN)
    assert not plain.cuped and plain.variance_reduction is None
    assert m.mde is not None and plain.mde is not None and m.mde < plain.mde


def test_cuped_proportion_matches_manual_numpy() -> None:
    rng = np.random.default_rng(5)
    x_t, x_c = rng.poisson(3, 900).astype(float), rng.poisson(3, 800).astype(float)
    y_t = (rng.random(900) < 0.05 + 0.03 * x_t).astype(float)
    y_c = (rng.random(800) < 0.04 + 0.03 * x_c).astype(float)
    metric = MetricDefinition(name="cr", kind="proportion", column="y", covariate="x")
    m = one(frame({"y": y_t, "x": x_t}, {"y": y_c, "x": x_c}), metric)
    adj, reduction = _cuped_manual(np.concatenate([y_t, y_c]), np.concatenate([x_t, x_c]))
    a_t, a_c = adj[:900], adj[900:]
    diff = a_t.mean() - a_c.mean()
    se_pool = np.sqrt(np.var(adj) * (1 / 900 + 1 / 800))
    se = np.sqrt(np.var(a_t) / 900 + np.var(a_c) / 800)
    z = stats.norm.ppf(0.975)
    assert m.cuped and close(m.variance_reduction, reduction)
    assert close(m.difference, diff) and close(m.statistic, diff / se_pool)
    assert close(m.p_value, 2 * stats.norm.sf(abs(diff / se_pool)))
    assert close(m.difference_ci_low, diff - z * se) and close(m.difference_ci_high, diff + z * se)


def _ratio_manual(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    """Delta method written out: Var(R) = (var_n - 2R cov_nd + R^2 var_d) / (n mean_d^2)."""
    r = num.sum() / den.sum()
    cov = np.cov(num, den, ddof=1)
    var = (cov[0, 0] - 2 * r * cov[0, 1] + r**2 * cov[1, 1]) / (len(num) * den.mean() ** 2)
    return r, var


def test_ratio_matches_separate_delta_method() -> None:
    rng = np.random.default_rng(9)
    d_t, d_c = (rng.random(700) < 0.2).astype(float), (rng.random(650) < 0.15).astype(float)
    n_t, n_c = rng.gamma(2, 6, 700) + 20 * d_t, rng.gamma(2, 6, 650) + 25 * d_c
    m = one(frame({"num": n_t, "den": d_t}, {"num": n_c, "den": d_c}), RATIO)
    r_t, v_t = _ratio_manual(n_t, d_t)
    r_c, v_c = _ratio_manual(n_c, d_c)
    se = np.sqrt(v_t + v_c)
    z = (r_t - r_c) / se
    q = stats.norm.ppf(0.975)
    assert m.test == "delta-method z-test"
    assert close(m.treatment_value, r_t) and close(m.control_value, r_c)
    assert close(m.statistic, z) and close(m.p_value, 2 * stats.norm.sf(abs(z)))
    assert close(m.difference_ci_low, r_t - r_c - q * se) and close(m.difference_ci_high, r_t - r_c + q * se)
    assert close(m.mde, (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * se)
    lift_half = _welch_t(v_t, v_c, 700, 650) * np.sqrt(v_t / r_c**2 + r_t**2 * v_c / r_c**4)
    assert close(m.relative_lift, r_t / r_c - 1)
    assert close(m.relative_lift_ci_low, r_t / r_c - 1 - lift_half)
    assert close(m.relative_lift_ci_high, r_t / r_c - 1 + lift_half)


def _welch_t(v_t: float, v_c: float, n_t: int, n_c: int, level: float = 0.95) -> float:
    """Student t quantile with Welch–Satterthwaite degrees of freedom (v: variances of the group estimates),
    the interval multiplier of the relative lift (as gbstats)."""
    dof = (v_t + v_c) ** 2 / (v_t**2 / (n_t - 1) + v_c**2 / (n_c - 1))
    return float(stats.t.ppf(1 - (1 - level) / 2, dof))


def _lift_p(t: float, c: float, v_t: float, v_c: float, n_t: int, n_c: int) -> float:
    se = np.sqrt(v_t / c**2 + t**2 * v_c / c**4)
    dof = (v_t + v_c) ** 2 / (v_t**2 / (n_t - 1) + v_c**2 / (n_c - 1))
    return float(2 * stats.t.sf(abs((t - c) / c) / se, dof))


def test_relative_lift_and_mde_match_numpy_for_proportion_and_mean() -> None:
    rng = np.random.default_rng(21)
    y_t, y_c = np.array(_binary(rng, 900, 0.2)), np.array(_binary(rng, 950, 0.16))
    m = one(frame({"y": y_t}, {"y": y_c}), PROP, alpha=0.1, power=0.9, confidence_level=0.9)
    t, c = y_t.mean(), y_c.mean()
    v_t, v_c = t * (1 - t) / 900, c * (1 - c) / 950
    half = _welch_t(v_t, v_c, 900, 950, 0.9) * np.sqrt(v_t / c**2 + t**2 * v_c / c**4)
    assert close(m.relative_lift, (t - c) / c)
    assert close(m.relative_lift_ci_low, t / c - 1 - half) and close(m.relative_lift_ci_high, t / c - 1 + half)
    assert close(m.relative_p_value, _lift_p(t, c, v_t, v_c, 900, 950))
    assert close(m.mde, (stats.norm.ppf(0.95) + stats.norm.ppf(0.9)) * np.sqrt(v_t + v_c))

    g_t, g_c = rng.normal(50, 10, 200), rng.normal(45, 12, 150)
    m = one(frame({"y": g_t}, {"y": g_c}), MEAN)
    t, c = g_t.mean(), g_c.mean()
    v_t, v_c = g_t.var(ddof=1) / 200, g_c.var(ddof=1) / 150
    half = _welch_t(v_t, v_c, 200, 150) * np.sqrt(v_t / c**2 + t**2 * v_c / c**4)
    assert close(m.relative_lift_ci_low, t / c - 1 - half) and close(m.relative_lift_ci_high, t / c - 1 + half)
    assert close(m.relative_p_value, _lift_p(t, c, v_t, v_c, 200, 150))
    assert close(m.mde, (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * np.sqrt(v_t + v_c))


def test_cuped_lift_is_relative_to_the_unadjusted_control_mean() -> None:
    """gbstats' regression-adjusted lift: the CUPED difference over the control's plain mean, with the
    adjusted per-unit variances ``var(y) + theta² var(x) - 2 theta cov(y, x)``."""
    rng = np.random.default_rng(13)
    x_t, x_c = rng.gamma(2, 30, 500), rng.gamma(2, 30, 450)
    y_t, y_c = 0.7 * x_t + rng.normal(25, 10, 500), 0.7 * x_c + rng.normal(20, 10, 450)
    metric = MetricDefinition(name="rev", kind="mean", column="y", covariate="x")
    m = one(frame({"y": y_t, "x": x_t}, {"y": y_c, "x": x_c}), metric)
    y, x = np.concatenate([y_t, y_c]), np.concatenate([x_t, x_c])
    theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
    diff = (y_t.mean() - theta * x_t.mean()) - (y_c.mean() - theta * x_c.mean())

    def adjusted_var(yy: np.ndarray, xx: np.ndarray) -> float:
        return float(np.var(yy, ddof=1) + theta**2 * np.var(xx, ddof=1) - 2 * theta * np.cov(yy, xx)[0, 1])

    v_t, v_c = adjusted_var(y_t, x_t) / 500, adjusted_var(y_c, x_c) / 450
    t, c = y_t.mean(), y_c.mean()
    assert close(m.difference, diff) and close(m.relative_lift, diff / c)
    half = _welch_t(v_t, v_c, 500, 450) * np.sqrt(v_t / c**2 + t**2 * v_c / c**4)
    assert close(m.relative_lift_ci_low, diff / c - half) and close(m.relative_lift_ci_high, diff / c + half)


# --------------------------------------------------------------------------- hand-built cases


def test_zero_conversions_in_control_gives_no_lift() -> None:
    m = one(frame({"y": [1] * 40 + [0] * 160}, {"y": [0] * 200}), PROP)
    assert m.control_value == 0.0 and m.difference == pytest.approx(0.2)
    assert m.relative_lift is None and m.relative_lift_ci_low is None and m.relative_lift_ci_high is None
    assert m.p_value is not None and m.significant is True
    assert any("relative lift undefined" in w for w in m.warnings)
    assert any("control has 0 successes" in w for w in m.warnings)


def test_identical_groups_not_significant() -> None:
    ys = [1] * 30 + [0] * 70
    for metric in (PROP, MEAN):
        m = one(frame({"y": ys}, {"y": ys}), metric)
        assert m.difference == 0.0 and m.p_value == pytest.approx(1.0)
        assert m.significant is False and m.better is False
    rng = np.random.default_rng(1)
    vals = rng.gamma(2, 5, 100).tolist()
    dens = (rng.random(100) < 0.3).astype(float).tolist()
    m = one(frame({"num": vals, "den": dens}, {"num": vals, "den": dens}), RATIO)
    assert m.p_value == pytest.approx(1.0) and m.significant is False


def test_identical_groups_are_too_small_to_conclude() -> None:
    ys = [1] * 30 + [0] * 70
    m = one(frame({"y": ys}, {"y": ys}), PROP)
    # the observed difference 0 is below the MDE and not significant
    assert any(w.startswith("too small to conclude: the observed difference") for w in m.warnings)


def test_clear_effect_and_direction() -> None:
    rng = np.random.default_rng(2)
    treat = {"num": rng.normal(20, 2, 400).tolist(), "den": [1.0] * 400}
    ctrl = {"num": rng.normal(30, 2, 400).tolist(), "den": [1.0] * 400}
    df = frame(treat, ctrl)
    down = one(df, RATIO.model_copy(update={"direction": "decrease"}))
    up = one(df, RATIO)
    assert down.significant and up.significant
    assert down.difference is not None and down.difference < 0
    assert down.better is True and up.better is False
    assert down.p_value is not None and down.p_value < 1e-12
    assert not any("too small" in w for w in down.warnings)


def test_nulls_dropped_with_warning() -> None:
    rng = np.random.default_rng(4)
    y_t = rng.normal(5, 1, 50).tolist()
    y_c = rng.normal(5, 1, 60).tolist()
    y_t[3] = None
    y_t[7] = float("nan")
    y_c[0] = None
    m = one(frame({"y": y_t}, {"y": y_c}), MEAN)
    assert (m.treatment_n, m.control_n) == (48, 59)
    assert any("dropped 3 units with missing values in y (2 treatment, 1 control)" in w for w in m.warnings)
    clean_t = [v for v in y_t if v is not None and not math.isnan(v)]
    clean_c = [v for v in y_c if v is not None]
    assert close(m.p_value, stats.ttest_ind(clean_t, clean_c, equal_var=False).pvalue)


def test_tiny_groups_warn() -> None:
    m = one(frame({"y": [1.0, 2.0, 3.0, 4.0]}, {"y": [2.0, 3.0, 4.0]}), MEAN)
    assert any("treatment has 4 units" in w for w in m.warnings)
    assert any("control has 3 units" in w for w in m.warnings)
    assert m.p_value is not None and 0 <= m.p_value <= 1


def test_srm_mismatch_1000_vs_1300() -> None:
    rng = np.random.default_rng(6)
    df = frame({"y": _binary(rng, 1300, 0.1)}, {"y": _binary(rng, 1000, 0.1)})
    res = run(df, PROP)
    assert res.srm.mismatch and res.srm.p_value is not None and res.srm.p_value < 0.001
    assert any(w.startswith("sample ratio mismatch") for w in res.warnings)
    balanced = run(frame({"y": [0, 1] * 500}, {"y": [0, 1] * 510}), PROP)
    assert not balanced.srm.mismatch and balanced.warnings == []


def test_zero_variance_and_zero_denominator_give_none() -> None:
    m = one(frame({"y": [5.0] * 40}, {"y": [5.0] * 40}), MEAN)
    assert m.difference == 0.0 and m.statistic is None and m.p_value is None and m.significant is None
    assert any(w.startswith("zero variance") for w in m.warnings)
    m = one(frame({"y": [0] * 40}, {"y": [0] * 40}), PROP)
    assert m.p_value is None and m.relative_lift is None
    m = one(frame({"num": [1.0] * 40, "den": [0.0] * 40}, {"num": [2.0] * 40, "den": [1.0] * 40}), RATIO)
    assert m.treatment_value is None and m.difference is None and m.p_value is None and m.mde is None
    assert any("treatment" in w and w.startswith("zero denominator") for w in m.warnings)
    for comp in (m,):
        for value in comp.model_dump().values():
            assert not (isinstance(value, float) and not math.isfinite(value))


def test_cuped_with_constant_covariate_is_skipped() -> None:
    metric = MetricDefinition(name="rev", kind="mean", column="y", covariate="x")
    m = one(frame({"y": [1.0, 2.0] * 20, "x": [3.0] * 40}, {"y": [1.0, 3.0] * 20, "x": [3.0] * 40}), metric)
    assert not m.cuped and m.variance_reduction is None
    assert any("CUPED skipped" in w for w in m.warnings)


def test_other_labels_ignored_and_bool_groups() -> None:
    df = pl.DataFrame({"g": [True] * 40 + [False] * 40 + [None] * 5,
                       "y": [1, 0] * 20 + [0, 0, 0, 1] * 10 + [1] * 5})
    res = evaluate_experiment(df, name="e", group_column="g", treatment_label=True, control_label=False,
                              metrics=[PROP])
    assert (res.metrics[0].treatment_n, res.metrics[0].control_n) == (40, 40)
    assert res.treatment_label == "True"
    assert any("ignored 5 rows" in w for w in res.warnings)
    df = frame({"y": [1, 0] * 20}, {"y": [0, 1, 0] * 20}).vstack(
        pl.DataFrame({"y": [1] * 7, "g": ["holdout"] * 7}))
    assert run(df, PROP).metrics[0].treatment_n == 40


def test_non_binary_proportion_and_empty_group() -> None:
    m = one(frame({"y": [0, 2] * 20}, {"y": [0, 1] * 20}), PROP)
    assert m.p_value is None and any("other than 0/1" in w for w in m.warnings)
    res = run(frame({"y": [0, 1] * 20}, {"y": [0, 1] * 20}, labels=("t", "x")), PROP)
    assert res.metrics[0].control_n == 0 and res.metrics[0].difference is None
    assert any("no control units" in w for w in res.warnings)


def test_bad_settings_raise() -> None:
    df = frame({"y": [0, 1]}, {"y": [1, 0]})
    with pytest.raises(ValueError, match="not in the data"):
        run(df, MetricDefinition(name="m", kind="mean", column="nope"))
    with pytest.raises(ValueError, match="must differ"):
        run(df, PROP, treatment_label="t", control_label="t")
    with pytest.raises(ValueError, match="alpha"):
        run(df, PROP, alpha=1.5)
    with pytest.raises(ValueError):
        MetricDefinition(name="m", kind="ratio", column="y")
    with pytest.raises(ValueError):
        MetricDefinition(name="m", kind="mean")
    with pytest.raises(ValueError):
        MetricDefinition(name="m", kind="mean", column="y", extra_key=1)  # type: ignore[call-arg]


def test_deterministic() -> None:
    rng = np.random.default_rng(8)
    df = frame({"y": rng.normal(0, 1, 333), "x": rng.normal(0, 1, 333)},
               {"y": rng.normal(0.1, 1, 250), "x": rng.normal(0, 1, 250)})
    metric = MetricDefinition(name="m", kind="mean", column="y", covariate="x")
    assert run(df, metric).model_dump() == run(df, metric).model_dump()


# --------------------------------------------------------------------------- properties

values = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
groups = st.tuples(st.lists(values, min_size=2, max_size=40), st.lists(values, min_size=2, max_size=40))
bool_groups = st.tuples(st.lists(st.booleans(), min_size=1, max_size=60),
                        st.lists(st.booleans(), min_size=1, max_size=60))
pair = st.tuples(st.floats(0, 1e4, allow_nan=False), st.integers(0, 3))
ratio_groups = st.tuples(st.lists(pair, min_size=2, max_size=40), st.lists(pair, min_size=2, max_size=40))


def _check_properties(df: pl.DataFrame, metric: MetricDefinition) -> None:
    a = one(df, metric)
    b = one(df, metric, treatment_label="c", control_label="t")
    for m in (a, b):
        for value in m.model_dump().values():
            assert not (isinstance(value, float) and not math.isfinite(value))
        if m.p_value is not None:
            assert 0.0 <= m.p_value <= 1.0
        if m.difference_ci_low is not None and m.difference is not None:
            assert m.difference_ci_high is not None
            assert m.difference_ci_low <= m.difference <= m.difference_ci_high
    if a.difference is not None:
        assert b.difference == pytest.approx(-a.difference, rel=1e-9, abs=1e-12)
    assert (a.p_value is None) == (b.p_value is None)
    if a.p_value is not None:
        assert b.p_value == pytest.approx(a.p_value, rel=1e-9, abs=1e-12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups)
def test_properties_mean(data: tuple[list[float], list[float]]) -> None:
    _check_properties(frame({"y": data[0]}, {"y": data[1]}), MEAN)


@settings(max_examples=300, deadline=None)
@given(bool_groups)
def test_properties_proportion(data: tuple[list[bool], list[bool]]) -> None:
    _check_properties(frame({"y": data[0]}, {"y": data[1]}), PROP)


@settings(max_examples=300, deadline=None)
@given(ratio_groups)
def test_properties_ratio(data: tuple[list[tuple[float, int]], list[tuple[float, int]]]) -> None:
    treat = {"num": [p[0] for p in data[0]], "den": [p[1] for p in data[0]]}
    ctrl = {"num": [p[0] for p in data[1]], "den": [p[1] for p in data[1]]}
    _check_properties(frame(treat, ctrl), RATIO)


@settings(max_examples=100, deadline=None)
@given(groups, st.lists(values, min_size=80, max_size=80))
def test_properties_cuped(data: tuple[list[float], list[float]], cov: list[float]) -> None:
    n_t, n_c = len(data[0]), len(data[1])
    metric = MetricDefinition(name="m", kind="mean", column="y", covariate="x")
    _check_properties(frame({"y": data[0], "x": cov[:n_t]}, {"y": data[1], "x": cov[40:40 + n_c]}), metric)


@settings(max_examples=300, deadline=None)
@given(x=st.floats(min_value=0.0, max_value=60.0), q=st.floats(min_value=1e-15, max_value=1 - 1e-15),
       df=st.floats(min_value=1.0, max_value=1e7))
def test_distribution_functions_equal_scipy_stats(x: float, q: float, df: float) -> None:
    """The engine calls scipy.special directly (scipy.stats takes a second to import): same numbers."""
    from metricspec.engine.experiments import dist

    assert dist.norm_sf(x) == stats.norm.sf(x)
    assert dist.norm_cdf(x) == stats.norm.cdf(x)
    assert dist.norm_pdf(x) == pytest.approx(stats.norm.pdf(x), rel=1e-13, abs=1e-300)
    assert dist.norm_isf(q) == stats.norm.isf(q)
    assert dist.norm_ppf(q) == stats.norm.ppf(q)
    assert dist.t_sf(x, df) == pytest.approx(stats.t.sf(x, df), rel=1e-13, abs=1e-300)
    assert dist.t_isf(q, df) == pytest.approx(stats.t.isf(q, df), rel=1e-12)
    assert dist.chi2_sf(x, df) == pytest.approx(stats.chi2.sf(x, df), rel=1e-13, abs=1e-300)


@settings(max_examples=500, deadline=None)
@given(q=st.floats(min_value=1e-9, max_value=1 - 1e-9), n=st.integers(1, 100_000),
       p=st.floats(min_value=1e-6, max_value=1 - 1e-6))
def test_binomial_quantiles_equal_scipy_stats(q: float, n: int, p: float) -> None:
    """Equal to scipy.stats.binom, except at exact ties (a tail probability equal to ``q``, e.g. P(X <= 58) =
    0.5 for Binomial(117, 0.5)), where scipy's Boost backend rounds either way."""
    from metricspec.engine.experiments import dist

    expected_ppf, expected_isf = int(stats.binom.ppf(q, n, p)), int(stats.binom.isf(q, n, p))
    near_tie = any(math.isclose(stats.binom.cdf(k, n, p), q, rel_tol=1e-9) or
                   math.isclose(stats.binom.sf(k, n, p), q, rel_tol=1e-9)
                   for k in {expected_ppf - 1, expected_ppf, expected_isf - 1, expected_isf})
    assume(not near_tie)
    assert dist.binom_ppf(q, n, p) == expected_ppf
    assert dist.binom_isf(q, n, p) == expected_isf


def test_experiments_do_not_import_scipy_stats() -> None:
    import subprocess
    import sys

    code = "import sys, metricspec.engine.experiments; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --------------------------------------------------------------------------- multiple comparisons


def _many(rng: np.random.Generator, effects: list[float], n: int = 400) -> tuple[pl.DataFrame, list[MetricDefinition]]:
    treat = {f"y{i}": rng.normal(10 + e, 3, n) for i, e in enumerate(effects)}
    ctrl = {f"y{i}": rng.normal(10, 3, n) for i in range(len(effects))}
    metrics = [MetricDefinition(name=f"m{i}", kind="mean", column=f"y{i}") for i in range(len(effects))]
    return frame(treat, ctrl), metrics


@pytest.mark.parametrize(("correction", "method"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_p_values_match_statsmodels_multipletests(correction: str, method: str) -> None:
    from statsmodels.stats.multitest import multipletests

    df, metrics = _many(np.random.default_rng(31), [0.0, 0.2, 0.5, 0.8, 0.1, 0.0, 0.6])
    res = run(df, *metrics, correction=correction)
    raw = [m.p_value for m in res.metrics]
    rel = [m.relative_p_value for m in res.metrics]
    assert all(p is not None for p in raw + rel)
    reject, adjusted, _, _ = multipletests(raw, alpha=0.05, method=method)
    _, rel_adjusted, _, _ = multipletests(rel, alpha=0.05, method=method)
    for m, a, r, rej in zip(res.metrics, adjusted, rel_adjusted, reject, strict=True):
        assert close(m.p_value_adjusted, a) and close(m.relative_p_value_adjusted, r)
        assert m.significant == bool(rej)  # the verdict reads the adjusted p of the difference
    assert res.correction == correction


def test_holm_is_the_default_and_none_keeps_the_raw_verdict() -> None:
    df, metrics = _many(np.random.default_rng(32), [0.0, 0.45, 0.45, 0.45, 0.45, 0.45])
    default, plain = run(df, *metrics), run(df, *metrics, correction="none")
    assert default.correction == "holm" and plain.correction == "none"
    assert all(m.p_value_adjusted is None and m.relative_p_value_adjusted is None for m in plain.metrics)
    assert [m.significant for m in plain.metrics] == [m.p_value is not None and m.p_value < 0.05 for m in plain.metrics]
    # the correction can only take significance away
    for d, p in zip(default.metrics, plain.metrics, strict=True):
        assert d.p_value == p.p_value and d.p_value_adjusted is not None and d.p_value is not None
        assert d.p_value_adjusted >= d.p_value
        assert not (d.significant and not p.significant)


def test_tests_without_a_p_value_are_not_part_of_the_family() -> None:
    rng = np.random.default_rng(33)
    df = frame({"y": rng.normal(11, 3, 300), "z": [5.0] * 300}, {"y": rng.normal(10, 3, 300), "z": [5.0] * 300})
    res = run(df, MEAN, MetricDefinition(name="flat", kind="mean", column="z"))
    assert res.metrics[1].p_value is None and res.metrics[1].p_value_adjusted is None
    assert res.metrics[0].p_value_adjusted == res.metrics[0].p_value  # a family of one


pvalues = st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)  # multipletests takes tens of milliseconds a call
@given(pvalues)
def test_adjustment_properties(ps: list[float]) -> None:
    from statsmodels.stats.multitest import multipletests

    from metricspec.engine.experiments.multitest import adjust

    holm, bh = adjust(ps, "holm"), adjust(ps, "bh")
    assert holm == pytest.approx(list(multipletests(ps, method="holm")[1]), rel=1e-12, abs=1e-15)
    assert bh == pytest.approx(list(multipletests(ps, method="fdr_bh")[1]), rel=1e-12, abs=1e-15)
    for p, h, b in zip(ps, holm, bh, strict=True):
        assert h is not None and b is not None
        assert p <= b <= h <= 1.0 or math.isclose(b, h)  # BH is never stricter than Holm
    order = sorted(range(len(ps)), key=ps.__getitem__)
    assert [holm[i] for i in order] == sorted(holm[i] for i in order)  # monotone in the raw p
    assert adjust([None, *ps], "holm")[0] is None and adjust(ps, "none") == [None] * len(ps)


# --------------------------------------------------------------------------- quantile metrics

MEDIAN = MetricDefinition(name="med", kind="quantile", column="y", quantile=0.5)
P90 = MetricDefinition(name="p90", kind="quantile", column="y", quantile=0.9)


@pytest.mark.parametrize(("metric", "level"), [(MEDIAN, None), (P90, None), (P90, 0.9)])
def test_quantile_values_and_group_intervals_match_scipy(metric: MetricDefinition, level: float | None) -> None:
    rng = np.random.default_rng(41)
    y_t, y_c = rng.lognormal(3.3, 0.9, 700), rng.lognormal(3.2, 0.9, 650)
    m = one(frame({"y": y_t}, {"y": y_c}), metric, confidence_level=level)
    q = metric.quantile
    assert q is not None and m.quantile == q and m.kind == "quantile"
    assert close(m.treatment_value, np.quantile(y_t, q)) and close(m.control_value, np.quantile(y_c, q))
    for y, low, high in ((y_t, m.treatment_ci_low, m.treatment_ci_high), (y_c, m.control_ci_low, m.control_ci_high)):
        ci = stats.quantile_test(y, q=np.quantile(y, q), p=q).confidence_interval(level or 0.95)
        assert low == ci.low and high == ci.high  # order statistics: the very same data points
    assert close(m.difference, np.quantile(y_t, q) - np.quantile(y_c, q))


def test_quantile_difference_interval_agrees_with_a_bootstrap() -> None:
    """The difference interval (gbstats' quantile test, checked to 1e-6 in test_gbstats_reference.py) against
    an independent percentile bootstrap of the difference in medians (scipy.stats.bootstrap, fixed seed)."""
    rng = np.random.default_rng(42)
    y_t, y_c = rng.lognormal(3.35, 0.8, 1500), rng.lognormal(3.2, 0.8, 1400)
    m = one(frame({"y": y_t}, {"y": y_c}), MEDIAN)
    boot = stats.bootstrap((y_t, y_c), lambda a, b, axis: np.median(a, axis=axis) - np.median(b, axis=axis),
                           n_resamples=4000, method="percentile", random_state=np.random.default_rng(7), vectorized=True)
    assert m.difference_ci_low is not None and m.difference_ci_high is not None
    width = boot.confidence_interval.high - boot.confidence_interval.low
    assert m.difference_ci_low == pytest.approx(boot.confidence_interval.low, abs=0.15 * width)
    assert m.difference_ci_high == pytest.approx(boot.confidence_interval.high, abs=0.15 * width)
    assert m.p_value is not None and m.relative_p_value is not None


def test_quantile_needs_enough_units_and_distinct_values() -> None:
    m = one(frame({"y": list(range(20))}, {"y": list(range(25))}), P90)  # 20 <= 1.96² * 9: too few for p90 bounds
    assert m.p_value is None and m.treatment_value == pytest.approx(np.quantile(range(20), 0.9))
    assert any("too few for an interval of the 0.9 quantile" in w for w in m.warnings)
    from metricspec.engine.experiments.quantiles import quantile_arm

    # the thresholds docs/control-groups.md quotes: n <= 1.96² max(q/(1-q), (1-q)/q) is too few
    assert quantile_arm(np.arange(3.0), 0.5, 0.95).problem == "too_few"
    assert quantile_arm(np.arange(4.0), 0.5, 0.95).problem is None
    assert quantile_arm(np.arange(34.0), 0.9, 0.95).problem == "too_few"
    assert quantile_arm(np.arange(35.0), 0.9, 0.95).problem is None
    ties = one(frame({"y": [0.0] * 300 + [5.0] * 10}, {"y": [0.0] * 280 + [6.0] * 20}), MEDIAN)
    assert ties.p_value is None and ties.difference == 0.0
    assert any("sits on many tied values" in w for w in ties.warnings)
    with pytest.raises(ValueError):
        MetricDefinition(name="q", kind="quantile", column="y")
    with pytest.raises(ValueError):
        MetricDefinition(name="q", kind="quantile", column="y", quantile=0.5, covariate="x")
    with pytest.raises(ValueError):
        MetricDefinition(name="q", kind="mean", column="y", quantile=0.5)


# --------------------------------------------------------------------------- sequential testing


def test_sequential_intervals_are_wider_and_p_values_larger() -> None:
    rng = np.random.default_rng(51)
    df = frame({"y": rng.normal(10.4, 3, 800)}, {"y": rng.normal(10, 3, 800)})
    fixed, seq = one(df, MEAN), one(df, MEAN, method="sequential")
    s = seq.sequential
    assert fixed.sequential is None and s is not None and s.tuning == 5000
    assert s.difference_ci_low is not None and s.difference_ci_high is not None
    assert fixed.difference_ci_low is not None and fixed.difference_ci_high is not None
    assert s.difference_ci_low < fixed.difference_ci_low and s.difference_ci_high > fixed.difference_ci_high
    assert s.p_value is not None and fixed.p_value is not None and s.p_value > fixed.p_value
    assert seq.significant == (s.p_value < 0.05)  # a family of one: the adjusted p is the raw one
    # the fixed-horizon figures stay in the result as they were
    assert (seq.p_value, seq.difference_ci_low) == (fixed.p_value, fixed.difference_ci_low)


def test_sequential_looks_do_not_inflate_false_positives() -> None:
    """500 A/A experiments, each looked at 20 times as units arrive: stopping at the first fixed-horizon
    p < 0.05 declares far more than 5% of them significant; the always-valid p-value stays below 5%."""
    from metricspec.engine.experiments.effects import ArmStats, fixed_test, sequential_test

    rng = np.random.default_rng(52)
    looks = np.linspace(100, 4000, 20).astype(int)
    fixed_hits = seq_hits = 0
    runs = 500
    for _ in range(runs):
        a, b = rng.normal(0, 1, looks[-1]), rng.normal(0, 1, looks[-1])
        f = s = False
        for n in looks:
            arm_a = ArmStats(int(n), float(a[:n].mean()), float(a[:n].var(ddof=1)), float(a[:n].mean()))
            arm_b = ArmStats(int(n), float(b[:n].mean()), float(b[:n].var(ddof=1)), float(b[:n].mean()))
            ft = fixed_test(arm_a, arm_b, relative=False, alpha=0.05)
            st_ = sequential_test(arm_a, arm_b, relative=False, alpha=0.05, tuning=4000)
            f |= ft is not None and ft.p_value < 0.05
            s |= st_ is not None and st_.p_value < 0.05
        fixed_hits += f
        seq_hits += s
    assert fixed_hits / runs == pytest.approx(0.27, abs=0.03)  # peeking at a fixed-horizon test: inflation
    assert seq_hits / runs == pytest.approx(0.02, abs=0.015)  # docs/control-groups.md quotes both
    assert seq_hits / runs <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs)


@settings(max_examples=200, deadline=None)
@given(n_a=st.integers(2, 10**6), n_b=st.integers(2, 10**6), mean_a=st.floats(0.01, 1e4),
       mean_b=st.floats(0.0, 1e4), var_a=st.floats(1e-6, 1e6), var_b=st.floats(1e-6, 1e6),
       tuning=st.floats(1.0, 1e7), alpha=st.floats(0.001, 0.3))
def test_sequential_properties(n_a: int, n_b: int, mean_a: float, mean_b: float, var_a: float, var_b: float,
                               tuning: float, alpha: float) -> None:
    from metricspec.engine.experiments.effects import ArmStats, sequential_test

    a, b = ArmStats(n_a, mean_a, var_a, mean_a), ArmStats(n_b, mean_b, var_b, mean_b)
    for relative in (False, True):
        r = sequential_test(a, b, relative=relative, alpha=alpha, tuning=tuning)
        if r is None:
            continue
        assert 0.0 <= r.p_value <= 1.0
        assert r.ci_low <= r.estimate <= r.ci_high
        # the interval excludes 0 exactly when the always-valid p is below alpha (eq. 9 and 155 agree)
        if not math.isclose(r.p_value, alpha, rel_tol=1e-6):
            assert (r.ci_low > 0 or r.ci_high < 0) == (r.p_value < alpha)


# --------------------------------------------------------------------------- Bayesian


def test_bayesian_direction_prior_and_verdict() -> None:
    rng = np.random.default_rng(61)
    df = frame({"y": rng.normal(10.6, 3, 600)}, {"y": rng.normal(10, 3, 600)})
    up = one(df, MEAN, method="bayesian")
    down = one(df, MEAN.model_copy(update={"direction": "decrease"}), method="bayesian")
    assert up.bayesian is not None and down.bayesian is not None
    assert up.bayesian.chance_to_beat_control == pytest.approx(1 - down.bayesian.chance_to_beat_control, abs=1e-12)
    assert up.bayesian.expected_loss == pytest.approx(down.bayesian.expected_loss_control, abs=1e-15)
    assert up.significant and up.better and down.significant and down.better is False
    assert up.p_value_adjusted is not None and up.sequential is None  # the p-values are still reported
    shrunk = one(df, MEAN, method="bayesian", prior=(0.0, 0.01)).bayesian
    assert shrunk is not None and shrunk.prior_stddev == 0.01 and up.bayesian.prior_stddev is None
    assert shrunk.relative_lift is not None and up.bayesian.relative_lift is not None
    assert 0 < shrunk.relative_lift < up.bayesian.relative_lift  # pulled towards the prior mean 0
    flat = one(frame({"y": rng.normal(10, 3, 600)}, {"y": rng.normal(10, 3, 600)}), MEAN, method="bayesian")
    chance = flat.bayesian.chance_to_beat_control if flat.bayesian else None
    assert chance is not None
    assert flat.significant == (not 0.05 < chance < 0.95) and flat.better == (chance >= 0.95)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups)
def test_properties_bayesian(data: tuple[list[float], list[float]]) -> None:
    m = one(frame({"y": [abs(v) + 1 for v in data[0]]}, {"y": [abs(v) + 1 for v in data[1]]}), MEAN,
            method="bayesian")
    b = m.bayesian
    assert b is not None
    for value in b.model_dump().values():
        assert value is None or math.isfinite(value)
    if b.chance_to_beat_control is not None:
        assert 0.0 <= b.chance_to_beat_control <= 1.0
        assert b.expected_loss is not None and b.expected_loss >= 0 and b.expected_loss_control is not None
        assert b.credible_interval_low is not None and b.credible_interval_high is not None
        assert b.credible_interval_low <= (b.relative_lift or 0) <= b.credible_interval_high
        if m.difference is not None and m.difference != 0:  # positive data, flat prior: the sign decides
            assert (b.chance_to_beat_control > 0.5) == (m.difference > 0)


# --------------------------------------------------------------------------- segments and SRM


def test_segments_equal_separate_runs_and_share_one_correction() -> None:
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(71)
    n_t, n_c = 900, 880
    df = frame({"y": rng.normal(10.5, 3, n_t), "region": rng.choice(["north", "south", None], n_t).tolist()},
               {"y": rng.normal(10, 3, n_c), "region": rng.choice(["north", "south", None], n_c).tolist()})
    twice = MEAN.model_copy(update={"name": "m2", "direction": "decrease"})
    res = run(df, MEAN, twice, segments=["region"])
    assert [(s.column, s.value) for s in res.segments] == [("region", "north"), ("region", "south"), ("region", None)]
    raw = []
    for seg in res.segments:
        part = df.filter(pl.col("region").is_null() if seg.value is None else pl.col("region") == seg.value)
        alone = run(part, MEAN, twice, correction="none")
        assert (seg.srm.control_n, seg.srm.treatment_n) == (alone.srm.control_n, alone.srm.treatment_n)
        for got, want in zip(seg.metrics, alone.metrics, strict=True):
            assert (got.p_value, got.difference, got.relative_lift_ci_low) == (
                want.p_value, want.difference, want.relative_lift_ci_low)
            raw.append(got.p_value)
    adjusted = multipletests(raw, method="holm")[1]
    flat = [m for s in res.segments for m in s.metrics]
    assert [m.p_value_adjusted for m in flat] == pytest.approx(list(adjusted), rel=1e-12)
    # the overall family is the group's metrics only
    assert res.metrics[0].p_value_adjusted == pytest.approx(
        multipletests([m.p_value for m in res.metrics], method="holm")[1][0], rel=1e-12)


def test_segment_srm_and_too_many_values() -> None:
    from metricspec.engine.experiments.evaluate import MAX_SEGMENT_VALUES

    df = frame({"y": [1.0, 2.0] * 300, "s": ["a"] * 500 + ["b"] * 100}, {"y": [1.0, 3.0] * 300, "s": ["a"] * 300 + ["b"] * 300})
    res = run(df, MEAN, segments=["s"])
    assert not res.srm.mismatch
    by_value = {s.value: s for s in res.segments}
    assert by_value["a"].srm.mismatch and by_value["b"].srm.mismatch  # 500 vs 300 and 100 vs 300
    many = frame({"y": [1.0, 2.0] * 60, "s": list(range(120))}, {"y": [1.0, 3.0] * 60, "s": list(range(120))})
    res = run(many, MEAN, segments=["s"])
    assert len(res.segments) == MAX_SEGMENT_VALUES
    assert any("s has 120 values: only the 50 largest segments are compared" in w for w in res.warnings)
    assert [s.value for s in res.segments] == [str(v) for v in range(50)]  # the largest (a tie: the first) in order
    with pytest.raises(ValueError, match="not in the data"):
        run(df, MEAN, segments=["nope"])


def test_srm_threshold_is_configurable() -> None:
    df = frame({"y": [0, 1] * 540}, {"y": [0, 1] * 500})  # 1080 vs 1000: p = 0.08
    strict, default = run(df, PROP, srm_threshold=0.1), run(df, PROP)
    assert strict.srm.p_value is not None and 0.05 < strict.srm.p_value < 0.1
    assert strict.srm.mismatch and strict.srm.threshold == 0.1 and not default.srm.mismatch
    assert default.srm.threshold == 0.001
    assert any("below 0.1" in w for w in strict.warnings)
    with pytest.raises(ValueError, match="srm_threshold"):
        run(df, PROP, srm_threshold=0.0)


def test_bad_method_settings_raise() -> None:
    df = frame({"y": [0, 1]}, {"y": [1, 0]})
    with pytest.raises(ValueError, match="method"):
        run(df, PROP, method="magic")
    with pytest.raises(ValueError, match="correction"):
        run(df, PROP, correction="bonferroni")
    with pytest.raises(ValueError, match="sequential_tuning"):
        run(df, PROP, method="sequential", sequential_tuning=0.0)
    with pytest.raises(ValueError, match="prior"):
        run(df, PROP, method="bayesian", prior=(0.0, -1.0))
