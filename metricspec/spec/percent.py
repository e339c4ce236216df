"""Percent literals: ``target: 8%`` is the fraction 0.08, wherever a goal's number is written.

``unit: percent`` KPIs hold fractions (0.08 is shown as 8 %), so a target written ``8`` means 800 %.
The spec may say what is meant either way: ``0.08`` or ``8%``. :data:`Number` is the field type that
accepts both (and plain numbers as before); the warning for ``8`` on a percent KPI is
:mod:`metricspec.validation.units`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

PERCENT_PATTERN = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*%\s*$"
_PERCENT = re.compile(PERCENT_PATTERN)


def is_percent_literal(value: object) -> bool:
    """Whether a raw YAML value is written as a percent (``8%``, ``12.5 %``)."""
    return isinstance(value, str) and _PERCENT.match(value) is not None


def percent_value(text: str) -> float:
    """``"8%"`` -> 0.08, correctly rounded (decimal arithmetic, so ``"7%"`` is the float nearest 0.07)."""
    return float(Decimal(text.strip().removesuffix("%").strip()) / 100)


def _number(value: Any) -> Any:
    if is_percent_literal(value):
        return percent_value(value)
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            raise PydanticCustomError(
                "percent_parsing", "Input should be a valid number or percent", {}) from None
    return value


Number = Annotated[
    float,
    BeforeValidator(_number),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": PERCENT_PATTERN}]}),
]
"""A number, or a percent literal (``8%`` = 0.08)."""

NonNegativeNumber = Annotated[
    float,
    BeforeValidator(_number),
    Field(ge=0),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0},
                              {"type": "string", "pattern": PERCENT_PATTERN.replace("[-+]?", "[+]?")}]}),
]
"""A number or percent literal that is not negative (tolerances)."""
