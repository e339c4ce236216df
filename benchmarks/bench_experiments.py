"""Benchmark a control group's evaluation against a hand-written numpy/scipy program on the same units.

Both compute, for one row per unit (treatment/control): a two-proportion z-test (conversion), a Welch
t-test with CUPED (revenue, pre-period revenue covariate), a delta-method ratio test (cost per
conversion), the p75 and p90 of revenue (order-statistic intervals, gbstats' quantile test), the
relative lift of each by the delta method, Holm-adjusted p-values, and all of it again within each of
8 segments. metricspec runs ``evaluate_experiment`` (``--method`` frequentist, sequential or
bayesian); the hand-written program is plain numpy + scipy.special written for this one layout.
Their p-values and intervals must agree (relative 1e-9), or the script exits 1.

Each measurement runs in a fresh subprocess (best of ``--repeat`` by wall time, imports and data
generation excluded) and reports its peak memory (``VmHWM``, see memory.py); the 1-minute load average
is printed with every figure. Usage::

    python benchmarks/bench_experiments.py                          # 100k and 1M units, best of 3
    python benchmarks/bench_experiments.py --sizes 200000 --repeat 1 --method sequential
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import vm_hwm_mib

SEGMENTS = 8
Z95 = 1.959963984540054


def generate(n: int, seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.random(n) < 0.5
    pre = rng.gamma(2.0, 40.0, n)
    conv = rng.random(n) < np.where(g, 0.36, 0.34)
    revenue = np.where(conv, 0.5 * pre + rng.lognormal(3.5, 0.8, n) * np.where(g, 1.03, 1.0), 0.0)
    return pl.DataFrame({"g": np.where(g, "t", "c"), "conv": conv.astype(np.int8), "revenue": np.round(revenue, 2),
                         "pre": np.round(pre, 2), "cost": np.round(rng.gamma(2.0, 6.0, n), 2),
                         "segment": rng.integers(0, SEGMENTS, n).astype(str)})


# ------------------------------------------------------------------ metricspec

def run_metricspec(df: pl.DataFrame, method: str) -> dict[str, Any]:
    from metricspec.engine.experiments import MetricDefinition, evaluate_experiment

    metrics = [MetricDefinition(name="conv", kind="proportion", column="conv"),
               MetricDefinition(name="revenue", kind="mean", column="revenue", covariate="pre"),
               MetricDefinition(name="cpa", kind="ratio", numerator="cost", denominator="conv", direction="decrease"),
               MetricDefinition(name="p75", kind="quantile", column="revenue", quantile=0.75),
               MetricDefinition(name="p90", kind="quantile", column="revenue", quantile=0.9)]
    res = evaluate_experiment(df, name="bench", group_column="g", treatment_label="t", control_label="c",
                              metrics=metrics, method=method, segments=["segment"])  # type: ignore[arg-type]
    rows = [("all", m) for m in res.metrics] + [(s.value, m) for s in res.segments for m in s.metrics]
    return {f"{seg}/{m.name}": [m.p_value, m.p_value_adjusted, m.difference_ci_low, m.relative_lift_ci_high]
            for seg, m in rows}


# ------------------------------------------------------------------ hand-written

def _t_ci(est: float, var: float, dof: float) -> tuple[float, float, float]:
    from scipy import special

    se = math.sqrt(var)
    return 2 * special.stdtr(dof, -abs(est) / se), est - -special.stdtrit(dof, 0.025) * se, est + \
        -special.stdtrit(dof, 0.025) * se


def _welch(vt: float, nt: int, vc: float, nc: int) -> float:
    a, b = vt / nt, vc / nc
    return (a + b) ** 2 / (a * a / (nt - 1) + b * b / (nc - 1))


def _lift(mt: float, vt: float, nt: int, mc: float, vc: float, nc: int, ut: float, uc: float) -> float:
    var = vt / (uc * uc * nt) + vc * ut * ut / (uc ** 4 * nc)
    return _t_ci((mt - mc) / uc, var, _welch(vt, nt, vc, nc))[2]


def _quantile_var(y: np.ndarray, q: float) -> tuple[float, float]:
    n = y.size
    half = Z95 * math.sqrt(q * (1 - q) / n)
    low, high = np.quantile(y, [max(q - half, 1e-8), min(q + half, 1 - 1e-8)])
    return float(np.quantile(y, q)), (n - 1) * ((high - low) / (2 * Z95)) ** 2


def _compare(t: dict[str, np.ndarray], c: dict[str, np.ndarray], theta: float | None = None) -> dict[str, list[float]]:
    from scipy import special

    out: dict[str, list[float]] = {}
    nt, nc = t["conv"].size, c["conv"].size
    pt, pc = t["conv"].mean(), c["conv"].mean()
    pool = (t["conv"].sum() + c["conv"].sum()) / (nt + nc)
    z = (pt - pc) / math.sqrt(pool * (1 - pool) * (1 / nt + 1 / nc))
    se = math.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
    out["conv"] = [2 * special.ndtr(-abs(z)), pt - pc - Z95 * se,
                   _lift(pt, pt * (1 - pt), nt, pc, pc * (1 - pc), nc, pt, pc)]
    y = np.concatenate([t["revenue"], c["revenue"]])
    x = np.concatenate([t["pre"], c["pre"]])
    theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
    at, ac = t["revenue"] - theta * (t["pre"] - x.mean()), c["revenue"] - theta * (c["pre"] - x.mean())
    vt, vc = at.var(ddof=1), ac.var(ddof=1)
    p, low, _ = _t_ci(at.mean() - ac.mean(), vt / nt + vc / nc, _welch(vt, nt, vc, nc))
    out["revenue"] = [p, low, _lift(at.mean(), vt, nt, ac.mean(), vc, nc, t["revenue"].mean(), c["revenue"].mean())]
    ratios = []
    for d in (t, c):
        r = d["cost"].sum() / d["conv"].sum()
        ratios.append((r, (d["cost"] - r * d["conv"]).var(ddof=1) / d["conv"].mean() ** 2))
    (rt, wt), (rc, wc) = ratios
    zr = (rt - rc) / math.sqrt(wt / nt + wc / nc)
    out["cpa"] = [2 * special.ndtr(-abs(zr)), rt - rc - Z95 * math.sqrt(wt / nt + wc / nc),
                  _lift(rt, wt, nt, rc, wc, nc, rt, rc)]
    for name, q in (("p75", 0.75), ("p90", 0.9)):
        (qt, qvt), (qc, qvc) = _quantile_var(t["revenue"], q), _quantile_var(c["revenue"], q)
        p, low, _ = _t_ci(qt - qc, qvt / nt + qvc / nc, _welch(qvt, nt, qvc, nc))
        out[name] = [p, low, _lift(qt, qvt, nt, qc, qvc, nc, qt, qc)]
    return out


def _holm(ps: list[float]) -> list[float]:
    order = np.argsort(ps, kind="stable")
    adj, run = [0.0] * len(ps), 0.0
    for rank, i in enumerate(order):
        run = max(run, min(1.0, (len(ps) - rank) * ps[i]))
        adj[i] = run
    return adj


def run_hand(df: pl.DataFrame) -> dict[str, Any]:
    cols = ["conv", "revenue", "pre", "cost"]
    arr = {c: df.get_column(c).cast(pl.Float64).to_numpy() for c in cols}
    is_t = df.get_column("g").to_numpy() == "t"
    seg = df.get_column("segment").to_numpy()
    cells: list[tuple[str, dict[str, list[float]]]] = [
        ("all", _compare({c: v[is_t] for c, v in arr.items()}, {c: v[~is_t] for c, v in arr.items()}))]
    for s in sorted(set(seg.tolist())):
        m = seg == s
        cells.append((s, _compare({c: v[m & is_t] for c, v in arr.items()}, {c: v[m & ~is_t] for c, v in arr.items()})))
    out: dict[str, Any] = {}
    for family in (cells[:1], cells[1:]):
        keys = [(s, k) for s, figures in family for k in figures]
        adjusted = _holm([dict(family)[s][k][0] for s, k in keys])
        for (s, k), a in zip(keys, adjusted, strict=True):
            p, low, lift_high = dict(family)[s][k]
            out[f"{s}/{k}"] = [p, a, low, lift_high]
    return out


# ------------------------------------------------------------------ driver

def child(variant: str, n: int, method: str, repeat: int) -> None:
    df = generate(n)
    import scipy.special  # noqa: F401

    import metricspec.engine.experiments  # noqa: F401  (imports out of the timing)

    best, figures = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        figures = run_metricspec(df, method) if variant == "metricspec" else run_hand(df)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"seconds": best, "peak_mib": vm_hwm_mib(), "figures": figures}))


def measure(variant: str, n: int, method: str, repeat: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", variant, "--sizes", str(n), "--method", method,
                          "--repeat", str(repeat)], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def agree(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    bad = []
    for key, want in b.items():
        got = a[key]
        for g, w in zip([got[0], got[1], got[2], got[3]], want, strict=True):
            if not math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12):
                bad.append(f"{key}: {g} != {w}")
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--method", choices=["frequentist", "sequential", "bayesian"], default="frequentist")
    parser.add_argument("--child", choices=["metricspec", "hand"])
    args = parser.parse_args()
    if args.child:
        child(args.child, args.sizes[0], args.method, args.repeat)
        return 0
    status = 0
    for n in args.sizes:
        ms, hand = measure("metricspec", n, args.method, args.repeat), measure("hand", n, args.method, args.repeat)
        load = os.getloadavg()[0]
        bad = agree(ms["figures"], hand["figures"])
        status |= bool(bad)
        print(f"{n:>10,} units  metricspec {ms['seconds']:.3f} s ({ms['peak_mib']:.0f} MiB)  "
              f"hand-written {hand['seconds']:.3f} s ({hand['peak_mib']:.0f} MiB)  "
              f"ratio {ms['seconds'] / hand['seconds']:.2f}  load {load:.1f}  "
              f"{'agree' if not bad else 'DISAGREE: ' + '; '.join(bad[:3])}")
    return status


if __name__ == "__main__":
    sys.exit(main())
