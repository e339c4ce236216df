"""Database settings that keep a spec's SQL to reading its own data (see docs/security.md).

Independent of how a connection is made (the built-in connectors, or ibis), so every backend
applies the same rules:

* :func:`select_only` — a query is one or more SELECT statements: no ``COPY … TO``, ``ATTACH``,
  ``INSTALL``/``LOAD``, ``SET``, ``PRAGMA``, ``CREATE`` or ``EXPORT``.
* DuckDB: :func:`duckdb_config` (for ``duckdb.connect(config=...)``) and :func:`duckdb_settings`
  (``SET`` statements to run right after connecting, in order): extensions are never installed or
  loaded, external access is off except for the exact files the query names inside the project
  root (:func:`duckdb_allowed_paths`), and the configuration is locked so the query cannot undo it.
  ``read_text('/proc/self/environ')``, ``read_csv('/etc/passwd')`` and writing files fail.
* SQLite: :func:`sqlite_uri` opens a database file read-only by URI (``mode=ro``), and
  :func:`sqlite_lockdown` allows no ``ATTACH`` and only reading statements.
"""

from __future__ import annotations

import functools
import glob as globlib
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from metricspec.trust import record_read

READ_ONLY_HINT = "a query may only read (SELECT ...); metricspec never writes to a database or a file"


def duckdb_config() -> dict[str, Any]:
    """Options for ``duckdb.connect(..., config=...)``: no extension is installed or loaded on demand."""
    return {"autoinstall_known_extensions": False, "autoload_known_extensions": False,
            "allow_community_extensions": False}


def _literals(sql: str) -> list[str]:
    """The text of every quoted string constant in ``sql`` (DuckDB's own tokenizer)."""
    import duckdb  # optional and heavy: the duckdb extra

    out = []
    for start, kind in duckdb.tokenize(sql):
        if kind != duckdb.token_type.string_const:
            continue
        quote = sql[start]
        if quote not in "'\"":
            continue
        end = start + 1
        while end < len(sql):
            if sql[end] == quote and sql[end + 1:end + 2] == quote:
                end += 2
                continue
            if sql[end] == quote:
                break
            end += 1
        out.append(sql[start + 1:end].replace(quote * 2, quote))
    return out


def duckdb_allowed_paths(sql: str, base_dir: Path, root: Path | None) -> list[str]:
    """The files a query may read: each string in it that names files (a path or a glob, relative
    to ``base_dir``) existing inside ``root`` once symlinks are resolved, in the forms DuckDB checks
    (as written and absolute). ``root=None`` (outside-root access allowed) admits any existing file."""
    allowed: list[str] = []
    for text in _literals(sql):
        if not text or "://" in text or "\n" in text:
            continue
        candidate = Path(text).expanduser()
        full = candidate if candidate.is_absolute() else base_dir / candidate
        matches = [Path(m) for m in globlib.glob(str(full), recursive=True)] if any(c in text for c in "*?[") \
            else ([full] if full.exists() else [])
        inside = [m for m in matches if not _system(m.resolve())
                  and (root is None or m.resolve() == root or root in m.resolve().parents)]
        if not inside or len(inside) != len(matches):
            continue  # nothing there, or a match outside the root: the query gets no access to it
        allowed.append(text)
        allowed.append(str(full))
        for m in inside:
            record_read(m)
            allowed.append(str(m))
            allowed.append(str(m.resolve()))
            if not candidate.is_absolute():
                allowed.append(str(m.relative_to(base_dir)))
    return sorted(set(allowed))


def _system(path: Path) -> bool:
    """/proc, /sys and /dev (the environment, devices) are never data, whatever the root."""
    return path.parts[:2] in (("/", "proc"), ("/", "sys"), ("/", "dev"))


def duckdb_settings(base_dir: Path, allowed_paths: list[str]) -> list[tuple[str, Any]]:
    """``(name, value)`` settings to apply in this order after connecting (``SET name = value``)."""
    return [("file_search_path", str(base_dir)), ("allowed_paths", allowed_paths),
            ("enable_external_access", False), ("lock_configuration", True)]


def apply_duckdb_settings(con: Any, settings: list[tuple[str, Any]]) -> None:
    """Run :func:`duckdb_settings` on a DuckDB connection (values bound as parameters)."""
    for name, value in settings:
        con.execute(f"SET {name} = ?", [value])


