"""Spark SQL (and Databricks through Spark Connect): exact aggregates (``percentile``), a session whose
time zone is UTC, so timestamps hold UTC wall-clock times converted with ``from_utc_timestamp`` /
``to_utc_timestamp``; integer sums widened (Spark's long sum overflows); ``$1`` back-references."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from metricspec.engine.backends.dialects.base import EXACT_IN_ZONES, Capabilities, Dialect


@dataclass(frozen=True)
class PySpark(Dialect):
    name: str = "pyspark"
    capabilities: Capabilities = EXACT_IN_ZONES
    back_reference: str = "$"

    def sum_input(self, value: Any) -> Any:
        return value.cast("decimal(38, 0)") if value.type().is_integer() else value

    @property
    def aware_read_as_utc(self) -> bool:
        return True

    def utc_to_wall(self, ts: Any, zone: str) -> Any:
        return self._udf("spark_from_utc")(ts, zone)

    def aware_to_wall(self, ts: Any, zone: str) -> Any:
        return self._udf("spark_from_utc")(ts, zone)

    def wall_to_utc(self, ts: Any, zone: str) -> Any:
        return self._udf("spark_to_utc")(ts, zone)

    def aware_to_utc(self, ts: Any) -> Any:
        return ts
