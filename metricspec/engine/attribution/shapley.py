"""Shapley value attribution.

Characteristic function: v(S) = conversions (value) of the journeys whose set of channels is a subset of S.
Writing v as a sum of unanimity games, v(S) = sum over channel sets T ⊆ S of w(T), where w(T) is the
conversions (value) of journeys whose channel set is exactly T, the Shapley value is the sum of the
Harsanyi dividends w(T) / |T| over the sets T containing the channel. That is exact (it equals the
subset / permutation formula, which the tests check by brute force) and vectorises: each journey's
conversion is split equally among its *distinct* channels.
"""

from __future__ import annotations

import polars as pl

from metricspec.engine.attribution.heuristics import credit_sums

MAX_SHAPLEY_CHANNELS = 15


def shapley_credits(touches: pl.DataFrame, count: str | None = None) -> pl.DataFrame:
    """Credits (uid, conversions, value) of the Shapley model; ValueError above 15 channels.

    With ``count``, a row of ``touches`` stands for that many conversions (aggregated paths; see
    :func:`~metricspec.engine.attribution.heuristics.credit_sums`)."""
    n_units = touches["uid"].n_unique()
    if n_units > MAX_SHAPLEY_CHANNELS:
        raise ValueError(f"shapley attribution supports at most {MAX_SHAPLEY_CHANNELS} channels "
                         f"(the exact game has 2**n coalitions); the converting paths have {n_units}. "
                         "Group channels, use level='channel', or drop the shapley model.")
    # each conversion's distinct channels, in order of first appearance; equal shares
    key = pl.struct("conv_id", "uid")
    distinct = touches.select("conv_id", "uid", "value", *([count] if count else [])).filter(key.is_first_distinct())
    distinct = distinct.with_columns((1.0 / pl.len().over("conv_id").cast(pl.Float64)).alias("share"))
    return credit_sums(distinct, {"shapley": pl.col("share")}, count)["shapley"]
