"""The spec language: pydantic models only, no I/O.

The models are in :mod:`metricspec.spec.models` (the KPI kinds in :mod:`metricspec.kinds`); they are
imported from here on first use, so that :mod:`metricspec.spec.base`, which the kinds build on, can be
imported without them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "KPI",
    "AttributionSpec",
    "Benchmark",
    "CalendarEntry",
    "Campaign",
    "ControlGroup",
    "Goal",
    "Objective",
    "Source",
    "Spec",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from metricspec.spec import models

        return getattr(models, name)
    raise AttributeError(f"module 'metricspec.spec' has no attribute {name!r}")
