"""The baseline file's typed document: what ``metricspec baseline update`` writes and ``metricspec check``
compares with (docs/ci.md#the-baseline-file).

``metricspec_baseline: 1`` says the JSON is a metricspec baseline; ``schema_version`` is its shape.
This metricspec writes :data:`SCHEMA_VERSION` and reads every version up to it; a file written
before ``schema_version`` existed has version 1's shape and reads as version 1. :func:`parse_baseline`
turns anything else into a :class:`~metricspec.errors.UsageError` naming the file, the field and the
command that rewrites the file.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from metricspec.engine.results import GoalStatus
from metricspec.errors import Location, UsageError

BASELINE_FORMAT: Literal[1] = 1
"""The value of ``metricspec_baseline``, the key that marks the JSON as a metricspec baseline."""
SCHEMA_VERSION = 1
"""The shape this metricspec writes, and the newest it reads."""
REWRITE_HINT = "regenerate it with `metricspec baseline update SPECS --force` (then review and commit it)"

SHOWN = 6
"""Wrong fields named in one error (the rest are counted)."""

Number = float | None
"""A value as the Results have it, rounded (:func:`metricspec.utils.stable_float`); None: no value."""


class BaselineModel(BaseModel):
    """A part of the baseline: no unknown keys, immutable once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Tolerance(BaselineModel):
    absolute: Number
    relative: Number


class GoalEntry(BaselineModel):
    """One goal's state when the baseline was written (keyed ``objective/goal``)."""

    objective: str
    goal: str
    title: str
    kpi: str
    status: GoalStatus
    current: Number
    target: Number
    baseline: Number
    deadline: dt.date | None
    direction: str
    measure: str
    grain: str
    tolerance: Tolerance
    kpi_headlines: dict[str, Number] = Field(description="The goal KPI's headline value per grain.")


class Headline(BaselineModel):
    period: str | None = Field(description="The headline period's start as the Results write it (ISO 8601).")
    value: Number


class KpiEntry(BaselineModel):
    direction: str
    definition: str | None = Field(None, exclude_if=lambda v: v is None,
                                   description="Fingerprint of the KPI's definition; absent when the spec was not "
                                               "at hand (then a redefinition is not detected).")
    headlines: dict[str, Headline]


class EffectEntry(BaselineModel):
    """One control-group metric (``metric`` or ``metric · arm``): its effect, adjusted when not randomised."""

    lift: Number
    ci: tuple[Number, Number]
    difference: Number
    difference_ci: tuple[Number, Number]
    p_value: Number
    significant: bool | None
    sign: Literal[-1, 0, 1] | None
    direction: str


class SpecEntry(BaselineModel):
    """One spec's results, keyed by the spec's name."""

    name: str
    path: str = Field(description="The spec file, relative to the project root.")
    as_of: dt.date
    goals: dict[str, GoalEntry]
    kpis: dict[str, KpiEntry]
    control_groups: dict[str, dict[str, EffectEntry]]


class BaselineDocument(BaselineModel):
    """The whole file."""

    metricspec_baseline: Literal[1] = BASELINE_FORMAT
    schema_version: int = Field(SCHEMA_VERSION, ge=1)
    specs: dict[str, SpecEntry] = Field(default_factory=dict)

    def to_json_data(self) -> dict[str, Any]:
        """The JSON-ready data, the version this metricspec writes (numbers not yet rounded)."""
        return self.model_copy(update={"schema_version": SCHEMA_VERSION}).model_dump(mode="json")


def parse_baseline(text: str, file: str) -> BaselineDocument:
    """The baseline document in ``text`` (the contents of ``file``); :class:`UsageError` (exit 2) naming
    the file and every wrong field when it is not one this metricspec reads."""
    where = Location(file)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"baseline '{file}' is not valid JSON: {exc.msg}", where=Location(file, exc.lineno, exc.colno),
                         hint=REWRITE_HINT) from None
    marker = doc.get("metricspec_baseline") if isinstance(doc, dict) else None
    if type(marker) is not int or marker != BASELINE_FORMAT:
        raise UsageError(f"'{file}' is not a metricspec baseline (it lacks \"metricspec_baseline\": {BASELINE_FORMAT})",
                         where=where, hint=f"pass the baseline file with --baseline, or {REWRITE_HINT}")
    version = doc.get("schema_version", 1)  # absent: written before schema_version, version 1's shape
    if type(version) is not int or version < 1:
        raise UsageError(f"baseline '{file}': schema_version {json.dumps(version)} is not a version (a whole number "
                         "from 1)", where=where, hint=REWRITE_HINT)
    if version > SCHEMA_VERSION:
        raise UsageError(f"baseline '{file}' has schema_version {version}, written by a newer metricspec; this one "
                         f"reads up to schema_version {SCHEMA_VERSION}", where=where,
                         hint=f"upgrade metricspec (pip install -U metricspec), or {REWRITE_HINT}")
    try:
        return BaselineDocument.model_validate_json(text, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems = "; ".join(f"'{'.'.join(str(part) for part in e['loc'])}': {e['msg']}" for e in errors[:SHOWN])
        more = f"; and {len(errors) - SHOWN} more" if len(errors) > SHOWN else ""
        fields = "a wrong field" if len(errors) == 1 else f"{len(errors)} wrong fields"
        raise UsageError(f"baseline '{file}' has {fields}: {problems}{more}", where=where,
                         hint=f"correct {'it' if len(errors) == 1 else 'them'}, or {REWRITE_HINT}") from None
