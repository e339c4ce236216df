"""Pydantic models of the spec language.

A spec is one YAML file (optionally ``include:``-ing shared files) with these
sections: metadata, ``sources``, ``kpis``, ``objectives`` (with their ``goals``),
``control_groups``, ``attribution``, ``campaigns``, ``benchmarks`` and a publishing
``calendar``. Cross-references are checked by :mod:`metricspec.validation`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

# a spec's KPIs are of the kinds in metricspec/kinds/ (one module each): the spec document sits above them
from metricspec.kinds import KPI, KPIBase
from metricspec.spec.adjust import Adjustment
from metricspec.spec.base import (
    BUILT_ON_USE,
    MAX_DAYS,
    CalendarGrain,
    Currency,
    Direction,
    Grain,
    Name,
    Scalar,
    StrictModel,
)
from metricspec.spec.base import GRAINS as GRAINS
from metricspec.spec.control_groups import Assignment as Assignment
from metricspec.spec.control_groups import BayesianPrior as BayesianPrior
from metricspec.spec.control_groups import ExperimentMetric as ExperimentMetric
from metricspec.spec.control_groups import ExperimentMetricKind as ExperimentMetricKind
from metricspec.spec.control_groups import MetricUnit as MetricUnit
from metricspec.spec.control_groups import check_planned_shares
from metricspec.spec.percent import NonNegativeNumber, Number
from metricspec.spec.source import Source

_DEFAULT_GRAINS: tuple[Grain, ...] = ("month",)

ObjectiveType = Literal[
    "brand_awareness",
    "website_traffic",
    "engagement",
    "lead_generation",
    "sales",
    "retention",
    "customer_support",
    "authority",
    "relationships",
    "other",
]
Stage = Literal["acquisition", "engagement", "conversion", "loyalty"]


class Period(StrictModel):
    """A closed date range."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}; swap them")
        return self


class ToleranceSpec(StrictModel):
    absolute: NonNegativeNumber | None = Field(None, description="In the KPI's unit; a percent literal (2%) is 0.02.")
    relative: NonNegativeNumber | None = Field(
        None,
        description="A fraction, e.g. 0.05 or 5%: of the target when judging status, of the earlier value when "
        "checking for regressions.",
    )


class Thresholds(StrictModel):
    """The chances of meeting a target that a goal's status reads (docs/goals.md#status)."""

    on_track: NonNegativeNumber = Field(
        0.7, description="A goal is on track from this chance of meeting its target by the deadline (0.7 or 70%).")
    at_risk: NonNegativeNumber = Field(
        0.3, description="Below on_track and from this chance on it is at risk; below, off track (0.3 or 30%).")

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        for name in ("on_track", "at_risk"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"`{name}` is a chance between 0 and 1 (exclusive), e.g. 0.7 or 70%")
            if abs(getattr(self, name) * 100 - round(getattr(self, name) * 100)) > 1e-9:
                raise ValueError(f"`{name}` is read as a whole percentage, like the chances shown: give e.g. 0.7 or "
                                 f"70%, not {getattr(self, name)}")
        if self.at_risk > self.on_track:
            raise ValueError(f"at_risk ({self.at_risk}) is above on_track ({self.on_track}); swap them")
        return self


class Notify(StrictModel):
    """Pacing alerts: where ``metricspec check --notify`` sends each responsible person's message."""

    people: dict[str, str] = Field(
        default_factory=dict,
        description="Person (as in `responsible:`) -> webhook URL, or ${VARIABLE} read from the environment when "
                    "sending (keep secrets out of the spec).")
    site_url: str | None = Field(
        None, description="Where the scorecard site is published (https://…/): messages link to each goal's card.")


class Acknowledgement(StrictModel):
    """An intended change the CI gate would otherwise fail (see docs/ci.md)."""

    change: Literal["target_lowered", "deadline_extended", "goal_removed", "kpi_removed", "kpi_redefined",
                    "direction_changed", "tolerance_widened", "spec_removed", "spec_renamed", "baseline_changed",
                    "any"]
    reason: str = Field(min_length=3)
    goal: str | None = None
    kpi: str | None = None
    spec: str | None = Field(None, description="spec_removed: the name of the spec that was deleted.")


