"""Adjusted survival (randomised: false with adjust:): inverse-probability-weighted Kaplan–Meier curves, retention
at k days, medians and a weighted Cox hazard ratio, against independent implementations, and the coverage of
the adjusted retention difference in seeded simulations with a known effect and a known selection.

References: statsmodels ``SurvfuncRight(freq_weights=)`` (weighted curves) and ``PHReg`` on units repeated as
often as their whole weight with the unit as the cluster (weighted Cox and its robust standard error); the
infinitesimal jackknife computed numerically — each unit's case weight perturbed, the propensity refitted by
statsmodels ``GLM(freq_weights=)`` — for the whole sandwich including the propensity model's part.
"""

from __future__ import annotations

import math
import time

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight

from metricspec.engine.experiments import MetricDefinition, evaluate_experiment, propensity
from metricspec.engine.experiments.adjusted import Settings
from metricspec.engine.experiments.evaluate import Design
from metricspec.engine.experiments.survival_adjusted import Sample, sandwich_figures
from metricspec.engine.experiments.survival_boot import bootstrap_figures
from metricspec.engine.experiments.survival_compare import Arm, compare_survival, thin_curve
from metricspec.engine.experiments.survival_weighted import (
    cox,
    cox_influence,
    kaplan_meier,
    km_influence,
)

HR = 0.7
BASE = -5.0
COEF = np.array([0.6, 0.4])  # covariates raise the hazard ...
SELECT = np.array([-0.8, -0.5])  # ... and lower the chance of treatment: the treated stay longer anyway


