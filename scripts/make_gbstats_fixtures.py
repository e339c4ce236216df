"""Reference figures for the control-group statistics, computed by GrowthBook's gbstats.

gbstats 0.8.0 pins numpy<2 and pandas<2, so it cannot be installed next to metricspec's stack: run this
script with the Python of a separate virtual environment that has it, e.g.::

    python -m venv /tmp/gbstats-venv && /tmp/gbstats-venv/bin/pip install gbstats==0.8.0
    /tmp/gbstats-venv/bin/python scripts/make_gbstats_fixtures.py            # rewrites reference.json
    /tmp/gbstats-venv/bin/python scripts/make_gbstats_fixtures.py --data     # also regenerates data.csv

It reads (or with ``--data`` first writes, from a seeded generator) ``tests/fixtures/gbstats/data.csv``
(one row per unit: ``case, group, y, x, num, den``) and the example data
``specs/examples/data/customers.csv``, summarises each group the way GrowthBook's SQL does (counts, sums,
sums of squares and products; for quantiles the sample quantile and the sample quantiles at
``q ± 1.96 sqrt(q (1 - q) / n)``, GrowthBook's ``getQuantileBoundValues`` with n* = n) and writes what
gbstats computes from those summaries to ``tests/fixtures/gbstats/reference.json``: the fixed-horizon
t-test on the relative and absolute scale, the sequential test, and the Bayesian effect model with its
default (flat) prior and with a proper prior. ``tests/test_gbstats_reference.py`` compares metricspec's
figures with these; it reruns this script when ``GBSTATS_PYTHON`` names such an interpreter (CI does).

Only numpy, gbstats and the standard library are used here (no metricspec import: this runs in the
other environment). ``--out FILE`` writes the reference elsewhere (the freshness test uses it).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "gbstats"
CUSTOMERS = ROOT / "specs" / "examples" / "data" / "customers.csv"
SEED = 20260315
Z95 = 1.959963984540054

#: name, kind, settings and generator of each generated case (treatment n, control n)
CASES: list[dict[str, Any]] = [
    {"case": "proportion_small", "kind": "proportion", "n": (400, 380), "p": (0.15, 0.12)},
    {"case": "proportion_large", "kind": "proportion", "n": (3000, 3100), "p": (0.33, 0.31), "alpha": 0.1},
    {"case": "mean_lognormal", "kind": "mean", "n": (800, 760), "mu": (3.1, 3.0), "tuning": 2000},
    {"case": "mean_decrease", "kind": "mean", "n": (300, 320), "mu": (47.0, 50.0), "direction": "decrease"},
    {"case": "ratio_counts", "kind": "ratio", "n": (900, 850)},
    {"case": "cuped_mean", "kind": "mean", "covariate": True, "n": (700, 720)},
    {"case": "cuped_proportion", "kind": "proportion", "covariate": True, "n": (1500, 1500)},
    {"case": "quantile_median", "kind": "quantile", "quantile": 0.5, "n": (1200, 1150)},
    {"case": "quantile_p90", "kind": "quantile", "quantile": 0.9, "n": (1500, 1600), "tuning": 20000},
    {"case": "quantile_p90_small", "kind": "quantile", "quantile": 0.9, "n": (150, 160), "alpha": 0.1},
]
#: the example control group (specs/examples/customer_value.yaml, social_exposure), metric by metric
EXAMPLE_METRICS: list[dict[str, Any]] = [
    {"case": "example_conversion_rate", "kind": "proportion", "y": "converted"},
    {"case": "example_retention_90d", "kind": "proportion", "y": "retained_90d"},
    {"case": "example_revenue_per_customer", "kind": "mean", "y": "revenue", "x": "pre_period_revenue"},
    {"case": "example_cross_sell", "kind": "mean", "y": "cross_sell_revenue"},
    {"case": "example_purchases", "kind": "mean", "y": "purchases"},
    {"case": "example_cost_per_acquisition", "kind": "ratio", "num": "acquisition_cost", "den": "converted",
     "direction": "decrease"},
    {"case": "example_median_revenue", "kind": "quantile", "quantile": 0.5, "y": "revenue"},
    {"case": "example_p90_revenue", "kind": "quantile", "quantile": 0.9, "y": "revenue"},
]
PRIOR = (0.0, 0.1)  # mean and standard deviation of the proper prior on the lift


# ------------------------------------------------------------------------------ generated data

def _generate(case: dict[str, Any], rng: np.random.Generator) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}
    for arm, n in zip(("t", "c"), case["n"], strict=True):
        k = case["kind"]
        cols: dict[str, np.ndarray] = {}
        if case.get("covariate"):
            x = rng.gamma(2.0, 20.0, n)
            shift = 4.0 if arm == "t" else 0.0
            if k == "mean":
                cols["y"] = 0.6 * x + rng.normal(30.0 + shift, 12.0, n)
            else:
                cols["y"] = (rng.random(n) < 1 / (1 + np.exp(-(x - 45.0) / 15.0 - 0.1 * (arm == "t")))).astype(float)
            cols["x"] = x
        elif k == "proportion":
            cols["y"] = (rng.random(n) < case["p"][0 if arm == "t" else 1]).astype(float)
        elif k == "mean":
            mu = case["mu"][0 if arm == "t" else 1]
            cols["y"] = rng.lognormal(mu, 0.8, n) if mu < 10 else rng.normal(mu, 9.0, n)
        elif k == "ratio":
            cols["den"] = rng.poisson(1.4 if arm == "t" else 1.3, n).astype(float)
            cols["num"] = cols["den"] * rng.gamma(3.0, 10.0, n) + rng.gamma(1.0, 2.0, n)
        else:
            cols["y"] = rng.lognormal(3.3 if arm == "t" else 3.2, 0.9, n)
        out[arm] = {c: [round(float(v), 2) for v in vals] for c, vals in cols.items()}
    return out


def write_data(path: Path) -> None:
    rng = np.random.default_rng(SEED)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["case", "group", "y", "x", "num", "den"])
        for case in CASES:
            for arm, cols in _generate(case, rng).items():
                n = len(next(iter(cols.values())))
                for i in range(n):
                    w.writerow([case["case"], arm, *(repr(cols[c][i]) if c in cols else "" for c in
                                                      ("y", "x", "num", "den"))])


def read_data(path: Path) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    rows: dict[str, dict[str, dict[str, list[float]]]] = {}
    with path.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            arm = rows.setdefault(r["case"], {}).setdefault(r["group"], {})
            for c in ("y", "x", "num", "den"):
                if r[c] != "":
                    arm.setdefault(c, []).append(float(r[c]))
    return {case: {arm: {c: np.array(v, dtype=float) for c, v in cols.items()} for arm, cols in arms.items()}
            for case, arms in rows.items()}


def read_example() -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """customers.csv as the example control group sees it: exposed_to_social true/false, one row per customer."""
    with CUSTOMERS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len({r["customer_id"] for r in rows}) == len(rows)

    def value(text: str) -> float:
        flags = {"true": 1.0, "false": 0.0, "": math.nan}
        return flags[text] if text in flags else float(text)

    out = {}
    for m in EXAMPLE_METRICS:
        cols = {k: m[k] for k in ("y", "x", "num", "den") if k in m}
        arms: dict[str, dict[str, np.ndarray]] = {}
        for arm, label in (("t", "true"), ("c", "false")):
            mats = {k: np.array([value(r[c]) for r in rows if r["exposed_to_social"] == label]) for k, c in cols.items()}
            keep = np.logical_and.reduce([np.isfinite(v) for v in mats.values()])
            arms[arm] = {k: v[keep] for k, v in mats.items()}
        out[m["case"]] = arms
    return out


# ------------------------------------------------------------------------------ gbstats

def _statistic(kind: str, cols: dict[str, np.ndarray], q: float | None) -> Any:
    from gbstats.models.statistics import (
        ProportionStatistic,
        QuantileStatistic,
        RatioStatistic,
        RegressionAdjustedStatistic,
        SampleMeanStatistic,
    )

    if kind == "ratio":
        num, den = cols["num"], cols["den"]
        n = int(num.size)
        return RatioStatistic(
            n=n, m_statistic=SampleMeanStatistic(n=n, sum=float(num.sum()), sum_squares=float((num * num).sum())),
            d_statistic=SampleMeanStatistic(n=n, sum=float(den.sum()), sum_squares=float((den * den).sum())),
            m_d_sum_of_products=float((num * den).sum()))
    y = cols["y"]
    n = int(y.size)
    if kind == "quantile":
        assert q is not None
        half = Z95 * math.sqrt(q * (1 - q) / n)
        lower, upper = np.quantile(y, [max(q - half, 1e-8), min(q + half, 1 - 1e-8)])
        return QuantileStatistic(n=n, n_star=n, nu=q, quantile_hat=float(np.quantile(y, q)),
                                 quantile_lower=float(lower), quantile_upper=float(upper))
    post = (ProportionStatistic(n=n, sum=float(y.sum())) if kind == "proportion"
            else SampleMeanStatistic(n=n, sum=float(y.sum()), sum_squares=float((y * y).sum())))
    if "x" not in cols:
        return post
    x = cols["x"]
    pre = SampleMeanStatistic(n=n, sum=float(x.sum()), sum_squares=float((x * x).sum()))
    return RegressionAdjustedStatistic(n=n, post_statistic=post, pre_statistic=pre,
                                       post_pre_sum_of_products=float((y * x).sum()), theta=0)


def _pair(kind: str, arms: dict[str, dict[str, np.ndarray]], q: float | None) -> tuple[Any, Any]:
    return _statistic(kind, arms["c"], q), _statistic(kind, arms["t"], q)


def _frequentist(res: Any) -> dict[str, Any]:
    return {"expected": float(res.expected), "ci": [float(v) for v in res.ci], "p_value": float(res.p_value),
            "error_message": res.error_message}


def _bayesian(res: Any) -> dict[str, Any]:
    return {"expected": float(res.expected), "ci": [float(v) for v in res.ci],
            "chance_to_win": float(res.chance_to_win), "risk": [float(v) for v in res.risk],
            "stddev": float(res.uplift.stddev), "error_message": res.error_message}


def reference(case: dict[str, Any], arms: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
    from gbstats.frequentist.tests import (
        FrequentistConfig,
        SequentialConfig,
        SequentialTwoSidedTTest,
        TwoSidedTTest,
    )

    kind, q = case["kind"], case.get("quantile")
    alpha, tuning = case.get("alpha", 0.05), case.get("tuning", 5000)
    inverse = case.get("direction", "increase") == "decrease"
    out: dict[str, Any] = {"case": case["case"], "kind": kind, "quantile": q, "alpha": alpha, "tuning": tuning,
                           "direction": case.get("direction", "increase"), "covariate": "x" in arms["t"],
                           "n_treatment": int(next(iter(arms["t"].values())).size),
                           "n_control": int(next(iter(arms["c"].values())).size), "prior": list(PRIOR)}
    for scale in ("relative", "absolute"):
        res = TwoSidedTTest(*_pair(kind, arms, q), FrequentistConfig(alpha=alpha, difference_type=scale))
        out[f"frequentist_{scale}"] = _frequentist(res.compute_result())
        seq = SequentialTwoSidedTTest(*_pair(kind, arms, q), SequentialConfig(
            alpha=alpha, difference_type=scale, sequential_tuning_parameter=tuning))
        out[f"sequential_{scale}"] = _frequentist(seq.compute_result())
    flat = EffectBayesianABTest(*_pair(kind, arms, q), EffectBayesianConfig(
        alpha=alpha, inverse=inverse, difference_type="relative", prior_type="relative"))
    out["bayesian_flat"] = _bayesian(flat.compute_result())
    proper = EffectBayesianABTest(*_pair(kind, arms, q), EffectBayesianConfig(
        alpha=alpha, inverse=inverse, difference_type="relative", prior_type="relative",
        prior_effect=GaussianPrior(mean=PRIOR[0], variance=PRIOR[1] ** 2, proper=True)))
    out["bayesian_prior"] = _bayesian(proper.compute_result())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="store_true", help="regenerate tests/fixtures/gbstats/data.csv first")
    parser.add_argument("--out", type=Path, default=FIXTURES / "reference.json")
    args = parser.parse_args(argv)
    version = importlib.metadata.version("gbstats")
    if version != "0.8.0":
        print(f"gbstats 0.8.0 is needed, found {version}", file=sys.stderr)
        return 2
    FIXTURES.mkdir(parents=True, exist_ok=True)
    if args.data:
        write_data(FIXTURES / "data.csv")
    data, example = read_data(FIXTURES / "data.csv"), read_example()
    cases = [reference(c, data[c["case"]]) for c in CASES] + [reference(m, example[m["case"]]) for m in EXAMPLE_METRICS]
    document = {"gbstats_version": version, "z95": Z95, "cases": cases}
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(cases)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
