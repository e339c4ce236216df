"""Database connectors: ``sqlite``, ``sql`` (any database by URI) and ``duckdb``.

Each reads the result of a ``query`` or a whole ``table`` (exactly one of the two)
into memory and hands it on as a LazyFrame. Database problems (a missing file, an
unknown table, a failing query, a missing driver) become a
:class:`~metricspec.errors.DataError`; polars and the drivers are imported lazily.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from pydantic import Field, model_validator

from metricspec.connectors.base import Connector, ConnectorOptions, SourceContext
from metricspec.connectors.files import PATH_HINT, first_line

if TYPE_CHECKING:
    import polars as pl

    from metricspec.errors import DataError

__all__ = [
    "DuckDBConnector",
    "DuckDBOptions",
    "SqlConnector",
    "SqlOptions",
    "SqliteConnector",
    "SqliteOptions",
]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)*$")
_URI = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<rest>.*)$", re.DOTALL)


class _QueryOrTable(ConnectorOptions):
    """Shared rule: exactly one of ``query`` and ``table``."""

    query: str | None = Field(None, description="SQL query whose result is the source.")
    table: str | None = Field(None, description="Table (or view) read whole.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.query is None) == (self.table is None):
            raise ValueError("give exactly one of `query` and `table`")
        return self

    def sql(self, quote: bool = True) -> str:
        """The query to run: ``query`` itself, or ``SELECT * FROM <table>``."""
        if self.query is not None:
            return self.query
        assert self.table is not None
        return f"SELECT * FROM {quote_identifier(self.table) if quote else self.table}"


def sampled(query: str, rows: int | None) -> str:
    """``query`` limited to ``rows`` rows (``validate --data`` reads a sample), or ``query`` itself."""
    if rows is None:
        return query
    inner = query.strip().rstrip(";").rstrip()
    # on lines of its own, so that a `-- comment` ending the query does not swallow the wrapper
    return f"SELECT * FROM (\n{inner}\n) AS metricspec_sample LIMIT {int(rows)}"


def _read_only(context: SourceContext, sql: str) -> str:
    """``sql`` if it only reads (see :func:`metricspec.connectors.sandbox.select_only`)."""
    from metricspec.connectors.sandbox import READ_ONLY_HINT, select_only

    problem = select_only(sql)
    if problem is not None:
        raise context.error(f"the query may only SELECT, but it holds {problem}", hint=READ_ONLY_HINT)
    return sql


def quote_identifier(name: str) -> str:
    """Quote a possibly dotted identifier with double quotes (``schema.table`` -> ``"schema"."table"``)."""
    parts = name.split(".") if _IDENT.match(name) else [name]
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def _unknown_table(context: SourceContext, table: str, tables: list[str], where: str) -> DataError:
    close = difflib.get_close_matches(table, tables, n=1)
    suggestion = f" (did you mean '{close[0]}'?)" if close else ""
    listing = ", ".join(tables[:20]) + (", ..." if len(tables) > 20 else "") if tables else "(none)"
    return context.error(f"{where} has no table '{table}'{suggestion}", hint=f"tables are: {listing}")


# ---------------------------------------------------------------------------- sqlite


class SqliteOptions(_QueryOrTable):
    """Options of the ``sqlite`` connector."""

    path: str = Field(description="SQLite database file, relative to the spec.")


class SqliteConnector(Connector):
    """A SQLite database file, read with the standard library's sqlite3 (read-only)."""

    name = "sqlite"
    Options = SqliteOptions
    description = "SQLite database file (query or table)"

    def scan(self, options: SqliteOptions, context: SourceContext) -> pl.LazyFrame:
        """Run the query (or read the table) and return its result as a LazyFrame."""
        import sqlite3

        import polars as pl

        from metricspec.connectors.sandbox import sqlite_lockdown, sqlite_uri

        path = context.resolve(options.path)
        if not path.is_file():
            raise context.error(f"database file not found: {path}", hint=PATH_HINT)
        _read_only(context, options.sql())
        try:
            conn = sqlite3.connect(sqlite_uri(path), uri=True)
            sqlite_lockdown(conn)
        except sqlite3.Error as exc:
            raise context.error(f"cannot open SQLite database {path}: {exc}") from None
        try:
            if options.table is not None:
                try:
                    rows = conn.execute(
                        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
                    ).fetchall()
                except sqlite3.DatabaseError as exc:
                    raise context.error(f"cannot read {path} as a SQLite database: {exc}",
                                        hint="check that the file is a SQLite database") from None
                tables = [r[0] for r in rows]
                if options.table not in tables:
                    raise _unknown_table(context, options.table, tables, f"database {path}")
            try:
                frame = pl.read_database(sampled(options.sql(), context.sample_rows), connection=conn,
                                         infer_schema_length=None)
            except sqlite3.Error as exc:
                raise context.error(f"query failed on {path}: {exc}",
                                    hint="check the SQL of `query:` (run it with the sqlite3 shell)") from None
            except Exception as exc:
                raise context.error(f"cannot read the result of the query on {path}: {first_line(exc)}") from None
        finally:
            conn.close()
        assert isinstance(frame, pl.DataFrame)
        return frame.lazy()


