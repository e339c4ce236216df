"""Attribution from aggregated path data (ChannelAttribution's input) instead of touchpoint rows.

One row per path: ``path`` (channels in order, joined by a separator), ``conversions`` (whole numbers),
``value`` (the conversions' total value) and ``nulls`` (non-converting occurrences). A row stands for
``conversions`` converting journeys and ``nulls`` non-converting ones along that path, so every model
gives exactly what the touchpoint route gives on the rows expanded into journeys: the rule-based weights
and the Shapley shares are the same per journey (they are linear in the count and the value), and the
Markov chain is fitted on the same distinct paths. Time decay needs the time of each touch and is
refused. Equal paths in several rows are added up.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from metricspec.engine.attribution.core import (
    PART_SEP,
    STEP_SEP,
    TOP_PATHS,
    checked_models,
    model_results,
    paths_summary_of,
    patterns,
    spend_by_unit,
    with_spend_units,
)
from metricspec.engine.attribution.grouping import sums_by
from metricspec.engine.attribution.heuristics import heuristic_credits
from metricspec.engine.attribution.models import (
    HEURISTIC_KINDS,
    AttributionResult,
    JourneyPath,
    ModelConfig,
)
from metricspec.engine.attribution.shapley import shapley_credits


def _whole(frame: pl.DataFrame, col: str) -> None:
    bad = frame.with_row_index("row").filter((pl.col(col) < 0) | (pl.col(col) != pl.col(col).round(0)))
    if bad.height:
        row = bad.row(0, named=True)
        raise ValueError(f"{col} must be whole numbers of at least 0; row {row['row'] + 1} has {row[col]}")


def normalise_paths(paths: pl.DataFrame | pl.LazyFrame, separator: str, drop_direct: bool,
                    direct_channels: Sequence[str]) -> pl.DataFrame:
    """The distinct paths: ``steps`` (list of channels), ``key`` (the steps joined by the unit separator),
    conversions, nulls (Int64), value (Float64); rows without any journey dropped; sorted by key.

    The path is split at the separator without its surrounding spaces (" > " and ">" read "a > b" and
    "a>b" alike), steps are stripped of surrounding spaces and empty steps dropped; a missing path is the
    empty path (conversions without touches). ``value`` defaults to the conversions; a missing number counts as 0.
    """
    df = paths.collect() if isinstance(paths, pl.LazyFrame) else paths
    missing = [c for c in ("path", "conversions") if c not in df.columns]
    if missing:
        raise ValueError(f"paths are missing column(s) {missing}; they have {df.columns}")
    df = df.select(
        pl.col("path").cast(pl.String).fill_null(""),
        pl.col("conversions").cast(pl.Float64).fill_null(0.0),
        (pl.col("nulls").cast(pl.Float64).fill_null(0.0) if "nulls" in df.columns else pl.lit(0.0)).alias("nulls"),
        (pl.col("value").cast(pl.Float64).fill_null(0.0) if "value" in df.columns
         else pl.col("conversions").cast(pl.Float64).fill_null(0.0)).alias("value"))
    for col in ("conversions", "nulls"):
        _whole(df, col)
    bad = df.with_row_index("row").filter((pl.col("conversions") == 0) & (pl.col("value") != 0))
    if bad.height:
        raise ValueError(f"value without conversions: row {bad['row'][0] + 1} has value {bad['value'][0]} "
                         "and 0 conversions")
    step = pl.element().str.strip_chars()
    keep = step != ""
    if drop_direct:
        keep = keep & ~step.is_in(list(direct_channels))
    sep = separator.strip() or separator  # as ChannelAttribution: spaces around channels do not count
    df = df.with_columns(pl.col("path").str.split(sep).list.eval(step.filter(keep)).alias("steps"))
    control = pl.element().str.contains(STEP_SEP, literal=True) | pl.element().str.contains(PART_SEP, literal=True)
    if df.filter(pl.col("steps").list.eval(control).list.any()).height:
        raise ValueError("a channel name contains the control character U+001E or U+001F")
    df = df.filter((pl.col("conversions") + pl.col("nulls")) > 0).with_columns(
        pl.col("steps").list.join(STEP_SEP).alias("key"),
        pl.col("conversions").cast(pl.Int64), pl.col("nulls").cast(pl.Int64))
    sums = sums_by(df, "key", {"conversions": pl.col("conversions"), "nulls": pl.col("nulls"),
                               "value": pl.col("value")})
    first = df.filter(pl.col("key").is_first_distinct()).select("key", "steps")
    return sums.join(first, on="key", how="left").sort("key")


def _units(distinct: pl.DataFrame) -> pl.DataFrame:
    channels = distinct["steps"].explode().drop_nulls().unique().sort()
    return pl.DataFrame({"channel": channels, "campaign": pl.repeat(None, len(channels), dtype=pl.String,
                                                                    eager=True)}
                        ).with_row_index("uid").with_columns(pl.col("channel").alias("label"))


def _touches(converting: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """One row per step of each converting path: conv_id (the path), uid, pos, n, count, value."""
    ex = (converting.with_row_index("conv_id")
          .select("conv_id", pl.col("steps").alias("channel"), pl.col("conversions").alias("count"), "value",
                  pl.col("steps").list.len().cast(pl.Int64).alias("n"))
          .explode("channel")
          .with_columns(pl.int_range(pl.len()).over("conv_id").cast(pl.Int64).alias("pos")))
    return ex.join(units.select("uid", "channel"), on="channel", how="left", maintain_order="left")


def _journey_paths(converting: pl.DataFrame, top: int) -> list[JourneyPath]:
    steps = pl.col("steps")
    per = converting.select(
        pl.concat_str([steps.list.first(),
                       steps.list.slice(1, (steps.list.len() - 2).clip(0)).list.unique(maintain_order=True)
                       .list.join(STEP_SEP),
                       steps.list.last()], separator=PART_SEP).alias("pattern"),
        "value", pl.col("conversions").alias("one"))
    return patterns(per, top)


def _markov_paths(distinct: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """The distinct paths as :func:`~metricspec.engine.attribution.markov.distinct_paths` returns them."""
    uid = dict(zip(units["channel"].to_list(), units["uid"].cast(pl.String).to_list(), strict=True))
    return distinct.select(
        pl.col("steps").list.eval(pl.element().replace_strict(uid, return_dtype=pl.String)).list.join(">")
        .alias("path"), "conversions", "value", "nulls").sort("path")


def attribute_paths(paths: pl.DataFrame | pl.LazyFrame, *, models: Sequence[ModelConfig], separator: str = " > ",
                    drop_direct: bool = False, direct_channels: Sequence[str] = ("direct",),
                    spend: pl.DataFrame | pl.LazyFrame | None = None,
                    top_paths: int = TOP_PATHS) -> AttributionResult:
    """Multi-touch attribution of aggregated ``paths`` (columns ``path, conversions[, value, nulls]``).

    Equal to :func:`~metricspec.engine.attribution.attribute` on the paths expanded into one person per
    journey (``lookback_days=None``). ``spend``: ``channel, amount`` as there. ValueError for time decay,
    for counts that are not whole numbers of at least 0 and for value on a path without conversions.
    """
    models = checked_models(models)
    if any(m.kind == "time_decay" for m in models):
        raise ValueError("time_decay needs the time of each touch, which aggregated paths do not have")
    distinct = normalise_paths(paths, separator, drop_direct, direct_channels)
    total_conv = int(distinct["conversions"].sum())
    total_value = float(distinct["value"].sum())
    touched = distinct.filter(pl.col("steps").list.len() > 0)
    converting = touched.filter(pl.col("conversions") > 0)
    attr_conv = int(converting["conversions"].sum())
    attr_value = float(converting["value"].sum())
    spend_u = None if spend is None else spend_by_unit(None, spend, "channel", drop_direct, direct_channels)
    units = _units(touched)
    t = _touches(converting, units)
    heur = heuristic_credits(t, [m for m in models if m.kind in HEURISTIC_KINDS], count="count")
    mpaths = _markov_paths(touched, units)
    units = with_spend_units(units, spend_u)
    results, removal = model_results(models, heur, lambda: shapley_credits(t, count="count"), mpaths,
                                     attr_conv, attr_value, units, spend_u, "channel")
    return AttributionResult(
        level="channel", lookback_days=None, drop_direct=drop_direct, models=results, removal_effects=removal,
        total_conversions=total_conv, attributed_conversions=attr_conv,
        unattributed_conversions=total_conv - attr_conv, total_value=total_value, attributed_value=attr_value,
        unattributed_value=total_value - attr_value, non_converting_paths=int(touched["nulls"].sum()),
        journeys=[], paths_summary=paths_summary_of(mpaths, units, top_paths),
        journey_paths=_journey_paths(converting, top_paths))


__all__ = ["attribute_paths", "normalise_paths"]
