"""Wire the spec's ``control_groups`` to the statistics in :mod:`metricspec.engine.experiments`.

Which units take part: the rows of the group's source that pass its ``filter`` and whose time column
(the group's ``time_column``, else the source's) falls in the group's window — its ``period`` or
``campaign``, within the spec's ``period``, and never after the as-of date. A source without a time
column cannot be windowed: every unit counts and the result says so in a warning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from metricspec.engine.experiments import MetricDefinition, evaluate_experiment
from metricspec.engine.experiments.adjusted import Settings
from metricspec.engine.experiments.evaluate import Design
from metricspec.engine.results import EngineMessage, ExperimentResult
from metricspec.errors import DataError
from metricspec.plan.expressions import filter_expr
from metricspec.plan.periods import to_date
from metricspec.spec.control_groups import planned_share

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec
    from metricspec.spec.models import ControlGroup, Spec

_DATE = "__cg_date"
_TIME = "__cg_time"
_ORDER = "__cg_row"


@dataclass(frozen=True)
class Window:
    """The dates a control group's units entered in; no ``time_column``: no window can be applied."""

    time_column: str | None
    start: dt.date | None
    end: dt.date | None
    campaign: str | None


def control_group_window(spec: Spec, cg: ControlGroup, as_of: dt.date) -> Window:
    """The group's ``period`` or ``campaign``, within the spec's ``period``, ending at the as-of date at the latest."""
    source = spec.sources.get(cg.source)
    time_column = cg.time_column or (source.time_column if source else None)
    start: dt.date | None = None
    end = as_of
    bounds = cg.period or spec.campaigns.get(cg.campaign or "")
    if bounds is not None:
        start, end = bounds.start, min(bounds.end, end)
    if spec.period is not None:
        start = spec.period.start if start is None else max(start, spec.period.start)
        end = min(end, spec.period.end)
    if time_column is None:
        return Window(None, None, None, cg.campaign)
    return Window(time_column, start, end, cg.campaign)


def _units(loaded: LoadedSpec, frames: dict[str, pl.LazyFrame], name: str,
           window: Window) -> tuple[pl.DataFrame, list[EngineMessage]]:
    """One row per unit in the window, and the warnings about units that could not be placed."""
    cg = loaded.spec.control_groups[name]
    cols = {cg.unit, cg.assignment.column, *cg.segments, *(cg.adjust.covariates if cg.adjust else ())}
    for m in cg.metrics.values():
        cols |= {c for c in (m.column, m.numerator, m.denominator, m.covariate, m.duration, m.event) if c}
        cols |= set(m.pre_period)
    lf = frames[cg.source]
    cond = filter_expr(cg.filter)
    if cond is not None:
        lf = lf.filter(cond)
    warnings: list[EngineMessage] = []
    if window.start is not None and window.end is not None and window.start > window.end:
        warnings.append(EngineMessage(code="cg_window_empty", params={"start": window.start.isoformat(),
                                                                      "end": window.end.isoformat()}))
    if window.time_column is None:
        frame = lf.select(sorted(cols)).collect()
        warnings.append(EngineMessage(code="cg_no_time_column", params={"source": cg.source}))
    else:
        schema = lf.collect_schema()
        date = to_date(pl.col(window.time_column), schema[window.time_column]).alias(_DATE)
        frame = lf.select([*sorted(cols), date, pl.col(window.time_column).alias(_TIME)]).collect()
        undated = frame.get_column(_DATE).null_count()
        if undated:
            warnings.append(EngineMessage(code="cg_null_time", params={"n": undated, "column": window.time_column}))
        keep = pl.col(_DATE) <= window.end
        if window.start is not None:
            keep = keep & (pl.col(_DATE) >= window.start)
        frame = frame.filter(keep.fill_null(False)).drop(_DATE)
    return one_row_per_unit(loaded, name, frame), warnings


