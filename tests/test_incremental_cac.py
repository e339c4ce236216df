"""Incremental CAC from a control group, checked by hand."""

from __future__ import annotations

import pytest

from metricspec.engine.attribution_run import incremental_cac


def cg(diff, lo, hi, n_t=1000, kind="proportion"):
    return [{"name": "exp", "metrics": [
        {"name": "revenue", "kind": "mean", "difference": 5.0, "treatment_n": n_t},
        {"name": "conv", "kind": kind, "difference": diff, "difference_ci_low": lo, "difference_ci_high": hi,
         "treatment_n": n_t, "significant": lo > 0},
    ]}]


def test_incremental_cac_by_hand():
    out = incremental_cac(cg(0.03, 0.01, 0.05), "exp", None, 6000.0)
    assert out["metric"] == "conv"
    assert out["incremental_conversions"] == pytest.approx(30.0)
    assert out["incremental_cac"] == pytest.approx(200.0)
    assert out["incremental_cac_ci"] == [pytest.approx(6000 / 50), pytest.approx(6000 / 10)]


def test_no_lift_gives_no_cac():
    out = incremental_cac(cg(-0.01, -0.03, 0.01), "exp", "conv", 6000.0)
    assert out["incremental_cac"] is None
    assert out["incremental_cac_ci"][1] is None  # lower CI bound of the lift ≤ 0: CAC unbounded


def test_missing_group_or_spend():
    assert incremental_cac(cg(0.03, 0.01, 0.05), "other", None, 1.0) is None
    assert incremental_cac(cg(0.03, 0.01, 0.05), "exp", None, None) is None
