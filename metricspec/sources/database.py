"""Sources that live in a database: what opening the sources asks of the SQL backend, which owns them.

A database connector (``duckdb``, ``sql``, ``spark``, …) returns an ibis table instead of a polars
LazyFrame. Preparing that table (the source's renames, types, time zones and derived columns as SQL),
reading it in polars, checking its stored values, joining it where it lives and counting repeated
keys are the SQL backend's (``metricspec/engine/backends/``), which sits above the sources in the
layers (pyproject.toml). So the sources declare what they need here, as protocols; the engine passes
its implementation (:class:`metricspec.engine.backends.sql_tables.SqlTables`) to
:func:`metricspec.sources.open_checked`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import polars as pl

    from metricspec.errors import Location
    from metricspec.sources.prepare import PreparedFrame


@dataclass(frozen=True)
class SourceOptions:
    """What the spec says about a source besides its connector (how its table is prepared)."""

    name: str
    rename: Mapping[str, str]
    columns: Mapping[str, str]
    timestamp_format: str | None
    timezone: str | None
    target_timezone: str
    time_column: str | None
    derive: Mapping[str, str]
    where: Location | None


class DatabaseSource(Protocol):
    """A prepared database source (the SQL backend's ``Relation``), as the sources read it."""

    @property
    def source(self) -> str: ...

    @property
    def dialect(self) -> str:
        """The database: duckdb, postgres, pyspark, …"""
        ...

    @property
    def connection_key(self) -> str:
        """Sources sharing a key share one connection."""
        ...

    @property
    def schema(self) -> Mapping[str, pl.DataType]:
        """The prepared columns as polars sees them."""
        ...

    @property
    def frame(self) -> pl.LazyFrame:
        """The rows as polars reads them, columns fetched from the database on demand."""
        ...


class DatabaseTables(Protocol):
    """What opening, checking and joining sources asks of the SQL backend."""

    def prepare(self, table: Any, options: SourceOptions) -> DatabaseSource:
        """A connector's ibis table prepared as the spec says (its queries then run in the database)."""
        ...

    def polars_frame(self, table: Any, source: str, where: Location | None) -> pl.LazyFrame:
        """The table as stored, read by polars (``engine: polars``: prepared and computed in polars)."""
        ...

    def check_values(self, source: DatabaseSource, columns: list[str]) -> None:
        """Raise a DataError for the first stored value of ``columns`` that does not convert to its
        declared type (each column is checked once)."""
        ...

    def repeated_key(self, source: DatabaseSource, key: str) -> tuple[object, int, int] | None:
        """The first value of ``key`` found on more than one row, how many rows hold it and how many
        values repeat; None: the key is unique."""
        ...

    def join(self, left: DatabaseSource, right: PreparedFrame | DatabaseSource, on: str, key: str,
             columns: dict[str, str]) -> DatabaseSource:
        """``left`` LEFT JOIN ``right`` on ``left.on = right.key``, bringing ``columns`` (old -> new
        name), in ``left``'s database."""
        ...


def is_database_table(obj: object) -> bool:
    """Whether a connector returned an ibis table (checked without importing ibis)."""
    ibis_types = sys.modules.get("ibis.expr.types")
    return ibis_types is not None and isinstance(obj, ibis_types.Table)
