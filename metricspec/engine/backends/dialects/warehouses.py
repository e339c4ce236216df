"""Databases reached through the ``sql`` connector whose aggregates differ from the exact ones: their
capabilities, as ibis compiles their SQL (tests/test_dialects.py checks each declaration against it).
None converts time zones yet (sql_time.py)."""

from __future__ import annotations

from dataclasses import dataclass

from metricspec.engine.backends.dialects.base import Capabilities, Dialect

CLICKHOUSE_CAPABILITIES = Capabilities(time_zones=False, quantiles="approximate", count_distinct="approximate", median="exact")
BIGQUERY_CAPABILITIES = Capabilities(time_zones=False, quantiles="approximate", count_distinct="exact", median="approximate")
TRINO_CAPABILITIES = Capabilities(time_zones=False, quantiles="approximate", count_distinct="exact", median="approximate")
MYSQL_CAPABILITIES = Capabilities(time_zones=False, quantiles="missing", count_distinct="exact", median="missing",
                                  first_last="missing")
MSSQL_CAPABILITIES = Capabilities(time_zones=False, quantiles="approximate", count_distinct="exact", median="missing",
                                  first_last="missing")


@dataclass(frozen=True)
class ClickHouse(Dialect):
    """``count_distinct`` is ``uniq`` (an adaptive sample), percentiles ``quantile`` (reservoir sampling);
    the median is ``quantileExactExclusive``, which at one half equals linear interpolation."""

    name: str = "clickhouse"
    capabilities: Capabilities = CLICKHOUSE_CAPABILITIES


@dataclass(frozen=True)
class BigQuery(Dialect):
    """Percentiles and medians only as ``APPROX_QUANTILES``; ``COUNT(DISTINCT)`` is exact."""

    name: str = "bigquery"
    capabilities: Capabilities = BIGQUERY_CAPABILITIES


@dataclass(frozen=True)
class Trino(Dialect):
    """Percentiles and medians only as ``approx_percentile``."""

    name: str = "trino"
    capabilities: Capabilities = TRINO_CAPABILITIES


@dataclass(frozen=True)
class MySQL(Dialect):
    """No percentile or median aggregate, and no ``first``/``last`` (ibis has no ``ArgMax`` for it)."""

    name: str = "mysql"
    capabilities: Capabilities = MYSQL_CAPABILITIES


@dataclass(frozen=True)
class MSSQL(Dialect):
    """Percentiles only as ``APPROX_PERCENTILE_CONT``; no median aggregate, no ``first``/``last`` (ibis has no
    ``ArgMax`` for it). Its ``float`` holds no NaN or infinity (SQL Server refuses them on insert), and ibis
    cannot compile the NaN check, so none is sent."""

    name: str = "mssql"
    capabilities: Capabilities = MSSQL_CAPABILITIES
    stores_non_finite: bool = False
