"""Coverage of the bootstrap intervals (``adjust: {bootstrap: N}``) of the adjusted methods, in seeded simulations
with a known effect and a known selection (the data of tests/test_adjusted.py), bounded in time.

Each replication resamples units within each group 100 times and refits everything (propensity, outcome models,
matches): a percentile interval of 100 resamples is coarse, but its coverage is what the test measures.
Matching runs without replacement (the bootstrap is refused with replacement) and with its default caliper:
without one, matching without replacement is itself biased here (+0.30: the treated outnumber comparable
controls), whatever the interval.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from test_adjusted import TRUE_EFFECT, _frame, _true_att, confounded

from metricspec.engine.experiments import adjusted
from metricspec.engine.experiments.adjusted import Settings
from metricspec.engine.experiments.design import build_design

MAX_SECONDS = 300.0
RESAMPLES = 100


@pytest.fixture(scope="module")
def true_att() -> float:
    return _true_att(99)


def _settings(method: str, estimand: str) -> Settings:
    return Settings(("a", "b", "c"), method, estimand, bootstrap=RESAMPLES, seed=7,
                    trim=0.0 if method in ("ipw", "doubly_robust") else 0.01, replacement=method != "matching")


def test_a_bootstrap_interval_is_seeded_and_refits_each_resample():
    """Quick: the same seed gives the same interval; another seed another; the interval holds the estimate."""
    x, t, y = confounded(np.random.default_rng(3), 400, heterogeneous=True)
    design = build_design(_frame(x, t, y), ["a", "b", "c"])
    s = _settings("doubly_robust", "att")
    prep = adjusted.prepare(design, t, s, "treatment")
    a, b = adjusted.estimate(prep, y, s, 0.95), adjusted.estimate(prep, y, s, 0.95)
    other = adjusted.estimate(prep, y, Settings(("a", "b", "c"), "doubly_robust", "att", bootstrap=RESAMPLES, seed=8),
                              0.95)
    assert a == b and a.interval == "bootstrap" and a.bootstrap == RESAMPLES
    assert other.difference == a.difference and other.difference_ci_low != a.difference_ci_low
    assert a.difference_ci_low < a.difference < a.difference_ci_high


@pytest.mark.parametrize(("method", "runs"), [("ipw", 150), ("regression", 150), ("doubly_robust", 150),
                                              ("matching", 100)])
def test_bootstrap_intervals_cover_the_truth(method, runs, true_att):
    """A fixed number of seeded data sets of 400 units (ATT ≈ 1.19, heterogeneous effects, selection on the
    covariates): the bootstrap percentile interval covers the truth in ≥ 93 % of them. A fixed count, not a time
    budget, so the verdict does not depend on the machine; the time is bounded by MAX_SECONDS (about 10 to 30 s
    a method on an idle machine; 48, 59, 48 and 142 s on the shared 2-core one at a load average of 11-13).
    Measured: ipw 95.3 %, regression 94.7 %, doubly robust 94.0 %, matching 99.0 % (docs/control-groups.md)."""
    rng = np.random.default_rng(2024)
    s = _settings(method, "att")
    covered = 0
    start = time.monotonic()
    for _ in range(runs):
        x, t, y = confounded(rng, 400, heterogeneous=True)
        prep = adjusted.prepare(build_design(_frame(x, t, y), ["a", "b", "c"]), t, s, "treatment")
        fig = adjusted.estimate(prep, y, s, 0.95)
        covered += fig.difference_ci_low <= true_att <= fig.difference_ci_high
        assert time.monotonic() - start < MAX_SECONDS, f"{method}: over {MAX_SECONDS:.0f} s"
    assert covered / runs >= 0.93, f"{method}: coverage {covered / runs:.3f} over {runs} runs"


def test_the_truth_of_the_simulation():
    """The ATT the coverage is measured against: the ATE (1.0) plus the treated's mean of half the first covariate."""
    assert TRUE_EFFECT == 1.0
    assert 1.15 < _true_att(99) < 1.25