_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|UPSERT|REPLACE\s+INTO|COPY|ATTACH|DETACH|CREATE|DROP|ALTER|"
                     r"TRUNCATE|GRANT|REVOKE|PRAGMA|INSTALL|LOAD|EXPORT|IMPORT|CALL|VACUUM|SET|RESET|CHECKPOINT)\b",
                     re.IGNORECASE)
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)


def select_only(sql: str) -> str | None:
    """None when ``sql`` only reads; else the kind of statement that does more.

    Every statement must be a SELECT to DuckDB's parser (when it is installed and reads the
    dialect), and no writing keyword may appear outside strings, quoted names and comments
    (``WITH x AS (DELETE ...) SELECT ...`` is a SELECT to DuckDB). SQL that DuckDB cannot parse
    (another dialect: Spark's ``ADD JAR``, ``INSERT OVERWRITE DIRECTORY``, ``CACHE TABLE``) must
    also start each statement with SELECT, WITH, VALUES, TABLE or FROM.
    """
    try:
        import duckdb  # optional and heavy: the duckdb extra
    except ImportError:
        return _keyword_check(sql, reads_first=True)
    parser, lock = _parser()
    try:
        with lock:
            statements = parser.extract_statements(sql)
    except duckdb.Error:
        return _keyword_check(sql, reads_first=True)
    for statement in statements:
        if statement.type != duckdb.StatementType.SELECT:
            return str(statement.type.name)
    return _keyword_check(sql)  # a SELECT can still hold a writing CTE (PostgreSQL's WITH x AS (DELETE ...))


@functools.cache
def _parser() -> tuple[Any, threading.Lock]:
    """One sandboxed in-memory DuckDB, kept for the process, whose parser reads the statements; it runs
    none of them. Opening a database costs about 35 ms, which every SQL source of a run used to pay."""
    import duckdb  # optional and heavy: the duckdb extra

    return duckdb.connect(config=duckdb_config()), threading.Lock()


_READS_FIRST = re.compile(r"[(\s]*(SELECT|WITH|VALUES|TABLE|FROM)\b", re.IGNORECASE)
_SESSION_FUNCTIONS = re.compile(
    r"\b(set_config|nextval|setval|pg_reload_conf|pg_terminate_backend|pg_cancel_backend|dblink_exec|dblink|"
    r"lo_import|lo_export|lo_create|lo_unlink|lo_put|lo_from_bytea|pg_read_file|pg_read_binary_file|pg_ls_dir|"
    r"pg_stat_file|query_to_xml|query_to_xml_and_xmlschema|cursor_to_xml)\s*\(", re.IGNORECASE)
"""PostgreSQL's functions that write in a SELECT (sequences, large objects), change the session (SET in a
SELECT), run other SQL (query_to_xml) or reach the server's files and other servers."""


def _keyword_check(sql: str, *, reads_first: bool = False) -> str | None:
    bare = strip_quoted(sql)
    found = _WRITES.search(bare) or _SESSION_FUNCTIONS.search(bare)
    if found:
        return found.group(1).upper().split()[0]
    for statement in bare.split(";") if reads_first else []:
        if statement.strip() and not _READS_FIRST.match(statement):
            return statement.split()[0].upper()
    return None


_BACKTICKS = re.compile(r"`(?:[^`]|``)*`")


def strip_quoted(sql: str, *, backticks: bool = True) -> str:
    """``sql`` with its strings, quoted names and comments blanked out (what a keyword check reads);
    ``backticks=False`` keeps backquoted names (Spark's ``csv.`path```)."""
    bare = _QUOTED.sub(" ", sql)
    return _BACKTICKS.sub(" ", bare) if backticks else bare


def sqlite_uri(path: Path) -> str:
    """The URI that opens a SQLite file read-only (``sqlite3.connect(uri, uri=True)``)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _sqlite_authorizer() -> Callable[..., int]:
    allowed = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}

    def authorize(action: int, *_args: object) -> int:
        return sqlite3.SQLITE_OK if action in allowed else sqlite3.SQLITE_DENY

    return authorize


def sqlite_lockdown(conn: Any) -> None:
    """Allow only reading statements on a sqlite3 connection: no ATTACH, PRAGMA, writes or DDL."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.set_authorizer(_sqlite_authorizer())
