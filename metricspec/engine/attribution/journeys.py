"""Build conversion paths and non-converting ("null") paths from touchpoints and conversions.

Everything here is vectorised (polars and numpy): touches and conversion instants are sorted together once by
person and time, and a touch is assigned to the first conversion of the same person at or after it (a backward
fill, i.e. an as-of join), which implements "strictly after the previous conversion" for free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from metricspec.engine.attribution.grouping import expand, runs, sums_by

US_PER_DAY = 86_400_000_000


@dataclass(frozen=True)
class Prepared:
    """Output of :func:`prepare`.

    ``touches``: one row per credited touch, sorted by ``conv_id`` then position, with columns
    conv_id, uid, channel, campaign, time, conv_time, value, pos, n, age_days.
    ``conversions``: one row per conversion (conv_id, person, conv_time, value, n_touches).
    ``null_touches``: touches of non-converting paths (null_id: a UInt64 person key, uid), in contiguous runs of
    null_id, each run in path order.
    ``units``: uid -> channel, campaign (campaign null at ``level="channel"``), label; sorted.
    ``unit_cost``: summed touchpoint ``cost`` by uid (null where no cost is known), or None when no touchpoint
    has a cost (before ``drop_direct``).
    """

    touches: pl.DataFrame
    conversions: pl.DataFrame
    null_touches: pl.DataFrame
    units: pl.DataFrame
    unit_cost: pl.Series | None = None


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


def _codes(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Rank of each value among the sorted distinct non-null values (UInt32; null stays null), and those values."""
    cats = values.drop_nulls().unique().sort()
    return values.cast(pl.Enum(cats)).to_physical().cast(pl.UInt32), cats


def _person_key(person: pl.Series, exact: bool) -> pl.Series:
    """A UInt64 key per person: a hash (checked for collisions by the caller) or, if ``exact``, the dense rank."""
    return person.rank("dense").cast(pl.UInt64) if exact else person.hash(seed=0x5EED)


def _sort_events(person: pl.Series, t: pl.Series, tie: pl.Series,
                 campaign: pl.Series | None) -> pl.DataFrame:
    """Order events (touches, then conversion instants, numbered from 0) by person, time, ``tie``.

    Returns the sorted person keys ``h``, times ``t``, ``tie`` and event numbers ``event``. Persons are keyed by a 64-bit hash, much
    cheaper to sort than strings; a collision (two persons, one hash) would show up as two different persons
    next to each other under one hash, and then the exact dense rank of the person strings is used instead.
    With ``campaign`` (one per touch), touches equal in person, time and ``tie`` are ordered by campaign, nulls
    first: a fix-up of the (usually few) exact ties instead of one more sort key for every row.
    """
    for exact in (False, True):
        frame = pl.DataFrame({"h": _person_key(person, exact), "t": t, "tie": tie})
        order = frame.select(pl.arg_sort_by(["h", "t", "tie"])).to_series()
        frame = frame[order]
        if not exact:
            h, p = frame["h"], person.gather(order)
            if ((h == h.shift(1)) & (p != p.shift(1))).any():
                continue
        if campaign is not None:
            same = frame.select(((pl.col("h") == pl.col("h").shift(1)) & (pl.col("t") == pl.col("t").shift(1))
                                 & (pl.col("tie") == pl.col("tie").shift(1))).fill_null(False)).to_series()
            if same.any():  # only touches can tie: instants have their own tie value and are one per person & time
                member = (same | same.shift(-1).fill_null(False)).arg_true()
                group = (~same).cum_sum().gather(member)
                ids = order.gather(member)
                fixed = (pl.DataFrame({"g": group, "id": ids, "c": campaign.gather(ids)})
                         .sort(["g", "c"], nulls_last=False, maintain_order=True))
                order = order.scatter(member, fixed["id"])
        return frame.with_columns(order.alias("event"))
    raise AssertionError("unreachable")


