"""The :func:`attribute` entry point: journeys, models, spend metrics and summaries."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, TypeAdapter

from metricspec.engine.attribution.grouping import sums_by
from metricspec.engine.attribution.heuristics import heuristic_credits
from metricspec.engine.attribution.journeys import Prepared, journeys_frame, prepare
from metricspec.engine.attribution.markov import distinct_paths, fit_markov
from metricspec.engine.attribution.models import (
    HEURISTIC_KINDS,
    AttributionResult,
    ChannelCredit,
    Journey,
    JourneyPath,
    ModelConfig,
    ModelResult,
    PathSummary,
    RemovalEffect,
)
from metricspec.engine.attribution.shapley import shapley_credits

TOP_PATHS = 20
_MODEL_SLOTS = tuple(n for n in BaseModel.__slots__ if n != "__dict__")


def _column_values(col: pl.Series) -> list[Any]:
    """``col.to_list()``; list columns via one flat list and slices (faster than polars' per-row lists)."""
    if not isinstance(col.dtype, pl.List):
        return col.to_list()
    lengths = col.list.len().fill_null(0)
    flat = col.filter(lengths > 0).explode().to_list()
    out, i = [], 0
    for n in lengths.to_list():
        j = i + n
        out.append(flat[i:j])
        i = j
    return out


def _journeys(frame: pl.DataFrame) -> list[Journey]:
    """``Journey`` models from the rows of :func:`journeys_frame` without validating each one.

    The frame's columns have exactly the field types (str, datetime, float, int, list[str], str | None), so
    validation would only copy them, at about 30 µs a row. The first row is validated as a check; every row
    then gets its field values and the instance slots ``model_construct`` sets (the same for every row).
    """
    if frame.height == 0:
        return []
    names = frame.columns
    values = zip(*(_column_values(c) for c in frame.get_columns()), strict=True)
    rows = list(map(dict, map(zip, repeat(names), values)))
    if Journey.model_validate(rows[0]).__dict__ != rows[0]:  # types drifted: validate everything (slow)
        return TypeAdapter(list[Journey]).validate_python(rows)
    template = Journey.model_construct(**rows[0])
    slots = [(n, getattr(template, n)) for n in _MODEL_SLOTS]
    new, setattr_ = object.__new__, object.__setattr__

    def build(row: dict[str, Any]) -> Journey:
        j = new(Journey)
        setattr_(j, "__dict__", row)
        for n, v in slots:  # fields set, extra (None), private (None); frozen models never change them
            setattr_(j, n, v)
        return j

    return list(map(build, rows))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic objects (it would rescan them all)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _ratio(num: float, den: float | None) -> float | None:
    return None if den is None or den == 0 else num / den


def spend_by_unit(prep: Prepared | None, spend: pl.DataFrame | pl.LazyFrame | None, level: str, drop_direct: bool,
                   direct_channels: Sequence[str]) -> pl.DataFrame | None:
    """Spend per unit (channel, campaign): the spend frame, else the summed touchpoint ``cost``, else None."""
    keys = ["channel", "campaign"]
    if spend is None:  # touchpoint costs, already summed by unit (after drop_direct) in prepare()
        if prep is None or prep.unit_cost is None:
            return None
        return prep.units.select(*keys, prep.unit_cost.alias("amount"))
    s = spend.collect() if isinstance(spend, pl.LazyFrame) else spend
    s = s.select(pl.col("channel").cast(pl.String),
                 (pl.col("campaign").cast(pl.String) if "campaign" in s.columns and level == "campaign"
                  else pl.lit(None, pl.String)).alias("campaign"),
                 pl.col("amount").cast(pl.Float64))
    if drop_direct:
        s = s.filter(~pl.col("channel").is_in(list(direct_channels)))
    known = pl.col("amount").is_not_null().any()
    return (s.group_by(keys).agg(pl.when(known).then(pl.col("amount").sum()).alias("amount"))
            .sort(keys, nulls_last=False))


def _credits(units: pl.DataFrame, credit: pl.DataFrame | None, spend: pl.DataFrame | None,
             level: str) -> list[ChannelCredit]:
    """ChannelCredit rows for every unit (0 credit where a model gives none), sorted by channel, campaign."""
    base = units.select("uid", "channel", "campaign")
    if credit is not None:
        base = base.join(credit, on="uid", how="left")
    else:
        base = base.with_columns(pl.lit(None, pl.Float64).alias("conversions"), pl.lit(None, pl.Float64).alias("value"))
    base = base.with_columns(pl.col("conversions").fill_null(0.0), pl.col("value").fill_null(0.0))
    if spend is not None:
        base = base.join(spend, on=["channel", "campaign"], how="left", nulls_equal=True)
    else:
        base = base.with_columns(pl.lit(None, pl.Float64).alias("amount"))
    out = []
    for row in base.sort(["channel", "campaign"], nulls_last=False).iter_rows(named=True):
        sp = row["amount"]
        conv, val = float(row["conversions"]), float(row["value"])
        out.append(ChannelCredit(
            channel=row["channel"], campaign=row["campaign"] if level == "campaign" else None,
            conversions=conv, value=val, spend=sp, cac=_ratio(sp, conv) if sp is not None else None,
            roas=_ratio(val, sp), roi=_ratio(val - sp, sp) if sp is not None else None))
    return out


def _shares(effects: dict[int, float]) -> dict[int, float]:
    total = sum(effects.values())
    return {u: (e / total if total > 0 else 0.0) for u, e in effects.items()}


def paths_summary_of(paths: pl.DataFrame, units: pl.DataFrame, top: int) -> list[PathSummary]:
    labels = dict(zip(units["uid"].cast(pl.String).to_list(), units["label"].to_list(), strict=True))
    best = paths.sort(["conversions", "nulls", "path"], descending=[True, True, False]).head(top)
    return [PathSummary(path=[labels[u] for u in row["path"].split(">")], conversions=row["conversions"],
                        value=row["value"], non_conversions=row["nulls"]) for row in best.iter_rows(named=True)]


def _journey_paths(prep: Prepared, top: int) -> list[JourneyPath]:
    """The ``top`` most common initial → intermediate → converting patterns (most conversions, then value).

    Values are summed per pattern in conversion order (:func:`sums_by`), so the sums are reproducible.
    """
    t = prep.touches
    if t.height == 0:
        return []
    mid = (pl.col("pos") > 0) & (pl.col("pos") < pl.col("n") - 1)
    # within a group polars keeps the rows' order: touches are sorted by conversion, then position
    per = t.join(prep.units.select("uid", "label"), on="uid", how="left").group_by("conv_id").agg(
        pl.col("label").filter(pl.col("pos") == 0).first().alias("initial"),
        pl.col("label").filter(mid).unique(maintain_order=True).str.join(STEP_SEP).alias("intermediate"),
        pl.col("label").filter(pl.col("pos") == pl.col("n") - 1).first().alias("converting"),
        pl.col("value").first()).sort("conv_id")
    per = per.select(pl.concat_str(["initial", "intermediate", "converting"], separator=PART_SEP).alias("pattern"),
                     "value", pl.lit(1, pl.Int64).alias("one"))
    return patterns(per, top)


def patterns(per: pl.DataFrame, top: int) -> list[JourneyPath]:
    """The ``top`` patterns of ``per`` (pattern: initial, intermediate and converting label joined by the
    record separator, intermediate ones by the unit separator; value; one: the conversions of the row)."""
    sums = sums_by(per, "pattern", {"conversions": pl.col("one"), "value": pl.col("value")})
    best = sums.sort(["conversions", "value", "pattern"], descending=[True, True, False]).head(top)
    out = []
    for pattern, conversions, value in best.select("pattern", "conversions", "value").iter_rows():
        initial, intermediate, converting = pattern.split(PART_SEP)
        out.append(JourneyPath(initial=initial, intermediate=intermediate.split(STEP_SEP) if intermediate else [],
                               converting=converting, conversions=conversions, value=value))
    return out


# separators while grouping patterns (ASCII unit and record separators: control characters, never in a label)
STEP_SEP, PART_SEP = "\x1f", "\x1e"


def checked_models(models: Sequence[ModelConfig | dict[str, Any]]) -> list[ModelConfig]:
    """The models as :class:`ModelConfig`; ValueError when two share a name."""
    out = [m if isinstance(m, ModelConfig) else ModelConfig.model_validate(m) for m in models]
    names = [m.label for m in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"attribution model names must be unique; repeated: {dupes} (set `name:`)")
    return out


def with_spend_units(units: pl.DataFrame, spend_u: pl.DataFrame | None) -> pl.DataFrame:
    """``units`` and, after them, the units with spend but no touches (they get a zero-credit row)."""
    if spend_u is not None:
        extra = spend_u.join(units, on=["channel", "campaign"], how="anti", nulls_equal=True)
        if extra.height:
            units = pl.concat([units, extra.select(
                (pl.lit(units.height) + pl.int_range(pl.len())).cast(units.schema["uid"]).alias("uid"),
                "channel", "campaign", pl.col("channel").alias("label"))])
    return units


def _markov(paths: pl.DataFrame, order: int, attr_conv: int, attr_value: float,
            units: pl.DataFrame) -> tuple[pl.DataFrame, float | None, list[RemovalEffect]]:
    """Markov credits (uid, conversions, value), P(conversion) and the removal effects by unit."""
    fit = fit_markov(paths, order) if attr_conv else None
    prob = fit.conversion_probability if fit else None
    res = fit.removal_effects if fit else {}
    res_v = fit.removal_effects_value if fit else {}
    shares = _shares(res)
    # value credits by value removal effects; fall back to conversion shares when they are all 0
    shares_v = _shares(res_v) if sum(res_v.values()) > 0 else shares
    uids = sorted(shares)
    credit = pl.DataFrame({"uid": uids, "conversions": [attr_conv * shares[u] for u in uids],
                           "value": [attr_value * shares_v[u] for u in uids]},
                          schema={"uid": units.schema["uid"], "conversions": pl.Float64, "value": pl.Float64})
    re_df = units.filter(pl.col("uid").is_in(uids)).sort(["channel", "campaign"], nulls_last=False)
    removal = [RemovalEffect(channel=r["channel"], campaign=r["campaign"], removal_effect=res[r["uid"]],
                             normalised=shares[r["uid"]], removal_effect_value=res_v[r["uid"]],
                             normalised_value=shares_v[r["uid"]])
               for r in re_df.iter_rows(named=True)]
    return credit, prob, removal


def model_results(models: Sequence[ModelConfig], heuristic: dict[str, pl.DataFrame],
                  shapley: Callable[[], pl.DataFrame], paths: pl.DataFrame, attr_conv: int, attr_value: float,
                  units: pl.DataFrame, spend_u: pl.DataFrame | None,
                  level: str) -> tuple[list[ModelResult], dict[str, list[RemovalEffect]]]:
    """Every model's credits, from the heuristic credits, the Shapley credits and the distinct ``paths``
    (:func:`~metricspec.engine.attribution.markov.distinct_paths`' shape); Markov removal effects by model."""
    results: list[ModelResult] = []
    removal: dict[str, list[RemovalEffect]] = {}
    for m in models:
        prob = None
        if m.kind in HEURISTIC_KINDS:
            credit = heuristic[m.label]
        elif m.kind == "shapley":
            credit = shapley()
        else:
            credit, prob, removal[m.label] = _markov(paths, m.order, attr_conv, attr_value, units)
        results.append(ModelResult(name=m.label, kind=m.kind, credits=_credits(units, credit, spend_u, level),
                                   conversion_probability=prob))
    return results, removal


def attribute(touchpoints: pl.DataFrame | pl.LazyFrame, conversions: pl.DataFrame | pl.LazyFrame, *,
              models: Sequence[ModelConfig], lookback_days: float | None = 30,
              drop_direct: bool = False, direct_channels: Sequence[str] = ("direct",),
              level: Literal["channel", "campaign"] = "channel",
              spend: pl.DataFrame | pl.LazyFrame | None = None, include_journeys: bool = True,
              top_paths: int = TOP_PATHS) -> AttributionResult:
    """Multi-touch attribution of ``conversions`` to the ``touchpoints`` preceding them.

    Columns: touchpoints ``person, time, channel[, campaign, cost]``; conversions ``person, time[, value]``;
    spend ``channel[, campaign], amount``. See ``docs/attribution.md`` for the journey rules and formulas.
    Every model's credits sum to ``attributed_conversions`` and ``attributed_value``.
    """
    if lookback_days is not None and lookback_days <= 0:
        raise ValueError("lookback_days must be positive or None")
    if level not in ("channel", "campaign"):
        raise ValueError(f"level must be 'channel' or 'campaign', got {level!r}")
    models = checked_models(models)

    prep = prepare(touchpoints, conversions, lookback_days=lookback_days, drop_direct=drop_direct,
                   direct_channels=direct_channels, level=level)
    t, cv = prep.touches, prep.conversions
    total_conv = cv.height
    attributed = cv.filter(pl.col("n_touches") > 0)
    attr_conv = attributed.height
    total_value = float(cv["value"].sum())
    attr_value = float(attributed["value"].sum())
    spend_u = spend_by_unit(prep, spend, level, drop_direct, direct_channels)
    units = with_spend_units(prep.units, spend_u)

    heur = heuristic_credits(t, [m for m in models if m.kind in HEURISTIC_KINDS])
    paths = distinct_paths(t, prep.null_touches)
    results, removal = model_results(models, heur, lambda: shapley_credits(t), paths, attr_conv, attr_value,
                                     units, spend_u, level)

    with _gc_paused():  # journeys are many small acyclic objects: the collector would only rescan them
        journeys = _journeys(journeys_frame(prep)) if include_journeys else None
        return AttributionResult(
            level=level, lookback_days=lookback_days, drop_direct=drop_direct, models=results,
            removal_effects=removal, total_conversions=total_conv, attributed_conversions=attr_conv,
            unattributed_conversions=total_conv - attr_conv, total_value=total_value, attributed_value=attr_value,
            unattributed_value=total_value - attr_value, non_converting_paths=prep.null_touches["null_id"].n_unique(),
            journeys=journeys, paths_summary=paths_summary_of(paths, units, top_paths),
            journey_paths=_journey_paths(prep, top_paths))
