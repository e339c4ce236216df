"""The spec language: pydantic models only, no I/O."""

from __future__ import annotations

from metricspec.spec.models import (
    KPI,
    AttributionSpec,
    Benchmark,
    CalendarEntry,
    Campaign,
    ControlGroup,
    Goal,
    Objective,
    Source,
    Spec,
)

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
