"""Shared base model for every spec object."""

from __future__ import annotations

import types
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError


class StrictModel(BaseModel):
    """Unknown keys are errors; parsed specs are immutable; numbers are finite and not true/false.

    ``allow_inf_nan=False`` applies to every float field of every model (``target: .nan``,
    ``.inf`` or ``1e309`` are rejected with file:line), so a new field cannot forget it; likewise
    ``true``/``false`` where a number is expected (``target: true`` was read as 1.0).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name is not None and not _takes_bool(cls, info.field_name):
            raise PydanticCustomError("bool_not_number", "true/false is not a number here: write the number")
        return value


@cache
def _takes_bool(model: type[BaseModel], field: str) -> bool:
    """Whether a field's type admits true/false (a bool, a scalar, anything), not only numbers."""
    info = model.model_fields.get(field)
    return info is None or _admits_bool(info.annotation)


def _admits_bool(tp: Any) -> bool:
    if tp is bool or tp is Any or tp is object:
        return True
    origin = get_origin(tp)
    if origin is Literal:
        return any(isinstance(a, bool) for a in get_args(tp))
    if origin in (Union, types.UnionType, Annotated):
        return any(_admits_bool(a) for a in get_args(tp))
    return tp not in (int, float) and not (isinstance(tp, type) and issubclass(tp, int | float))


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