class Goal(StrictModel):
    """A SMART goal on one KPI and one scope."""

    title: str | None = None
    description: str | None = None
    kpi: str
    scope: dict[str, Scalar] = Field(default_factory=dict, description="Segment the goal applies to.")
    grain: CalendarGrain | None = Field(None, description="Grain of the trend used for pacing and forecast "
                                                         "(a day or longer; default: the KPI's first such grain).")
    measure: Literal["latest", "total"] | None = Field(
        None,
        description="latest: value of the latest period (snapshots, rates); total: the KPI over the whole goal "
        "window (counts, sums, rates over the window); default: total for additive KPIs, latest otherwise.",
    )
    baseline: Number | None = Field(None, description="Value at start; omitted: measured from data. 5% = 0.05.")
    target: Number = Field(description="The value to reach; a percent literal (8%) is the fraction 0.08.")
    direction: Direction | None = None
    start: dt.date | None = None
    deadline: dt.date | None = None
    period: Period | None = None
    tolerance: NonNegativeNumber | ToleranceSpec | None = Field(
        None, description="Allowed shortfall: a number or percent literal (relative: a fraction of the target, 5% = "
                          "0.05) or {absolute, relative}; never negative.")
    measured_by: str | None = None
    responsible: str | None = None
    campaign: str | None = None
    thresholds: Thresholds | None = Field(None, description="This goal's status thresholds (default: the spec's "
                                                              "`goal_thresholds`).")
    acknowledged: list[Acknowledgement] = Field(default_factory=list)


class Objective(StrictModel):
    title: str | None = None
    description: str | None = None
    type: ObjectiveType = "other"
    stage: Stage | None = None
    owner: str | None = None
    kpis: list[str] = Field(default_factory=list)
    goals: dict[Name, Goal] = Field(default_factory=dict)


ExperimentMethod = Literal["frequentist", "sequential", "bayesian"]
Correction = Literal["holm", "bh", "dunnett", "none"]


class ControlGroup(StrictModel):
    title: str | None = None
    description: str | None = None
    source: str
    unit: str = Field(description="Column identifying a person (customer_id, lead_id).")
    unit_aggregation: Literal["sum", "mean", "first"] | None = Field(
        None, description="How a unit's rows become one when the source has several per unit: each metric "
        "column's sum, mean, or the first row's (the earliest by the time column). Without it, a unit "
        "with more than one row is an error.")
    assignment: Assignment
    filter: str | None = None
    alpha: float = Field(0.05, gt=0, lt=0.5)
    power: float = Field(0.8, gt=0, lt=1)
    expected_treatment_share: float = Field(0.5, gt=0, lt=1)
    planned_shares: dict[Scalar, float] | None = Field(
        None, description="The planned share of units of every group by its label, control included, adding up to 1 "
        "(e.g. {none: 0.5, discount: 0.25, story: 0.25}): the sample ratio check's expected split. Default: "
        "expected_treatment_share for one treatment, an equal split for several arms.")
    metrics: dict[Name, ExperimentMetric] = Field(min_length=1)
    method: ExperimentMethod = "frequentist"
    correction: Correction = Field("holm", description="Multiple-comparison adjustment of the p-values.")
    sequential_tuning: float = Field(5000, gt=0, allow_inf_nan=False,
                                     description="gbstats' sequential tuning parameter (method: sequential).")
    prior: BayesianPrior | None = Field(None, description="Proper prior on the lift (method: bayesian).")
    srm_threshold: float = Field(0.001, gt=0, lt=0.5, description="p-value below which the sample ratio mismatches.")
    segments: list[str] = Field(default_factory=list, description="Columns to break the comparison down by.")
    time_column: str | None = Field(None, description="When a unit entered; default: the source's time_column.")
    period: Period | None = None
    campaign: str | None = None
    randomised: bool = Field(True, description="false: units chose (or were chosen for) the treatment: a "
                             "comparison, not an experiment; say how to adjust with `adjust:`.")
    adjust: Adjustment | None = Field(None, description="Covariate adjustment of a comparison that was not "
                                      "randomised.")

    @model_validator(mode="after")
    def _options(self) -> ControlGroup:
        if self.adjust is not None and self.randomised:
            raise ValueError("`adjust:` applies to comparisons that were not randomised: add `randomised: false`")
        if self.correction == "dunnett" and len(self.assignment.treatments) < 2:
            raise ValueError("`correction: dunnett` compares several treatment arms with one control: list the "
                             "arms in `assignment.treatment`, or use holm or bh")
        if self.period is not None and self.campaign is not None:
            raise ValueError("give `period:` or `campaign:`, not both")
        if self.prior is not None and self.method != "bayesian":
            raise ValueError("`prior:` applies to `method: bayesian` only")
        if "sequential_tuning" in self.model_fields_set and self.method != "sequential":
            raise ValueError("`sequential_tuning:` applies to `method: sequential` only")
        if len(set(self.segments)) != len(self.segments):
            raise ValueError("`segments:` lists a column twice")
        if self.planned_shares is not None:
            if "expected_treatment_share" in self.model_fields_set:
                raise ValueError("give `planned_shares:` or `expected_treatment_share:`, not both")
            if not self.randomised:
                raise ValueError("`planned_shares:` applies to randomised groups (a comparison has no planned split "
                                 "and no sample ratio check)")
            check_planned_shares(self.assignment, self.planned_shares)
        return self


