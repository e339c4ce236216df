"""Control-group figures against GrowthBook's gbstats 0.8.0, on generated data and on the example.

gbstats cannot be installed next to metricspec (it pins numpy<2 and pandas<2), so
``scripts/make_gbstats_fixtures.py``, run in a separate environment, records what gbstats computes in
``tests/fixtures/gbstats/reference.json`` from the units in ``tests/fixtures/gbstats/data.csv`` and
``specs/examples/data/customers.csv``. Here metricspec computes the same figures from the same units:

* frequentist (fixed horizon): the relative lift, its delta-method interval and p-value; the absolute
  difference, interval and p-value where metricspec's test of the difference is gbstats' (means,
  quantiles) — to 1e-6;
* sequential: the always-valid interval and p-value of the difference and the lift, with the tuning
  parameter — to 1e-6;
* Bayesian: chance to beat control, expected loss both ways, the credible interval and the posterior
  mean of the lift, with gbstats' default flat prior and with a proper prior — to 1e-6 (gbstats' Bayesian
  engine is analytic), and against a Monte-Carlo simulation of the two groups' posteriors to
  Monte-Carlo tolerance.

With ``GBSTATS_PYTHON`` set to an interpreter that has gbstats 0.8.0, the fixtures are regenerated and
must equal the committed ones (CI sets it).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from metricspec.engine.experiments import MetricComparison, MetricDefinition, evaluate_experiment

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "gbstats"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text(encoding="utf-8"))
CASES = {c["case"]: c for c in REFERENCE["cases"]}
EXAMPLE_COLUMNS = {  # the example's metrics (specs/examples/customer_value.yaml) as the script reads them
    "example_conversion_rate": {"column": "converted"}, "example_retention_90d": {"column": "retained_90d"},
    "example_revenue_per_customer": {"column": "revenue", "covariate": "pre_period_revenue"},
    "example_cross_sell": {"column": "cross_sell_revenue"}, "example_purchases": {"column": "purchases"},
    "example_cost_per_acquisition": {"numerator": "acquisition_cost", "denominator": "converted"},
    "example_median_revenue": {"column": "revenue"}, "example_p90_revenue": {"column": "revenue"},
}
TOL = 1e-6


def near(actual: float | None, expected: float, what: str) -> None:
    assert actual is not None, f"{what}: no value, gbstats has {expected}"
    assert math.isclose(actual, expected, rel_tol=TOL, abs_tol=1e-12), f"{what}: {actual} != gbstats {expected}"


def _data() -> pl.DataFrame:
    return pl.read_csv(FIXTURES / "data.csv", schema_overrides=dict.fromkeys(("y", "x", "num", "den"), pl.Float64))


def _frame_and_metric(case: dict[str, Any]) -> tuple[pl.DataFrame, MetricDefinition]:
    name = case["case"]
    if name.startswith("example_"):
        frame = pl.read_csv(ROOT / "specs" / "examples" / "data" / "customers.csv")
        frame = frame.with_columns(pl.when(pl.col("exposed_to_social")).then(pl.lit("t")).otherwise(pl.lit("c"))
                                   .alias("group"))
        cols = EXAMPLE_COLUMNS[name]
    else:
        frame = _data().filter(pl.col("case") == name)
        cols = ({"numerator": "num", "denominator": "den"} if case["kind"] == "ratio"
                else {"column": "y", **({"covariate": "x"} if case["covariate"] else {})})
    metric = MetricDefinition(name="m", kind=case["kind"], quantile=case["quantile"], direction=case["direction"],
                              **cols)
    return frame, metric


def _run(case: dict[str, Any], **kw: Any) -> MetricComparison:
    frame, metric = _frame_and_metric(case)
    result = evaluate_experiment(frame, name="exp", group_column="group", treatment_label="t", control_label="c",
                                 metrics=[metric], alpha=case["alpha"], **kw)
    m = result.metrics[0]
    assert (m.treatment_n, m.control_n) == (case["n_treatment"], case["n_control"])
    return m


def test_the_fixtures_cover_every_kind_and_the_example() -> None:
    kinds = {(c["kind"], c["covariate"]) for c in CASES.values()}
    assert {("proportion", False), ("proportion", True), ("mean", False), ("mean", True), ("ratio", False),
            ("quantile", False)} <= kinds
    assert set(EXAMPLE_COLUMNS) <= set(CASES)
    assert REFERENCE["gbstats_version"] == "0.8.0"
    assert all(c[k]["error_message"] is None for c in CASES.values() for k in c if isinstance(c[k], dict))


def test_the_example_spec_declares_the_metrics_the_fixtures_use() -> None:
    from metricspec.loader import load_spec

    spec = load_spec(ROOT / "specs" / "examples" / "customer_value.yaml").spec
    cg = spec.control_groups["social_exposure"]
    assert (cg.source, cg.assignment.column, cg.filter) == ("customers", "exposed_to_social", None)
    declared = {(m.kind, m.column, m.numerator, m.denominator, m.covariate, m.quantile) for m in cg.metrics.values()}
    for name, cols in EXAMPLE_COLUMNS.items():
        c = CASES[name]
        assert (c["kind"], cols.get("column"), cols.get("numerator"), cols.get("denominator"), cols.get("covariate"),
                c["quantile"]) in declared, name


@pytest.mark.parametrize("name", sorted(CASES))
def test_frequentist_matches_gbstats(name: str) -> None:
    case = CASES[name]
    m = _run(case)
    rel = case["frequentist_relative"]
    near(m.relative_lift, rel["expected"], "relative lift")
    near(m.relative_lift_ci_low, rel["ci"][0], "lift CI low")
    near(m.relative_lift_ci_high, rel["ci"][1], "lift CI high")
    near(m.relative_p_value, rel["p_value"], "lift p")
    absolute = case["frequentist_absolute"]
    near(m.difference, absolute["expected"], "difference")
    if case["kind"] in ("mean", "quantile") and not case["covariate"]:  # the same test of the difference
        near(m.difference_ci_low, absolute["ci"][0], "difference CI low")
        near(m.difference_ci_high, absolute["ci"][1], "difference CI high")
        near(m.p_value, absolute["p_value"], "difference p")


@pytest.mark.parametrize("name", sorted(CASES))
def test_sequential_matches_gbstats(name: str) -> None:
    case = CASES[name]
    m = _run(case, method="sequential", sequential_tuning=case["tuning"])
    assert m.sequential is not None and m.sequential.tuning == case["tuning"]
    for scale, ci, p in (("relative", ("relative_lift_ci_low", "relative_lift_ci_high"), "relative_p_value"),
                         ("absolute", ("difference_ci_low", "difference_ci_high"), "p_value")):
        ref = case[f"sequential_{scale}"]
        near(getattr(m.sequential, ci[0]), ref["ci"][0], f"{scale} always-valid CI low")
        near(getattr(m.sequential, ci[1]), ref["ci"][1], f"{scale} always-valid CI high")
        near(getattr(m.sequential, p), ref["p_value"], f"{scale} always-valid p")


@pytest.mark.parametrize("prior", ["flat", "prior"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_bayesian_matches_gbstats(name: str, prior: str) -> None:
    case = CASES[name]
    m = _run(case, method="bayesian", prior=tuple(case["prior"]) if prior == "prior" else None)
    ref, b = case[f"bayesian_{prior}"], m.bayesian
    assert b is not None
    near(b.relative_lift, ref["expected"], "posterior mean")
    near(b.relative_lift_stddev, ref["stddev"], "posterior sd")
    near(b.credible_interval_low, ref["ci"][0], "credible interval low")
    near(b.credible_interval_high, ref["ci"][1], "credible interval high")
    near(b.chance_to_beat_control, ref["chance_to_win"], "chance to beat control")
    near(b.expected_loss_control, ref["risk"][0], "expected loss of keeping control")
    near(b.expected_loss, ref["risk"][1], "expected loss of shipping treatment")


MC_CASES = ["proportion_large", "mean_lognormal", "mean_decrease", "ratio_counts", "quantile_median",
            "example_conversion_rate", "example_purchases", "example_cost_per_acquisition"]


@pytest.mark.parametrize("name", MC_CASES)
def test_bayesian_closed_forms_agree_with_monte_carlo(name: str) -> None:
    """Draws from the engine's normal posterior of the lift: their share of wins, mean loss both ways and
    quantiles match the closed-form chance to beat control, expected losses and credible interval within
    five Monte-Carlo standard errors."""
    case = CASES[name]
    b = _run(case, method="bayesian").bayesian
    assert b is not None and b.relative_lift is not None and b.relative_lift_stddev is not None
    draws = np.random.default_rng(7).normal(b.relative_lift, b.relative_lift_stddev, 1_000_000)
    good = -draws if case["direction"] == "decrease" else draws
    wins = good > 0
    assert b.chance_to_beat_control == pytest.approx(wins.mean(), abs=5 * math.sqrt(wins.var() / draws.size) + 1e-6)
    for value, loss in ((b.expected_loss, np.maximum(-good, 0)), (b.expected_loss_control, np.maximum(good, 0))):
        assert value == pytest.approx(loss.mean(), abs=5 * loss.std() / math.sqrt(draws.size) + 1e-9)
    low, high = np.quantile(draws, [case["alpha"] / 2, 1 - case["alpha"] / 2])
    quantile_se = 5 * b.relative_lift_stddev * 4 / math.sqrt(draws.size)  # generous: 1/density ~ 4 sd in the tails
    assert b.credible_interval_low == pytest.approx(low, abs=quantile_se)
    assert b.credible_interval_high == pytest.approx(high, abs=quantile_se)


@pytest.mark.parametrize("name", [c for c in MC_CASES if CASES[c]["kind"] != "quantile"])
def test_bayesian_agrees_with_simulated_group_means(name: str) -> None:
    """Independently of the delta method: draw each group's mean from its own normal posterior (flat prior,
    standard errors from the raw units) and take the lift ``t / c - 1`` of every draw. Its chance to beat
    control and credible interval agree with the engine's within Monte-Carlo and delta-method error."""
    case = CASES[name]
    m = _run(case, method="bayesian")
    b = m.bayesian
    assert b is not None and b.relative_lift_stddev is not None
    assert m.control_value is not None and m.treatment_value is not None
    rng = np.random.default_rng(42)
    c = rng.normal(m.control_value, _se(case, "c"), 400_000)
    t = rng.normal(m.treatment_value, _se(case, "t"), 400_000)
    lift = t / c - 1
    good = -lift if case["direction"] == "decrease" else lift
    assert b.chance_to_beat_control == pytest.approx(float((good > 0).mean()), abs=0.01)
    assert b.expected_loss == pytest.approx(float(np.maximum(-good, 0).mean()), abs=0.05 * b.relative_lift_stddev)
    low, high = np.quantile(lift, [case["alpha"] / 2, 1 - case["alpha"] / 2])
    assert b.credible_interval_low == pytest.approx(low, abs=0.05 * (high - low))
    assert b.credible_interval_high == pytest.approx(high, abs=0.05 * (high - low))