def durations(rng: np.random.Generator, n: int, scale: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    life = np.ceil(rng.exponential(scale, n))
    censor = np.ceil(rng.uniform(10, 300, n))
    return np.minimum(life, censor), life <= censor


def selected(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Covariates x, treatment t chosen by x, whole-day durations with a conditional hazard ratio of HR."""
    x = rng.normal(size=(n, 2))
    t = (rng.random(n) < propensity.expit(0.1 + x @ SELECT)).astype(float)
    hazard = np.exp(BASE + x @ COEF) * np.where(t == 1.0, HR, 1.0)
    life = np.ceil(rng.exponential(1.0 / hazard))
    censor = np.ceil(rng.uniform(60, 365, n))
    return x, t, np.minimum(life, censor), life <= censor


def sample(x, t, d, e, estimand="att", trim=0.0) -> Sample:
    return Sample(propensity.standardise(x), t, d, e, estimand, trim)


# -- the pieces against independent implementations -------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_weighted_curve_equals_statsmodels_freq_weights(seed):
    rng = np.random.default_rng(seed)
    d, e = durations(rng, 400)
    w = rng.uniform(0.1, 4.0, 400)
    ours = kaplan_meier(d, e, w)
    ref = SurvfuncRight(d, e.astype(int), freq_weights=w)
    np.testing.assert_array_equal(ours.times, ref.surv_times)
    np.testing.assert_allclose(ours.survival, ref.surv_prob, rtol=1e-12, atol=1e-14)
    flat = kaplan_meier(d, e, np.ones(400))  # unit weights: the ordinary curve
    np.testing.assert_allclose(flat.survival, SurvfuncRight(d, e.astype(int)).surv_prob, rtol=1e-12)


@pytest.mark.parametrize("seed", [3, 4])
def test_weighted_cox_and_its_robust_se_equal_phreg_on_repeated_units(seed):
    """Whole weights: the weighted fit is the fit on units repeated that often; the robust (Lin–Wei) variance is
    PHReg's cluster-robust one with the unit as the cluster."""
    rng = np.random.default_rng(seed)
    d, e = durations(rng, 300)
    z = (rng.random(300) < 0.5).astype(float)
    d = np.where(z == 1.0, np.ceil(d * 1.3), d)
    w = rng.integers(1, 5, 300).astype(float)
    fit = cox(d, e, z, w)
    assert fit is not None
    rows = np.repeat(np.arange(300), w.astype(int))
    ref = PHReg(d[rows], z[rows][:, None], status=e[rows].astype(int), ties="breslow").fit(groups=rows)
    assert fit.beta == pytest.approx(ref.params[0], rel=1e-9, abs=1e-12)
    influence = cox_influence(fit, d, e, z, w, np.zeros((300, 1)))
    assert math.sqrt(influence.q[0]) == pytest.approx(ref.bse[0], rel=1e-8)


def _jackknife(stat, w: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Each unit's influence ``w_i ∂stat/∂w_i`` by central differences (the infinitesimal jackknife)."""
    out = np.empty((w.size, np.atleast_1d(stat(w)).size))
    for i in range(w.size):
        up, down = w.copy(), w.copy()
        up[i] *= 1.0 + h
        down[i] *= 1.0 - h
        out[i] = (np.atleast_1d(stat(up)) - np.atleast_1d(stat(down))) / (2.0 * h)
    return out


def test_influence_sums_equal_the_numerical_jackknife():
    """With the weights fixed, the closed-form influence sums of S(t) at every event time and of the log hazard
    ratio equal the jackknife computed by perturbing each unit's weight."""
    rng = np.random.default_rng(5)
    n = 150
    d, e = durations(rng, n, 80.0)
    w = rng.uniform(0.3, 3.0, n)
    psi = rng.normal(size=(n, 2))
    curve = kaplan_meier(d, e, w)
    jack = _jackknife(lambda ww: kaplan_meier(d, e, ww).survival, w)
    ours = km_influence(curve, d, e, w, psi)
    np.testing.assert_allclose(ours.q, (jack ** 2).sum(axis=0), rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(ours.r, jack.T @ psi, rtol=1e-5, atol=1e-10)
    z = (rng.random(n) < 0.5).astype(float)
    fit = cox(d, e, z, w)
    jack_cox = _jackknife(lambda ww: cox(d, e, z, ww, start=fit.beta).beta, w)
    inf = cox_influence(fit, d, e, z, w, psi)
    assert inf.q[0] == pytest.approx(float((jack_cox ** 2).sum()), rel=1e-5)
    np.testing.assert_allclose(inf.r[0], jack_cox[:, 0] @ psi, rtol=1e-5)


def _whole_procedure(x, t, d, e, case: np.ndarray, days: list[int]) -> np.ndarray:
    """Retention at each day per group and the log hazard ratio, every unit counted ``case`` times: the
    propensity by statsmodels' weighted GLM, stabilised ATT weights, weighted curves and Cox (reference for the
    sandwich; the curves do not depend on the stabilising factor, the hazard ratio does a little)."""
    xs = propensity.standardise(x)
    glm = sm.GLM(t, xs, family=sm.families.Binomial(), freq_weights=case).fit(tol=1e-13, maxiter=200)
    ps = glm.predict(xs)
    share = float((case * t).sum() / case.sum())  # stabilised ATT weights, as the IPW method's
    w = case * np.where(t == 1.0, 1.0, ps / (1.0 - ps) * (1.0 - share) / share)
    out = []
    for arm in (0.0, 1.0):
        c = kaplan_meier(d[t == arm], e[t == arm], w[t == arm])
        out += [float(c.survival[np.searchsorted(c.times, k, side="right") - 1]) for k in days]
    out.append(cox(d, e, t, w).beta)
    return np.array(out)


def test_sandwich_with_the_propensity_equals_the_jackknife_of_the_whole_procedure():
    """The robust variance of each adjusted figure, propensity uncertainty included, equals the infinitesimal
    jackknife of the whole procedure (refitting the propensity with each unit's case weight perturbed)."""
    rng = np.random.default_rng(6)
    x, t, d, e = selected(rng, 250)
    days = [60, 150]
    figures, se_head = sandwich_figures(sample(x, t, d, e), days, 0.95, ("control", "treatment"))
    jack = _jackknife(lambda case: _whole_procedure(x, t, d, e, case, days), np.ones(t.size), h=1e-5)
    var = (jack ** 2).sum(axis=0)
    z = 1.959963984540054
    for k in range(2):
        sc, st_ = figures.control.retention[k], figures.treatment.retention[k]
        ref_se = math.sqrt(float(((jack[:, 2 + k] - jack[:, k]) ** 2).sum()))
        lift = figures.lifts[k]
        assert lift.difference == pytest.approx(st_ - sc, rel=1e-12)
        assert (lift.difference_ci_high - lift.difference_ci_low) / (2 * z) == pytest.approx(ref_se, rel=1e-4)
        ref_lift = math.sqrt(float(((jack[:, 2 + k] / sc - st_ * jack[:, k] / sc ** 2) ** 2).sum()))
        assert (lift.relative_lift_ci_high - lift.relative_lift_ci_low) / (2 * z) == pytest.approx(ref_lift, rel=1e-4)
        # each group's retention interval is the cloglog interval of its own robust standard error
        for value, low, se in ((sc, figures.control.retention_ci_low[k], math.sqrt(var[k])),
                               (st_, figures.treatment.retention_ci_low[k], math.sqrt(var[2 + k]))):
            half = z * se / abs(value * math.log(value))
            assert low == pytest.approx(math.exp(-math.exp(math.log(-math.log(value)) + half)), rel=1e-4)
    assert se_head == pytest.approx(math.sqrt(float(((jack[:, 2] - jack[:, 0]) ** 2).sum())), rel=1e-4)
    se_hr = math.sqrt(var[4])
    assert figures.hazard_ratio == pytest.approx(math.exp(_whole_procedure(x, t, d, e, np.ones(t.size), days)[4]))
    assert figures.hazard_ratio_ci_high == pytest.approx(figures.hazard_ratio * math.exp(z * se_hr), rel=1e-4)


def test_unit_weights_give_the_unadjusted_curves():
    """With no covariate (every propensity the same), ATE weights are constant: the curves, medians and hazard
    ratio are the unadjusted ones."""
    rng = np.random.default_rng(7)
    d, e = durations(rng, 600)
    t = (rng.random(600) < 0.5).astype(float)
    s = Sample(np.ones((600, 1)), t, d, e, "ate", 0.0)
    figures, _ = sandwich_figures(s, [90], 0.95, ("control", "treatment"))
    plain = compare_survival(Arm(d[t == 0], e[t == 0]), Arm(d[t == 1], e[t == 1]), [90], 0.95)
    assert figures.control.retention[0] == pytest.approx(plain.control.retention[0], rel=1e-12)
    assert figures.treatment.median == plain.treatment.median
    assert figures.hazard_ratio == pytest.approx(plain.hazard_ratio, rel=1e-9)
    # the robust interval is close to Greenwood's (the same first-order variance)
    ours = figures.lifts[0].difference_ci_high - figures.lifts[0].difference_ci_low
    theirs = plain.lifts[0].difference_ci_high - plain.lifts[0].difference_ci_low
    assert ours == pytest.approx(theirs, rel=0.05)


def test_bootstrap_is_seeded_and_agrees_with_the_sandwich():
    rng = np.random.default_rng(8)
    x, t, d, e = selected(rng, 1200)
    s = sample(x, t, d, e, trim=0.01)
    sandwich, se = sandwich_figures(s, [90], 0.95, ("control", "treatment"))
    boot, se_boot = bootstrap_figures(s, [90], 0.95, ("control", "treatment"), 300, 11)
    again, _ = bootstrap_figures(s, [90], 0.95, ("control", "treatment"), 300, 11)
    assert boot == again and boot.interval == "bootstrap" and boot.bootstrap == 300 and boot.seed == 11
    assert boot.lifts[0].difference == sandwich.lifts[0].difference
    assert se_boot == pytest.approx(se, rel=0.2)
    for a, b in ((boot.hazard_ratio_ci_low, sandwich.hazard_ratio_ci_low),
                 (boot.hazard_ratio_ci_high, sandwich.hazard_ratio_ci_high)):
        assert math.log(a) == pytest.approx(math.log(b), abs=0.05)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(-2, 2), st.booleans(), st.integers(0, 200), st.booleans()), min_size=8,
                max_size=80), st.sampled_from(["att", "ate"]), st.sampled_from([0.0, 0.05]))
def test_adjusted_survival_invariants(units, estimand, trim):
    """Any data (ties, no events in a group, separation): figures stay in range, intervals hold their estimate,
    each lift is the difference of the groups' retention, and scaling the covariate changes nothing."""
    x = np.array([[u[0]] for u in units])
    t = np.array([float(u[1]) for u in units])
    if min(t.sum(), (1 - t).sum()) < 2:
        return
    d = np.array([float(u[2]) for u in units])
    e = np.array([u[3] for u in units])
    with np.errstate(all="ignore"):
        a, _ = sandwich_figures(Sample(propensity.standardise(x), t, d, e, estimand, trim), [30, 90], 0.95,
                                ("control", "treatment"))
        b, _ = sandwich_figures(Sample(propensity.standardise(x * 7.0 + 3.0), t, d, e, estimand, trim), [30, 90],
                                0.95, ("control", "treatment"))
    for arm in (a.control, a.treatment):
        for v, lo, hi in zip(arm.retention, arm.retention_ci_low, arm.retention_ci_high, strict=True):
            assert v is None or 0.0 <= v <= 1.0
            assert v is None or lo is None or hi is None or lo - 1e-12 <= v <= hi + 1e-12
        assert all(0.0 <= p.survival <= 1.0 for p in arm.curve)
    for k, lift in enumerate(a.lifts):
        c, tr = a.control.retention[k], a.treatment.retention[k]
        if lift.difference is not None:
            assert lift.difference == pytest.approx(tr - c)
            assert lift.difference_ci_low is None or lift.difference_ci_low <= lift.difference <= lift.difference_ci_high
    for k in range(2):
        for v, w in ((a.control.retention[k], b.control.retention[k]), (a.lifts[k].difference, b.lifts[k].difference)):
            assert (v is None) == (w is None) and (v is None or v == pytest.approx(w, abs=1e-7))


# -- in a control group ------------------------------------------------------------------------------


def test_a_survival_metric_of_an_adjusted_comparison_is_adjusted():
    rng = np.random.default_rng(9)
    x, t, d, e = selected(rng, 1500)
    frame = pl.DataFrame({"a": x[:, 0], "b": x[:, 1], "g": t == 1.0, "days": d, "churned": e})
    metric = MetricDefinition(name="tenure", kind="survival", duration="days", event="churned", at_days=(90, 180))
    for method in ("ipw", "doubly_robust", "matching"):
        res = evaluate_experiment(frame, name="s", group_column="g", treatment_label=True, control_label=False,
                                  metrics=[metric], design=Design(randomised=False, adjust=Settings(("a", "b"), method)))
        m = res.metrics[0]
        assert m.adjusted is not None and m.survival is not None and m.survival.adjusted is not None
        a = m.survival.adjusted
        assert m.adjusted.method == "ipw" and m.adjusted.interval == "sandwich" and a.trim == 0.01
        assert m.adjusted.difference == a.lifts[0].difference and m.adjusted.treated_mean == a.treatment.retention[0]
        assert m.verdict != "not_adjusted"
        assert "cg_not_adjusted" not in {w.code for w in m.warning_codes}
        # selection made the treated look better than they are: the adjusted lift is the smaller
        assert m.difference > m.adjusted.difference


# -- coverage --------------------------------------------------------------------------------------

COVERAGE_SECONDS = 60.0


def _truth(day: int, estimand: str) -> tuple[float, float]:
    """Retention at ``day`` treated and untreated in the estimand's population, from the known model: E[S(day | x)]
    over 2 million covariate draws, each weighted by its propensity for ATT (the treated's covariates)."""
    x = np.random.default_rng(99).normal(size=(2_000_000, 2))
    e = propensity.expit(0.1 + x @ SELECT) if estimand == "att" else np.ones(x.shape[0])
    base = np.exp(BASE + x @ COEF) * day
    return float((e * np.exp(-base * HR)).sum() / e.sum()), float((e * np.exp(-base)).sum() / e.sum())


@pytest.mark.parametrize("estimand", ["att", "ate"])
def test_adjusted_retention_intervals_cover_the_truth_and_the_unadjusted_do_not(estimand):
    """300 seeded data sets of 800 units whose covariates raise the hazard and lower the chance of treatment (the
    treated would stay longer anyway), true conditional hazard ratio 0.7: the adjusted difference and lift of
    retention at 90 days cover the truth in ≥ 93 % of them, without bias; the unadjusted Kaplan–Meier
    difference is biased upwards and its interval rarely covers the truth. Measured: ATT 94.0 % and 94.3 %
    (unadjusted 0 %, bias +0.168 against -0.001), ATE 95.7 % and 95.7 % (unadjusted 0.3 %, bias +0.160)."""
    treated, untreated = _truth(90, estimand)
    truth, truth_lift = treated - untreated, treated / untreated - 1.0
    rng = np.random.default_rng(2025)
    runs = covered = covered_lift = naive_covered = 0
    bias = naive_bias = 0.0
    start = time.monotonic()
    while runs < 300 and time.monotonic() - start < COVERAGE_SECONDS:
        x, t, d, e = selected(rng, 800)
        figures, _ = sandwich_figures(sample(x, t, d, e, estimand, trim=0.01), [90], 0.95, ("control", "treatment"))
        lift = figures.lifts[0]
        covered += lift.difference_ci_low <= truth <= lift.difference_ci_high
        covered_lift += lift.relative_lift_ci_low <= truth_lift <= lift.relative_lift_ci_high
        bias += lift.difference - truth
        plain = compare_survival(Arm(d[t == 0], e[t == 0]), Arm(d[t == 1], e[t == 1]), [90], 0.95).lifts[0]
        naive_covered += plain.difference_ci_low <= truth <= plain.difference_ci_high
        naive_bias += plain.difference - truth
        runs += 1
    assert runs >= 150, f"only {runs} replications in {COVERAGE_SECONDS:.0f} s"
    assert covered / runs >= 0.93, f"coverage {covered / runs:.3f} over {runs} runs"
    assert covered_lift / runs >= 0.93, f"lift coverage {covered_lift / runs:.3f} over {runs} runs"
    assert abs(bias / runs) < 0.01, f"adjusted bias {bias / runs:.4f}"
    assert naive_covered / runs < 0.5, f"unadjusted coverage {naive_covered / runs:.3f}"
    assert naive_bias / runs > 0.04, f"unadjusted bias {naive_bias / runs:.4f}"


# -- the stored curve --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.booleans()), min_size=1, max_size=600))
def test_a_thinned_curve_is_exact_at_its_steps_and_never_a_point_off(units):
    d = np.array([u[0] for u in units], dtype=float)
    e = np.array([u[1] for u in units])
    c = kaplan_meier(d, e, np.ones(d.size))
    points = thin_curve(c.times, c.survival, c.horizon)
    assert len(points) <= 103 and points[0].days == 0.0 and points[0].survival == 1.0
    days = np.array([p.days for p in points])
    assert np.all(np.diff(days) >= 0.0)
    for p in points[1:]:  # exact at every step shown
        j = np.searchsorted(c.times, p.days, side="right") - 1
        assert p.survival == (1.0 if j < 0 else c.survival[j])
    if c.times.size:
        assert points[-1].survival == c.survival[-1] and c.times[-1] in days
        assert points[-1].days == max(c.horizon, c.times[-1])
        for t, v in zip(c.times, c.survival, strict=True):  # the step line is within a point of the curve
            drawn = points[int(np.searchsorted(days, t, side="right")) - 1].survival
            assert 0.0 <= drawn - v < 0.01 + 1e-12
