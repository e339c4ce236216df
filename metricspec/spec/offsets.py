"""Comparison offsets: ``vs: {offset: 4 weeks}`` on a KPI, a headline comparison beside the previous
period and the same period last year.

The compared period is the one that starts ``offset`` before the headline period's start. An offset
applies to the grains it is a whole number of periods of: days to the day grain (and the week grain
when a multiple of 7), weeks to day and week, months to month (quarter when a multiple of 3, year
when of 12), quarters to month and quarter (year when of 4), years to month, quarter and year. Other
grains' headlines have no ``vs`` comparison.
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import Field, field_validator

from metricspec.spec.base import MAX_DAYS, StrictModel

UNITS = ("day", "week", "month", "quarter", "year")
_OFFSET = re.compile(r"^\s*(\d{1,6})\s+(day|week|month|quarter|year)s?\s*$")
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def parse_offset(text: str) -> tuple[int, str]:
    """``"4 weeks"`` → ``(4, "week")``; ValueError with the fix otherwise."""
    m = _OFFSET.match(text.lower()) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"offset '{text}' is not a number and a unit; write e.g. `offset: 4 weeks` "
                         f"(units: days, weeks, months, quarters, years)")
    n, unit = int(m.group(1)), m.group(2)
    days = n * {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}[unit]
    if n < 1 or days > MAX_DAYS:
        raise ValueError(f"offset '{text}' must be at least 1 {unit} and at most 100 years")
    return n, unit


class VsSpec(StrictModel):
    """A headline comparison with the period ``offset`` earlier."""

    offset: str = Field(description="How far back, as a number and a unit: `4 weeks`, `28 days`, `3 months`, "
                                    "`2 quarters`, `1 year`.")
    title: str | None = Field(None, description="Its label on scorecards; default: the offset and \"earlier\".")

    @field_validator("offset")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_offset(value)
        return value

    @property
    def label(self) -> str:
        if self.title:
            return self.title
        n, unit = parse_offset(self.offset)
        return f"{n} {unit}{'' if n == 1 else 's'} earlier"

    def applies_to(self, grain: str) -> bool:
        return shifted_period(dt.date(2000, 1, 1), grain, self.offset) is not None


def shifted_period(start: dt.date, grain: str, offset: str) -> dt.date | None:
    """The start of the period ``offset`` before the period starting ``start``; None when the offset is not
    a whole number of periods of ``grain``."""
    n, unit = parse_offset(offset)
    if unit in ("day", "week"):
        days = n * (7 if unit == "week" else 1)
        if grain == "day" or (grain == "week" and days % 7 == 0):
            return start - dt.timedelta(days=days)
        return None
    months = n * _MONTHS[unit]
    if grain in _MONTHS and months % _MONTHS[grain] == 0:
        total = start.year * 12 + start.month - 1 - months  # period starts of these grains are 1st of a month
        return dt.date(total // 12, total % 12 + 1, 1) if total >= 0 else None
    return None
