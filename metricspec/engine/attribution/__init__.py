"""Multi-touch attribution on polars: heuristic, Markov-chain and Shapley models.

Public API: :func:`attribute`, :func:`attribute_paths` (aggregated path data), :class:`ModelConfig` and the result models. See ``docs/attribution.md``.

The models (pydantic, light) are imported with the package; the functions on first use: they import
numpy and scipy.sparse (the Markov chain's solver), which a run without attribution should not pay for
(the Results document names :class:`AttributionReport`, so every run imports this package).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from metricspec.engine.attribution.core import attribute
    from metricspec.engine.attribution.paths import attribute_paths
    from metricspec.engine.attribution.shapley import MAX_SHAPLEY_CHANNELS

_LAZY = {"attribute": "core", "attribute_paths": "paths", "MAX_SHAPLEY_CHANNELS": "shapley"}
"""Names imported from their module on first use (heavy dependencies: numpy, scipy.sparse)."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


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
