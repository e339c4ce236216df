"""Wire the spec's ``attribution`` section to :mod:`metricspec.engine.attribution`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from metricspec.loader import LoadedSpec


def _local_naive(col: str, schema: dict[str, pl.DataType]) -> pl.Expr:
    dtype = schema[col]
    if isinstance(dtype, pl.Datetime):
        return pl.col(col).dt.replace_time_zone(None)
    return pl.col(col).cast(pl.Datetime("us"))


def run_attribution(loaded: LoadedSpec, frames: dict[str, pl.LazyFrame], as_of: dt.date) -> dict[str, Any]:
    from metricspec.engine.attribution import ModelConfig, attribute

    att = loaded.spec.attribution
    assert att is not None
    cutoff = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    tp = att.touchpoints
    tlf = frames[tp.source]
    tschema = dict(tlf.collect_schema())
    touch = tlf.select([
        pl.col(tp.person).cast(pl.String).alias("person"),
        _local_naive(tp.time, tschema).alias("time"),
        pl.col(tp.channel).cast(pl.String).alias("channel"),
        (pl.col(tp.campaign).cast(pl.String) if tp.campaign else pl.lit(None, dtype=pl.String)).alias("campaign"),
        (pl.col(tp.cost).cast(pl.Float64) if tp.cost else pl.lit(None, dtype=pl.Float64)).alias("cost"),
    ]).filter(pl.col("time") < cutoff)
    cv = att.conversions
    clf = frames[cv.source]
    cschema = dict(clf.collect_schema())
    conv = clf.select([
        pl.col(cv.person).cast(pl.String).alias("person"),
        _local_naive(cv.time, cschema).alias("time"),
        (pl.col(cv.value).cast(pl.Float64) if cv.value else pl.lit(1.0)).alias("value"),
    ]).filter(pl.col("time") < cutoff)
    spend = None
    if att.spend is not None:
        sp = att.spend
        slf = frames[sp.source]
        if sp.time:
            sschema = dict(slf.collect_schema())
            slf = slf.filter(_local_naive(sp.time, sschema) < cutoff)
        spend = slf.select([
            pl.col(sp.channel).cast(pl.String).alias("channel"),
            (pl.col(sp.campaign).cast(pl.String) if sp.campaign else pl.lit(None, dtype=pl.String)).alias(
                "campaign"),
            pl.col(sp.amount).cast(pl.Float64).alias("amount"),
        ]).collect()
    models = [ModelConfig(kind=m.kind, name=m.name, half_life_days=m.half_life_days, first_weight=m.first_weight,
                          last_weight=m.last_weight, order=m.order) for m in att.model_configs()]
    result = attribute(touch.collect(), conv.collect(), models=models, lookback_days=att.lookback_days,
                       drop_direct=att.drop_direct, direct_channels=att.direct_channels, level=att.level,
                       spend=spend, include_journeys=True)
    data = result.model_dump(mode="json")
    data["title"] = att.title or "Attribution"
    return data
