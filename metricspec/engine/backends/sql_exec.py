"""Sending a statement to a source's database and reading its answer into polars.

ibis compiles the expression to the database's SQL; how it is sent is the database's dialect's
(:meth:`~metricspec.engine.backends.dialects.base.Dialect.send`): DuckDB's own connection and Arrow
export, a plain statement on a client-side cursor on PostgreSQL, ibis' own ``to_polars`` elsewhere.
Row reads (funnels, retention, control groups) go through DuckDB's Arrow export too; elsewhere through
ibis' streaming path (their answer can be large).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from metricspec.connectors.files import first_line
from metricspec.engine.backends.dialects import dialect_for
from metricspec.errors import DataError, MetricSpecError

if TYPE_CHECKING:
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
    """``expr`` with its SQL when its database is sent aggregates as SQL, else as it is (ibis compiles it)."""
    return Compiled(expr, compile_sql(expr) if dialect_for(dialect).sends_small_results else None)


def to_frame(rel: Relation, expr: Any, *, small: bool = False) -> pl.DataFrame:
    """Execute ``expr`` (or a :class:`Compiled` one) in the source's database; a database error names the
    source. ``small``: the answer is a few aggregated rows (a plain statement where the database has one)."""
    sql = None
    if isinstance(expr, Compiled):
        expr, sql = expr.expr, expr.sql
    try:
        with connection_lock(rel):
            d = dialect_for(rel.dialect)
            sent = (small and d.sends_small_results) or d.sends_all_results
            out = d.send(expr._find_backend(), expr, sql) if sent else expr.to_polars()
    except MetricSpecError:
        raise
    except Exception as exc:
        raise database_error(rel, exc) from None
    assert isinstance(out, pl.DataFrame)
    return out


def database_error(rel: Relation, exc: BaseException) -> DataError:
    message = first_line(exc)
    if "out of memory" not in message.lower():
        hint = "check that the table and columns exist and the values have the declared types"
    else:  # DuckDB's "Out of Memory Error", PostgreSQL's "out of memory", a warehouse's
        hint = dialect_for(rel.dialect).out_of_memory_hint
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
