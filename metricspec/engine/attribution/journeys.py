"""Build conversion paths and non-converting ("null") paths from touchpoints and conversions.

Everything here is vectorised polars: a touch is assigned to the first conversion of the same person
at or after it with an as-of join, which implements "strictly after the previous conversion" for free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

US_PER_DAY = 86_400_000_000


@dataclass(frozen=True)
class Prepared:
    """Output of :func:`prepare`.

    ``touches``: one row per credited touch, sorted by ``conv_id`` then position, with columns
    conv_id, uid, channel, campaign, time, conv_time, value, pos, n, age_days.
    ``conversions``: one row per conversion (conv_id, person, conv_time, value, n_touches).
    ``null_touches``: touches of non-converting paths (null_id, uid), sorted by null_id then path order.
    ``units``: uid -> channel, campaign (campaign null at ``level="channel"``), label; sorted.
    """

    touches: pl.DataFrame
    conversions: pl.DataFrame
    null_touches: pl.DataFrame
    units: pl.DataFrame


def _collect(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def _time_expr(schema: pl.Schema, col: str, what: str) -> pl.Expr:
    dtype = schema[col]
    if isinstance(dtype, pl.Datetime):
        return pl.col(col).dt.cast_time_unit("us")
    if dtype == pl.Date:
        return pl.col(col).cast(pl.Datetime("us"))
    raise ValueError(f"{what}.{col} must be a Datetime or Date column, got {dtype}")


def _require(df: pl.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; it has {df.columns}")


def normalise_touchpoints(touchpoints: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Touchpoints with typed columns person, time, channel, campaign, cost (campaign/cost may be absent)."""
    tp = _collect(touchpoints)
    _require(tp, ["person", "time", "channel"], "touchpoints")
    schema = tp.schema
    return tp.select(
        pl.col("person").cast(pl.String),
        _time_expr(schema, "time", "touchpoints").alias("time"),
        pl.col("channel").cast(pl.String),
        (pl.col("campaign").cast(pl.String) if "campaign" in tp.columns else pl.lit(None, pl.String)).alias(
            "campaign"),
        (pl.col("cost").cast(pl.Float64) if "cost" in tp.columns else pl.lit(None, pl.Float64)).alias("cost"),
    ).filter(pl.col("person").is_not_null() & pl.col("time").is_not_null() & pl.col("channel").is_not_null())


