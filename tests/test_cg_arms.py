"""Several treatment arms with one control (Dunnett), difference-in-differences, one verdict per metric, and the
spec's rules for comparisons that were not randomised."""

from __future__ import annotations

import inspect
import textwrap

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from metricspec.engine.experiments import MetricDefinition, dunnett, evaluate_experiment
from metricspec.engine.experiments.did import did
from metricspec.engine.experiments.evaluate import Design, sample_ratio_check
from metricspec.engine.experiments.fixed import Levels
from metricspec.engine.experiments.verdict import verdict
from metricspec.engine.results import EngineMessage, MetricComparison
from metricspec.errors import Level
from metricspec.loader import load_spec
from metricspec.validation import validate


def seed(function: object, value: object) -> dict[str, object]:
    """scipy's seed argument: ``rng`` from scipy 1.15, ``random_state`` before (the lowest scipy allowed)."""
    return {"rng" if "rng" in inspect.signature(function).parameters else "random_state": value}  # type: ignore[arg-type]


@pytest.mark.parametrize("seed_", [0, 1, 2])
def test_dunnett_equals_scipy(seed_):
    rng = np.random.default_rng(seed_)
    control = rng.normal(0, 1, 50)
    arms = [rng.normal(0.3, 1, 40), rng.normal(0.5, 1, 60), rng.normal(0.1, 1, 45)]
    ref = stats.dunnett(*arms, control=control, **seed(stats.dunnett, 1))
    df = sum(a.size for a in arms) + control.size - len(arms) - 1
    p = [2 * stats.t.sf(abs(s), df) for s in ref.statistic]
    ours = dunnett.adjust(p, [a.size for a in arms], control.size, df)
    np.testing.assert_allclose(ours, ref.pvalue, atol=2e-4)  # both integrate the multivariate t numerically


@pytest.mark.parametrize(("sizes", "control", "pvalues"), [
    ([500, 500], 480, [0.2, 0.03]), ([40, 60, 45], 50, [0.01, 0.3, 0.04]), ([100], 100, [0.04]),
    ([1000, 30, 300, 5000], 800, [1e-5, 0.5, 0.049, 0.2])])
def test_dunnett_normal_form_equals_the_multivariate_normal(sizes, control, pvalues):
    """The one-dimensional integral the engine uses equals scipy's multivariate normal probability (at
    high precision); a single arm keeps its p."""
    ours = dunnett.adjust(pvalues, sizes, control)
    corr, k = dunnett.correlation(sizes, control), len(sizes)
    for p, adjusted in zip(pvalues, ours, strict=True):
        c = stats.norm.isf(p / 2)
        inside = stats.multivariate_normal.cdf(np.full(k, c), mean=np.zeros(k), cov=corr, lower_limit=np.full(k, -c),
                                               abseps=1e-10, releps=1e-10, maxpts=10**7,
                                               **seed(stats.multivariate_normal.cdf, np.random.default_rng(1)))
        assert adjusted == pytest.approx(max(p, 1 - inside), abs=1e-8)
    if k == 1:
        assert ours == [pytest.approx(pvalues[0], abs=1e-12)]


def test_dunnett_is_between_the_raw_p_and_bonferroni():
    p = [0.01, 0.03, 0.2]
    adj = dunnett.adjust(p, [100, 100, 100], 100)
    for raw, a in zip(p, adj, strict=True):
        assert raw <= a <= min(1.0, 3 * raw)
    assert dunnett.adjust([None, 0.04], [10, 10], 10)[0] is None
    assert dunnett.adjust(p, [100] * 3, 100) == adj  # seeded: the same every time


def _arms_frame(rng: np.random.Generator, n: int = 3000) -> pl.DataFrame:
    arm = rng.choice(["none", "a", "b"], n)
    bought = rng.random(n) < np.where(arm == "a", 0.16, np.where(arm == "b", 0.12, 0.10))
    return pl.DataFrame({"arm": arm, "bought": bought, "spend": rng.gamma(2.0, 20.0, n) + 5 * (arm == "a")})


