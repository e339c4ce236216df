"""The typed Results document: everything a run produced, JSON-serialisable and deterministic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer
from pydantic_core import to_json

from metricspec.engine.attribution.models import AttributionReport
from metricspec.engine.cg_results import (
    AdjustedFigures,
    Diagnostics,
    DidFigures,
    SurvivalFigures,
    Verdict,
)
from metricspec.engine.messages import (
    ENGINE_MESSAGES as ENGINE_MESSAGES,
)
from metricspec.engine.messages import (
    LEGACY_MESSAGES as LEGACY_MESSAGES,
)
from metricspec.engine.messages import (
    PARAM_KINDS as PARAM_KINDS,
)
from metricspec.engine.messages import (
    MessageParams as MessageParams,
)
from metricspec.engine.messages import (
    ParamKind as ParamKind,
)
from metricspec.engine.messages import (
    ParamValue as ParamValue,
)
from metricspec.engine.messages import (
    chance_percent as chance_percent,
)
from metricspec.engine.messages import (
    chance_text as chance_text,
)
from metricspec.engine.messages import (
    english as english,
)
from metricspec.kinds.cohort_table import CohortTable
from metricspec.spec.base import BUILT_ON_USE
from metricspec.utils import stable_numbers

# The message catalogue (metricspec/engine/messages.py) is re-exported above: results carry its codes, and
# code written before it moved out imports it from here.

#: 2: goal reasons and forecast methods, SMART findings and data notes carry a message ``code`` and
#: its ``params`` next to the English text (version 1 documents still load: the new fields default).
#: 3: goals carry their chance of success, forecast intervals, suggested targets and the status
#: ``target_reached``; ``achieved`` is final (version 1 and 2 documents still load).
RESULTS_SCHEMA_VERSION = 3

if TYPE_CHECKING:
    import polars as pl

GoalStatus = Literal["achieved", "target_reached", "on_track", "at_risk", "off_track", "missed", "no_data"]
STATUS_ORDER: dict[str, int] = {
    "achieved": 0, "target_reached": 1, "on_track": 2, "at_risk": 3, "off_track": 4, "missed": 5, "no_data": 6,
}


class ResultModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use (start-up)


class EngineMessage(ResultModel):
    """An engine sentence as a message code and its params (see :data:`ENGINE_MESSAGES`)."""

    code: str
    params: MessageParams = Field(default_factory=dict)

    @property
    def english(self) -> str:
        return english(self.code, self.params)


@dataclass(frozen=True, slots=True)
class Point:
    """One period's value of a series.

    A frozen, slotted standard dataclass rather than a pydantic model: a run builds tens of thousands
    of points, and pydantic validates, serialises and parses dataclass fields exactly like models
    (same JSON, unknown keys rejected), while a dataclass instance is about four times cheaper to
    create (see :func:`metricspec.engine.goals.make_points`).
    """

    period: dt.date | dt.datetime
    """The period's first day; for the ``hour`` grain its first instant (time-zone aware, ISO 8601 with
    the offset in the JSON)."""
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
        from metricspec.engine.frames import kpi_frame

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
        from metricspec.engine.frames import goal_trend_frame

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
    code: str | None = None
    params: MessageParams = Field(default_factory=dict)


# -- control groups ---------------------------------------------------------------------------------


class SequentialFigures(ResultModel):
    """Always-valid p-values and intervals (gbstats' sequential test), safe to look at after every new unit."""

    tuning: float
    p_value: float | None
    p_value_adjusted: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None
    relative_p_value: float | None
    relative_p_value_adjusted: float | None
    relative_lift_ci_low: float | None
    relative_lift_ci_high: float | None


class BayesianFigures(ResultModel):
    """Posterior of the relative lift (gbstats' effect model; a flat prior unless one is given)."""

    prior_mean: float | None  # None: gbstats' default flat (improper) prior
    prior_stddev: float | None
    relative_lift: float | None  # posterior mean
    relative_lift_stddev: float | None
    credible_interval_low: float | None
    credible_interval_high: float | None
    chance_to_beat_control: float | None  # P(treatment is better), in the metric's good direction
    expected_loss: float | None  # relative lift given up, on average, by shipping the treatment
    expected_loss_control: float | None  # ... by keeping the control


class MetricComparison(ResultModel):
    """Result of comparing one metric; ``None`` where a value cannot be computed."""

    name: str
    title: str
    kind: str
    test: str
    control_n: int
    treatment_n: int
    control_value: float | None
    treatment_value: float | None
    difference: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None
    relative_lift: float | None
    relative_lift_ci_low: float | None
    relative_lift_ci_high: float | None
    statistic: float | None
    p_value: float | None  # the test of the difference (``test``), before any correction
    significant: bool | None  # the method's verdict (after the correction, if any)
    better: bool | None
    cuped: bool
    variance_reduction: float | None
    mde: float | None
    warnings: list[str]
    warning_codes: list[EngineMessage] = Field(default_factory=list)  # the same warnings as message codes
    direction: str = "increase"
    quantile: float | None = None  # kind quantile: 0.5 = median
    relative_p_value: float | None = None  # delta-method test of the relative lift (gbstats' default)
    p_value_adjusted: float | None = None  # after the control group's correction; None when it is "none"
    relative_p_value_adjusted: float | None = None
    control_ci_low: float | None = None  # kind quantile: order-statistic interval of each group's quantile
    control_ci_high: float | None = None
    treatment_ci_low: float | None = None
    treatment_ci_high: float | None = None
    sequential: SequentialFigures | None = None
    bayesian: BayesianFigures | None = None
    verdict: Verdict | None = None  # the one conclusion shown for the metric
    unit: str | None = None  # how values are shown: number, count, percent, currency (the group's), days
    arm: str | None = None  # several treatment arms: the arm this row compares with the control
    adjusted: AdjustedFigures | None = None  # randomised: false with adjust: the effect after adjustment
    did: DidFigures | None = None  # pre_period: difference-in-differences
    survival: SurvivalFigures | None = None  # kind survival


class SampleRatioCheck(ResultModel):
    """Chi-square goodness of fit of the group sizes against the expected split."""

    expected_treatment_share: float
    control_n: int
    treatment_n: int
    chi2: float | None
    p_value: float | None
    mismatch: bool
    threshold: float = 0.001
    group_counts: dict[str, int] | None = None  # several arms: units of each group by label, the control last
    planned_shares: dict[str, float] | None = None  # several arms: the planned share of each group


class SegmentResult(ResultModel):
    """The comparison within one value of a segment column."""

    column: str
    value: str | None  # None: units with no value in the column
    srm: SampleRatioCheck
    metrics: list[MetricComparison]


class ExperimentResult(ResultModel):
    """All comparisons of one control group."""

    name: str
    alpha: float
    power: float
    confidence_level: float
    control_label: str
    treatment_label: str
    srm: SampleRatioCheck
    metrics: list[MetricComparison]
    warnings: list[str]
    warning_codes: list[EngineMessage] = Field(default_factory=list)
    title: str | None = None
    description: str | None = None
    method: Literal["frequentist", "sequential", "bayesian"] = "frequentist"
    correction: Literal["holm", "bh", "dunnett", "none"] = "none"
    time_column: str | None = None  # units entered when this column fell in [window_start, window_end]
    window_start: dt.date | None = None
    window_end: dt.date | None = None  # the window's end or the as-of date, whichever is earlier
    campaign: str | None = None
    segments: list[SegmentResult] = Field(default_factory=list)
    randomised: bool = True  # false: a comparison of groups that chose themselves, not an experiment
    arms: list[str] = Field(default_factory=list)  # several treatment arms: their labels (else empty)
    currency: str | None = None  # the spec's, for metrics in currency
    diagnostics: list[Diagnostics] = Field(default_factory=list)  # adjust: one per treatment arm


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
    objectives: Annotated[list[ObjectiveResult], BUILT_ON_USE]
    control_groups: Annotated[list[ExperimentResult], BUILT_ON_USE] = Field(default_factory=list)
    attribution: Annotated[AttributionReport | None, BUILT_ON_USE] = None
    notes: list[DataNote] = Field(default_factory=list)

    def goals(self) -> list[GoalResult]:
        return [g for o in self.objectives for g in o.goals]

    def kpi(self, name: str) -> KpiResult:
        for k in self.kpis:
            if k.name == name:
                return k
        raise KeyError(name)

    def to_json(self) -> str:
        """Byte-stable JSON: fixed key order, no timestamps, and every number as
        :func:`metricspec.utils.stable_numbers` writes it (12 significant digits), so that the
        document is the same whatever numpy, scipy or polars computed the last digits."""
        return to_json(stable_numbers(self.model_dump(mode="json")), indent=2).decode("utf-8") + "\n"

    def to_polars(self) -> pl.DataFrame:
        """Every KPI value of the run, tidy: :meth:`KpiResult.to_polars` of each KPI after a ``spec``
        column, so frames of several specs concatenate."""
        from metricspec.engine.frames import kpi_frame

        return kpi_frame(self.kpis, spec=self.spec.name)

    def goals_to_polars(self) -> pl.DataFrame:
        """One row per goal: ``spec, objective, goal, title, kpi, status, current, target, baseline,
        progress, expected, forecast, start, deadline, …``."""
        from metricspec.engine.frames import goal_frame

        return goal_frame(self)

    def __repr__(self) -> str:
        """A one-line summary (the whole document is ``to_json()``; Jupyter shows the scorecard): the
        full pydantic repr of a run is megabytes, which notebooks store next to the HTML."""
        counts: dict[str, int] = {}
        for g in self.goals():
            counts[g.status] = counts.get(g.status, 0) + 1
        statuses = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items(),
                                                                             key=lambda i: STATUS_ORDER[i[0]]))
        goals = f"{sum(counts.values())} goal{'s' if sum(counts.values()) != 1 else ''}"
        parts = [f"{len(self.kpis)} KPI{'s' if len(self.kpis) != 1 else ''}",
                 f"{goals} ({statuses})" if statuses else goals]
        if self.control_groups:
            parts.append(f"{len(self.control_groups)} control group{'s' if len(self.control_groups) != 1 else ''}")
        if self.attribution:
            parts.append("attribution")
        return f"<Results of {self.spec.name!r} as of {self.as_of.isoformat()}: {', '.join(parts)}>"

    __str__ = __repr__

    def _repr_html_(self) -> str | None:
        """Jupyter shows the HTML scorecard (in an isolated frame, so its styles stay inside): the view
        :data:`HTML_VIEWS` holds, which the render layer provides; None (Jupyter shows the repr) while
        nothing has."""
        return HTML_VIEWS[-1](self) if HTML_VIEWS else None


HTML_VIEWS: list[Callable[[Results], str]] = []
"""How Jupyter shows Results: :mod:`metricspec.render.notebook` adds the scorecard when it is imported
(``metricspec.evaluate`` imports it). The engine sits below render in the layers: it never imports it."""
