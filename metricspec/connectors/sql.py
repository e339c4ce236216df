"""Database connectors: ``sqlite``, ``sql`` (any database by URI) and ``duckdb``.

Each reads the result of a ``query`` or a whole ``table`` (exactly one of the two)
into memory and hands it on as a LazyFrame. Database problems (a missing file, an
unknown table, a failing query, a missing driver) become a
:class:`~metricspec.errors.DataError`; polars and the drivers are imported lazily.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import unquote, urlparse

from pydantic import Field, field_validator, model_validator

from metricspec.connectors.base import Connector, ConnectorOptions, SourceContext
from metricspec.connectors.files import PATH_HINT, first_line
from metricspec.connectors.sandbox import (
    READ_ONLY_HINT,
    apply_duckdb_settings,
    duckdb_allowed_paths,
    duckdb_config,
    duckdb_settings,
    select_only,
)
from metricspec.connectors.shared import duckdb_backend, server_connection
from metricspec.connectors.sqlite_read import sandboxed, sqlite_lazy
from metricspec.connectors.uris import expand_env, no_session_options, read_only_uri, redact
from metricspec.errors import MetricSpecError

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

    def checked_sql(self, context: SourceContext, quote: bool = True) -> str:
        """:meth:`sql`, once a ``query`` is checked to only read (:func:`_read_only`). ``SELECT * FROM`` a
        table only reads as built, so a table source is not parsed (nor DuckDB loaded to parse it)."""
        return self.sql(quote) if self.query is None else _read_only(context, self.query)


def sampled(query: str, rows: int | None) -> str:
    """``query`` limited to ``rows`` rows (``validate --data`` reads a sample), or ``query`` itself."""
    if rows is None:
        return query
    inner = query.strip().rstrip(";").rstrip()
    # on lines of its own, so that a `-- comment` ending the query does not swallow the wrapper
    return f"SELECT * FROM (\n{inner}\n) AS metricspec_sample LIMIT {int(rows)}"


def _read_only(context: SourceContext, sql: str) -> str:
    """``sql`` if it only reads (see :func:`metricspec.connectors.sandbox.select_only`)."""
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
        import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

        path = context.resolve(options.path)
        if not path.is_file():
            raise context.error(f"database file not found: {path}", hint=PATH_HINT)
        options.checked_sql(context)
        try:
            conn = sandboxed(path)
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
                if context.sample_rows is None:  # the columns a run reads, when it reads them (connectorx)
                    return sqlite_lazy(path, options.sql(), lambda: sandboxed(path), context.error)
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

    def scan(self, options: SqlOptions, context: SourceContext) -> Any:
        """The table or query: an ibis table of the database when ibis and the driver are installed
        (the KPIs are computed there), else its result read into polars with connectorx or SQLAlchemy."""
        import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

        m = _URI.match(options.uri.strip())
        if m is None:
            raise context.error(f"'{options.uri}' is not a database URI",
                                hint="write it as scheme://user:password@host:port/database, e.g. "
                                     "postgresql://me@localhost/shop or sqlite:///data/app.db")
        scheme = m.group("scheme").lower()
        if scheme.split("+")[0] == "duckdb":
            raise context.error("DuckDB files are read with the duckdb connector (read-only and sandboxed)",
                                hint="write `connector: duckdb` with `options: {path: ..., query: ...}`")
        uri = self._resolve_sqlite(expand_env(options.uri.strip(), context), scheme, context)
        no_session_options(uri, scheme, context)
        if options.table is not None and not _IDENT.match(options.table):
            raise context.error(f"'{options.table}' is not a plain table name",
                                hint="use `query:` for quoted or unusual identifiers")
        query = options.checked_sql(context, quote=False)
        backend = IBIS_BACKENDS.get(scheme)
        if backend is not None and _has("ibis") and _has(DRIVERS[backend]):
            return self._relation(uri, backend, options, context)  # computed in the database
        query = sampled(query, context.sample_rows)
        try:
            if scheme.startswith("sqlite"):  # every driver of it: read-only, through the standard library
                return self._stdlib_sqlite(uri, query, context)
            if "+" not in scheme and _has("connectorx"):
                frame = pl.read_database_uri(query, read_only_uri(uri, scheme), engine="connectorx")
            elif _has("sqlalchemy"):
                import sqlalchemy  # type: ignore[import-not-found,unused-ignore]  # optional (the sql extra)

                engine = sqlalchemy.create_engine(read_only_uri(uri, scheme))
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
            if isinstance(exc, MetricSpecError):
                raise
            raise context.error(f"query failed on {redact(uri)}: {first_line(exc)}",
                                hint="check the URI, the credentials and the SQL") from None
        assert isinstance(frame, pl.DataFrame)
        return frame.lazy()

    @staticmethod
    def _relation(uri: str, backend: str, options: SqlOptions, context: SourceContext) -> Any:
        """The table or query as an ibis table of the database: KPIs are computed there."""
        url = f"{backend}://{uri.split('://', 1)[1]}"  # the scheme ibis knows the database by (postgresql: postgres)
        try:
            con = server_connection(url)
        except Exception as exc:
            raise context.error(f"cannot connect to {redact(uri)}: {first_line(exc)}",
                                hint="check the host, port, database, user and password (environment variables "
                                     "such as ${PG_PASSWORD} are expanded in `uri:`)") from None
        try:
            if options.table is not None:
                schema, _, table = options.table.rpartition(".")
                tables = con.list_tables(database=schema or None)
                if table not in tables:
                    raise _unknown_table(context, options.table, sorted(tables), f"database {redact(uri)}")
                return con.table(table, database=schema or None)
            assert options.query is not None
            return con.sql(options.query)
        except Exception as exc:
            if isinstance(exc, MetricSpecError):
                raise
            raise context.error(f"query failed on {redact(uri)}: {first_line(exc)}",
                                hint="check the table name and the SQL of `query:`") from None

    @staticmethod
    def _resolve_sqlite(uri: str, scheme: str, context: SourceContext) -> str:
        """The database file of a ``sqlite://`` URI, relative to the spec file (``sqlite:///data/app.db``)
        or absolute (``sqlite:////srv/app.db``, ``sqlite:///file:/srv/app.db``), confined to the project
        root like every path a spec names; the URI returned names it absolutely."""
        if not scheme.startswith("sqlite"):
            return uri
        rest = uri.split("://", 1)[1]
        file_part, sep, query = rest.partition("?")
        if not file_part or file_part in ("/", "/:memory:"):
            return uri  # an in-memory database: no file
        if not file_part.startswith("/"):
            raise context.error(f"'{uri}' names no database file",
                                hint="write sqlite:///relative/path.db (to the spec) or sqlite:////absolute/path.db")
        file_part = file_part[1:]
        if file_part.startswith("file:"):  # an SQLite URI filename
            file_part = unquote(urlparse(file_part).path) or file_part[len("file:"):]
        path = context.resolve(file_part)
        if not path.is_file():
            raise context.error(f"database file not found: {path}", hint=PATH_HINT)
        return f"{uri.split('://', 1)[0]}:///{path.resolve().as_posix()}" + (sep + query if sep else "")

    @staticmethod
    def _stdlib_sqlite(uri: str, query: str, context: SourceContext) -> pl.LazyFrame:
        """Fallback for sqlite:// URIs when no SQL extra is installed."""
        import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

        path = uri.split("://", 1)[1].partition("?")[0]
        path = path[1:] if path.startswith("//") else path
        if not Path(path).is_file():
            raise context.error(f"database file not found: {path}", hint=PATH_HINT)
        conn = sandboxed(Path(path))
        try:
            frame = pl.read_database(query, connection=conn, infer_schema_length=None)
        except sqlite3.Error as exc:
            raise context.error(f"query failed on {path}: {exc}", hint="check the SQL and the table name") from None
        finally:
            conn.close()
        assert isinstance(frame, pl.DataFrame)
        return frame.lazy()


IBIS_BACKENDS = {"postgresql": "postgres", "postgres": "postgres", "mysql": "mysql", "snowflake": "snowflake",
                 "bigquery": "bigquery", "trino": "trino", "clickhouse": "clickhouse", "mssql": "mssql",
                 "oracle": "oracle"}
"""URI schemes whose databases compute the KPIs (through ibis) when the driver is installed; other
URIs (and those without the driver) are read into polars with connectorx or SQLAlchemy. DuckDB files
have their own connector (read-only); Databricks is reached with the spark connector (Spark Connect)."""
DRIVERS = {"postgres": "psycopg", "mysql": "MySQLdb", "snowflake": "snowflake.connector",
           "bigquery": "google.cloud.bigquery", "trino": "trino", "clickhouse": "clickhouse_connect",
           "mssql": "pyodbc", "oracle": "oracledb"}

# ---------------------------------------------------------------------------- duckdb


class DuckDBOptions(_QueryOrTable):
    """Options of the ``duckdb`` connector."""

    path: str | None = Field(
        None, description="DuckDB database file (opened read-only); omit for an in-memory database."
    )
    memory_limit: str | None = Field(
        None,
        description="Most memory DuckDB may use in this process, e.g. `500MB` or `2GiB` (DuckDB's "
                    "`memory_limit`; default: 80 % of the machine's). Beyond it, aggregations spill to "
                    "temporary files.",
    )

    @field_validator("memory_limit")
    @classmethod
    def _memory_size(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", value.strip()):
            raise ValueError(f"memory_limit {value!r} is not a size: write a number and a unit, e.g. 500MB or 2GiB")
        return value.strip() if value is not None else None


class DuckDBConnector(Connector):
    """A DuckDB database file, or DuckDB's SQL over files (``read_csv``, ``read_parquet``) in memory.

    Returns an ibis table: the spec's KPIs are computed inside DuckDB (the SQL backend) and only the
    aggregates come back. Without ibis installed, the query's result is read into polars instead.
    """

    name = "duckdb"
    Options = DuckDBOptions
    description = "DuckDB database or query (KPIs computed in DuckDB)"

    def scan(self, options: DuckDBOptions, context: SourceContext) -> Any:
        """Open the database (read-only) and return the table or query as an ibis table."""
        try:
            import duckdb  # optional and heavy: the duckdb extra
        except ImportError:
            raise context.error("the duckdb connector needs the 'duckdb' package",
                                hint="pip install 'metricspec-cli[duckdb]'") from None
        query = options.checked_sql(context)
        if not _has("ibis"):
            return self._read_into_polars(options, context, query)
        where = "the in-memory database"
        path = None
        if options.path is not None:
            path = context.resolve(options.path)
            if not path.is_file():
                raise context.error(f"database file not found: {path}", hint=PATH_HINT)
            where = f"database {path}"
        try:
            con = duckdb_backend(path, query, context, options.memory_limit)
        except duckdb.Error as exc:
            raise context.error(f"cannot open {where} as a DuckDB database: {first_line(exc)}",
                                hint="check that the file is a DuckDB database of a compatible version") from None
        if options.table is not None:
            tables = self._tables(con.con)
            if options.table not in tables and options.table.split(".")[-1] not in tables:
                raise _unknown_table(context, options.table, sorted(set(tables)), where)
        try:
            if options.table is not None:
                schema, _, table = options.table.rpartition(".")
                return con.table(table, database=schema or None)
            # a temporary view, not ibis' con.sql(): that reads the query's schema through a DuckDB
            # connection method DuckDB 2 removed. Named by the query: sources share the connection
            digest = hashlib.sha256(query.encode()).hexdigest()[:16]
            view = f"metricspec_{re.sub(r'[^A-Za-z0-9_]', '_', context.source_name)}_{digest}"
            con.raw_sql(f'CREATE OR REPLACE TEMP VIEW "{view}" AS {query}')
            return con.table(view)
        except Exception as exc:
            raise context.error(f"query failed on {where}: {first_line(exc)}", hint="check the SQL of `query:`") from None

    def _read_into_polars(self, options: DuckDBOptions, context: SourceContext,
                          query: str | None = None) -> pl.LazyFrame:
        """Without ibis: the query's whole result read into polars."""
        import duckdb  # optional and heavy: the duckdb extra

        where = "the in-memory database"
        query = query if query is not None else options.checked_sql(context)
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