# ---------------------------------------------------------------------------- sql


class SqlOptions(_QueryOrTable):
    """Options of the ``sql`` connector."""

    uri: str = Field(description="Database URI, e.g. postgresql://user@host/db or sqlite:///data/app.db.")


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


class SqlConnector(Connector):
    """Any database reachable by URI.

    ``sqlite://`` URIs use the standard library; other URIs use connectorx when it is
    installed (plain ``scheme://`` URIs), else SQLAlchemy (which also takes
    ``dialect+driver://`` URIs).
    """

    name = "sql"
    Options = SqlOptions
    description = "Database by URI (connectorx / SQLAlchemy)"

    def scan(self, options: SqlOptions, context: SourceContext) -> pl.LazyFrame:
        """Run the query with the best installed engine and return its result as a LazyFrame."""
        import polars as pl

        m = _URI.match(options.uri.strip())
        if m is None:
            raise context.error(f"'{options.uri}' is not a database URI",
                                hint="write it as scheme://user:password@host:port/database, e.g. "
                                     "postgresql://me@localhost/shop or sqlite:///data/app.db")
        scheme = m.group("scheme").lower()
        uri = self._resolve_sqlite(options.uri.strip(), scheme, m.group("rest"), context)
        if options.table is not None and not _IDENT.match(options.table):
            raise context.error(f"'{options.table}' is not a plain table name",
                                hint="use `query:` for quoted or unusual identifiers")
        query = sampled(_read_only(context, options.sql(quote=False)), context.sample_rows)
        try:
            if scheme == "sqlite":
                return self._stdlib_sqlite(uri, query, context)
            if "+" not in scheme and _has("connectorx"):
                frame = pl.read_database_uri(query, uri, engine="connectorx")
            elif _has("sqlalchemy"):
                import sqlalchemy  # type: ignore[import-not-found,unused-ignore]

                engine = sqlalchemy.create_engine(uri)
                try:
                    with engine.connect() as conn:
                        frame = pl.read_database(sqlalchemy.text(query), connection=conn,
                                                 infer_schema_length=None)
                finally:
                    engine.dispose()
            else:
                raise context.error(
                    f"reading '{scheme}' databases needs connectorx or SQLAlchemy, and neither is installed",
                    hint="pip install 'metricspec-cli[sql]' (plus the database's driver for SQLAlchemy, "
                         "e.g. psycopg for PostgreSQL)",
                )
        except ImportError as exc:
            raise context.error(f"a database driver is missing: {first_line(exc)}",
                                hint="pip install 'metricspec-cli[sql]' and the driver of your database") from None
        except Exception as exc:
            from metricspec.errors import MetricSpecError

            if isinstance(exc, MetricSpecError):
                raise
            raise context.error(f"query failed on {_redact(uri)}: {first_line(exc)}",
                                hint="check the URI, the credentials and the SQL") from None
        assert isinstance(frame, pl.DataFrame)
        return frame.lazy()

    @staticmethod
    def _resolve_sqlite(uri: str, scheme: str, rest: str, context: SourceContext) -> str:
        """Make ``sqlite:///relative.db`` relative to the spec file rather than the working directory."""
        if not scheme.startswith("sqlite") or not rest.startswith("/") or rest.startswith("//"):
            return uri
        file_part, sep, query = rest[1:].partition("?")
        if not file_part or file_part == ":memory:":
            return uri
        path = context.resolve(file_part)
        if not path.is_file():
            raise context.error(f"database file not found: {path}", hint=PATH_HINT)
        return f"{uri.split('://', 1)[0]}:///{path.resolve().as_posix()}" + (sep + query if sep else "")

    @staticmethod
    def _stdlib_sqlite(uri: str, query: str, context: SourceContext) -> pl.LazyFrame:
        """Fallback for sqlite:// URIs when no SQL extra is installed."""
        import sqlite3

        import polars as pl

        path = uri.split("://", 1)[1].partition("?")[0]
        path = path[1:] if path.startswith("//") else path
        if not Path(path).is_file():
            raise context.error(f"database file not found: {path}", hint=PATH_HINT)
        from metricspec.connectors.sandbox import sqlite_lockdown, sqlite_uri

        conn = sqlite3.connect(sqlite_uri(Path(path)), uri=True)
        sqlite_lockdown(conn)
        try:
            frame = pl.read_database(query, connection=conn, infer_schema_length=None)
        except sqlite3.Error as exc:
            raise context.error(f"query failed on {path}: {exc}", hint="check the SQL and the table name") from None
        finally:
            conn.close()
        assert isinstance(frame, pl.DataFrame)
        return frame.lazy()


