"""The building blocks of the Results document (:mod:`metricspec.engine.results`): the base model, engine
messages as codes, a series' point, and data notes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from metricspec.engine.messages import MessageParams, english


class ResultModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use (start-up)


class EngineMessage(ResultModel):
    """An engine sentence as a message code and its params (see :data:`ENGINE_MESSAGES`)."""

    code: str
    params: MessageParams = Field(default_factory=dict)

    @property
    def english(self) -> str:
        return english(self.code, self.params)


@dataclass(frozen=True, slots=True)
class Point:
    """One period's value of a series.

    A frozen, slotted standard dataclass rather than a pydantic model: a run builds tens of thousands
    of points, and pydantic validates, serialises and parses dataclass fields exactly like models
    (same JSON, unknown keys rejected), while a dataclass instance is about four times cheaper to
    create (see :func:`metricspec.engine.goals.make_points`).
    """

    period: dt.date | dt.datetime
    """The period's first day; for the ``hour`` grain its first instant (time-zone aware, ISO 8601 with
    the offset in the JSON)."""
    label: str
    value: float | None
    partial: bool = False


class DataNote(ResultModel):
    level: Literal["warning", "info"]
    message: str
    where: str | None = None
    code: str | None = None
    params: MessageParams = Field(default_factory=dict)
