"""Adjusted comparisons (randomised: false with adjust:): each method against an independent implementation,
coverage of the true effect in seeded simulations with known selection, balance against a hand computation.

References: statsmodels (Logit, WLS, OLS), plain numpy/Python loops written here from the textbook
formulas. Data: generated with a known effect and a known selection on the covariates, so the naive
difference is biased and the truth is known.
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from metricspec.engine.experiments import (
    MetricDefinition,
    adjusted,
    aipw,
    balance,
    evaluate_experiment,
    ipw,
    matching,
    propensity,
    regression,
)
from metricspec.engine.experiments.adjusted import Settings
from metricspec.engine.experiments.design import build_design
from metricspec.engine.experiments.evaluate import Design
from metricspec.engine.experiments.inference import Data, Options

TRUE_EFFECT = 1.0


def confounded(rng: np.random.Generator, n: int, effect: float = TRUE_EFFECT,
               heterogeneous: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covariates raise both the chance of treatment and the outcome: the naive difference is biased upwards."""
    x = rng.normal(size=(n, 3))
    e = propensity.expit(-0.3 + 0.6 * x[:, 0] - 0.4 * x[:, 1] + 0.3 * x[:, 2])
    t = (rng.random(n) < e).astype(float)
    tau = effect + (0.5 * x[:, 0] if heterogeneous else 0.0)
    y = 1.0 + 1.5 * x[:, 0] + x[:, 1] + 0.5 * x[:, 2] + t * tau + rng.normal(size=n)
    return x, t, y


def _data(x: np.ndarray, t: np.ndarray, y: np.ndarray) -> tuple[Data, propensity.Propensity]:
    xs = propensity.standardise(x)
    return Data(xs, t, y), propensity.fit(xs, t)


# -- each method against an independent implementation ----------------------------------------------


