"""Objectives in funnel order on scorecards: acquisition → engagement → conversion → loyalty.

The order is stable: objectives of the same stage keep the spec's order, and objectives without a
``stage`` come after the staged ones, in the spec's order. The Results keep the spec's order (the
JSON of a spec is unchanged); only what a reader sees is ordered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar, get_args

from metricspec.spec.models import Stage

if TYPE_CHECKING:
    from metricspec.engine.results import ObjectiveResult

STAGES: tuple[str, ...] = get_args(Stage)
"""The stages in funnel order (the spec model's order)."""
_RANK = {s: i for i, s in enumerate(STAGES)}

ObjectiveT = TypeVar("ObjectiveT", bound="ObjectiveResult")


def by_stage(objectives: Sequence[ObjectiveT]) -> list[ObjectiveT]:
    """``objectives`` ordered by stage (stable; objectives without a stage last)."""
    return sorted(objectives, key=lambda o: _RANK.get(o.stage or "", len(STAGES)))
