"""Benchmark metricspec attribution against ChannelAttribution on the same seeded journeys.

Each measurement runs in its own subprocess so peak memory (the process's own ``VmHWM``, which sees
polars' Rust allocations, unlike tracemalloc) is per tool:

* metricspec: ``attribute`` with first/last/linear/time-decay/position-based + Markov order 1
  (``include_journeys=False``); then, in the same process, the same call with ``include_journeys=True``
  (what ``metricspec run`` does) and ``model_dump(mode="json")`` of that result;
* ChannelAttribution: building its path strings from the same touchpoint/conversion frames with polars
  (same rules: touches up to the conversion and within the lookback; touches after it are a null path),
  ``heuristic_models`` and ``markov_model`` (order 1, package defaults, one core), then its results as JSON.

Each side's time is split into path building, heuristics, Markov and JSON dumping (metricspec's phases
are timed by wrapping its functions from outside: ``prepare`` + ``distinct_paths`` build the paths,
``heuristic_credits`` the heuristics, ``fit_markov`` the Markov chain; the journeys run adds
``journeys_frame`` and the ``Journey`` objects).

Usage: ``python benchmarks/bench_attribution.py --sizes 100000 1000000 --repeat 3`` (best of 3 by wall time,
each in a fresh subprocess). The comparison needs ChannelAttribution, which needs matplotlib
(``pip install -e '.[dev]'`` installs both): without them the script stops with exit status 2 and says so,
unless ``--metricspec-only`` is given -- the comparison never disappears silently.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

CHANNELS = ["x", "instagram", "linkedin", "paid_search", "email", "direct", "facebook", "youtube"]
LOOKBACK_DAYS = 30.0
T0 = dt.datetime(2024, 1, 1)


def generate(n_customers: int, seed: int = 42) -> tuple[pl.DataFrame, pl.DataFrame]:
    """~5 touchpoints per customer over 90 days; ~35 % convert once, one hour after a random touch."""
    rng = np.random.default_rng(seed)
    n_touch = rng.poisson(4.0, n_customers) + 1
    total = int(n_touch.sum())
    person = np.repeat(np.arange(n_customers), n_touch)
    weights = rng.dirichlet(np.ones(len(CHANNELS)) * 3)
    channel = rng.choice(len(CHANNELS), size=total, p=weights)
    offset_us = rng.integers(0, 90 * 86_400_000_000, size=total)
    tp = pl.DataFrame({
        "person": person.astype(np.int64), "time_us": offset_us, "channel": np.asarray(CHANNELS)[channel],
        "campaign": np.asarray([f"c{i}" for i in range(20)])[rng.integers(0, 20, size=total)],
        "cost": rng.uniform(0.1, 2.0, size=total)})
    tp = tp.with_columns(pl.col("person").cast(pl.String),
                         (pl.lit(T0) + pl.duration(microseconds=pl.col("time_us"))).alias("time")).drop("time_us")
    starts = np.concatenate([[0], np.cumsum(n_touch)[:-1]])
    converts = rng.random(n_customers) < 0.35
    pick = starts + (rng.random(n_customers) * n_touch).astype(np.int64)
    conv_off = offset_us[pick][converts] + 3_600_000_000
    cv = pl.DataFrame({"person": np.arange(n_customers)[converts].astype(np.int64), "off": conv_off,
                       "value": np.round(rng.lognormal(3.5, 0.6, size=int(converts.sum())), 2)})
    cv = cv.with_columns(pl.col("person").cast(pl.String),
                         (pl.lit(T0) + pl.duration(microseconds=pl.col("off"))).alias("time")).drop("off")
    return tp.select("person", "time", "channel", "campaign", "cost"), cv.select("person", "time", "value")


def ca_paths(tp: pl.DataFrame, cv: pl.DataFrame) -> pl.DataFrame:
    """ChannelAttribution's input (path, total_conversions, total_conversion_value, total_null) from the frames."""
    lb = dt.timedelta(days=LOOKBACK_DAYS)
    j = tp.join(cv.rename({"time": "conv_time"}), on="person", how="left")
    j = j.sort(["person", "time", "channel"])
    conv = j.filter((pl.col("time") <= pl.col("conv_time")) & (pl.col("conv_time") - pl.col("time") <= lb))
    conv = conv.group_by("person", maintain_order=True).agg(pl.col("channel").str.join(">").alias("path"),
                                                            pl.col("value").first())
    null = j.filter(pl.col("conv_time").is_null() | (pl.col("time") > pl.col("conv_time")))
    null = null.filter(pl.col("time").max().over("person") - pl.col("time") <= lb)
    null = null.group_by("person", maintain_order=True).agg(pl.col("channel").str.join(">").alias("path"))
    a = conv.group_by("path").agg(pl.len().alias("total_conversions"), pl.col("value").sum().alias(
        "total_conversion_value"))
    b = null.group_by("path").agg(pl.len().alias("total_null"))
    return a.join(b, on="path", how="full", coalesce=True).fill_null(0).sort("path")


def _rss_mib() -> float:
    from memory import vm_hwm_mib  # benchmarks/memory.py

    peak = vm_hwm_mib()
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(module: Any, name: str, phases: dict[str, float], phase: str) -> None:
    """Wrap ``module.name`` so that its time is added to ``phases[phase]``."""
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            phases[phase] = phases.get(phase, 0.0) + time.perf_counter() - t

    setattr(module, name, wrapper)


