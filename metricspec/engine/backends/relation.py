"""A source that lives in a database: an ibis table expression, prepared the way the spec says.

Connectors of databases (``duckdb``, ``sql``, ``spark``, ...) return an ibis table instead of a polars
LazyFrame; :func:`metricspec.engine.backends.sql_prepare.prepare` applies the source's renames, column
types, time zones and derived columns to it as ibis expressions, so the SQL backend can push every
aggregation down to the database. Consumers that need rows (funnels, retention, control groups,
attribution) read :attr:`Relation.frame`: a polars LazyFrame whose projection is pushed into the SQL
it sends, so only the columns they read leave the database.

ibis is imported only when a database source is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from metricspec.errors import DataError, Location, MetricSpecError

if TYPE_CHECKING:
    import polars as pl


class RelayedError(DataError):
    """A DataError raised while polars reads a database source through its IO-source frame.

    polars re-raises an exception from a Python IO source as ``type(exc)(str(exc) + context)``, which
    would lose ``where`` and ``hint``; this class restores them from its own ``str()`` so the error a
    caller catches is as precise as the one raised (see :func:`relayed`).
    """

    _known: ClassVar[dict[str, tuple[str, Location | None, str | None]]] = {}

    def __init__(self, message: str, *, where: Location | None = None, hint: str | None = None):
        text = message.split("\n\nThis error occurred", 1)[0].rstrip()
        known = self._known.get(text) if where is None and hint is None else None
        if known is not None:
            message, where, hint = known
        super().__init__(message, where=where, hint=hint)
        if known is None:
            if len(self._known) > 256:
                self._known.clear()
            self._known[str(self)] = (message, where, hint)


def relayed(exc: MetricSpecError) -> RelayedError:
    """``exc`` as an error that keeps its place and hint through polars."""
    return RelayedError(exc.message, where=exc.where, hint=exc.hint)


@dataclass(frozen=True, eq=False)
class Relation:
    """A prepared database source."""

    source: str
    table: Any
    """The prepared ibis table: spec column names, datetimes as local wall-clock times in the spec's
    time zone (naive), dates as dates."""
    dialect: str
    """ibis backend name: duckdb, postgres, pyspark, ..."""
    connection_key: str
    """Sources sharing a key share one connection (and one SQL backend)."""
    schema: dict[str, pl.DataType]
    """The polars view of the prepared columns (datetimes aware in the spec's time zone, as the
    polars backend sees them)."""
    frame: pl.LazyFrame
    """The rows as polars reads them, columns fetched on demand."""
    where: Any = None
    """Location of the source in the spec, for errors."""
    checks: tuple[Any, ...] = ()
    """:class:`~metricspec.engine.backends.sql_prepare.CastCheck` per declared type whose cast can fail
    on a value; run before the columns are read."""
    _checked: set[str] = field(default_factory=set)
    instants: Any = None
    """:attr:`table` with, beside each datetime column, its instant as naive UTC time (hidden columns,
    :func:`~metricspec.engine.backends.sql_time.instant_column`): the table ``hour`` queries read, since
    a local wall-clock time cannot tell the two hours of the night the clocks go back apart. None: the
    source has no datetime columns."""

    def pending_checks(self, columns: list[str]) -> list[Any]:
        """The checks of ``columns`` not run yet (for ``--explain``: nothing is marked as run)."""
        return [c for c in self.checks if c.column in columns and c.column not in self._checked]

    def columns_checked(self, columns: list[str]) -> list[Any]:
        """The checks of ``columns`` not run yet (each check runs once per relation)."""
        todo = self.pending_checks(columns)
        self._checked.update(c.column for c in todo)
        return todo
