"""Survival metrics of control groups against statsmodels (SurvfuncRight, survdiff, PHReg), and on data with
a known hazard ratio."""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from metricspec.engine.experiments import MetricDefinition, evaluate_experiment
from metricspec.engine.experiments.survival_compare import Arm, compare_survival, greenwood_se


def _arm(rng: np.random.Generator, n: int, scale: float, follow: float = 300.0) -> Arm:
    life = np.round(rng.exponential(scale, n))
    censor = np.round(rng.uniform(0, follow, n))
    return Arm(np.minimum(life, censor), life <= censor)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_figure_equals_statsmodels(seed):
    rng = np.random.default_rng(seed)
    control, treated = _arm(rng, 400, 120), _arm(rng, 350, 160)
    f = compare_survival(control, treated, [30, 90], 0.95)
    d = np.concatenate([control.durations, treated.durations])
    e = np.concatenate([control.events, treated.events]).astype(int)
    g = np.concatenate([np.zeros(400), np.ones(350)])
    chi2, p = survdiff(d, e, g)
    assert f.logrank_chi2 == pytest.approx(chi2, rel=1e-9)
    assert f.logrank_p_value == pytest.approx(p, rel=1e-6)
    cox = PHReg(d, g[:, None], status=e, ties="breslow").fit()
    assert f.hazard_ratio == pytest.approx(math.exp(cox.params[0]), rel=1e-7)
    low, high = np.exp(cox.conf_int()[0])
    assert (f.hazard_ratio_ci_low, f.hazard_ratio_ci_high) == (pytest.approx(low, rel=1e-6), pytest.approx(high, rel=1e-6))
    assert f.hazard_ratio_p_value == pytest.approx(cox.pvalues[0], rel=1e-5)
    for arm, res in ((control, f.control), (treated, f.treatment)):
        sf = SurvfuncRight(arm.durations, arm.events.astype(int))
        assert res.median == sf.quantile(0.5)
        ref_low, ref_high = sf.quantile_ci(0.5)
        assert res.median_ci_low == ref_low
        assert (res.median_ci_high is None and math.isinf(ref_high)) or res.median_ci_high == ref_high
        for k, value in zip((30, 90), res.retention, strict=True):
            i = np.searchsorted(sf.surv_times, k, side="right") - 1
            assert value == pytest.approx(sf.surv_prob[i], rel=1e-12)
        ours, ref = greenwood_se(arm, arm.curve), sf.surv_prob_se
        finite = np.isfinite(ref)  # statsmodels gives nan once the curve reaches 0; it is 0 here
        np.testing.assert_allclose(ours[finite], ref[finite], rtol=1e-10)
        assert np.all(ours[~finite] == 0.0)
        assert res.n == arm.durations.size and res.events + res.censored == res.n


def test_retention_lift_is_the_difference_of_the_curves_with_greenwood_intervals():
    rng = np.random.default_rng(4)
    control, treated = _arm(rng, 500, 100), _arm(rng, 500, 140)
    f = compare_survival(control, treated, [60], 0.95)
    lift = f.lifts[0]
    sc, st_ = SurvfuncRight(control.durations, control.events.astype(int)), SurvfuncRight(
        treated.durations, treated.events.astype(int))

    def at(sf, k):
        i = np.searchsorted(sf.surv_times, k, side="right") - 1
        return sf.surv_prob[i], sf.surv_prob_se[i]

    (c, se_c), (t, se_t) = at(sc, 60), at(st_, 60)
    se = math.sqrt(se_c ** 2 + se_t ** 2)
    assert lift.difference == pytest.approx(t - c)
    assert lift.difference_ci_low == pytest.approx(t - c - 1.959963984540054 * se)
    assert lift.relative_lift == pytest.approx(t / c - 1)


def test_known_hazard_ratio_is_covered():
    """Exponential lifetimes with a true hazard ratio of 0.7: the Cox interval covers it in ≥ 93 % of 200 runs."""
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(200):
        control = _arm(rng, 300, 100.0)
        treated = _arm(rng, 300, 100.0 / 0.7)
        f = compare_survival(control, treated, [30], 0.95)
        covered += f.hazard_ratio_ci_low <= 0.7 <= f.hazard_ratio_ci_high
    assert covered / 200 >= 0.93


def test_retention_past_the_follow_up_is_left_empty():
    rng = np.random.default_rng(6)
    f = compare_survival(_arm(rng, 100, 50, follow=40), _arm(rng, 100, 50, follow=40), [30, 365], 0.95)
    assert f.control.retention[1] is None and f.lifts[1].difference is None
    assert f.control.retention[0] is not None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.booleans()), min_size=2, max_size=40),
       st.lists(st.tuples(st.integers(0, 60), st.booleans()), min_size=2, max_size=40))
def test_survival_invariants(a, b):
    arm_a = Arm(np.array([d for d, _ in a], dtype=float), np.array([e for _, e in a]))
    arm_b = Arm(np.array([d for d, _ in b], dtype=float), np.array([e for _, e in b]))
    f = compare_survival(arm_a, arm_b, [10], 0.95)
    for arm in (f.control, f.treatment):
        values = [p.survival for p in arm.curve]
        assert all(0.0 <= v <= 1.0 for v in values)
        assert all(x >= y - 1e-12 for x, y in itertools.pairwise(values))  # never rises
    swapped = compare_survival(arm_b, arm_a, [10], 0.95)
    assert swapped.logrank_chi2 == pytest.approx(f.logrank_chi2) if f.logrank_chi2 is not None else True
    if f.hazard_ratio is not None and swapped.hazard_ratio is not None:
        assert swapped.hazard_ratio == pytest.approx(1.0 / f.hazard_ratio, rel=1e-6)


def test_survival_metric_in_a_control_group():
    rng = np.random.default_rng(7)
    n = 1200
    treated = rng.random(n) < 0.5
    life = rng.exponential(np.where(treated, 200.0, 120.0))
    follow = rng.uniform(30, 365, n)
    frame = pl.DataFrame({"g": treated, "days": np.minimum(life, follow).round(), "churned": life <= follow})
    res = evaluate_experiment(frame, name="s", group_column="g", treatment_label=True, control_label=False,
                              metrics=[MetricDefinition(name="tenure", kind="survival", duration="days",
                                                        event="churned", at_days=(90, 180))])
    m = res.metrics[0]
    assert m.survival is not None and m.kind == "survival"
    assert m.control_value == m.survival.control.retention[0]
    assert m.difference == pytest.approx(m.survival.lifts[0].difference)
    assert m.p_value == m.survival.lifts[0].p_value
    assert m.verdict == "better" and m.significant
    assert m.survival.hazard_ratio < 1.0
