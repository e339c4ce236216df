"""Database connections shared by the sources of one evaluation (:func:`shared_connections`): a DuckDB
file's (one database instance per file and process) and a database server's (one per URI)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

from metricspec.connectors.base import SourceContext
from metricspec.connectors.sandbox import (
    apply_duckdb_settings,
    duckdb_allowed_paths,
    duckdb_config,
    duckdb_settings,
)

_DUCKDB_FILES: dict[tuple[str, int, int], tuple[Any, frozenset[str], str | None]] = {}
"""One ibis connection per DuckDB file (path, size, modification time) per evaluation, with the files
its queries may read. DuckDB shares one database instance between the connections to a file in a
process, and the sandbox locks that instance's configuration: a second connection could not even
set its time zone, so every source on the file shares the first connection. Closed by
:func:`shared_connections` when the evaluation ends, so the file is free again afterwards."""
_SERVERS: dict[str, Any] = {}
"""One ibis connection per database server URI per evaluation (its sources' statements then go to one
backend: one connection set up, one freshness statement); closed with the DuckDB files."""
_SCOPES: list[set[tuple[str, int, int]]] = []


@contextlib.contextmanager
def shared_connections() -> Iterator[None]:
    """Connections to DuckDB files and database servers opened inside this block are shared by its
    sources and closed at its end (an evaluation; nested blocks leave them to the outermost)."""
    _SCOPES.append(set())
    try:
        yield
    finally:
        opened = _SCOPES.pop()
        if not _SCOPES:
            opened |= set(_DUCKDB_FILES)
        closing = [_DUCKDB_FILES.pop(key, (None, None, None))[0] for key in opened]
        if not _SCOPES:
            closing += [_SERVERS.pop(url) for url in list(_SERVERS)]
        for con in closing:
            if con is not None:
                with contextlib.suppress(Exception):
                    con.disconnect()


def server_connection(url: str) -> Any:
    """An ibis connection to a database server: inside :func:`shared_connections` one per URI, shared by
    the sources on it; outside, a new one."""
    import ibis  # optional and heavy: only where a source is in a database

    connect = _postgres if url.startswith("postgres://") else ibis.connect
    if not _SCOPES:
        return connect(url)
    if url not in _SERVERS:
        _SERVERS[url] = connect(url)
    return _SERVERS[url]


def _postgres(url: str) -> Any:
    """ibis' PostgreSQL connection without its one import of pandas: ibis' ``_post_connect`` registers a
    dumper for pandas' ``NaT`` (used when writing a pandas frame, which metricspec never does), and
    importing pandas for it cost every PostgreSQL run about 80 MiB and a fifth of its start-up. The rest
    of ``_post_connect`` (the session's time zone, a schema from the URL) is done as ibis does it."""
    from ibis.backends.postgres import Backend  # optional and heavy: on first use

    class Postgres(Backend):  # type: ignore[misc]
        def _post_connect(self) -> None:
            with (con := self.con).cursor() as cursor, con.transaction():
                cursor.execute("SET TIMEZONE = UTC")
                if schema := self._con_kwargs.get("schema"):
                    cursor.execute("SELECT set_config('search_path', %s, false)", (schema,))

    parsed = urlparse(url)
    return Postgres()._from_url(parsed, **dict(parse_qsl(parsed.query)))


def duckdb_backend(path: Path | None, query: str, context: SourceContext, memory_limit: str | None = None) -> Any:
    """An ibis DuckDB connection, read-only for a file, sandboxed (see metricspec/connectors/sandbox.py),
    with DuckDB's ``memory_limit`` when given."""
    import ibis  # optional and heavy: only where a source is in a database

    allowed = duckdb_allowed_paths(query, context.base_dir, context.root)
    config = duckdb_config() | ({"memory_limit": memory_limit} if memory_limit else {})
    if path is None:
        con = ibis.duckdb.connect(**config)
        apply_duckdb_settings(con.con, duckdb_settings(context.base_dir, allowed))
        return con
    real = path.resolve()
    stat = real.stat()
    key = (str(real), stat.st_size, stat.st_mtime_ns)
    if key not in _DUCKDB_FILES:
        con = ibis.duckdb.connect(str(real), read_only=True, **config)
        apply_duckdb_settings(con.con, duckdb_settings(context.base_dir, allowed))
        _DUCKDB_FILES[key] = (con, frozenset(allowed), memory_limit)
        if _SCOPES:
            _SCOPES[-1].add(key)
    con, granted, limit = _DUCKDB_FILES[key]
    if memory_limit != limit:
        raise context.error(
            f"memory_limit {memory_limit or '(none)'} differs from another source's on {path} "
            f"({limit or 'none'}): the sources of one DuckDB file share one database instance",
            hint="give every source on that file the same `memory_limit:`")
    if not set(allowed) <= granted:
        raise context.error(
            f"the query reads files ({', '.join(sorted(set(allowed) - granted))}) that another source on {path} "
            "did not: DuckDB fixes the files a database may read when it is first opened",
            hint="read those files from an in-memory DuckDB (omit `path:`), or through a file connector")
    return con