def test_propensity_equals_statsmodels_logit():
    x, t, _ = confounded(np.random.default_rng(1), 2000)
    ps = propensity.fit(propensity.standardise(x), t)
    ref = sm.Logit(t, sm.add_constant(x)).fit(disp=0)
    assert ps.converged
    np.testing.assert_allclose(ps.score, ref.predict(sm.add_constant(x)), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("estimand", ["ate", "att"])
def test_ipw_equals_weighted_least_squares(estimand):
    x, t, y = confounded(np.random.default_rng(2), 3000)
    data, ps = _data(x, t, y)
    fit = ipw.fit(data, ps, Options(estimand, trim=0.0))
    e = sm.Logit(t, sm.add_constant(x)).fit(disp=0).predict(sm.add_constant(x))
    w = np.where(t == 1, 1 / e, 1 / (1 - e)) if estimand == "ate" else np.where(t == 1, 1.0, e / (1 - e))
    wls = sm.WLS(y, sm.add_constant(t), weights=w).fit()
    assert fit.effect == pytest.approx(wls.params[1], rel=1e-8)
    # the stabilised weights (shown as the diagnostics' weights) give the same estimate
    sw = ipw.stabilised(e, t, estimand)
    assert sm.WLS(y, sm.add_constant(t), weights=sw).fit().params[1] == pytest.approx(fit.effect, rel=1e-8)
    share = t.mean()
    expected = (np.where(t == 1, share / e, (1 - share) / (1 - e)) if estimand == "ate"
                else np.where(t == 1, 1.0, e / (1 - e) * (1 - share) / share))
    np.testing.assert_allclose(sw, expected, rtol=1e-9)


def test_ipw_sandwich_equals_lunceford_davidian():
    """ATE: the stacked sandwich equals Lunceford and Davidian's (2004) closed-form variance of the
    ratio IPW estimator with an estimated logistic propensity (their eq. 7's sample analogue)."""
    x, t, y = confounded(np.random.default_rng(3), 4000)
    data, ps = _data(x, t, y)
    fit = ipw.fit(data, ps, Options("ate", trim=0.0))
    assert fit.cov is not None
    se = math.sqrt(fit.cov[0, 0] + fit.cov[1, 1] - 2 * fit.cov[0, 1])
    # the reference, written out: I_i = t(y-mu1)/e - (1-t)(y-mu0)/(1-e) - H' E^-1 x(t-e)
    X = sm.add_constant(x)
    e = sm.Logit(t, X).fit(disp=0).predict(X)
    mu1 = np.sum(t * y / e) / np.sum(t / e)
    mu0 = np.sum((1 - t) * y / (1 - e)) / np.sum((1 - t) / (1 - e))
    c1, c0 = np.mean(t / e), np.mean((1 - t) / (1 - e))  # the ratio estimator's normalising constants
    h = np.mean((t * (y - mu1) * (1 - e) / e / c1 + (1 - t) * (y - mu0) * e / (1 - e) / c0)[:, None] * X, axis=0)
    info = (X * (e * (1 - e))[:, None]).T @ X / len(t)
    infl = (t * (y - mu1) / e / c1 - (1 - t) * (y - mu0) / (1 - e) / c0
            - (X * (t - e)[:, None]) @ np.linalg.solve(info, h))
    ref = math.sqrt(np.mean(infl ** 2) / len(t))
    assert fit.effect == pytest.approx(mu1 - mu0, rel=1e-9)
    assert se == pytest.approx(ref, rel=1e-4)


@pytest.mark.parametrize("estimand", ["ate", "att"])
def test_regression_adjustment_equals_interacted_ols(estimand):
    x, t, y = confounded(np.random.default_rng(4), 3000, heterogeneous=True)
    data, _ = _data(x, t, y)
    fit = regression.fit(data, Options(estimand))
    centre = x.mean(axis=0) if estimand == "ate" else x[t == 1].mean(axis=0)
    xc = x - centre
    design = np.column_stack([np.ones_like(t), t, xc, xc * t[:, None]])
    ols = sm.OLS(y, design).fit(cov_type="HC0")
    assert fit.effect == pytest.approx(ols.params[1], rel=1e-8)
    se = math.sqrt(fit.cov[0, 0] + fit.cov[1, 1] - 2 * fit.cov[0, 1])
    # HC0 treats the centring means as known; the sandwich counts their noise too (slightly wider for ATE)
    assert 0.95 * ols.bse[1] <= se <= 1.15 * ols.bse[1]


def _aipw_reference(x, t, y, estimand):
    """AIPW written from the formulas with statsmodels' Logit and OLS fits, and its influence-function SE."""
    X = sm.add_constant(x)
    e = sm.Logit(t, X).fit(disp=0).predict(X)
    m1 = sm.OLS(y[t == 1], X[t == 1]).fit().predict(X)
    m0 = sm.OLS(y[t == 0], X[t == 0]).fit().predict(X)
    if estimand == "ate":
        psi = m1 - m0 + t * (y - m1) / e - (1 - t) * (y - m0) / (1 - e)
        tau = psi.mean()
        return tau, math.sqrt(np.var(psi - tau) / len(t))
    p = t.mean()
    tau = np.sum(t * (y - m0) - (1 - t) * e / (1 - e) * (y - m0)) / np.sum(t)
    psi = (t * (y - m0 - tau) - (1 - t) * e / (1 - e) * (y - m0)) / p
    return tau, math.sqrt(np.mean(psi ** 2) / len(t))


@pytest.mark.parametrize("estimand", ["ate", "att"])
def test_aipw_equals_the_formula(estimand):
    x, t, y = confounded(np.random.default_rng(5), 3000, heterogeneous=True)
    data, ps = _data(x, t, y)
    fit = aipw.fit(data, ps, Options(estimand, trim=0.0))
    tau, se_ref = _aipw_reference(x, t, y, estimand)
    assert fit.effect == pytest.approx(tau, rel=1e-7)
    se = math.sqrt(fit.cov[0, 0] + fit.cov[1, 1] - 2 * fit.cov[0, 1])
    # with both models right the nuisance estimation adds little: the stacked sandwich ≈ the influence function
    assert se == pytest.approx(se_ref, rel=0.05)


def _match_reference(score, t, y, caliper_sd, replacement, estimand):
    """Plain-Python nearest-neighbour matching and Abadie–Imbens' variance (loops over units)."""
    idx_t = [i for i in range(len(t)) if t[i] == 1]
    idx_c = [i for i in range(len(t)) if t[i] == 0]
    limit = None if caliper_sd is None else caliper_sd * statistics.pstdev(score)
    pairs = []

    def nearest(i, pool):
        best = min(pool, key=lambda j: (abs(score[i] - score[j]), j))
        return best if limit is None or abs(score[i] - score[best]) <= limit else None

    if replacement:
        for i in idx_t:
            j = nearest(i, idx_c)
            if j is not None:
                pairs.append((i, j))
        if estimand == "ate":
            for i in idx_c:
                j = nearest(i, idx_t)
                if j is not None:
                    pairs.append((i, j))
    else:
        free = list(idx_c)
        for i in sorted(idx_t, key=lambda i: (-score[i], i)):
            if not free:
                break
            j = min(free, key=lambda j: (abs(score[i] - score[j]), free.index(j)))
            if limit is None or abs(score[i] - score[j]) <= limit:
                pairs.append((i, j))
                free.remove(j)
    diffs = [(y[i] - y[j]) if t[i] == 1 else (y[j] - y[i]) for i, j in pairs]
    tau = sum(diffs) / len(diffs)
    uses = dict.fromkeys(range(len(t)), 0)
    for _, j in pairs:
        uses[j] += 1

    def sigma2(i):
        same = [j for j in range(len(t)) if t[j] == t[i] and j != i]
        j = min(same, key=lambda j: (abs(score[i] - score[j]), j))
        return 0.5 * (y[i] - y[j]) ** 2

    k_term = sum((uses[k] * (uses[k] + 1) if estimand == "ate" else uses[k] * (uses[k] - 1)) * sigma2(k)
                 for k in range(len(t)) if uses[k] > 1 or (estimand == "ate" and uses[k] > 0))
    var = (sum((d - tau) ** 2 for d in diffs) + k_term) / len(diffs) ** 2
    return tau, var


@pytest.mark.parametrize(("caliper", "replacement", "estimand"),
                         [(None, True, "att"), (0.2, True, "att"), (0.1, False, "att"), (None, True, "ate")])
def test_matching_equals_a_plain_loop(caliper, replacement, estimand):
    x, t, y = confounded(np.random.default_rng(6), 300)
    data, ps = _data(x, t, y)
    fit = matching.fit(data, ps, Options(estimand, caliper=caliper, replacement=replacement))
    tau, var = _match_reference(list(ps.logit), list(t), list(y), caliper, replacement, estimand)
    assert fit.effect == pytest.approx(tau, rel=1e-9, abs=1e-12)
    assert fit.var_effect == pytest.approx(var, rel=1e-9)


# -- balance diagnostics against a hand computation -------------------------------------------------


def test_balance_equals_a_hand_computation():
    rng = np.random.default_rng(7)
    frame = pl.DataFrame({"age": rng.integers(18, 70, 200).astype(float), "region": rng.choice(["a", "b", "c"], 200),
                          "vip": rng.random(200) < 0.3})
    t = (rng.random(200) < 0.4).astype(float)
    design = build_design(frame, ["age", "region", "vip"])
    assert design.names == ["age", "region=b", "region=c", "vip"] or design.names[0] == "age"
    w = rng.uniform(0.2, 3.0, 200)
    rows = balance.smd_table(design.matrix, design.names, t, w, "ate")
    for j, row in enumerate(rows):
        col = list(design.matrix[:, j])
        tr_ = [v for v, g in zip(col, t, strict=True) if g == 1]
        co = [v for v, g in zip(col, t, strict=True) if g == 0]
        sd = math.sqrt((statistics.variance(tr_) + statistics.variance(co)) / 2)
        wt = [(v, ww) for v, g, ww in zip(col, t, w, strict=True) if g == 1]
        wc = [(v, ww) for v, g, ww in zip(col, t, w, strict=True) if g == 0]
        after = (sum(v * ww for v, ww in wt) / sum(ww for _, ww in wt)
                 - sum(v * ww for v, ww in wc) / sum(ww for _, ww in wc)) / sd
        assert row.smd_before == pytest.approx((statistics.mean(tr_) - statistics.mean(co)) / sd, rel=1e-12)
        assert row.smd_after == pytest.approx(after, rel=1e-12)
        assert row.balanced == (abs(after) < 0.1)
    att = balance.smd_table(design.matrix, design.names, t, w, "att")
    col = design.matrix[:, 0]
    assert att[0].smd_before == pytest.approx((col[t == 1].mean() - col[t == 0].mean()) / col[t == 1].std(ddof=1))
    assert balance.effective_n(w) == pytest.approx(sum(w) ** 2 / sum(v * v for v in w))


def test_overlap_counts_units_outside_common_support():
    score = np.array([0.05, 0.2, 0.5, 0.9, 0.1, 0.3, 0.6, 0.7])
    t = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=float)
    lap = balance.overlap(score, t)
    # support [max(0.05, 0.1), min(0.9, 0.7)] = [0.1, 0.7]: 0.05 and 0.9 are outside
    assert lap.outside == 2 and lap.treated == (0.05, 0.9) and lap.control == (0.1, 0.7)


