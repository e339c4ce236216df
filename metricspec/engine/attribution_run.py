"""Wire the spec's ``attribution`` section to :mod:`metricspec.engine.attribution`."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from metricspec.engine.attribution import ModelConfig, attribute, attribute_paths
from metricspec.engine.attribution.models import (
    AttributionReport,
    AttributionResult,
    IncrementalCac,
)
from metricspec.errors import DataError
from metricspec.plan.periods import to_date

if TYPE_CHECKING:
    from metricspec.engine.results import ExperimentResult
    from metricspec.spec.loaded import LoadedSpec
    from metricspec.spec.models import AttributionSpec


def _local_naive(col: str, schema: dict[str, pl.DataType]) -> pl.Expr:
    dtype = schema[col]
    if isinstance(dtype, pl.Datetime):
        return pl.col(col).dt.replace_time_zone(None)
    return pl.col(col).cast(pl.Datetime("us"))


def incremental_cac(control_groups: Sequence[ExperimentResult], group: str, metric: str | None,
                    social_spend: float | None) -> IncrementalCac | None:
    """Spend on social ÷ conversions the exposed group made beyond what the control rate predicts.

    incremental conversions = (p_treatment − p_control) × n_treatment; the interval uses the
    confidence interval of the difference in proportions (the always-valid one with ``method:
    sequential``; the adjusted effect and its interval for a group that was not randomised). The spend is the social channels' spend in the control group's window.
    """
    cg = next((c for c in control_groups if c.name == group), None)
    if cg is None or social_spend is None:
        return None
    metrics = [m for m in cg.metrics if m.kind == "proportion"]
    m = next((x for x in metrics if x.name == metric), None) if metric else (metrics[0] if metrics else None)
    if m is None or m.difference is None:
        return None
    n_t = m.treatment_n
    inc = m.difference * n_t
    lo, hi = m.difference_ci_low, m.difference_ci_high
    if m.sequential is not None:
        lo, hi = m.sequential.difference_ci_low, m.sequential.difference_ci_high
    if m.adjusted is not None and m.adjusted.difference is not None:  # not randomised: the effect, not the selection
        inc = m.adjusted.difference * n_t
        lo, hi = m.adjusted.difference_ci_low, m.adjusted.difference_ci_high
    cac = social_spend / inc if inc > 0 else None
    cac_low = social_spend / (hi * n_t) if hi is not None and hi > 0 else None
    cac_high = social_spend / (lo * n_t) if lo is not None and lo > 0 else None
    return IncrementalCac(
        control_group=group, metric=m.name, treatment_n=n_t, incremental_conversions=inc,
        incremental_conversions_ci=[None if lo is None else lo * n_t, None if hi is None else hi * n_t],
        social_spend=social_spend, incremental_cac=cac, incremental_cac_ci=[cac_low, cac_high],
        significant=m.significant, window_start=cg.window_start, window_end=cg.window_end)


def social_spend(frames: dict[str, pl.LazyFrame], att: AttributionSpec, start: dt.date | None,
                 end: dt.date) -> float | None:
    """The social channels' spend dated from ``start`` (None: the beginning) to ``end``, both included.

    Spend without a time column cannot be dated: all of it counts.
    """
    sp = att.spend
    if sp is None:
        return None
    lf = frames[sp.source]
    if sp.time:
        date = to_date(pl.col(sp.time), lf.collect_schema()[sp.time])
        keep = date <= end
        if start is not None:
            keep = keep & (date >= start)
        lf = lf.filter(keep)
    social = lf.filter(pl.col(sp.channel).cast(pl.String).is_in(att.social_channels))
    amounts = social.select(pl.col(sp.amount).cast(pl.Float64)).collect().to_series().drop_nulls()
    # an exact sum (math.fsum): independent of the order and chunking of the rows, so the in-memory and
    # streaming engines give the same figure (as on the filespeed branch)
    return math.fsum(amounts.to_list())


def _spend_frame(frames: dict[str, pl.LazyFrame], att: AttributionSpec, cutoff: dt.datetime) -> pl.DataFrame | None:
    if att.spend is None:
        return None
    sp = att.spend
    slf = frames[sp.source]
    if sp.time:
        sschema = dict(slf.collect_schema())
        slf = slf.filter(_local_naive(sp.time, sschema) < cutoff)
    return slf.select([
        pl.col(sp.channel).cast(pl.String).alias("channel"),
        (pl.col(sp.campaign).cast(pl.String) if sp.campaign else pl.lit(None, dtype=pl.String)).alias("campaign"),
        pl.col(sp.amount).cast(pl.Float64).alias("amount"),
    ]).collect()


def _from_paths(frames: dict[str, pl.LazyFrame], att: AttributionSpec, spend: pl.DataFrame | None,
                models: list[Any]) -> AttributionResult:
    """Attribution of the aggregated path data of ``att.paths`` (all of it: paths have no dates)."""
    pa = att.paths
    assert pa is not None
    cols = {"path": pa.path, "conversions": pa.conversions, "value": pa.value, "nulls": pa.nulls}
    frame = frames[pa.source].select([pl.col(c).alias(k) for k, c in cols.items() if c]).collect()
    try:
        return attribute_paths(frame, models=models, separator=pa.separator, drop_direct=att.drop_direct,
                               direct_channels=att.direct_channels, spend=spend)
    except ValueError as exc:
        msg = str(exc)
        for k, c in cols.items():  # the spec's column names, not the engine's
            if c and msg.startswith(f"{k} must"):
                msg = f"column '{c}'{msg[len(k):]}"
        if msg.startswith("value without conversions"):
            msg = f"column '{pa.value}' has a value on a path with 0 '{pa.conversions}'{msg[len('value without conversions'):]}"
        raise DataError(f"attribution paths (source '{pa.source}'): {msg}") from exc


def _from_rows(frames: dict[str, pl.LazyFrame], att: AttributionSpec, cutoff: dt.datetime,
               spend: pl.DataFrame | None, models: list[Any]) -> AttributionResult:
    tp, cv = att.touchpoints, att.conversions
    assert tp is not None and cv is not None
    tlf = frames[tp.source]
    tschema = dict(tlf.collect_schema())
    touch = tlf.select([
        pl.col(tp.person).cast(pl.String).alias("person"),
        _local_naive(tp.time, tschema).alias("time"),
        pl.col(tp.channel).cast(pl.String).alias("channel"),
        (pl.col(tp.campaign).cast(pl.String) if tp.campaign else pl.lit(None, dtype=pl.String)).alias("campaign"),
        (pl.col(tp.cost).cast(pl.Float64) if tp.cost else pl.lit(None, dtype=pl.Float64)).alias("cost"),
    ]).filter(pl.col("time") < cutoff)
    clf = frames[cv.source]
    cschema = dict(clf.collect_schema())
    conv = clf.select([
        pl.col(cv.person).cast(pl.String).alias("person"),
        _local_naive(cv.time, cschema).alias("time"),
        (pl.col(cv.value).cast(pl.Float64) if cv.value else pl.lit(1.0)).alias("value"),
    ]).filter(pl.col("time") < cutoff)
    return attribute(touch.collect(), conv.collect(), models=models, lookback_days=att.lookback_days,
                     drop_direct=att.drop_direct, direct_channels=att.direct_channels, level=att.level,
                     spend=spend, include_journeys=True)


def run_attribution(loaded: LoadedSpec, frames: dict[str, pl.LazyFrame], as_of: dt.date,
                    control_groups: Sequence[ExperimentResult] | None = None) -> AttributionReport:
    att = loaded.spec.attribution
    assert att is not None
    cutoff = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    spend = _spend_frame(frames, att, cutoff)
    models = [ModelConfig(kind=m.kind, name=m.name, half_life_days=m.half_life_days, first_weight=m.first_weight,
                          last_weight=m.last_weight, order=m.order) for m in att.model_configs()]
    if att.paths is not None:
        result = _from_paths(frames, att, spend, models)
    else:
        result = _from_rows(frames, att, cutoff, spend, models)
    assert result.journeys is not None  # include_journeys=True
    total = len(result.journeys)
    if total > att.max_journeys:
        result = result.model_copy(update={"journeys": result.journeys[: att.max_journeys]})
    incremental = None
    cg = next((c for c in control_groups or [] if c.name == att.control_group), None)
    if cg is not None:
        social = social_spend(frames, att, cg.window_start, cg.window_end or as_of)
        incremental = incremental_cac([cg], cg.name, att.control_metric, social)
    # the result is validated already (its journeys are many): only the report's own fields are new
    fields = {name: getattr(result, name) for name in AttributionResult.model_fields}
    return AttributionReport.model_construct(**fields, journeys_total=total, title=att.title or "Attribution",
                                             incremental=incremental)
