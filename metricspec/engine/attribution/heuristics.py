"""Rule-based models as polars expressions over credited touches (one weight per touch, summing to 1 per path)."""

from __future__ import annotations

import math

import polars as pl

from metricspec.engine.attribution.grouping import sums_by
from metricspec.engine.attribution.models import ModelConfig


def weight_expr(cfg: ModelConfig) -> pl.Expr:
    """Weight of each touch in its conversion path for a heuristic model.

    Needs columns ``pos`` (0-based position), ``n`` (path length), ``conv_id`` and ``age_rel`` (age in days
    of the touch minus that of the path's newest touch; see :func:`with_age_rel`).
    """
    pos, n = pl.col("pos"), pl.col("n")
    if cfg.kind == "first_touch":
        return (pos == 0).cast(pl.Float64)
    if cfg.kind == "last_touch":
        return (pos == n - 1).cast(pl.Float64)
    if cfg.kind == "linear":
        return 1.0 / n.cast(pl.Float64)
    if cfg.kind == "time_decay":
        # ages are shifted by the newest touch of the path: same normalised weights, no underflow to 0/0.
        # (age_rel is a precomputed column: a window nested inside another window is quadratic in polars)
        raw = (pl.col("age_rel") * (-math.log(2.0) / cfg.half_life_days)).exp()
        return raw / raw.sum().over("conv_id")
    if cfg.kind == "position_based":
        fw, lw = cfg.first_weight, cfg.last_weight
        f2 = fw / (fw + lw) if fw + lw > 0 else 0.5
        middle = (1.0 - fw - lw) / (n - 2).cast(pl.Float64)
        return (pl.when(n == 1).then(1.0)
                .when(n == 2).then(pl.when(pos == 0).then(f2).otherwise(1.0 - f2))
                .when(pos == 0).then(fw)
                .when(pos == n - 1).then(lw)
                .otherwise(middle))
    raise ValueError(f"{cfg.kind} is not a heuristic model")


def with_age_rel(touches: pl.DataFrame) -> pl.DataFrame:
    """Add ``age_rel``: ``age_days`` minus the smallest ``age_days`` of the same conversion path."""
    return touches.with_columns((pl.col("age_days") - pl.col("age_days").min().over("conv_id")).alias("age_rel"))


def credit_sums(frame: pl.DataFrame, weights: dict[str, pl.Expr],
                count: str | None = None) -> dict[str, pl.DataFrame]:
    """Credits (uid, conversions, value) per weight: sums of the weight and of weight * value by uid.

    The sums are window sums (see :mod:`~metricspec.engine.attribution.grouping`), so they are the same on
    every run and depend only on the row order of ``frame``. ``weights`` must not contain windows (a window
    inside a window is evaluated per outer group): materialise such weights as columns first.
    With ``count`` (aggregated paths: a row stands for that many conversions and ``value`` is their total),
    the conversion credit is the weight times the count.
    """
    cols: dict[str, pl.Expr] = {}
    for i, w in enumerate(weights.values()):
        cols[f"c{i}"] = w.cast(pl.Float64) * pl.col(count) if count else w.cast(pl.Float64)
        cols[f"v{i}"] = w.cast(pl.Float64) * pl.col("value")
    sums = sums_by(frame, "uid", cols)
    return {name: sums.select("uid", pl.col(f"c{i}").alias("conversions"), pl.col(f"v{i}").alias("value"))
            for i, name in enumerate(weights)}


def heuristic_credits(touches: pl.DataFrame, configs: list[ModelConfig],
                      count: str | None = None) -> dict[str, pl.DataFrame]:
    """Credits (uid, conversions, value) for every heuristic model, computed in one pass over the touches."""
    if not configs:
        return {}
    if any(c.kind == "time_decay" for c in configs):
        touches = with_age_rel(touches)
    weights = {f"w{i}": weight_expr(c) for i, c in enumerate(configs)}
    touches = touches.with_columns(**weights)  # materialised first: a window inside a window is quadratic
    return credit_sums(touches, {c.label: pl.col(f"w{i}") for i, c in enumerate(configs)}, count)
