"""Time grains: truncate timestamps to periods, label them, and list them.

Periods of the day and longer grains start on a local date (``dt.date``). An ``hour`` period starts on
an instant: a time-zone aware ``dt.datetime`` in the spec's zone (polars ``Datetime("us", zone)``), the
start of a local clock hour. Hours are instants, not wall-clock times, so a day when the clocks go
forward has 23 of them and a day when they go back has 25 (02:00+02:00 and 02:00+01:00 in
Europe/Warsaw are two hours); arithmetic on them runs in UTC.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY = {"hour": "1h", "day": "1d", "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}
HOUR = "hour"
UTC = dt.UTC


def hour_start(time_col: pl.Expr) -> pl.Expr:
    """The instant each local clock hour began, of a time-zone aware Datetime column (in its zone)."""
    return time_col.dt.truncate("1h").dt.cast_time_unit("us")


def hour_dtype(timezone: str) -> pl.Datetime:
    """The polars type of ``hour`` periods."""
    return pl.Datetime("us", timezone)


def first_hour(day: dt.date, timezone: str) -> dt.datetime:
    """The first hour of a local date: its midnight (or the first instant after it, where a zone skips it)."""
    zone = ZoneInfo(timezone)
    utc = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(UTC)
    return utc.astimezone(zone)


def last_hour(day: dt.date, timezone: str) -> dt.datetime:
    """The start of the last hour of a local date."""
    following = first_hour(day + dt.timedelta(days=1), timezone)
    return (following.astimezone(UTC) - dt.timedelta(hours=1)).astimezone(following.tzinfo)


def fixed(start: dt.date) -> dt.date:
    """An hour period with a fixed UTC offset as its time zone (dates as they are).

    Python compares and hashes two datetimes of one ``ZoneInfo`` by their wall-clock time, so the two
    02:00 hours of the day the clocks go back would be one dict key; with fixed offsets (+02:00, +01:00)
    they are two. Periods leave the engine (Points, dict keys) in this form."""
    if isinstance(start, dt.datetime) and start.tzinfo is not None:
        offset = start.utcoffset()
        assert offset is not None
        return start.astimezone(dt.timezone(offset))
    return start


def shift_local(start: dt.date, days: int, timezone: str) -> dt.datetime:
    """The same local clock hour as the hour ``start``, ``days`` days later (negative: earlier), in
    ``timezone`` (an hour the clocks skip that day: the next one; a repeated one: its first), with a fixed
    offset (:func:`fixed`)."""
    assert isinstance(start, dt.datetime)
    zone = ZoneInfo(timezone)
    local = start.astimezone(zone).replace(tzinfo=None) + dt.timedelta(days=days)
    found = local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    offset = found.utcoffset()
    assert offset is not None
    return found.astimezone(dt.timezone(offset))


def midnight_after(day: dt.date, start: dt.date) -> dt.date | dt.datetime:
    """The instant a local date ``day`` ends, comparable with ``start`` (a period start of any grain):
    the next date, or for an hour its midnight in the hour's zone."""
    after = day + dt.timedelta(days=1)
    if isinstance(start, dt.datetime) and start.tzinfo is not None:
        return dt.datetime.combine(after, dt.time(), tzinfo=start.tzinfo).astimezone(UTC)
    return after


def ends_after(start: dt.date, grain: str, day: dt.date) -> bool:
    """Whether the period of ``grain`` starting at ``start`` ends after the local date ``day`` (partial
    as of that day)."""
    end = period_end(start, grain)
    return end > midnight_after(day, end)


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
    """The first day of the period holding ``day`` (not for hours: :func:`first_hour`)."""
    if grain == HOUR:
        raise ValueError("an hour period starts at an instant: use first_hour/last_hour")
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
    """The period start ``n`` periods after ``start`` (negative goes back); hours in absolute time."""
    if grain == HOUR:
        assert isinstance(start, dt.datetime) and start.tzinfo is not None
        zone = start.tzinfo
        return (start.astimezone(UTC) + dt.timedelta(hours=n)).astimezone(zone)
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
    if grain == HOUR:  # counted in UTC: one zone's datetimes compare by their wall-clock time
        assert isinstance(first, dt.datetime) and isinstance(last, dt.datetime)
        a, b = first.astimezone(UTC), last.astimezone(UTC)
        zone = first.tzinfo
        return [(a + dt.timedelta(hours=i)).astimezone(zone) for i in range(int((b - a) // dt.timedelta(hours=1)) + 1)]
    out = []
    cur = first
    while cur <= last:
        out.append(cur)
        cur = add_periods(cur, grain, 1)
    return out


def label(start: dt.date, grain: str) -> str:
    if grain == HOUR:  # the offset tells the two hours of a day when the clocks go back apart
        assert isinstance(start, dt.datetime)
        return start.isoformat(timespec="minutes")
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
    return {"hour": 8766.0, "day": 365.25, "week": 52.18, "month": 12.0, "quarter": 4.0, "year": 1.0}[grain]
