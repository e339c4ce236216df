"""Rule-based models as polars expressions over credited touches (one weight per touch, summing to 1 per path)."""

from __future__ import annotations

import math

import polars as pl

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


def heuristic_credits(touches: pl.DataFrame, configs: list[ModelConfig]) -> dict[str, pl.DataFrame]:
    """Credits (uid, conversions, value) for every heuristic model, computed in one grouped pass."""
    if not configs:
        return {}
    weights = [weight_expr(c).alias(f"w{i}") for i, c in enumerate(configs)]
    aggs: list[pl.Expr] = []
    for i in range(len(configs)):
        aggs += [pl.col(f"w{i}").sum().alias(f"c{i}"), (pl.col(f"w{i}") * pl.col("value")).sum().alias(f"v{i}")]
    if any(c.kind == "time_decay" for c in configs):
        touches = with_age_rel(touches)
    grouped = touches.with_columns(weights).group_by("uid").agg(aggs).sort("uid")
    return {c.label: grouped.select("uid", pl.col(f"c{i}").alias("conversions"), pl.col(f"v{i}").alias("value"))
            for i, c in enumerate(configs)}
