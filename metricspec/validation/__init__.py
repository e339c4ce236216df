"""Validation rules: one rule per module, each ``validate(loaded) -> list[Issue]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue
from metricspec.validation import (
    alltime,
    connectors,
    control_groups,
    cycles,
    expressions,
    goals,
    grains,
    joins,
    offsets,
    references,
    units,
)

if TYPE_CHECKING:
    from metricspec.loader import LoadedSpec

RULES = (references, expressions, cycles, goals, control_groups, connectors, units, offsets, alltime, joins,
         grains)


def validate(loaded: LoadedSpec) -> list[Issue]:
    """Run every rule and return all issues, sorted by place."""
    issues: list[Issue] = []
    for rule in RULES:
        issues.extend(rule.validate(loaded))
    return sorted(issues, key=Issue.sort_key)
