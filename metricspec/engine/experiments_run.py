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


def _units(loaded: LoadedSpec, frames: dict[str, pl.LazyFrame], cg: ControlGroup,
           window: Window) -> tuple[pl.DataFrame, list[EngineMessage]]:
    """One row per unit in the window, and the warnings about units that could not be placed."""
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
        frame = lf.select([*sorted(cols), date]).collect()
        undated = frame.get_column(_DATE).null_count()
        if undated:
            warnings.append(EngineMessage(code="cg_null_time", params={"n": undated, "column": window.time_column}))
        keep = pl.col(_DATE) <= window.end
        if window.start is not None:
            keep = keep & (pl.col(_DATE) >= window.start)
        frame = frame.filter(keep.fill_null(False)).drop(_DATE)
    # one row per unit: duplicates would double-count people
    return frame.unique(subset=[cg.unit], keep="first", maintain_order=True), warnings


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
    frame, warnings = _units(loaded, frames, cg, window)
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
