"""Pydantic models for the attribution configuration and results."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ModelKind = Literal["first_touch", "last_touch", "linear", "time_decay", "position_based", "markov", "shapley"]
HEURISTIC_KINDS: frozenset[str] = frozenset({"first_touch", "last_touch", "linear", "time_decay", "position_based"})


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use (start-up)


class ModelConfig(_Frozen):
    """One attribution model to evaluate.

    ``name`` labels the model in results (defaults to ``kind``), so the same kind can be run twice with
    different parameters, e.g. two ``time_decay`` models with different half-lives.
    """

    kind: ModelKind
    name: str | None = None
    half_life_days: float = Field(7.0, gt=0, description="time_decay: weight = 2 ** (-age_days / half_life_days).")
    first_weight: float = Field(0.4, ge=0, le=1, description="position_based: share of the first touch.")
    last_weight: float = Field(0.4, ge=0, le=1, description="position_based: share of the last touch.")
    order: int = Field(1, ge=1, le=3, description="markov: chain order (states are k-tuples of channels).")

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("name") and data.get("kind"):
            data = {**data, "name": data["kind"]}
        return data

    @model_validator(mode="after")
    def _weights(self) -> ModelConfig:
        if self.first_weight + self.last_weight > 1 + 1e-12:
            raise ValueError("first_weight + last_weight must be at most 1")
        return self

    @property
    def label(self) -> str:
        """The model's name (``kind`` when no name was given)."""
        return self.name or self.kind


class ChannelCredit(_Frozen):
    """Credit one model gives one channel (or channel/campaign at ``level="campaign"``)."""

    channel: str
    campaign: str | None = None
    conversions: float
    value: float
    spend: float | None = None
    cac: float | None = Field(None, description="spend / conversions")
    roas: float | None = Field(None, description="value / spend")
    roi: float | None = Field(None, description="(value - spend) / spend")


class RemovalEffect(_Frozen):
    """Markov removal effect of one channel: 1 - P(conversion | channel removed) / P(conversion)."""

    channel: str
    campaign: str | None = None
    removal_effect: float
    normalised: float = Field(description="removal_effect / sum of all removal effects (conversion credit share)")
    removal_effect_value: float = Field(description="1 - E[value | channel removed] / E[value]")
    normalised_value: float = Field(description="value credit share")


class ModelResult(_Frozen):
    """Credits of one model; ``credits`` sum to the attributed conversions and value."""

    name: str
    kind: ModelKind
    credits: list[ChannelCredit]
    conversion_probability: float | None = Field(
        None, description="markov: probability of reaching conversion from the start state."
    )


class Journey(_Frozen):
    """One conversion and the path of touches credited for it."""

    person: str
    conversion_time: dt.datetime
    value: float
    n_touches: int
    initial_channel: str | None = None
    initial_campaign: str | None = None
    intermediate_channels: list[str] = Field(default_factory=list)
    intermediate_campaigns: list[str] = Field(default_factory=list)
    converting_channel: str | None = None
    converting_campaign: str | None = None


class PathSummary(_Frozen):
    """A distinct path (sequence of channels) with how often it converted and how often it did not."""

    path: list[str]
    conversions: int
    value: float
    non_conversions: int


class JourneyPath(_Frozen):
    """A customer-journey pattern: the initial, intermediate and converting touch of attributed conversions.

    Steps are channels (``channel / campaign`` at ``level="campaign"``); ``intermediate`` lists the
    distinct steps between the first and the last touch in the order they first occur (empty for
    journeys of one or two touches). ``conversions`` counts the conversions whose journey follows the
    pattern, ``value`` sums their value.
    """

    initial: str
    intermediate: list[str]
    converting: str
    conversions: int
    value: float


class AttributionResult(_Frozen):
    """Everything :func:`metricspec.engine.attribution.attribute` computes."""

    level: Literal["channel", "campaign"]
    lookback_days: float | None
    drop_direct: bool
    models: list[ModelResult]
    removal_effects: dict[str, list[RemovalEffect]] = Field(
        default_factory=dict, description="Markov model name -> removal effects by channel."
    )
    total_conversions: int
    attributed_conversions: int
    unattributed_conversions: int
    total_value: float
    attributed_value: float
    unattributed_value: float
    non_converting_paths: int
    journeys: list[Journey] | None = None
    paths_summary: list[PathSummary] = Field(default_factory=list)
    journey_paths: list[JourneyPath] = Field(
        default_factory=list, description="The most common initial → intermediate → converting patterns, over all "
                                          "attributed conversions (not only the journeys kept)."
    )


class IncrementalCac(_Frozen):
    """Social spend per conversion the exposed group of a control group made beyond what the control
    group's rate predicts (``attribution.control_group`` of the spec)."""

    control_group: str
    metric: str
    treatment_n: int
    incremental_conversions: float = Field(description="(p_treatment − p_control) × n_treatment")
    incremental_conversions_ci: list[float | None] = Field(description="[low, high]; None: unbounded")
    social_spend: float = Field(description="The social channels' spend in the control group's window.")
    incremental_cac: float | None = Field(description="social_spend ÷ incremental_conversions; None: no increment")
    incremental_cac_ci: list[float | None] = Field(description="[low, high]; None: unbounded")
    significant: bool | None
    window_start: dt.date | None
    window_end: dt.date | None


class AttributionReport(AttributionResult):
    """The attribution section of a run's Results: what :func:`attribute` computed (journeys cut to the
    spec's ``max_journeys``), with the spec's title and the incremental CAC."""

    journeys_total: int = Field(description="Journeys before they were cut to max_journeys.")
    title: str
    incremental: IncrementalCac | None = None