def test_categories_become_indicators_and_collinear_columns_are_left_out():
    frame = pl.DataFrame({"a": [1.0, 2, 3, 4, 5, 6], "b": [2.0, 4, 6, 8, 10, 12], "k": [7.0] * 6,
                          "r": ["x", "y", "x", "z", "x", None]})
    design = build_design(frame, ["a", "b", "k", "r"])
    assert design.names == ["a", "r=y", "r=z"]
    assert sorted(design.dropped) == ["b", "k"]
    assert design.keep.tolist() == [True, True, True, True, True, False]


@settings(max_examples=30, deadline=None)
@given(st.floats(0.1, 100.0), st.floats(-50.0, 50.0), st.integers(0, 10_000))
def test_smd_is_invariant_to_the_covariates_scale(scale, shift, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(80, 1))
    t = (rng.random(80) < 0.5).astype(float)
    t[:2] = [0.0, 1.0]
    t[2:4] = [0.0, 1.0]
    w = rng.uniform(0.5, 2.0, 80)
    a = balance.smd_table(x, ["x"], t, w, "ate")[0]
    b = balance.smd_table(x * scale + shift, ["x"], t, w, "ate")[0]
    assert b.smd_before == pytest.approx(a.smd_before, rel=1e-7, abs=1e-9)
    assert b.smd_after == pytest.approx(a.smd_after, rel=1e-7, abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["ipw", "regression", "doubly_robust", "matching"]))
