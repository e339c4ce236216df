# mypy: disable-error-code="untyped-decorator,valid-type,empty-body"
"""Database functions ibis has no operation for, declared as ibis builtin UDFs.

Imported only when a database source is used (it imports ibis). No ``from __future__ import
annotations`` here: ibis reads the signatures' types at definition time.
"""

import ibis
import ibis.expr.datatypes as dt

NAIVE = dt.Timestamp()
AWARE = dt.Timestamp(timezone="UTC")


@ibis.udf.scalar.builtin(name="timezone")
def tz_naive_to_aware(zone: str, ts: NAIVE) -> AWARE:
    """DuckDB/PostgreSQL timezone(zone, timestamp): the instant of wall-clock ``ts`` in ``zone``."""


@ibis.udf.scalar.builtin(name="timezone")
def tz_aware_to_naive(zone: str, ts: AWARE) -> NAIVE:
    """DuckDB/PostgreSQL timezone(zone, timestamptz): the wall-clock time of instant ``ts`` in ``zone``."""


@ibis.udf.scalar.builtin(name="to_utc_timestamp")
def spark_to_utc(ts: NAIVE, zone: str) -> NAIVE:
    """Spark: wall-clock ``ts`` in ``zone`` as UTC wall-clock time."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")
def spark_from_utc(ts: NAIVE, zone: str) -> NAIVE:
    """Spark: UTC wall-clock ``ts`` as wall-clock time in ``zone``."""


@ibis.udf.scalar.builtin(name="try_strptime")
def try_strptime_naive(text: str, pattern: str) -> NAIVE:
    """DuckDB try_strptime with a format without a UTC offset."""


@ibis.udf.scalar.builtin(name="try_strptime")
def try_strptime_aware(text: str, pattern: str) -> AWARE:
    """DuckDB try_strptime with a format with a UTC offset (%z)."""
