"""The typed Results document: everything a run produced, JSON-serialisable and deterministic."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RESULTS_SCHEMA_VERSION = 1

GoalStatus = Literal["achieved", "on_track", "at_risk", "off_track", "missed", "no_data"]
STATUS_ORDER: dict[str, int] = {
    "achieved": 0, "on_track": 1, "at_risk": 2, "off_track": 3, "missed": 4, "no_data": 5,
}


class ResultModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class Point:
    """One period's value of a series.

    A frozen, slotted standard dataclass rather than a pydantic model: a run builds tens of thousands
    of points, and pydantic validates, serialises and parses dataclass fields exactly like models
    (same JSON, unknown keys rejected), while a dataclass instance is about four times cheaper to
    create (see :func:`metricspec.engine.goals.make_points`).
    """

    period: dt.date
    label: str
    value: float | None
    partial: bool = False


class Series(ResultModel):
    """One line of a KPI: the headline, a segment value, or a benchmark."""

    grain: str
    kind: Literal["headline", "segment", "benchmark"] = "headline"
    segment: str | None = None
    segment_value: str | None = None
    benchmark: str | None = None
    points: list[Point]


class BenchmarkValue(ResultModel):
    name: str
    title: str
    value: float | None
    difference: float | None
    relative: float | None


class Headline(ResultModel):
    """Latest complete period of a grain, with comparisons."""

    grain: str
    period: dt.date | None
    label: str | None
    value: float | None
    previous: float | None
    change: float | None
    change_pct: float | None
    previous_year: float | None
    yoy_change: float | None
    yoy_change_pct: float | None
    benchmarks: list[BenchmarkValue] = Field(default_factory=list)


class KpiResult(ResultModel):
    name: str
    title: str
    description: str | None
    unit: str
    currency: str | None
    direction: str
    kind: str
    form: str
    scope: dict[str, Any]
    headlines: list[Headline]
    series: list[Series]


class SmartFinding(ResultModel):
    criterion: Literal["specific", "measurable", "achievable", "results_focused", "time_bound"]
    ok: bool
    message: str
    where: str | None = None


class GoalResult(ResultModel):
    id: str
    objective: str
    title: str
    kpi: str
    scope: dict[str, Any]
    grain: str
    measure: str
    direction: str
    start: dt.date | None
    deadline: dt.date | None
    baseline: float | None
    baseline_source: Literal["spec", "data", "none"]
    target: float
    current: float | None
    progress: float | None
    expected: float | None
    expected_progress: float | None
    forecast: float | None
    forecast_method: str
    status: GoalStatus
    status_reason: str
    tolerance_absolute: float | None
    tolerance_relative: float | None
    measured_by: str | None
    responsible: str | None
    campaign: str | None
    where: str | None
    smart: list[SmartFinding]
    trend: list[Point]


class ObjectiveResult(ResultModel):
    id: str
    title: str
    description: str | None
    type: str
    stage: str | None
    owner: str | None
    kpis: list[str]
    goals: list[GoalResult]


class SourceFreshness(ResultModel):
    name: str
    connector: str
    time_column: str | None
    rows: int | None
    first: str | None
    latest: str | None


class DataNote(ResultModel):
    level: Literal["warning", "info"]
    message: str
    where: str | None = None


class SpecInfo(ResultModel):
    name: str
    title: str
    description: str | None
    path: str
    owner: str | None
    measured_by: str | None
    timezone: str
    week_start: str
    language: str
    currency: str
    grains: list[str]


class Results(ResultModel):
    schema_version: int = RESULTS_SCHEMA_VERSION
    metricspec_version: str
    spec: SpecInfo
    as_of: dt.date
    sources: list[SourceFreshness]
    kpis: list[KpiResult]
    objectives: list[ObjectiveResult]
    control_groups: list[dict[str, Any]] = Field(default_factory=list)
    attribution: dict[str, Any] | None = None
    notes: list[DataNote] = Field(default_factory=list)

    def goals(self) -> list[GoalResult]:
        return [g for o in self.objectives for g in o.goals]

    def kpi(self, name: str) -> KpiResult:
        for k in self.kpis:
            if k.name == name:
                return k
        raise KeyError(name)

    def to_json(self) -> str:
        """Byte-stable JSON: fixed key order, no timestamps."""
        return self.model_dump_json(indent=2) + "\n"
