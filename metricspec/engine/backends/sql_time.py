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

from metricspec.engine.backends.ibis_expr import UntranslatableError

#: dialects whose time-zone functions are translated
TIMEZONE_DIALECTS = ("duckdb", "postgres", "pyspark")


def udf(name: str) -> Any:
    from metricspec.engine.backends import sql_udfs

    return {"to_aware": sql_udfs.tz_naive_to_aware, "to_naive": sql_udfs.tz_aware_to_naive,
            "spark_to_utc": sql_udfs.spark_to_utc, "spark_from_utc": sql_udfs.spark_from_utc}[name]


def _check_dialect(dialect: str) -> None:
    if dialect not in TIMEZONE_DIALECTS:
        raise UntranslatableError(
            f"converting time zones is not supported on {dialect} yet",
            "store the times in the spec's time zone (or in UTC with `timezone: UTC` in the spec), or read the "
            "source with `engine: polars`")


def instant_to_local(ts: Any, target_tz: str, dialect: str, *, aware: bool) -> Any:
    """Wall-clock time in ``target_tz`` (naive) of a stored instant: an aware timestamp, or a naive one
    holding UTC wall-clock time (``aware=False``)."""
    if target_tz == "UTC" and not aware:
        return ts
    _check_dialect(dialect)
    if dialect == "pyspark":  # the session time zone is UTC: timestamps hold UTC wall-clock times
        return udf("spark_from_utc")(ts, target_tz)
    if not aware:
        ts = udf("to_aware")("UTC", ts)
    return udf("to_naive")(target_tz, ts)


def local_to_utc(ts: Any, zone: str, dialect: str) -> Any:
    """The UTC wall-clock time (naive) of wall-clock ``ts`` in ``zone``, with the polars backend's
    rules: a skipped time is null, a repeated one the earlier instant."""
    import ibis

    if zone == "UTC":
        return ts
    _check_dialect(dialect)
    hour = ibis.interval(hours=1)
    if dialect == "pyspark":
        utc = udf("spark_to_utc")(ts, zone)
        back = udf("spark_from_utc")
    else:
        utc = udf("to_naive")("UTC", udf("to_aware")(zone, ts))

        def back(u: Any, z: str) -> Any:
            return udf("to_naive")(z, udf("to_aware")("UTC", u))

    earlier = utc - hour
    return ibis.cases((back(earlier, zone) == ts, earlier), (back(utc, zone) == ts, utc), else_=ibis.null())


def localize(ts: Any, stored_tz: str | None, local_tz: str, target_tz: str, dialect: str) -> Any:
    """A stored datetime as wall-clock time in ``target_tz``: aware values (``stored_tz`` set) are
    converted; naive ones are read as wall-clock times in ``local_tz`` first."""
    if stored_tz is not None:
        if dialect == "pyspark":
            return instant_to_local(ts, target_tz, dialect, aware=False)
        return instant_to_local(ts, target_tz, dialect, aware=True)
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
        if dialect == "pyspark":  # the session time zone is UTC: timestamps hold UTC wall-clock times
            return ts
        _check_dialect(dialect)
        return udf("to_naive")("UTC", ts)
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