def prepare(touchpoints: pl.DataFrame | pl.LazyFrame, conversions: pl.DataFrame | pl.LazyFrame, *,
            lookback_days: float | None, drop_direct: bool, direct_channels: Sequence[str],
            level: Literal["channel", "campaign"]) -> Prepared:
    """Apply the journey rules and return credited touches, conversions, null paths and units.

    Persons, channels and campaigns are turned into integers once; the touches and the conversion instants
    are sorted together once by (person, time, touches before a conversion at the same instant, channel,
    campaign), and every touch takes the next conversion instant of its person (a backward fill), which is
    the as-of rule "first conversion at or after the touch" and enforces the previous-conversion cut.
    """
    tp = normalise_touchpoints(touchpoints)
    cv = normalise_conversions(conversions)
    if tp.schema["time"] != cv.schema["conv_time"]:
        raise ValueError(f"touchpoints.time ({tp.schema['time']}) and conversions.time "
                         f"({cv.schema['conv_time']}) must have the same time zone")
    has_cost = tp["cost"].null_count() < tp.height  # before drop_direct, like the spend rule
    if drop_direct:
        tp = tp.filter(~pl.col("channel").is_in(list(direct_channels)))
    n_t = tp.height

    uid, units = _units(tp, level)
    unit_cost = _unit_cost(tp, uid) if has_cost else None  # null where no touch of the unit has a cost

    # one sort of the touches (events 0 .. n_t - 1) and of the first conversion of each person and instant
    first = (pl.col("person") != pl.col("person").shift(1)) | (pl.col("conv_time") != pl.col("conv_time").shift(1))
    instants = cv.filter(first.fill_null(True)).select("person", "conv_time", "conv_id")
    events = _sort_events(
        pl.concat([tp["person"], instants["person"]], rechunk=True),
        pl.concat([tp["time"].to_physical(), instants["conv_time"].to_physical()], rechunk=True),
        pl.concat([uid, pl.repeat(units.height, instants.height, dtype=pl.UInt32, eager=True)], rechunk=True),
        tp["campaign"] if level == "channel" else None)
    # each touch takes the next instant in the sorted order if it is the same person's
    nxt = pl.when(pl.col("event") >= n_t)
    events = events.with_columns(
        nxt.then(pl.col("event")).fill_null(strategy="backward").alias("next"),
        (pl.col("h") == nxt.then(pl.col("h")).fill_null(strategy="backward")).fill_null(False).alias("matched"),
    ).filter(pl.col("event") < n_t)
    conv_t = cv["conv_time"].to_physical()
    lb = None if lookback_days is None else round(lookback_days * US_PER_DAY)

    matched = events.filter(pl.col("matched"))
    next_conv = instants["conv_id"].gather(matched["next"] - n_t)
    if lb is not None:
        keep = conv_t.gather(next_conv) - matched["t"] <= lb
        matched, next_conv = matched.filter(keep), next_conv.filter(keep)
    credited, cid = _credited(matched, next_conv, tp, cv)
    nulls = _null_touches(events, lb)

    counts = np.bincount(cid, minlength=cv.height).astype(np.int64)
    cv = cv.with_columns(pl.Series("n_touches", counts))
    return Prepared(touches=credited, conversions=cv, null_touches=nulls, units=units, unit_cost=unit_cost)