def one_row_per_unit(loaded: LoadedSpec, name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The units' rows, one per unit: a person counted twice would count twice.

    A unit with several rows is an error naming how many units have them and one of them, unless the
    group says how to combine them (``unit_aggregation``: each metric column's sum or mean, or the
    first row's, the earliest by the time column, file order among equal times). A unit in both arms, or
    in two segments, is always an error: which arm it belongs to would depend on the file's order.
    """
    cg = loaded.spec.control_groups[name]
    unit = cg.unit
    frame = frame.with_row_index(_ORDER)
    counts = frame.group_by(unit).agg(pl.len().alias("n"), pl.col(cg.assignment.column).n_unique().alias("arms"),
                                      *[pl.col(s).n_unique().alias(f"seg_{i}") for i, s in enumerate(cg.segments)])
    repeated = counts.filter(pl.col("n") > 1).sort(["n", unit], descending=[True, False], nulls_last=True)
    if repeated.height == 0:
        return frame.drop(_ORDER, _TIME, strict=False)
    where = loaded.where("control_groups", name, "unit")
    split = [c for c, i in [(cg.assignment.column, "arms"), *[(s, f"seg_{j}") for j, s in enumerate(cg.segments)]]
             if repeated.filter(pl.col(i) > 1).height]
    if split:
        example = repeated.filter(pl.col("arms" if split[0] == cg.assignment.column else
                                         f"seg_{cg.segments.index(split[0])}") > 1)[unit][0]
        raise DataError(f"control group '{name}': unit {example!r} has rows with different "
                        f"'{split[0]}' values", where=where,
                        hint="each unit must be in one arm (and one segment): fix the data or the `filter:`")
    if cg.unit_aggregation is None:
        example, n = repeated[unit][0], repeated["n"][0]
        raise DataError(f"control group '{name}': {repeated.height:,} unit(s) of source '{cg.source}' have more "
                        f"than one row "
                        f"(e.g. {example!r} has {n}), so they would count more than once", where=where,
                        hint="give the group one row per unit, or say how to combine a unit's rows: "
                             "`unit_aggregation: sum`, `mean` or `first`")
    return _combined(frame, cg)


def _combined(frame: pl.DataFrame, cg: ControlGroup) -> pl.DataFrame:
    """One row per unit, its metric columns combined by ``unit_aggregation`` (the rest are constant)."""
    metrics = {c for m in cg.metrics.values() for c in (m.column, m.numerator, m.denominator, m.covariate, *m.pre_period)
               if c}
    order = [_TIME, _ORDER] if _TIME in frame.columns else [_ORDER]
    frame = frame.sort(order, nulls_last=True)
    how = cg.unit_aggregation
    exprs = [pl.col(c).first() if c not in metrics or how == "first" else
             pl.col(c).sum() if how == "sum" else pl.col(c).mean()
             for c in frame.columns if c not in (cg.unit, _ORDER, _TIME)]
    first = pl.col(_ORDER).min().alias(_ORDER)
    return frame.group_by(cg.unit).agg([*exprs, first]).sort(_ORDER).drop(_ORDER).select(
        [c for c in frame.columns if c not in (_ORDER, _TIME)])


def _metrics(cg: ControlGroup) -> list[MetricDefinition]:
    return [
        MetricDefinition(name=mname, kind=m.kind, column=m.column, numerator=m.numerator,
                         denominator=m.denominator, covariate=m.covariate, quantile=m.quantile,
                         direction=m.direction, title=m.title or mname, unit=m.unit, duration=m.duration,
                         event=m.event, at_days=tuple(m.retention_days), pre_period=tuple(m.pre_period))
        for mname, m in cg.metrics.items()
    ]


def _design(cg: ControlGroup) -> Design:
    a = cg.adjust
    settings = None if a is None else Settings(
        covariates=tuple(a.covariates), method=a.method, estimand=a.estimand, bootstrap=a.bootstrap, seed=a.seed,
        trim=a.trim, caliper=a.caliper, replacement=a.replacement)
    arms = tuple(cg.assignment.treatments) if isinstance(cg.assignment.treatment, list) else ()
    shares = cg.planned_shares
    planned = tuple(planned_share(shares, x) for x in (*arms, cg.assignment.control)) if shares and arms else ()
    return Design(arms=arms, randomised=cg.randomised, adjust=settings, shares=planned)


def _treatment_share(cg: ControlGroup) -> float:
    """The planned treatment share of a group with one treatment (``planned_shares`` or ``expected_treatment_share``)."""
    if cg.planned_shares and len(cg.assignment.treatments) == 1:
        return planned_share(cg.planned_shares, cg.assignment.treatments[0])
    return cg.expected_treatment_share


def run_control_group(loaded: LoadedSpec, frames: dict[str, pl.LazyFrame], name: str,
                      as_of: dt.date) -> ExperimentResult:
    cg = loaded.spec.control_groups[name]
    window = control_group_window(loaded.spec, cg, as_of)
    frame, warnings = _units(loaded, frames, name, window)
    try:
        result = evaluate_experiment(
            frame, name=name, group_column=cg.assignment.column, treatment_label=cg.assignment.treatments[0],
            control_label=cg.assignment.control, metrics=_metrics(cg), alpha=cg.alpha, power=cg.power,
            expected_treatment_share=_treatment_share(cg), method=cg.method, correction=cg.correction,
            sequential_tuning=cg.sequential_tuning, prior=(cg.prior.mean, cg.prior.stddev) if cg.prior else None,
            srm_threshold=cg.srm_threshold, segments=cg.segments, design=_design(cg),
        )
    except ValueError as e:  # settings the spec's validation and the data check let through
        raise DataError(f"control group '{name}': {e}", where=loaded.where("control_groups", name, key=True),
                        hint="fix the control group's settings or the source's column types") from None
    codes = warnings + result.warning_codes
    return result.model_copy(update={
        "title": cg.title or name, "description": cg.description, "time_column": window.time_column,
        "window_start": window.start, "window_end": window.end, "campaign": window.campaign,
        "warnings": [w.english for w in codes], "warning_codes": codes,
        "currency": loaded.spec.currency if any(m.unit == "currency" for m in cg.metrics.values()) else None})


def run_control_groups(loaded: LoadedSpec, frames: dict[str, pl.LazyFrame], as_of: dt.date) -> list[ExperimentResult]:
    return [run_control_group(loaded, frames, name, as_of) for name in loaded.spec.control_groups]
