"""The goal part of the Results document (:mod:`metricspec.engine.results`): objectives, their goals'
status, forecast and chance, and the SMART findings on each goal."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from metricspec.engine.frames import goal_trend_frame
from metricspec.engine.messages import MessageParams
from metricspec.engine.result_base import DataNote, Point, ResultModel

if TYPE_CHECKING:
    import polars as pl

GoalStatus = Literal["achieved", "target_reached", "on_track", "at_risk", "off_track", "missed", "no_data"]
STATUS_ORDER: dict[str, int] = {
    "achieved": 0, "target_reached": 1, "on_track": 2, "at_risk": 3, "off_track": 4, "missed": 5, "no_data": 6,
}


SmartCriterion = Literal["specific", "measurable", "achievable", "results_focused", "time_bound"]


class SmartFinding(ResultModel):
    criterion: SmartCriterion
    ok: bool
    message: str
    where: str | None = None
    code: str | None = None  # the message's code in ENGINE_MESSAGES (None in version 1 documents)
    params: MessageParams = Field(default_factory=dict)


class ForecastInterval(ResultModel):
    """The range the value at the deadline falls in with probability ``level`` (central: as much
    chance of ending below ``low`` as above ``high``)."""

    level: float
    low: float
    high: float


class SuggestedTarget(ResultModel):
    """A target that history makes ``chance`` likely by the deadline (rounded to three significant
    digits on the safe side: its chance is at least ``chance``)."""

    chance: float
    target: float


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
    forecast_method_code: str | None = None  # the message's code in ENGINE_MESSAGES (None in version 1)
    forecast_method_params: MessageParams = Field(default_factory=dict)
    status: GoalStatus
    status_reason: str
    status_reason_code: str | None = None
    status_reason_params: MessageParams = Field(default_factory=dict)
    tolerance_absolute: float | None
    tolerance_relative: float | None
    measured_by: str | None
    responsible: str | None
    campaign: str | None
    where: str | None
    smart: list[SmartFinding]
    trend: list[Point]
    final: bool = False  # the status cannot change any more (deadline passed, or a total that cannot fall)
    attainment: float | None = None  # current against target: 1 (or more) when met, below 1 when not
    chance: float | None = None  # probability of meeting the target at the deadline
    forecast_model: str | None = None  # the model that made the forecast (docs/goals.md#models)
    forecast_intervals: list[ForecastInterval] = Field(default_factory=list)  # 80 % and 95 %
    suggested_targets: list[SuggestedTarget] = Field(default_factory=list)  # 50 % and 80 % likely
    ambition: Literal["not_ambitious", "not_plausible"] | None = None  # chance above 95 % / below 5 %
    periods_left: int | None = None  # periods of the goal's grain that end after the as-of date, to the deadline
    needed_per_period: float | None = None  # the change per period left that would just meet the target
    on_track_threshold: float = 0.7  # the chances the status reads (the spec's `thresholds`)
    at_risk_threshold: float = 0.3
    so_far: list[Point] = Field(default_factory=list)
    """A ``total`` goal's value from its start to the end of each complete period (a running total, or a
    rate over the window so far): what its chart draws. Empty for ``latest`` goals."""
    so_far_kind: Literal["running_total", "window"] | None = None
    left_out: list[dt.date] = Field(default_factory=list)
    """Ended periods left out of the judgement because their values still arrive (the KPI's
    ``complete_after_days``): not in ``current``, the forecast's history or ``so_far``. In the JSON only when set."""
    notes: list[DataNote] = Field(default_factory=list)
    """What a reader should know about the judgement (which periods were left out and why); in the JSON only when
    set."""

    @model_serializer(mode="wrap")
    def _optional_fields_when_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``left_out`` and ``notes`` appear only when set, so other goals' Results stay byte-identical."""
        out: dict[str, Any] = handler(self)
        for key in ("left_out", "notes"):
            if out.get(key) == []:
                out.pop(key, None)
        return out

    def to_polars(self) -> pl.DataFrame:
        """The goal's trend (its KPI over the goal window): ``period, label, value, partial``."""
        return goal_trend_frame(self)


class ObjectiveResult(ResultModel):
    id: str
    title: str
    description: str | None
    type: str
    stage: str | None
    owner: str | None
    kpis: list[str]
    goals: list[GoalResult]
