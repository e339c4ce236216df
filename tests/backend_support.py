"""Run specs with their data moved into a database: the differential tests' harness.

:func:`database_plugin_manager` gives a plugin manager whose connectors (every installed one, wrapped)
load what they read into a database table and return it as an ibis table of that database. Passed as
``plugin_manager=`` to ``evaluate``, ``explain``, ``run_query`` (or ``metricspec.evaluate``, ...), it runs
a spec unchanged (same file, same positions, same connector names in the Results) but on the SQL
backend, which must give the same Results as polars. It is a plugin like a third party's: built on
:mod:`metricspec.plugin_api` only, and it changes nothing in the process (its manager is used for the
call it is given to).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Collection, Iterator
from typing import Any, Protocol

import pluggy
import polars as pl

from metricspec.plugin_api import (
    Connector,
    SourceContext,
    connector_registry,
    hookimpl,
    make_plugin_manager,
)

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


class Loader(Protocol):
    def load(self, name: str, frame: pl.DataFrame) -> Any: ...


class DatabaseConnectors:
    """The plugin: the wrapped connectors, under the installed connectors' names."""

    def __init__(self, connectors: list[type[Connector]]) -> None:
        self.connectors = connectors

    @hookimpl
    def metricspec_connectors(self) -> list[type[Connector]]:
        return list(self.connectors)


def database_plugin_manager(loader: Loader, sources: Collection[str] | None = None) -> pluggy.PluginManager:
    """A plugin manager with only :class:`DatabaseConnectors`: every installed connector, wrapped so that
    what it reads is loaded into ``loader``'s database and read from there. With ``sources``, only the
    sources of those names are moved into the database (the others stay polars frames: a join across
    the two)."""

    def wrap(cls: type[Connector]) -> type[Connector]:
        class InDatabase(cls):  # type: ignore[valid-type,misc]
            def scan(self, options: Any, context: SourceContext) -> Any:
                read = super().scan(options, context)
                if not isinstance(read, pl.LazyFrame) or (sources is not None and context.source_name not in sources):
                    return read
                return loader.load(context.source_name, read.collect())

        InDatabase.__name__ = f"InDatabase{cls.__name__}"
        return InDatabase

    wrapped = [wrap(cls) for cls in connector_registry().values()]
    return make_plugin_manager(load_entry_points=False, builtins=False, plugins=(DatabaseConnectors(wrapped),))


@contextlib.contextmanager
def database_plugin_managers() -> Iterator[dict[str, pluggy.PluginManager]]:
    """Plugin managers for DuckDB and, when its binaries and psycopg are installed, a throwaway
    PostgreSQL (tests/pg_server.py), by name: for tests that run one spec on every SQL backend."""
    managers = {"duckdb": database_plugin_manager(DuckDBLoader())}
    try:
        import psycopg  # noqa: F401
        from pg_server import postgres_server
    except ImportError:
        yield managers
        return
    with postgres_server() as base:
        managers["postgres"] = database_plugin_manager(PostgresLoader(f"postgres://{base}"))
        yield managers
