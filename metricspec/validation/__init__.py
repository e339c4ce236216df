"""Validation rules: one rule per module, each ``validate(loaded) -> list[Issue]`` (and report.py: what
``metricspec validate`` found, per file)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue
from metricspec.validation import (
    alltime,
    columns,
    connectors,
    control_groups,
    cycles,
    depth,
    expressions,
    goals,
    grains,
    joins,
    offsets,
    references,
    scopes,
    units,
)

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec

RULES = (references, expressions, cycles, goals, control_groups, connectors, units, offsets, alltime, joins,
         grains, columns, scopes)


def validate(loaded: LoadedSpec) -> list[Issue]:
    """Run every rule and return all issues, sorted by place. A chain of KPIs too deep to walk
    (:mod:`.depth`) stops here: the other rules walk those chains."""
    issues: list[Issue] = depth.validate(loaded)
    if issues:
        return issues
    for rule in RULES:
        issues.extend(rule.validate(loaded))
    return sorted(issues, key=Issue.sort_key)
