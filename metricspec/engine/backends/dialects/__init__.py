"""One object per database the SQL backend runs statements in (:class:`~.base.Dialect`), each with its
:class:`~.base.Capabilities`: DuckDB, PostgreSQL and Spark (run and tested here), the warehouses whose
aggregates differ (ClickHouse, BigQuery, Trino, MySQL, SQL Server: declared from the SQL ibis compiles),
and :class:`~.base.Dialect` itself for any other database ibis reaches (Snowflake, Oracle, …).

Code that depends on the database asks :func:`dialect_for` for the object and calls its methods; no
module outside this package compares a dialect's name (tests/test_layers.py checks it).
"""

from __future__ import annotations

from metricspec.engine.backends.dialects.base import EXACT, Capabilities, Dialect, Support
from metricspec.engine.backends.dialects.duckdb import DuckDB
from metricspec.engine.backends.dialects.postgres import Postgres
from metricspec.engine.backends.dialects.pyspark import PySpark
from metricspec.engine.backends.dialects.warehouses import MSSQL, BigQuery, ClickHouse, MySQL, Trino

__all__ = ["DIALECTS", "Capabilities", "Dialect", "Support", "dialect_for"]

DIALECTS: dict[str, Dialect] = {d.name: d for d in (
    DuckDB(), Postgres(), PySpark(), ClickHouse(), BigQuery(), Trino(), MySQL(), MSSQL())}
"""The databases with a module, by ibis backend name."""


def dialect_for(name: str) -> Dialect:
    """The dialect of ibis backend ``name``: its own object, or the generic one (exact aggregates as ibis
    compiles them, no time-zone conversion) named ``name``."""
    found = DIALECTS.get(name)
    return found if found is not None else Dialect(name=name, capabilities=EXACT)