def normalise_conversions(conversions: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Conversions sorted by person, time, value with a ``conv_id`` (row index); null value counts as 0."""
    cv = _collect(conversions)
    _require(cv, ["person", "time"], "conversions")
    schema = cv.schema
    cv = cv.select(
        pl.col("person").cast(pl.String),
        _time_expr(schema, "time", "conversions").alias("conv_time"),
        (pl.col("value").cast(pl.Float64).fill_null(0.0) if "value" in cv.columns else pl.lit(1.0)).alias("value"),
    ).filter(pl.col("person").is_not_null() & pl.col("conv_time").is_not_null())
    return cv.sort(["person", "conv_time", "value"], maintain_order=True).with_row_index("conv_id")


def prepare(touchpoints: pl.DataFrame | pl.LazyFrame, conversions: pl.DataFrame | pl.LazyFrame, *,
            lookback_days: float | None, drop_direct: bool, direct_channels: Sequence[str],
            level: Literal["channel", "campaign"]) -> Prepared:
    """Apply the journey rules and return credited touches, conversions, null paths and units."""
    tp = normalise_touchpoints(touchpoints)
    cv = normalise_conversions(conversions)
    if tp.schema["time"] != cv.schema["conv_time"]:
        raise ValueError(f"touchpoints.time ({tp.schema['time']}) and conversions.time "
                         f"({cv.schema['conv_time']}) must have the same time zone")
    if drop_direct:
        tp = tp.filter(~pl.col("channel").is_in(list(direct_channels)))
    unit_campaign = pl.col("campaign") if level == "campaign" else pl.lit(None, pl.String)
    tp = tp.with_columns(unit_campaign.alias("ucampaign"))
    units = (tp.select("channel", "ucampaign").unique()
             .sort(["channel", "ucampaign"], nulls_last=False, maintain_order=True)
             .with_row_index("uid")
             .rename({"ucampaign": "campaign"}))
    units = units.with_columns(
        pl.when(pl.col("campaign").is_null()).then(pl.col("channel"))
        .otherwise(pl.concat_str([pl.col("channel"), pl.lit(" / "), pl.col("campaign")])).alias("label"))
    if level == "campaign":
        tp = tp.join(units.select("uid", "channel", pl.col("campaign").alias("ucampaign")),
                     on=["channel", "ucampaign"], how="left", nulls_equal=True).drop("ucampaign")
    else:
        tp = tp.drop("ucampaign").join(units.select("uid", "channel"), on="channel", how="left")

    # first conversion (by conv_id) at each distinct (person, conversion time)
    keys = (cv.group_by("person", "conv_time").agg(pl.col("conv_id").min())
            .sort(["conv_time", "person"]))
    tp = tp.sort("time")  # as-of join needs time sorted within each person; ties are ordered later
    matched = tp.join_asof(keys, left_on="time", right_on="conv_time", by="person", strategy="forward",
                           check_sortedness=False)
    lb = None if lookback_days is None else round(lookback_days * US_PER_DAY)
    age_us = (pl.col("conv_time") - pl.col("time")).dt.total_microseconds()
    credited = matched.filter(pl.col("conv_id").is_not_null())
    if lb is not None:
        credited = credited.filter(age_us <= lb)
    credited = credited.join(cv.select("conv_id", "value"), on="conv_id", how="left")
    # pos = row number minus the group's first row number (an aggregation window; int_range().over() is slow)
    credited = credited.sort(["conv_id", "time", "channel", "campaign"], nulls_last=False).with_row_index("_row")
    credited = credited.with_columns(
        (pl.col("_row") - pl.col("_row").min().over("conv_id")).cast(pl.Int64).alias("pos"),
        pl.len().over("conv_id").cast(pl.Int64).alias("n"),
        (age_us / US_PER_DAY).alias("age_days"),
    ).select("conv_id", "uid", "channel", "campaign", "time", "conv_time", "value", "pos", "n", "age_days")

    nulls = matched.filter(pl.col("conv_id").is_null()).select("person", "uid", "time", "channel", "campaign")
    if lb is not None:
        last = pl.col("time").max().over("person")
        nulls = nulls.filter((last - pl.col("time")).dt.total_microseconds() <= lb)
    nulls = (nulls.sort(["person", "time", "channel", "campaign"], nulls_last=False)
             .select(pl.col("person").alias("null_id"), "uid"))

    counts = credited.group_by("conv_id").agg(pl.len().cast(pl.Int64).alias("n_touches"))
    cv = cv.join(counts, on="conv_id", how="left").with_columns(pl.col("n_touches").fill_null(0)).sort("conv_id")
    return Prepared(touches=credited, conversions=cv, null_touches=nulls, units=units)


def journeys_frame(prep: Prepared) -> pl.DataFrame:
    """One row per conversion: initial / intermediate / converting channel and campaign (vectorised)."""
    t = prep.touches
    first = t.filter(pl.col("pos") == 0).select(
        "conv_id", pl.col("channel").alias("initial_channel"), pl.col("campaign").alias("initial_campaign"))
    last = t.filter(pl.col("pos") == pl.col("n") - 1).select(
        "conv_id", pl.col("channel").alias("converting_channel"), pl.col("campaign").alias("converting_campaign"))
    mid = t.filter((pl.col("pos") > 0) & (pl.col("pos") < pl.col("n") - 1))
    mid_ch = mid.group_by("conv_id").agg(pl.col("channel").unique(maintain_order=True).alias("intermediate_channels"))
    mid_cp = (mid.filter(pl.col("campaign").is_not_null()).group_by("conv_id")
              .agg(pl.col("campaign").unique(maintain_order=True).alias("intermediate_campaigns")))
    out = prep.conversions
    for part in (first, mid_ch, mid_cp, last):
        out = out.join(part, on="conv_id", how="left")
    empty = pl.lit([], dtype=pl.List(pl.String))
    return out.sort(["person", "conv_time", "conv_id"]).select(
        "person", pl.col("conv_time").alias("conversion_time"), "value", "n_touches",
        "initial_channel", "initial_campaign",
        pl.col("intermediate_channels").fill_null(empty), pl.col("intermediate_campaigns").fill_null(empty),
        "converting_channel", "converting_campaign")
