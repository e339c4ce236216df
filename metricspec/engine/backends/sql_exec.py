"""Sending a statement to a source's database and reading its answer into polars.

ibis compiles the expression to the database's SQL; how it is sent depends on the database:

* **DuckDB** (in this process): the SQL goes to DuckDB's own connection and comes back through its
  Arrow export (ibis' result conversion imports pandas: 0.7 s of every run);
* **PostgreSQL**: a plain statement on a client-side cursor. ibis reads results through a named
  server-side cursor (``DECLARE ... CURSOR``), and PostgreSQL never runs a cursor's plan in parallel;
  an aggregate's answer is a few rows, so nothing is gained by streaming it;
* any other database: ibis' own ``to_polars``.

Row reads (funnels, retention, control groups) go through DuckDB's Arrow export too; elsewhere through
ibis' streaming path (their answer can be large).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metricspec.errors import DataError, MetricSpecError

if TYPE_CHECKING:
    import polars as pl

    from metricspec.engine.backends.relation import Relation

_LOCKS: dict[str, threading.Lock] = {}


def connection_lock(rel: Relation) -> threading.Lock:
    """One lock per database connection: a connection runs one statement at a time (DuckDB's refuse
    a second call), and polars may read two relations of one database from two threads."""
    return _LOCKS.setdefault(rel.connection_key, threading.Lock())


def compile_sql(expr: Any) -> str:
    """The SQL ``expr`` sends, in its database's dialect."""
    return str(expr._find_backend().compile(expr))


@dataclass(frozen=True)
class Compiled:
    """An expression and its SQL, compiled ahead (:meth:`SqlBackend.run` compiles the next statement
    while the database runs the current one)."""

    expr: Any
    sql: str | None


def compile_ahead(expr: Any, dialect: str) -> Compiled:
    """``expr`` with its SQL when :data:`SMALL_RESULTS` sends it as SQL, else as it is (ibis compiles it)."""
    return Compiled(expr, compile_sql(expr) if dialect in SMALL_RESULTS else None)


def _prepared(backend: Any, expr: Any, sql: str | None) -> str:
    hooks = getattr(backend, "_run_pre_execute_hooks", None)  # registers in-memory tables an expression reads
    if hooks is not None:
        hooks(expr)
    return sql if sql is not None else str(backend.compile(expr))


def _duckdb(backend: Any, expr: Any, sql: str | None) -> pl.DataFrame:
    frame: pl.DataFrame = backend.con.sql(_prepared(backend, expr, sql)).pl()
    return frame


def _postgres(backend: Any, expr: Any, sql: str | None) -> pl.DataFrame:
    import polars as pl
    from ibis.formats.polars import PolarsType

    sql = _prepared(backend, expr, sql)
    schema = {name: PolarsType.from_ibis(dtype) for name, dtype in expr.as_table().schema().items()}
    con = backend.con
    with con.cursor() as cursor, con.transaction():
        cursor.execute(sql)
        rows = cursor.fetchall()
    # PostgreSQL's DATE_TRUNC of a date answers a timestamp: its date (in the session's zone) is the period
    dates = [i for i, dtype in enumerate(schema.values()) if dtype == pl.Date]
    if dates:
        rows = [tuple(v.date() if i in dates and isinstance(v, dt.datetime) else v for i, v in enumerate(row))
                for row in rows]
    return pl.DataFrame(rows, schema=schema, orient="row")


SMALL_RESULTS: dict[str, Callable[[Any, Any, str | None], pl.DataFrame]] = {"duckdb": _duckdb, "postgres": _postgres}
"""How an aggregate statement is sent, per database (others: ibis' ``to_polars``)."""
ALL_RESULTS = frozenset({"duckdb"})
"""Databases whose own export is used for every answer, rows too (DuckDB's Arrow export streams them)."""


def to_frame(rel: Relation, expr: Any, *, small: bool = False) -> pl.DataFrame:
    """Execute ``expr`` (or a :class:`Compiled` one) in the source's database; a database error names the
    source. ``small``: the answer is a few aggregated rows (a plain statement where the database has one)."""
    import polars as pl

    sql = None
    if isinstance(expr, Compiled):
        expr, sql = expr.expr, expr.sql
    try:
        with connection_lock(rel):
            send = SMALL_RESULTS.get(rel.dialect) if small or rel.dialect in ALL_RESULTS else None
            out = send(expr._find_backend(), expr, sql) if send is not None else expr.to_polars()
    except MetricSpecError:
        raise
    except Exception as exc:
        raise database_error(rel, exc) from None
    assert isinstance(out, pl.DataFrame)
    return out


def database_error(rel: Relation, exc: BaseException) -> DataError:
    from metricspec.connectors.files import first_line

    message = first_line(exc)
    if "out of memory" not in message.lower():
        hint = "check that the table and columns exist and the values have the declared types"
    elif rel.dialect == "duckdb":  # DuckDB's "Out of Memory Error"
        hint = ("DuckDB ran out of the memory it may use: raise the duckdb connector's `memory_limit:` (DuckDB "
                "spills to disk within it, but a count distinct needs some room) or run on a larger machine")
    else:  # PostgreSQL's "out of memory", a warehouse's
        hint = "the database ran out of memory for this query: ask its administrator for more, or narrow the KPIs"
    return DataError(f"source '{rel.source}': the {rel.dialect} query failed: {message}", where=rel.where, hint=hint)


@dataclass(frozen=True)
class Checks:
    """The cast checks of a source's columns, as one statement: the first bad value of each, as text."""

    checks: tuple[Any, ...]

    def expr(self) -> Any:
        table = self.checks[0].table
        return table.aggregate(**{f"c{i}": c.raw.cast("string").min(where=c.bad)
                                  for i, c in enumerate(self.checks)})

    def raise_first(self, rel: Relation, bad: list[object]) -> None:
        for check, value in zip(self.checks, bad, strict=True):
            if value is not None:
                raise DataError(check.message(rel.source, value), where=rel.where, hint=check.hint())


def run_checks(rel: Relation, columns: list[str]) -> None:
    """Report the first stored value that does not convert to its declared type (text declared int...):
    one statement for every check of the columns not checked yet."""
    checks = rel.columns_checked(columns)
    if checks:
        item = Checks(tuple(checks))
        item.raise_first(rel, list(to_frame(rel, item.expr(), small=True).row(0)))