class TouchpointsSpec(StrictModel):
    source: str
    person: str
    time: str
    channel: str
    campaign: str | None = None
    cost: str | None = None


class ConversionsSpec(StrictModel):
    source: str
    person: str
    time: str
    value: str | None = None


class PathsSpec(StrictModel):
    """Aggregated path data (ChannelAttribution's input): one row per distinct path."""

    source: str
    path: str = Field(description="Column of the path: channels in order, joined by `separator`.")
    conversions: str = Field(description="Column of the conversions of the path (whole numbers).")
    value: str | None = Field(None, description="Column of the conversion value of the path (default: the "
                              "conversions, as with touchpoints without a value).")
    nulls: str | None = Field(None, description="Column of the path's non-converting occurrences (default: 0).")
    separator: str = Field(" > ", min_length=1, description="Separator between the channels of a path.")


class SpendSpec(StrictModel):
    source: str
    channel: str
    amount: str
    campaign: str | None = None
    time: str | None = None


AttributionModelKind = Literal[
    "first_touch", "last_touch", "linear", "time_decay", "position_based", "markov", "shapley"
]
_DEFAULT_MODELS: tuple[AttributionModelKind, ...] = (
    "first_touch", "last_touch", "linear", "time_decay", "position_based", "markov")


class AttributionModel(StrictModel):
    kind: AttributionModelKind
    name: str | None = None
    half_life_days: float = Field(7.0, gt=0, le=MAX_DAYS)
    first_weight: float = Field(0.4, ge=0, le=1)
    last_weight: float = Field(0.4, ge=0, le=1)
    order: int = Field(1, ge=1, le=3)

    @model_validator(mode="after")
    def _weights(self) -> AttributionModel:
        if self.first_weight + self.last_weight > 1 + 1e-12:
            raise ValueError("first_weight + last_weight must be at most 1")
        return self


class AttributionSpec(StrictModel):
    title: str | None = None
    touchpoints: TouchpointsSpec | None = None
    conversions: ConversionsSpec | None = None
    paths: PathsSpec | None = Field(
        None, description="Aggregated path data instead of `touchpoints` and `conversions`.")
    spend: SpendSpec | None = None
    lookback_days: float | None = Field(30, gt=0, le=MAX_DAYS)
    drop_direct: bool = False
    direct_channels: list[str] = Field(default_factory=lambda: ["direct"])
    level: Literal["channel", "campaign"] = "channel"
    max_journeys: int = Field(
        10_000, ge=0, description="Customer journeys kept in the results (sorted by person, then time)."
    )
    control_group: str | None = Field(None, description="Control group for incremental CAC.")
    control_metric: str | None = Field(
        None, description="Proportion metric of the control group that counts conversions (default: the first one)."
    )
    social_channels: list[str] = Field(
        default_factory=lambda: ["x", "instagram", "linkedin", "facebook", "tiktok", "youtube"],
        description="Channels whose spend the exposed (treatment) group's incremental conversions are charged to.",
    )
    models: list[AttributionModelKind | AttributionModel] = Field(
        default_factory=lambda: list[AttributionModelKind | AttributionModel](_DEFAULT_MODELS),
    )

    @model_validator(mode="after")
    def _input(self) -> AttributionSpec:
        rows = self.touchpoints is not None or self.conversions is not None
        if self.paths is None:
            if self.touchpoints is None or self.conversions is None:
                raise ValueError("attribution needs `touchpoints` and `conversions` (rows), or `paths` "
                                 "(aggregated path data)")
            return self
        if rows:
            raise ValueError("attribution reads either `paths` or `touchpoints` and `conversions`, not both")
        if "models" in self.model_fields_set and any(m.kind == "time_decay" for m in self.model_configs()):
            raise ValueError("time_decay needs the time of each touch, which aggregated `paths` do not have: "
                             "drop it from `models` or attribute touchpoint rows")
        if "lookback_days" in self.model_fields_set:
            raise ValueError("`lookback_days` applies to touchpoint rows: aggregated `paths` have no touch times "
                             "to cut (each row is already whole journeys); remove it")
        if "level" in self.model_fields_set:
            raise ValueError("`level` applies to touchpoint rows: the steps of aggregated `paths` are the units "
                             "credited (write 'channel / campaign' steps for campaigns); remove it")
        return self

    def model_configs(self) -> list[AttributionModel]:
        models = [AttributionModel(kind=m) if isinstance(m, str) else m for m in self.models]
        if self.paths is not None and "models" not in self.model_fields_set:  # the defaults but time_decay
            models = [m for m in models if m.kind != "time_decay"]
        return models