@pytest.mark.parametrize("correction", ["holm", "bh", "dunnett"])
def test_several_arms_share_one_control_and_one_family(correction):
    frame = _arms_frame(np.random.default_rng(3))
    metrics = [MetricDefinition(name="bought", kind="proportion", column="bought"),
               MetricDefinition(name="spend", kind="mean", column="spend", unit="currency")]
    res = evaluate_experiment(frame, name="e", group_column="arm", treatment_label="a", control_label="none",
                              metrics=metrics, correction=correction, design=Design(arms=("a", "b")))
    assert res.arms == ["a", "b"]
    assert [(m.arm, m.name) for m in res.metrics] == [("a", "bought"), ("a", "spend"), ("b", "bought"), ("b", "spend")]
    control_n = int((frame["arm"] == "none").sum())
    assert all(m.control_n == control_n for m in res.metrics)
    raw = [m.p_value for m in res.metrics]
    adjusted = [m.p_value_adjusted for m in res.metrics]
    if correction == "holm":
        ref = sm.stats.multipletests(raw, method="holm")[1]
        np.testing.assert_allclose(adjusted, ref)
    elif correction == "bh":
        np.testing.assert_allclose(adjusted, sm.stats.multipletests(raw, method="fdr_bh")[1])
    else:
        for name in ("bought", "spend"):
            rows = [m for m in res.metrics if m.name == name]
            within = dunnett.adjust([m.p_value for m in rows], [m.treatment_n for m in rows], control_n)
            assert [m.p_value_adjusted for m in rows] == [min(1.0, 2 * p) for p in within]
    # the sample-ratio check covers all three groups (equal shares by default, 2 df)
    counts = [int((frame["arm"] == g).sum()) for g in ("a", "b", "none")]
    assert res.srm.p_value == pytest.approx(stats.chisquare(counts).pvalue, rel=1e-9)


def test_sample_ratio_is_not_checked_for_a_comparison_that_was_not_randomised():
    srm = sample_ratio_check(100, 900, 0.5, randomised=False)
    assert srm.p_value is None and not srm.mismatch


def test_difference_in_differences_equals_the_interaction_coefficient():
    rng = np.random.default_rng(8)
    n = 800
    treated = rng.random(n) < 0.4
    base = rng.normal(50, 10, n) + 8 * treated  # the groups differ before exposure: constant over time
    pre1, pre2 = base + rng.normal(0, 3, n), base + 2 + rng.normal(0, 3, n)
    post = base + 4 + 5 * treated + rng.normal(0, 3, n)  # a true effect of 5
    f = did([post[treated], pre1[treated], pre2[treated]], [post[~treated], pre1[~treated], pre2[~treated]],
            ["q1", "q2"], Levels(0.05, 0.8, 0.95))
    # the long-panel regression y ~ treated + after + treated:after on (pre2, post)
    y = np.concatenate([pre2, post])
    g = np.concatenate([treated, treated]).astype(float)
    after = np.concatenate([np.zeros(n), np.ones(n)])
    ols = sm.OLS(y, sm.add_constant(np.column_stack([g, after, g * after]))).fit()
    assert f.difference == pytest.approx(ols.params[3], rel=1e-9)
    assert f.difference_ci_low < 5 < f.difference_ci_high
    assert f.parallel is True and f.pre_column == "q2"
    # pre-periods that already move apart: the check fails
    drift = did([post[treated], pre1[treated] - 6, pre2[treated]], [post[~treated], pre1[~treated], pre2[~treated]],
                ["q1", "q2"], Levels(0.05, 0.8, 0.95))
    assert drift.parallel is False and drift.pre_trend_p_value < 0.05


def _m(**kw: object) -> MetricComparison:
    base: dict[str, object] = {
        "name": "m", "title": "m", "kind": "mean", "test": "t", "control_n": 100, "treatment_n": 100, "control_value": 1.0,
        "treatment_value": 2.0, "difference": 1.0, "difference_ci_low": 0.5, "difference_ci_high": 1.5, "relative_lift": 1.0,
        "relative_lift_ci_low": None, "relative_lift_ci_high": None, "statistic": 3.0, "p_value": 0.001, "significant": True,
        "better": True, "cuped": False, "variance_reduction": None, "mde": None, "warnings": []}
    return MetricComparison.model_validate({**base, **kw})


@settings(max_examples=60, deadline=None)
@given(st.booleans(), st.sampled_from([True, False, None]), st.sampled_from([True, False, None]),
       st.sampled_from(["cg_too_few_units", "cg_too_few_outcomes", "cg_below_mde", "cg_dropped_missing", None]))