def test_adding_a_constant_to_the_outcome_leaves_the_effect(seed, method):
    x, t, y = confounded(np.random.default_rng(seed), 200)
    s = Settings(("a", "b", "c"), method, "att", trim=0.0 if method in ("ipw", "doubly_robust") else 0.01)
    xs = propensity.standardise(x)
    base = adjusted.fit_all(xs, t, y, s, variance=False)
    moved = adjusted.fit_all(xs, t, y + 1000.0, s, variance=False)
    assert moved.effect == pytest.approx(base.effect, abs=1e-6)


# -- the truth is recovered: coverage in seeded replications ---------------------------------------

COVERAGE_SECONDS = 240.0


def _frame(x, t, y) -> pl.DataFrame:
    return pl.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "t": t.astype(bool), "y": y})


def _true_att(rng_seed: int) -> float:
    x, t, _ = confounded(np.random.default_rng(rng_seed), 2_000_000, heterogeneous=True)
    return TRUE_EFFECT + 0.5 * float(x[t == 1, 0].mean())


@pytest.fixture(scope="module")
def true_att() -> float:
    return _true_att(99)


@pytest.mark.parametrize("estimand", ["att", "ate"])
@pytest.mark.parametrize("method", ["ipw", "matching", "regression", "doubly_robust"])
def test_adjusted_intervals_cover_the_truth_and_the_naive_ones_do_not(method, estimand, true_att):
    """300 seeded data sets of 800 units with heterogeneous effects (ATE 1.0, ATT ≈ 1.19): every method's
    interval covers the truth in ≥ 93 % of them; the naive difference is biased upwards and its interval
    rarely covers the truth."""
    rng = np.random.default_rng(2024)
    truth = TRUE_EFFECT if estimand == "ate" else true_att
    s = Settings(("a", "b", "c"), method, estimand, trim=0.0 if method in ("ipw", "doubly_robust") else 0.01,
                 caliper=None if method == "matching" else 0.2)
    covered = naive_covered = runs = 0
    naive_bias = 0.0
    start = time.monotonic()
    while runs < 300 and time.monotonic() - start < COVERAGE_SECONDS:
        x, t, y = confounded(rng, 800, heterogeneous=True)
        design = build_design(_frame(x, t, y), ["a", "b", "c"])
        prep = adjusted.prepare(design, t, s, "treatment")
        fig = adjusted.estimate(prep, y, s, 0.95)
        covered += fig.difference_ci_low <= truth <= fig.difference_ci_high
        diff = y[t == 1].mean() - y[t == 0].mean()
        se = math.sqrt(y[t == 1].var(ddof=1) / (t == 1).sum() + y[t == 0].var(ddof=1) / (t == 0).sum())
        naive_covered += abs(diff - truth) <= 1.96 * se
        naive_bias += diff - truth
        runs += 1
    assert runs >= 150, f"only {runs} replications in {COVERAGE_SECONDS:.0f} s"
    assert covered / runs >= 0.93, f"{method}/{estimand}: coverage {covered / runs:.3f} over {runs} runs"
    assert naive_covered / runs < 0.10, f"naive coverage {naive_covered / runs:.3f}"
    assert naive_bias / runs > 0.4, f"naive bias {naive_bias / runs:.3f}"  # selection inflates the plain difference


