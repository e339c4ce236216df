"""Tests for metricspec.engine.experiments against scipy/statsmodels and hand-built cases."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from metricspec.engine.experiments import (
    ExperimentResult,
    MetricComparison,
    MetricDefinition,
    evaluate_experiment,
)

REL = 1e-9


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
    low, high = CompareMeans(DescrStatsW(y_t), DescrStatsW(y_c)).tconfint_diff(
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
    low, high = CompareMeans(DescrStatsW(a_t), DescrStatsW(a_c)).tconfint_diff(usevar="unequal")
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
    lift_half = q * np.sqrt(v_t / r_c**2 + r_t**2 * v_c / r_c**4)
    assert close(m.relative_lift, r_t / r_c - 1)
    assert close(m.relative_lift_ci_low, r_t / r_c - 1 - lift_half)
    assert close(m.relative_lift_ci_high, r_t / r_c - 1 + lift_half)


def test_relative_lift_and_mde_match_numpy_for_proportion_and_mean() -> None:
    rng = np.random.default_rng(21)
    y_t, y_c = np.array(_binary(rng, 900, 0.2)), np.array(_binary(rng, 950, 0.16))
    m = one(frame({"y": y_t}, {"y": y_c}), PROP, alpha=0.1, power=0.9, confidence_level=0.9)
    t, c = y_t.mean(), y_c.mean()
    v_t, v_c = t * (1 - t) / 900, c * (1 - c) / 950
    q = stats.norm.ppf(0.95)
    half = q * np.sqrt(v_t / c**2 + t**2 * v_c / c**4)
    assert close(m.relative_lift, (t - c) / c)
    assert close(m.relative_lift_ci_low, t / c - 1 - half) and close(m.relative_lift_ci_high, t / c - 1 + half)
    assert close(m.mde, (stats.norm.ppf(0.95) + stats.norm.ppf(0.9)) * np.sqrt(v_t + v_c))

    g_t, g_c = rng.normal(50, 10, 200), rng.normal(45, 12, 150)
    m = one(frame({"y": g_t}, {"y": g_c}), MEAN)
    t, c = g_t.mean(), g_c.mean()
    v_t, v_c = g_t.var(ddof=1) / 200, g_c.var(ddof=1) / 150
    half = stats.norm.ppf(0.975) * np.sqrt(v_t / c**2 + t**2 * v_c / c**4)
    assert close(m.relative_lift_ci_low, t / c - 1 - half) and close(m.relative_lift_ci_high, t / c - 1 + half)
    assert close(m.mde, (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * np.sqrt(v_t + v_c))


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
    from metricspec.engine import experiments as ex

    assert ex._norm_sf(x) == stats.norm.sf(x)
    assert ex._norm_isf(q) == stats.norm.isf(q)
    assert ex._norm_ppf(q) == stats.norm.ppf(q)
    assert ex._t_sf(x, df) == pytest.approx(stats.t.sf(x, df), rel=1e-13, abs=1e-300)
    assert ex._t_isf(q, df) == pytest.approx(stats.t.isf(q, df), rel=1e-12)
    assert ex._chi2_sf(x, df) == pytest.approx(stats.chi2.sf(x, df), rel=1e-13, abs=1e-300)


def test_experiments_do_not_import_scipy_stats() -> None:
    import subprocess
    import sys

    code = "import sys, metricspec.engine.experiments; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