def _units(tp: pl.DataFrame, level: Literal["channel", "campaign"]) -> tuple[pl.Series, pl.DataFrame]:
    """Each touch's unit id and the units (uid, channel, campaign, label)."""
    # units: uid is the rank of (channel, campaign) with null campaigns first (campaign only at level="campaign")
    ch, ch_cats = _codes(tp["channel"])
    if level == "campaign":
        cp, cp_cats = _codes(tp["campaign"])
        pair = ch.cast(pl.UInt64) * (len(cp_cats) + 1) + (cp.cast(pl.UInt64) + 1).fill_null(0)
        keys = pair.unique().sort()
        uid = keys.search_sorted(pair).cast(pl.UInt32)
        cp_of = pl.select(pl.when(keys % (len(cp_cats) + 1) > 0).then(keys % (len(cp_cats) + 1) - 1)).to_series()
        units = pl.DataFrame({"channel": ch_cats.gather(keys // (len(cp_cats) + 1)), "campaign": cp_cats.gather(cp_of)})
    else:
        uid = ch
        units = pl.DataFrame({"channel": ch_cats, "campaign": pl.repeat(None, len(ch_cats), dtype=pl.String,
                                                                        eager=True)})
    units = units.with_row_index("uid").with_columns(
        pl.when(pl.col("campaign").is_null()).then(pl.col("channel"))
        .otherwise(pl.concat_str([pl.col("channel"), pl.lit(" / "), pl.col("campaign")])).alias("label"))
    return uid, units


def _unit_cost(tp: pl.DataFrame, uid: pl.Series) -> pl.Series:
    """The cost of each unit: the sum of its touches' costs, null where none of its touches has a cost."""
    cost = sums_by(pl.DataFrame({"uid": uid, "cost": tp["cost"]}), "uid",
                   {"amount": pl.col("cost"), "known": pl.col("cost").is_not_null().cast(pl.Float64)})
    return cost.select(pl.when(pl.col("known") > 0).then(pl.col("amount")).alias("amount")).to_series()


def _credited(matched: pl.DataFrame, next_conv: pl.Series, tp: pl.DataFrame, cv: pl.DataFrame,
              ) -> tuple[pl.DataFrame, np.ndarray]:
    """The credited touches (``matched``: sorted events with the conversion each goes to, ``next_conv``) in
    conv_id order, each with its position in its path, and the conv_id of each."""
    # each conversion's touches form one run, already in path order; put the runs in conv_id order
    cid = next_conv.to_numpy()
    starts, lengths, _ = runs(cid)
    by_conv = np.argsort(cid[starts], kind="stable")
    starts, lengths = starts[by_conv], lengths[by_conv]
    order = expand(starts, lengths)
    rows = matched["event"].gather(order)
    time = matched["t"].gather(order).cast(tp.schema["time"])
    cid = cid[order]
    starts = np.cumsum(lengths) - lengths
    run = np.repeat(np.arange(len(lengths)), lengths)
    conv_id = pl.Series("conv_id", cid, dtype=pl.UInt32)
    age_us = (pl.col("conv_time") - pl.col("time")).dt.total_microseconds()
    credited = pl.DataFrame({
        "conv_id": conv_id, "uid": matched["tie"].gather(order), "channel": tp["channel"].gather(rows),
        "campaign": tp["campaign"].gather(rows), "time": time,
        "conv_time": cv["conv_time"].gather(conv_id), "value": cv["value"].gather(conv_id),
        "pos": pl.Series(np.arange(len(cid), dtype=np.int64) - starts[run]),
        "n": pl.Series(lengths[run].astype(np.int64))},
    ).with_columns((age_us / US_PER_DAY).alias("age_days"))
    return credited, cid


def _null_touches(events: pl.DataFrame, lb: int | None) -> pl.DataFrame:
    """Touches no conversion follows (within the lookback of the person's last touch): null_id, uid."""
    nulls = events.filter(~pl.col("matched"))
    if lb is not None:  # within the lookback of the person's last touch (the last row of its run)
        last = pl.when((pl.col("h") != pl.col("h").shift(-1)).fill_null(True)).then(pl.col("t"))
        nulls = nulls.filter(last.fill_null(strategy="backward") - pl.col("t") <= lb)
    return nulls.select(pl.col("h").alias("null_id"), pl.col("tie").alias("uid"))  # touches: tie is the uid


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
    # conv_id numbers conversions by person, time, value: the same order as person, conversion time, conv_id
    return out.sort("conv_id").select(
        "person", pl.col("conv_time").alias("conversion_time"), "value", "n_touches",
        "initial_channel", "initial_campaign",
        pl.col("intermediate_channels").fill_null(empty), pl.col("intermediate_campaigns").fill_null(empty),
        "converting_channel", "converting_campaign")
