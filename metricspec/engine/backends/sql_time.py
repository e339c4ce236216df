"""Time zones in SQL: every datetime of a database source becomes the local wall-clock time in the spec's
time zone, with the polars backend's rules for local times a daylight-saving change skips or repeats.

A naive stored time is read in the source's ``timezone`` (default UTC), as on the polars backend:

* a time the clocks skipped (02:30 on the last Sunday of March in Europe/Warsaw) is null;
* a time the clocks repeat (02:30 on the last Sunday of October) is the earlier of the two instants.

Databases resolve both cases their own way (DuckDB and PostgreSQL take the later offset for a repeated
hour and shift a skipped one), so the conversion checks the round trip (a skipped time does not come
back) and tries the instant one hour earlier (a repeated time does). Zones whose daylight-saving
shift is not one hour (Australia/Lord_Howe) may differ in the repeated half hour.
"""

from __future__ import annotations

from typing import Any

from metricspec.engine.backends.dialects import dialect_for


def instant_to_local(ts: Any, target_tz: str, dialect: str, *, aware: bool) -> Any:
    """Wall-clock time in ``target_tz`` (naive) of a stored instant: an aware timestamp, or a naive one
    holding UTC wall-clock time (``aware=False``)."""
    if target_tz == "UTC" and not aware:
        return ts
    d = dialect_for(dialect)
    d.check_time_zones()
    return d.aware_to_wall(ts, target_tz) if aware else d.utc_to_wall(ts, target_tz)


def local_to_utc(ts: Any, zone: str, dialect: str) -> Any:
    """The UTC wall-clock time (naive) of wall-clock ``ts`` in ``zone``, with the polars backend's
    rules: a skipped time is null, a repeated one the earlier instant."""
    import ibis  # ibis: the SQL backend's optional dependency

    if zone == "UTC":
        return ts
    d = dialect_for(dialect)
    d.check_time_zones()
    hour = ibis.interval(hours=1)
    utc = d.wall_to_utc(ts, zone)
    earlier = utc - hour
    return ibis.cases((d.utc_to_wall(earlier, zone) == ts, earlier), (d.utc_to_wall(utc, zone) == ts, utc),
                      else_=ibis.null())


def localize(ts: Any, stored_tz: str | None, local_tz: str, target_tz: str, dialect: str) -> Any:
    """A stored datetime as wall-clock time in ``target_tz``: aware values (``stored_tz`` set) are
    converted; naive ones are read as wall-clock times in ``local_tz`` first."""
    if stored_tz is not None:
        return instant_to_local(ts, target_tz, dialect, aware=not dialect_for(dialect).aware_read_as_utc)
    if local_tz == target_tz and local_tz == "UTC":
        return ts
    utc = local_to_utc(ts, local_tz, dialect)
    return instant_to_local(utc, target_tz, dialect, aware=False)


INSTANT_PREFIX = "__metricspec_utc__"
"""Prefix of the hidden column that keeps, next to each stored datetime column, its instant as naive UTC
time: the local wall-clock time alone cannot tell the two 02:30 of the night the clocks go back apart,
and ``hour`` periods must (:func:`hour_instant`). Only in ``Relation.instants``, the table hour queries
read: not in the source's schema, never fetched, absent from every other statement."""


def instant_column(column: str) -> str:
    return f"{INSTANT_PREFIX}{column}"


def to_utc(ts: Any, stored_tz: str | None, local_tz: str, dialect: str) -> Any:
    """The instant of a stored datetime as naive UTC time (naive values read in ``local_tz``; a repeated
    local time is its earlier instant, as in :func:`local_to_utc`)."""
    if stored_tz is not None:
        d = dialect_for(dialect)
        if not d.aware_read_as_utc:
            d.check_time_zones()
        return d.aware_to_utc(ts)
    return local_to_utc(ts, local_tz, dialect)


def hour_instant(table: Any, column: str, zone: str, dialect: str) -> Any:
    """The start of the local clock hour of each row as naive UTC time: the row's instant minus the minutes
    and seconds its local wall-clock time is past the hour. Zones whose offsets are not whole hours
    (Asia/Kolkata) get their local hours; a day the clocks change has 23 or 25 of them. A column without a
    kept instant (a derived one) is read as wall-clock time in ``zone`` (a repeated hour: the earlier)."""
    local = table[column]
    hidden = instant_column(column)
    utc = table[hidden] if hidden in table.columns else local_to_utc(local, zone, dialect)
    return utc - (local - local.truncate("h"))