def test_one_verdict_never_significant_beside_too_small(randomised, significant, better, code):
    warnings = [] if code is None else [EngineMessage(code=code)]
    m = _m(significant=significant, better=better if significant else None, warning_codes=warnings,
           warnings=["a warning"] * len(warnings))
    v = verdict(m, randomised)
    if not randomised:
        assert v == "not_adjusted"
    elif code in ("cg_too_few_units", "cg_too_few_outcomes", "cg_below_mde"):
        assert v == "too_small"
    elif significant is None:
        assert v == "no_test"
    elif not significant:
        assert v == "no_difference"
    else:
        assert v == ("better" if better else "worse" if better is False else "no_test")


def test_a_significant_metric_with_too_few_units_reads_too_small():
    rng = np.random.default_rng(9)
    frame = pl.DataFrame({"g": [True] * 20 + [False] * 20,
                          "y": np.concatenate([rng.normal(10, 1, 20), rng.normal(0, 1, 20)])})
    res = evaluate_experiment(frame, name="x", group_column="g", treatment_label=True, control_label=False,
                              metrics=[MetricDefinition(name="y", kind="mean", column="y")])
    m = res.metrics[0]
    assert m.significant is True  # the test itself is clear…
    assert m.verdict == "too_small"  # …but 20 units a group is too few to conclude, and the verdict says so


def _write(tmp_path, text: str):
    (tmp_path / "data.csv").write_text("id,d,exposed,age,y\n1,2026-01-01,true,30,1.0\n2,2026-01-02,false,40,2.0\n",
                                       encoding="utf-8")
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


SPEC = """\
name: t
sources:
  people: {connector: csv, options: {path: data.csv}, time_column: d, columns: {d: date}}
kpis:
  n: {source: people, agg: count}
control_groups:
  g:
    source: people
    unit: id
    assignment: {column: exposed, treatment: true, control: false}
"""


def test_not_randomised_without_adjust_is_a_warning(tmp_path):
    loaded = load_spec(_write(tmp_path, SPEC + "    randomised: false\n    metrics: {y: {kind: mean, column: y}}\n"))
    issues = validate(loaded)
    found = [i for i in issues if "not an experiment" in i.message]
    assert found and found[0].level == Level.WARNING and found[0].where is not None
    assert "adjust:" in (found[0].hint or "")


@pytest.mark.parametrize(("extra", "message"), [
    ("    adjust: {covariates: [age]}\n", "add `randomised: false`"),
    ("    randomised: false\n    method: bayesian\n    adjust: {covariates: [age]}\n", "frequentist"),
    ("    randomised: false\n    adjust: {covariates: [age], method: ipw, caliper: 0.1}\n", "method: matching` only"),
    ("    randomised: false\n    adjust: {covariates: [age], method: matching, bootstrap: 500}\n", "not valid for matching"),
    ("    correction: dunnett\n", "several treatment arms"),
    ("    randomised: false\n    adjust: {covariates: [exposed]}\n", "assignment column"),
])
def test_bad_adjustment_settings_are_refused_with_their_place(tmp_path, extra, message):
    from metricspec.errors import SpecError

    text = SPEC + extra + "    metrics: {y: {kind: mean, column: y}}\n"
    try:
        loaded = load_spec(_write(tmp_path, text))
    except SpecError as e:
        assert message in str(e) and "spec.yaml:" in str(e)
        return
    issues = [i for i in validate(loaded) if i.level == Level.ERROR]
    assert any(message in i.message for i in issues), issues


def test_the_ci_gate_snapshot_reads_each_arm_and_the_adjusted_effect():
    from pathlib import Path

    from metricspec.check.baseline import snapshot
    from metricspec.engine.run import evaluate

    examples = Path(__file__).resolve().parent.parent / "specs" / "examples"
    import datetime as dt

    r = evaluate(load_spec(examples / "customer_value.yaml"), as_of=dt.date(2026, 11, 1))
    snap = snapshot(r).control_groups
    assert set(snap["email_variants"]) == {"bought · discount", "bought · story", "tenure · discount",
                                           "tenure · story"}
    spend = next(m for c in r.control_groups if c.name == "social_followers" for m in c.metrics if m.name == "spend")
    assert spend.adjusted is not None
    assert snap["social_followers"]["spend"].difference == pytest.approx(spend.adjusted.difference, rel=1e-11)
