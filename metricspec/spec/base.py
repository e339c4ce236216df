"""Shared base model for every spec object."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class StrictModel(BaseModel):
    """Unknown keys are errors; parsed specs are immutable; numbers are finite.

    ``allow_inf_nan=False`` applies to every float field of every model (``target: .nan``,
    ``.inf`` or ``1e309`` are rejected with file:line), so a new field cannot forget it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


Grain = Literal["hour", "day", "week", "month", "quarter", "year"]
"""A KPI's period: ``hour`` (local clock hours in the spec's time zone, 23 or 25 on days the clocks
change), or a calendar period starting on a local date."""
GRAINS: tuple[str, ...] = ("hour", "day", "week", "month", "quarter", "year")
CalendarGrain = Literal["day", "week", "month", "quarter", "year"]
"""The grains a goal is paced in (its periods start on dates)."""
Direction = Literal["increase", "decrease"]
Scalar = str | int | float | bool
Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=80)]
MAX_DAYS = 36_525
"""Longest span in days a spec may give (100 years): longer ones overflow time arithmetic."""


def _currency_code(value: str) -> str:
    if len(value) != 3 or not value.isascii() or not value.isalpha() or not value.isupper():
        raise ValueError("not an ISO 4217 currency code; write three capital letters such as EUR, USD or PLN")
    return value


Currency = Annotated[str, AfterValidator(_currency_code),
                     Field(description="ISO 4217 code (EUR, USD, PLN); numbers show its symbol.")]
"""A currency code: it reaches charts, tables and number formats, so free text (a line separator
that broke the charts' JavaScript) is refused where the spec gives it."""