def _redact(uri: str) -> str:
    """Hide the password of a URI in messages."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", uri)


# ---------------------------------------------------------------------------- duckdb


class DuckDBOptions(_QueryOrTable):
    """Options of the ``duckdb`` connector."""

    path: str | None = Field(
        None, description="DuckDB database file (opened read-only); omit for an in-memory database."
    )


class DuckDBConnector(Connector):
    """A DuckDB database file, or DuckDB's SQL over files (``read_csv``, ``read_parquet``) in memory."""

    name = "duckdb"
    Options = DuckDBOptions
    description = "DuckDB database or query"

    def scan(self, options: DuckDBOptions, context: SourceContext) -> pl.LazyFrame:
        """Run the query (relative file paths in it resolve against the spec's directory)."""
        try:
            import duckdb
        except ImportError:
            raise context.error("the duckdb connector needs the 'duckdb' package",
                                hint="pip install 'metricspec-cli[duckdb]'") from None
        from metricspec.connectors.sandbox import (
            apply_duckdb_settings,
            duckdb_allowed_paths,
            duckdb_config,
            duckdb_settings,
        )

        where = "the in-memory database"
        query = _read_only(context, options.sql())
        if options.path is not None:
            path = context.resolve(options.path)
            if not path.is_file():
                raise context.error(f"database file not found: {path}", hint=PATH_HINT)
            where = f"database {path}"
            try:
                con = duckdb.connect(str(path), read_only=True, config=duckdb_config())
            except duckdb.Error as exc:
                raise context.error(f"cannot open {path} as a DuckDB database: {first_line(exc)}",
                                    hint="check that the file is a DuckDB database of a compatible version") from None
        else:
            con = duckdb.connect(config=duckdb_config())
        try:
            allowed = duckdb_allowed_paths(query, context.base_dir, context.root)
            apply_duckdb_settings(con, duckdb_settings(context.base_dir, allowed))
            if options.table is not None:
                tables = self._tables(con)
                if options.table not in tables and options.table.split(".")[-1] not in tables:
                    raise _unknown_table(context, options.table, sorted(set(tables)), where)
            try:
                relation = con.sql(query)
                if context.sample_rows is not None:
                    relation = relation.limit(context.sample_rows)
                frame: pl.DataFrame = relation.pl()
            except duckdb.Error as exc:
                raise context.error(f"query failed on {where}: {first_line(exc)}",
                                    hint="check the SQL of `query:`") from None
        finally:
            con.close()
        return frame.lazy()

    @staticmethod
    def _tables(con: Any) -> list[str]:
        rows = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
        names: list[str] = []
        for schema, name in rows:
            names.append(name)
            names.append(f"{schema}.{name}")
        return names