def worker(tool: str, n: int) -> dict[str, float]:
    tp, cv = generate(n)
    base = _rss_mib()
    out: dict[str, float] = {"touchpoints": tp.height, "conversions": cv.height, "rss_after_data_mib": base}
    if tool == "metricspec":
        import metricspec.engine.attribution.core as core
        from metricspec.engine.attribution import ModelConfig, attribute

        phases: dict[str, float] = {}
        for name, phase in (("prepare", "paths"), ("distinct_paths", "paths"), ("heuristic_credits", "heuristics"),
                            ("fit_markov", "markov"), ("journeys_frame", "journeys"), ("_journeys", "journeys")):
            _timed(core, name, phases, phase)
        models = [ModelConfig(kind=k) for k in ("first_touch", "last_touch", "linear", "time_decay",
                                                "position_based", "markov")]
        t = time.perf_counter()
        res = attribute(tp, cv, models=models, lookback_days=LOOKBACK_DAYS, include_journeys=False)
        out["seconds"] = time.perf_counter() - t
        out.update({f"seconds_{k}": v for k, v in phases.items()})
        out["peak_rss_mib"] = _rss_mib()
        out["attributed"] = res.attributed_conversions
        t = time.perf_counter()
        res.model_dump(mode="json")
        out["seconds_json"] = time.perf_counter() - t
        phases.clear()
        t = time.perf_counter()
        res = attribute(tp, cv, models=models, lookback_days=LOOKBACK_DAYS, include_journeys=True)
        out["seconds_with_journeys"] = time.perf_counter() - t
        out["seconds_journeys"] = phases.get("journeys", 0.0)
        t = time.perf_counter()
        res.model_dump(mode="json")
        out["seconds_json_with_journeys"] = time.perf_counter() - t
    else:
        import ChannelAttribution as ca

        t = time.perf_counter()
        paths = ca_paths(tp, cv).to_pandas()
        out["seconds_paths"] = time.perf_counter() - t
        t1 = time.perf_counter()
        heuristics = ca.heuristic_models(paths, "path", "total_conversions", var_value="total_conversion_value",
                                         flg_pro=False)
        out["seconds_heuristics"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        markov = ca.markov_model(paths, "path", "total_conversions", var_value="total_conversion_value",
                                 var_null="total_null", order=1, verbose=False, flg_pro=False)
        out["seconds_markov"] = time.perf_counter() - t2
        out["seconds"] = time.perf_counter() - t
        t3 = time.perf_counter()
        frames = [heuristics, *(markov.values() if isinstance(markov, dict) else [markov])]
        for frame in frames:
            frame.to_json(orient="records")
        out["seconds_json"] = time.perf_counter() - t3
        out["peak_rss_mib"] = _rss_mib()
        out["attributed"] = int(paths["total_conversions"].sum())
        out["distinct_paths"] = len(paths)
    return out


def measure(tool: str, n: int, repeat: int = 1) -> dict[str, Any] | None:
    """Best of ``repeat`` fresh-subprocess runs by wall time (with the largest peak RSS seen)."""
    runs = [r for r in (measure_once(tool, n) for _ in range(repeat)) if r is not None]
    if not runs:
        return None
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "runs": len(runs), "seconds_all": [round(r["seconds"], 3) for r in runs],
            "max_peak_rss_mib": max(r["peak_rss_mib"] for r in runs)}


def measure_once(tool: str, n: int) -> dict[str, float] | None:
    proc = subprocess.run([sys.executable, __file__, "--worker", tool, "--sizes", str(n)], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parent.parent)
    if proc.returncode != 0:
        print(f"{tool} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="numbers of customers")
    ap.add_argument("--repeat", type=int, default=1, help="fresh-subprocess runs per tool and size (best kept)")
    ap.add_argument("--metricspec-only", action="store_true",
                    help="run without the ChannelAttribution comparison (it is required otherwise)")
    ap.add_argument("--worker", choices=["metricspec", "channelattribution"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.sizes[0])))
        return 0
    tools = ["metricspec"]
    if not args.metricspec_only:
        try:
            import ChannelAttribution  # noqa: F401
        except Exception as exc:  # it imports matplotlib at import time
            print(f"cannot import ChannelAttribution ({type(exc).__name__}: {exc}); install it with "
                  "`pip install -e '.[dev]'` (channelattribution and matplotlib), or pass --metricspec-only",
                  file=sys.stderr)
            return 2
        tools.append("channelattribution")
    for n in args.sizes:
        res = {tool: measure(tool, n, args.repeat) for tool in tools}
        ms, ca = res.get("metricspec"), res.get("channelattribution")
        print(f"\n== {n:,} customers ==")
        for tool, r in res.items():
            if r:
                split = ", ".join(f"{k}: {r.get('seconds_' + k, 0.0):.2f} s"
                                  for k in ("paths", "heuristics", "markov", "json"))
                print(f"{tool:>18}: {r['seconds']:.2f} s ({split}), peak RSS {r['peak_rss_mib']:.0f} MiB "
                      f"(after data generation {r['rss_after_data_mib']:.0f} MiB)")
                if tool == "metricspec":
                    print(f"{'':>18}  with journeys (what `run` does): {r['seconds_with_journeys']:.2f} s, of which "
                          f"journeys {r['seconds_journeys']:.2f} s; JSON with journeys "
                          f"{r['seconds_json_with_journeys']:.2f} s")
                print(f"{'':>18}  {json.dumps(r)}")
        if ms and ca:
            print(f"{'ratio':>18}: ChannelAttribution / metricspec wall time = {ca['seconds'] / ms['seconds']:.2f}; "
                  f"conversions attributed {ms['attributed']} vs {ca['attributed']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
