"""The KPI part of the Results document (:mod:`metricspec.engine.results`): each KPI's series (headline,
segment values, benchmarks) and its headlines with their comparisons."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from metricspec.engine.frames import kpi_frame
from metricspec.engine.result_base import Point, ResultModel
from metricspec.kinds.cohort_table import CohortTable

if TYPE_CHECKING:
    import polars as pl


class Series(ResultModel):
    """One line of a KPI: the headline, a segment value, or a benchmark."""

    grain: str
    kind: Literal["headline", "segment", "benchmark"] = "headline"
    segment: str | None = None
    segment_value: str | None = None
    benchmark: str | None = None
    points: list[Point]
    segment_columns: list[str] | None = Field(
        None, description="A breakdown by several columns (`segments: [[network, tab]]`): its columns; "
                          "`segment` and `segment_value` are then their labels joined by ' · '.")
    segment_values: list[str] | None = Field(None, description="The combination's values, one per column.")

    @model_serializer(mode="wrap")
    def _single_column_as_before(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A single-column segment (and every other series) serializes exactly as before combinations."""
        data: dict[str, Any] = handler(self)
        if self.segment_columns is None:
            data.pop("segment_columns", None)
            data.pop("segment_values", None)
        return data


class BenchmarkValue(ResultModel):
    name: str
    title: str
    value: float | None
    difference: float | None
    relative: float | None


class OffsetComparison(ResultModel):
    """The headline period against the period ``offset`` earlier (a KPI's ``vs:``)."""

    offset: str
    title: str
    period: dt.date | dt.datetime | None
    label: str | None
    value: float | None
    change: float | None
    change_pct: float | None


class Headline(ResultModel):
    """Latest complete period of a grain, with comparisons."""

    grain: str
    period: dt.date | dt.datetime | None
    label: str | None
    value: float | None
    previous: float | None
    change: float | None
    change_pct: float | None
    previous_year: float | None
    yoy_change: float | None
    yoy_change_pct: float | None
    benchmarks: list[BenchmarkValue] = Field(default_factory=list)
    vs: OffsetComparison | None = None
    """The KPI's ``vs:`` comparison (absent from the JSON of KPIs without one, and of grains it does
    not apply to)."""

    @model_serializer(mode="wrap")
    def _without_absent_vs(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if self.vs is None:
            out.pop("vs", None)
        return out


class KpiResult(ResultModel):
    name: str
    title: str
    description: str | None
    unit: str
    currency: str | None
    axis_from_zero: bool | None = None  # the spec's choice; None: charts decide by unit (count, currency: yes)
    direction: str
    kind: str
    form: str
    scope: dict[str, Any]
    headlines: list[Headline]
    series: list[Series]
    owner: str | None = None  # responsible for the KPI's results; in the JSON only when set
    measured_by: str | None = None  # who measures it; in the JSON only when set
    cohorts: CohortTable | None = None
    """cohort_retention KPIs: the cohort × age table (left out of the JSON for other kinds)."""
    complete_after_days: float | None = None
    """The spec's ``complete_after_days``: values still arrive this long after a period ends (in the JSON only
    when set)."""

    @model_serializer(mode="wrap")
    def _optional_fields_when_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``owner``, ``measured_by`` and ``cohorts`` appear only when set, so the Results of specs
        without them stay byte-identical to those written before the keys existed."""
        out: dict[str, Any] = handler(self)
        for key in ("owner", "measured_by", "cohorts", "complete_after_days"):
            if out.get(key, 0) is None:
                out.pop(key, None)
        return out

    def __repr__(self) -> str:
        """A one-line summary (:meth:`to_polars` has the values)."""
        head = next((h for h in self.headlines if h.value is not None), None)
        value = f", {head.grain} {head.label}: {head.value:g}" if head and head.value is not None else ""
        return f"<KpiResult {self.name!r} ({self.form}, {len(self.series)} series{value})>"

    __str__ = __repr__

    def to_polars(self) -> pl.DataFrame:
        """Every value of this KPI, tidy: one row per point of each series (headline, segment values,
        benchmarks) with ``kpi, grain, period, label, kind, segment, segment_value, benchmark, value,
        partial, unit, currency``."""
        return kpi_frame([self])

    def all_time_values(self) -> list[tuple[str, str | None, str | None, float | None]]:
        """An all-time KPI's values (source without a time column: no series, no period): (kind,
        benchmark, label, value) of its headline and its benchmarks; empty for other KPIs."""
        out: list[tuple[str, str | None, str | None, float | None]] = []
        for h in self.headlines:
            if h.grain == "all" and h.period is None:
                out.append(("headline", None, h.label, h.value))
                out += [("benchmark", b.name, h.label, b.value) for b in h.benchmarks]
        return out