class Campaign(StrictModel):
    title: str | None = None
    description: str | None = None
    start: dt.date
    end: dt.date
    channels: list[str] = Field(default_factory=list)
    budget: float | None = Field(None, ge=0)
    owner: str | None = None
    utm_campaign: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Campaign:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Benchmark(StrictModel):
    """Something to compare a KPI with: a competitor, another brand, an earlier period or a fixed value."""

    title: str | None = None
    kind: Literal["competitor", "brand", "period", "value"] = "competitor"
    scope: dict[str, Scalar] = Field(default_factory=dict, description="Segment values selecting the benchmark series.")
    offset: Literal["previous_period", "previous_year"] | None = None
    value: Number | None = Field(None, description="A value benchmark's value; a percent literal (8%) is 0.08.")

    @model_validator(mode="after")
    def _shape(self) -> Benchmark:
        if self.kind in ("competitor", "brand") and not self.scope:
            raise ValueError(f"a {self.kind} benchmark needs `scope:` (e.g. {{account: rival_a}})")
        if self.kind == "period" and self.offset is None:
            raise ValueError("a period benchmark needs `offset: previous_period` or `offset: previous_year`")
        if self.kind == "value" and self.value is None:
            raise ValueError("a value benchmark needs `value:`")
        return self


class CalendarEntry(StrictModel):
    """Planned publishing cadence, who publishes what, where and how often; evaluated as the virtual source
    ``calendar`` (columns date, network, campaign, owner, topic, content_type, planned_posts)."""

    network: str
    posts: float = Field(ge=0)
    per: Literal["day", "week", "month"] = "week"
    start: dt.date
    end: dt.date
    campaign: str | None = None
    owner: str | None = Field(None, description="Who publishes the posts (the calendar source's `owner` column).")
    topic: str | None = Field(None, description="What the posts are about (column `topic`).")
    content_type: str | None = Field(None, description="The format: video, carousel, article, … (column "
                                                       "`content_type`).")

    @model_validator(mode="after")
    def _ordered(self) -> CalendarEntry:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}; swap them")
        if (self.end - self.start).days > MAX_DAYS:
            raise ValueError(f"a calendar entry spans at most {MAX_DAYS} days; shorten it")
        return self


class Spec(StrictModel):
    """A metricspec file."""

    # (the docstring is the JSON Schema's description.) The sections a spec may leave out (objectives,
    # control groups, attribution, …) get validators built when a spec first has them (BUILT_ON_USE in
    # spec/base.py): a run pays only for the sections its spec uses (start-up).

    version: Literal[1] = 1
    include: list[str] = Field(default_factory=list, description="Files whose sections are merged in.")
    name: Name
    title: str | None = None
    description: str | None = None
    owner: str | None = Field(None, description="Responsible for the results.")
    measured_by: str | None = None
    timezone: str = "UTC"
    week_start: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"
    language: Literal["en", "es", "pl"] = "en"
    currency: Currency = "EUR"
    grains: list[Grain] = Field(default_factory=lambda: list(_DEFAULT_GRAINS), min_length=1)
    period: Period | None = Field(None, description="Evaluation window; default: the data's range up to --as-of.")
    tags: list[str] = Field(default_factory=list)
    sources: dict[Name, Source] = Field(default_factory=dict)
    kpis: dict[Name, KPI] = Field(default_factory=dict)
    objectives: Annotated[dict[Name, Objective], BUILT_ON_USE] = Field(default_factory=dict)
    control_groups: Annotated[dict[Name, ControlGroup], BUILT_ON_USE] = Field(default_factory=dict)
    attribution: Annotated[AttributionSpec | None, BUILT_ON_USE] = None
    campaigns: Annotated[dict[Name, Campaign], BUILT_ON_USE] = Field(default_factory=dict)
    benchmarks: Annotated[dict[Name, Benchmark], BUILT_ON_USE] = Field(default_factory=dict)
    calendar: Annotated[list[CalendarEntry], BUILT_ON_USE] = Field(default_factory=list)
    goal_thresholds: Thresholds = Field(
        default_factory=Thresholds,
        description="The chances of meeting a target that goal statuses read: on track from `on_track` (0.7), at "
                    "risk from `at_risk` (0.3).")
    notify: Annotated[Notify | None, BUILT_ON_USE] = Field(
        None, description="Pacing alerts to the people responsible for goals.")
    acknowledged: Annotated[list[Acknowledgement], BUILT_ON_USE] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}'; use an IANA name such as Europe/Madrid or UTC") from None
        return value

    def goals(self) -> list[tuple[str, str, Goal]]:
        """(objective, goal id, goal) in spec order."""
        return [(o, g, goal) for o, obj in self.objectives.items() for g, goal in obj.goals.items()]

    def kpi_grains(self, kpi: KPIBase) -> list[str]:
        return list(kpi.grains or self.grains)
