"""Multi-touch attribution on polars: heuristic, Markov-chain and Shapley models.

Public API: :func:`attribute`, :func:`attribute_paths` (aggregated path data), :class:`ModelConfig` and the result models. See ``docs/attribution.md``.
"""

from __future__ import annotations

from metricspec.engine.attribution.core import attribute
from metricspec.engine.attribution.models import (
    AttributionResult,
    ChannelCredit,
    Journey,
    JourneyPath,
    ModelConfig,
    ModelResult,
    PathSummary,
    RemovalEffect,
)
from metricspec.engine.attribution.paths import attribute_paths
from metricspec.engine.attribution.shapley import MAX_SHAPLEY_CHANNELS

__all__ = [
    "MAX_SHAPLEY_CHANNELS",
    "AttributionResult",
    "ChannelCredit",
    "Journey",
    "JourneyPath",
    "ModelConfig",
    "ModelResult",
    "PathSummary",
    "RemovalEffect",
    "attribute",
    "attribute_paths",
]
