"""Build the attribution validation fixtures from the ChannelAttribution package.

ChannelAttribution (PyPI ``channelattribution``, needs matplotlib) ships no example data (its docs load
Data.csv from the web), so this script generates a deterministic path data set and records what
ChannelAttribution computes on it:

* ``tests/fixtures/attribution/paths.csv``: path (channels joined by " > "), total_conversions,
  total_conversion_value, total_null;
* ``tests/fixtures/attribution/reference.json``: the exact calls and the outputs of ``heuristic_models`` and
  ``markov_model`` (order 1; result and removal effects).

Run: ``python scripts/make_attribution_fixtures.py``. The tests only read the fixtures.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

CHANNELS = ["x", "instagram", "linkedin", "paid_search", "email", "direct"]
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "attribution"
SEED = 20240611
N_JOURNEYS = 4000
SEP = " > "


def generate_journeys(n: int, seed: int, channels: list[str] = CHANNELS) -> list[tuple[list[str], bool, float]]:
    """Seeded journeys: (channels in order, converted, value). Shared with the benchmark's generator logic."""
    rng = np.random.default_rng(seed)
    k = len(channels)
    start = rng.dirichlet(np.ones(k) * 2)
    trans = rng.dirichlet(np.ones(k), size=k)
    lift = dict(zip(channels, rng.uniform(-0.6, 0.9, size=k), strict=True))
    out = []
    for _ in range(n):
        length = int(min(1 + rng.geometric(0.35), 9)) - 1 or 1
        path = [channels[rng.choice(k, p=start)]]
        for _ in range(length - 1):
            path.append(channels[rng.choice(k, p=trans[channels.index(path[-1])])])
        score = -1.2 + sum(lift[c] for c in set(path)) + 0.1 * len(path)
        converted = bool(rng.random() < 1 / (1 + math.exp(-score)))
        value = round(float(rng.lognormal(3.5, 0.6)), 2) if converted else 0.0
        out.append((path, converted, value))
    return out


def aggregate(journeys: list[tuple[list[str], bool, float]]) -> pl.DataFrame:
    """Distinct paths with total conversions, value and non-conversions, sorted by path."""
    df = pl.DataFrame({"path": [SEP.join(p) for p, _, _ in journeys],
                       "converted": [c for _, c, _ in journeys], "value": [v for _, _, v in journeys]})
    return (df.group_by("path").agg(pl.col("converted").sum().cast(pl.Int64).alias("total_conversions"),
                                    pl.col("value").sum().round(2).alias("total_conversion_value"),
                                    (~pl.col("converted")).sum().cast(pl.Int64).alias("total_null"))
            .sort("path"))


def _records(df: Any) -> list[dict[str, Any]]:
    return [{k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in row.items()}
            for row in df.to_dict(orient="records")]


def main() -> int:
    import ChannelAttribution as ca

    OUT.mkdir(parents=True, exist_ok=True)
    paths = aggregate(generate_journeys(N_JOURNEYS, SEED))
    paths.write_csv(OUT / "paths.csv")
    data = paths.to_pandas()
    sep = ">"  # ChannelAttribution strips the spaces around the separator
    heur_call = {"var_path": "path", "var_conv": "total_conversions", "var_value": "total_conversion_value",
                 "sep": sep}
    heur = ca.heuristic_models(data, flg_pro=False, **heur_call)
    markov_calls = []
    # 1) the package defaults; 2) a precise run: more simulations, tighter convergence and max_step=200 (the
    # default max_step, the longest observed path, truncates simulated walks and biases removal effects down)
    for label, nsim, conv_par, max_step in (("default", 1e5, 0.05, None), ("precise", 1e7, 0.005, 200)):
        call = {"var_path": "path", "var_conv": "total_conversions", "var_value": "total_conversion_value",
                "var_null": "total_null", "order": 1, "nsim_start": nsim, "max_step": max_step, "out_more": True,
                "sep": sep, "ncore": 1, "nfold": 10, "seed": 0, "conv_par": conv_par, "rate_step_sim": 1.5}
        res = ca.markov_model(data, verbose=False, flg_pro=False, **call)
        markov_calls.append({"label": label, "call": call, "result": _records(res["result"]),
                             "removal_effects": _records(res["removal_effects"]),
                             "transition_matrix": _records(res["transition_matrix"])})
    # ChannelAttribution numbers channels 1..k in order of first appearance in the data (its transition
    # matrix uses these ids; the start-state probabilities confirm the mapping)
    first_seen: list[str] = []
    for path in paths["path"].to_list():
        for ch in path.split(SEP):
            if ch not in first_seen:
                first_seen.append(ch)
    reference = {
        "transition_matrix_ids": {str(i + 1): ch for i, ch in enumerate(first_seen)},
        "generator": {"seed": SEED, "n_journeys": N_JOURNEYS, "channels": CHANNELS,
                      "script": "scripts/make_attribution_fixtures.py"},
        "channelattribution_version": getattr(ca, "__version__", None) or _version(),
        "heuristic_models": {"call": heur_call, "result": _records(heur)},
        "markov_model": markov_calls,
    }
    (OUT / "reference.json").write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT / 'paths.csv'} ({paths.height} paths) and {OUT / 'reference.json'}")
    return 0


def _version() -> str | None:
    from importlib.metadata import version

    return version("channelattribution")


if __name__ == "__main__":
    sys.exit(main())
