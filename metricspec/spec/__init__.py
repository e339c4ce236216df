"""The spec language: pydantic models only, no I/O.

The models are in :mod:`metricspec.spec.models` (the KPI kinds in :mod:`metricspec.kinds`, a source in
:mod:`metricspec.spec.source`); they are imported from here on first use, so that the parts of the
language the kinds build on (:mod:`metricspec.spec.base`, ``expr``, ``source``, …) can be imported
without them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AttributionSpec",
    "Benchmark",
    "CalendarEntry",
    "Campaign",
    "ControlGroup",
    "Goal",
    "Objective",
    "Spec",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from metricspec.spec import models  # the document imports every kind: not for a part

        return getattr(models, name)
    raise AttributeError(f"module 'metricspec.spec' has no attribute {name!r}")