def test_on_randomised_data_adjusted_agrees_with_unadjusted():
    """No selection: every method's estimate is within a fraction of a standard error of the plain difference."""
    rng = np.random.default_rng(11)
    n = 4000
    x = rng.normal(size=(n, 3))
    t = (rng.random(n) < 0.5).astype(float)
    y = 1.0 + x @ np.array([1.5, 1.0, 0.5]) + 0.7 * t + rng.normal(size=n)
    frame = _frame(x, t, y)
    metric = MetricDefinition(name="y", kind="mean", column="y")
    for method in ("ipw", "matching", "regression", "doubly_robust"):
        res = evaluate_experiment(frame, name="r", group_column="t", treatment_label=True, control_label=False,
                                  metrics=[metric], design=Design(randomised=False, adjust=Settings(
                                      ("a", "b", "c"), method, "ate")))
        m = res.metrics[0]
        assert m.adjusted is not None and m.difference is not None
        se_naive = (m.difference_ci_high - m.difference_ci_low) / (2 * 1.96)
        assert abs(m.adjusted.difference - m.difference) < 1.0 * se_naive, method
        assert m.adjusted.difference_ci_low < 0.7 < m.adjusted.difference_ci_high
        assert all(abs(b.smd_before) < 0.1 for b in res.diagnostics[0].balance)


def test_bootstrap_is_seeded_and_agrees_with_the_sandwich():
    x, t, y = confounded(np.random.default_rng(12), 1500)
    frame = _frame(x, t, y)
    design = build_design(frame, ["a", "b", "c"])
    sandwich = Settings(("a", "b", "c"), "ipw", "ate", trim=0.0)
    boot = Settings(("a", "b", "c"), "ipw", "ate", trim=0.0, bootstrap=400, seed=5)
    prep = adjusted.prepare(design, t, sandwich, "treatment")
    a = adjusted.estimate(prep, y, sandwich, 0.95)
    b1 = adjusted.estimate(prep, y, boot, 0.95)
    b2 = adjusted.estimate(prep, y, boot, 0.95)
    assert b1 == b2  # the same seed, the same interval
    assert b1.interval == "bootstrap" and b1.bootstrap == 400 and b1.seed == 5
    assert a.interval == "sandwich"
    assert b1.difference == a.difference
    assert b1.standard_error == pytest.approx(a.standard_error, rel=0.15)
    other = adjusted.estimate(prep, y, Settings(("a", "b", "c"), "ipw", "ate", trim=0.0, bootstrap=400, seed=6), 0.95)
    assert other.difference_ci_low != b1.difference_ci_low


def test_trimming_leaves_out_extreme_propensities_and_says_so():
    rng = np.random.default_rng(13)
    x = rng.normal(size=(2000, 1)) * 2.5
    t = (rng.random(2000) < propensity.expit(2.0 * x[:, 0])).astype(float)
    y = x[:, 0] + t + rng.normal(size=2000)
    frame = pl.DataFrame({"a": x[:, 0], "t": t.astype(bool), "y": y})
    res = evaluate_experiment(frame, name="r", group_column="t", treatment_label=True, control_label=False,
                              metrics=[MetricDefinition(name="y", kind="mean", column="y")],
                              design=Design(randomised=False, adjust=Settings(("a",), "ipw", "ate", trim=0.05)))
    d = res.diagnostics[0]
    ps = propensity.fit(propensity.standardise(x), t)
    assert d.trimmed == int(((ps.score < 0.05) | (ps.score > 0.95)).sum()) > 0
    codes = {w.code for w in res.metrics[0].warning_codes}
    assert "cg_trimmed" in codes and "cg_poor_overlap" in codes
