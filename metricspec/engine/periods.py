"""Time grains: truncate timestamps to periods, label them, and list them."""

from __future__ import annotations

import datetime as dt

import polars as pl

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}


def to_date(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Local calendar date of a Date/Datetime column (datetimes are already in the spec's zone)."""
    if isinstance(dtype, pl.Datetime):
        return col.dt.date()
    return col.cast(pl.Date)


def truncate(date_col: pl.Expr, grain: str, week_start: str = "monday") -> pl.Expr:
    """First day of the period containing each date."""
    if grain == "week":
        shift = WEEKDAYS.index(week_start)
        if shift == 0:  # polars weeks start on Monday
            return date_col.dt.truncate("1w")
        # shift so the chosen start day becomes Monday, truncate, then shift back
        return (date_col - pl.duration(days=shift)).dt.truncate("1w") + pl.duration(days=shift)
    return date_col.dt.truncate(EVERY[grain])


def truncate_date(day: dt.date, grain: str, week_start: str = "monday") -> dt.date:
    if grain == "day":
        return day
    if grain == "week":
        shift = (day.weekday() - WEEKDAYS.index(week_start)) % 7
        return day - dt.timedelta(days=shift)
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    return day.replace(month=1, day=1)


def add_periods(start: dt.date, grain: str, n: int) -> dt.date:
    """The period start ``n`` periods after ``start`` (negative goes back)."""
    if grain == "day":
        return start + dt.timedelta(days=n)
    if grain == "week":
        return start + dt.timedelta(weeks=n)
    months = {"month": 1, "quarter": 3, "year": 12}[grain] * n
    total = start.year * 12 + (start.month - 1) + months
    return dt.date(total // 12, total % 12 + 1, 1)


def period_end(start: dt.date, grain: str) -> dt.date:
    """Exclusive end of the period starting at ``start``."""
    return add_periods(start, grain, 1)


def period_range(first: dt.date, last: dt.date, grain: str) -> list[dt.date]:
    out = []
    cur = first
    while cur <= last:
        out.append(cur)
        cur = add_periods(cur, grain, 1)
    return out


def label(start: dt.date, grain: str) -> str:
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def periods_per_year(grain: str) -> float:
    return {"day": 365.25, "week": 52.18, "month": 12.0, "quarter": 4.0, "year": 1.0}[grain]
