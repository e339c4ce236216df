"""Run specs with their data moved into a database: the differential tests' harness.

:func:`database_registry` wraps every installed connector so that what it reads is loaded into a
database table and returned as an ibis table of that database. A spec then runs unchanged (same file,
same positions, same connector names in the Results) but on the SQL backend, which must give the
same Results as polars.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl

from metricspec.connectors.base import Connector, SourceContext
from metricspec.sources import connector_registry

_COUNTER = itertools.count()


class DuckDBLoader:
    """Loads frames into an in-memory (or file) DuckDB through ibis."""

    def __init__(self, path: str | None = None) -> None:
        import ibis

        self.con = ibis.duckdb.connect(path) if path else ibis.duckdb.connect()

    def load(self, name: str, frame: pl.DataFrame) -> Any:
        table = f"{name}_{next(_COUNTER)}"
        arrow = frame.to_arrow()
        self.con.con.register("__incoming", arrow)
        self.con.con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM __incoming')
        self.con.con.unregister("__incoming")
        return self.con.table(table)


class PostgresLoader:
    """Loads frames into a PostgreSQL database (a throwaway cluster of the tests) through ibis."""

    def __init__(self, url: str) -> None:
        import ibis

        self.con = ibis.connect(url)

    def load(self, name: str, frame: pl.DataFrame) -> Any:
        table = f"{name}_{next(_COUNTER)}"
        self.con.create_table(table, frame.to_arrow(), overwrite=True)
        return self.con.table(table)


class SparkLoader:
    """Loads frames into a local Spark session as temporary views."""

    def __init__(self, session: Any) -> None:
        import ibis

        self.session = session
        self.con = ibis.pyspark.connect(session)

    def load(self, name: str, frame: pl.DataFrame) -> Any:
        table = f"{name}_{next(_COUNTER)}"
        self.session.createDataFrame(frame.to_arrow()).createOrReplaceTempView(table)
        return self.con.table(table)


def database_registry(loader: Any) -> Callable[[], dict[str, type[Connector]]]:
    """A replacement for :func:`metricspec.sources.connector_registry` whose connectors load what
    they read into ``loader``'s database and return the table there."""
    base = connector_registry()

    def wrap(cls: type[Connector]) -> type[Connector]:
        class InDatabase(cls):  # type: ignore[valid-type,misc]
            def scan(self, options: Any, context: SourceContext) -> Any:
                read = super().scan(options, context)
                if not isinstance(read, pl.LazyFrame):
                    return read
                return loader.load(context.source_name, read.collect())

        InDatabase.__name__ = f"InDatabase{cls.__name__}"
        return InDatabase

    wrapped = {name: wrap(cls) for name, cls in base.items()}
    return lambda: wrapped


@contextlib.contextmanager
def database_registries() -> Iterator[dict[str, Callable[[], dict[str, type[Connector]]]]]:
    """Registries for DuckDB and, when its binaries and psycopg are installed, a throwaway PostgreSQL
    (tests/pg_server.py), by name: for tests that run one spec on every SQL backend."""
    registries = {"duckdb": database_registry(DuckDBLoader())}
    try:
        import psycopg  # noqa: F401
        from pg_server import postgres_server
    except ImportError:
        yield registries
        return
    with postgres_server() as base:
        registries["postgres"] = database_registry(PostgresLoader(f"postgres://{base}"))
        yield registries
