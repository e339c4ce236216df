"""Reading a SQLite query into polars: only the columns a run reads, with connectorx where it can.

The ``sqlite`` connector returns a lazy frame (a polars IO source): when polars collects it, the columns
the run reads are fetched, ``SELECT "a", "b" FROM (<query>)``, with connectorx (Rust, straight into
Arrow); where connectorx cannot read them (a column without a declared type whose first value is null,
values of several types in one column, a file name it would misread) the standard library's sqlite3
reads them instead, value by value (what every read did before).

SQLite columns have no fixed type, so the frame's types are those of the query's first
:data:`SAMPLE_ROWS` rows, read with sqlite3 (polars infers them from the values); the whole read must
agree with them, or the run stops with an error naming the column and what to do (an integer column
whose later values are fractions: cast it in the query, ``CAST(x AS REAL) AS x``). The query was checked to only read and ran once, sandboxed, for
the sample (:func:`metricspec.connectors.sandbox.sqlite_lockdown`), before connectorx runs it.
"""

from __future__ import annotations

import importlib.util
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from metricspec.connectors.sandbox import sqlite_lockdown, sqlite_uri
from metricspec.errors import DataError

if TYPE_CHECKING:
    import polars as pl

SAMPLE_ROWS = 1000
"""Rows the column types are learnt from."""
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9_./+-]+$")
"""File names connectorx's URL reading takes as they are (no '?', '#', '%', spaces)."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def projected(query: str, columns: list[str] | None, limit: int | None = None) -> str:
    """``query``'s ``columns`` (None: all), on lines of their own so that a ``-- comment`` ending the
    query does not swallow the wrapper."""
    inner = query.strip().rstrip(";").rstrip()
    cols = "*" if columns is None else ", ".join(_quote(c) for c in columns)
    tail = f" LIMIT {int(limit)}" if limit is not None else ""
    return f"SELECT {cols} FROM (\n{inner}\n) AS metricspec_query{tail}"


def read_with_connectorx(path: Path, sql: str) -> pl.DataFrame | None:
    """``sql`` read by connectorx, or None where it cannot (not installed, an unusual file name, a
    column it cannot type)."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    real = str(path.resolve())
    if importlib.util.find_spec("connectorx") is None or not _PLAIN_PATH.match(real):
        return None
    try:
        return pl.read_database_uri(sql, f"sqlite://{real}", engine="connectorx")
    except Exception:  # connectorx types a column from its declared type or its first value
        return None


def sandboxed(path: Path) -> sqlite3.Connection:
    """A read-only, sandboxed sqlite3 connection to ``path`` (as the connector opens it)."""
    conn = sqlite3.connect(sqlite_uri(path), uri=True)
    sqlite_lockdown(conn)
    return conn


def sqlite_lazy(path: Path, query: str, connect: Callable[[], sqlite3.Connection],
                error: Callable[[str], DataError]) -> pl.LazyFrame:
    """The query's rows as a lazy frame reading only the columns collected (see the module docs).
    ``connect`` opens the sandboxed sqlite3 connection; ``error`` makes a message a DataError naming
    the source."""
    from polars.io.plugins import register_io_source  # polars: heavy, on read

    schema = sample_schema(connect, query)

    def read(with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
             batch_size: int | None) -> Iterator[pl.DataFrame]:
        columns = list(with_columns or schema)  # polars asks for one column at least, even for a count
        sql = projected(query, columns, n_rows)
        frame = read_with_connectorx(path, sql)
        if frame is None or frame.schema != {c: schema[c] for c in columns}:  # connectorx typed a column
            frame = read_stdlib(connect, sql)  # otherwise (a declared DATETIME parsed, text kept as text here)
        frame = conform(frame, {c: schema[c] for c in columns}, error)
        yield frame.filter(predicate) if predicate is not None else frame

    return register_io_source(read, schema=schema)


def read_stdlib(connect: Callable[[], sqlite3.Connection], sql: str) -> pl.DataFrame:
    """``sql`` read through sqlite3 (types inferred from every value, as polars does)."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    conn = connect()
    try:
        frame = pl.read_database(sql, connection=conn, infer_schema_length=None)
    finally:
        conn.close()
    assert isinstance(frame, pl.DataFrame)
    return frame


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType], error: Callable[[str], DataError],
            ) -> pl.DataFrame:
    """The fetched columns with the types of the sample (a column all null there is null throughout, or
    cast when every value converts exactly); values of another type are an error."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    out = []
    for col, want in schema.items():
        have = frame.schema[col]
        series = frame[col]
        if have != want:
            problem = error(f"column '{col}' holds {have} values where its first rows hold {want} values")
            try:
                series = series.cast(want, strict=True)
                exact = series.cast(have, strict=True)
            except Exception:
                raise problem from None
            if exact.null_count() != frame[col].null_count() or not (exact == frame[col]).fill_null(True).all():
                raise problem
        out.append(series)
    return pl.DataFrame(out)


def sample_schema(connect: Callable[[], sqlite3.Connection], query: str) -> dict[str, pl.DataType]:
    """The column types of the query's first rows; a column null in all of them takes the type of its
    first non-null values."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    schema = dict(read_stdlib(connect, projected(query, None, SAMPLE_ROWS)).schema)
    for col, dtype in schema.items():
        if dtype == pl.Null:
            inner = projected(query, [col])
            values = read_stdlib(connect, f"SELECT * FROM ({inner}) WHERE {_quote(col)} IS NOT NULL LIMIT {SAMPLE_ROWS}")
            schema[col] = values.schema[col]
    return schema