def _se(case: dict[str, Any], arm: str) -> float:
    """Standard error of one group's mean/ratio from the raw units (independent of the engine)."""
    frame, metric = _frame_and_metric(case)
    data = frame.filter(pl.col("group") == arm)
    if metric.kind == "ratio":
        num = data.get_column(metric.numerator or "").cast(pl.Float64).to_numpy()
        den = data.get_column(metric.denominator or "").cast(pl.Float64).to_numpy()
        r = num.sum() / den.sum()
        return float(np.sqrt(np.var(num - r * den, ddof=1) / num.size) / den.mean())
    y = data.get_column(metric.column or "").cast(pl.Float64).drop_nulls().to_numpy()
    if metric.kind == "proportion":
        p = y.mean()
        return float(np.sqrt(p * (1 - p) / y.size))
    return float(y.std(ddof=1) / np.sqrt(y.size))


@pytest.mark.skipif(not os.environ.get("GBSTATS_PYTHON"), reason="GBSTATS_PYTHON (a Python with gbstats 0.8.0) "
                    "not set; CI sets it")
def test_the_fixtures_are_what_gbstats_computes(tmp_path: Path) -> None:
    out = tmp_path / "reference.json"
    subprocess.run([os.environ["GBSTATS_PYTHON"], str(ROOT / "scripts" / "make_gbstats_fixtures.py"), "--out",
                    str(out)], check=True, capture_output=True, text=True)
    # gbstats' own venv resolves numpy/scipy anew on each machine, and their last bits differ between
    # releases (a p-value ...244 against ...247): equal to 12 significant digits, the digits metricspec writes
    assert _same_numbers(json.loads(out.read_text(encoding="utf-8")), REFERENCE)


def _same_numbers(got: Any, want: Any, path: str = "") -> bool:
    """``got == want`` with floats compared to a relative 1e-12; raises naming the first difference."""
    if isinstance(want, dict) and isinstance(got, dict):
        assert sorted(got) == sorted(want), f"{path or 'top'}: keys {sorted(got)} != {sorted(want)}"
        return all(_same_numbers(got[k], want[k], f"{path}.{k}") for k in want)
    if isinstance(want, list) and isinstance(got, list):
        assert len(got) == len(want), f"{path}: {len(got)} items != {len(want)}"
        return all(_same_numbers(g, w, f"{path}[{i}]") for i, (g, w) in enumerate(zip(got, want, strict=True)))
    if isinstance(want, float) and isinstance(got, float | int) and not isinstance(got, bool):
        assert got == pytest.approx(want, rel=1e-12, abs=1e-300), f"{path}: {got!r} != {want!r}"
        return True
    assert got == want, f"{path}: {got!r} != {want!r}"
    return True
