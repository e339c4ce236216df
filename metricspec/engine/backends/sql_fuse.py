"""Fused statements: how the SQL backend groups a plan's queries into the statements it sends.

The plan has one :class:`~metricspec.plan.nodes.Query` per (source, time column, grain, segments,
scope). A database reads a table once per statement, so the SQL backend sends one statement per
(source, time column, grain, breakdown), as an analyst would write it: every aggregate of every query
that shares it, whatever its scope, each query's own scope inside its aggregates
(``SUM(x) FILTER (WHERE ...)``, or ``CASE WHEN`` where the database has no ``FILTER``), the scope every
query shares in the ``WHERE``. Goal windows (a total from a start date to a deadline) and all-time
values are one more statement per (source, time column, breakdown): each window's dates go into its
aggregates' filter, the ``WHERE`` reads the dates of all of them.

A query whose rows are not all of the statement's (another scope, another window) gets a row count of
its own, so that a group (period, segment value) holding none of its rows is left out of its answer,
as its own statement would have answered. A statement without a ``GROUP BY`` (the windows of a headline,
all-time values) answers one row per query even when it read no row, as the polars backend does. The rows a base KPI skipped because its value was null are
counted in the same statement (per period, then added up: every row of the run's range is in one
period), not in a statement of their own.

This module is plain data (no ibis): ``--explain`` and the snapshot tests read it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from metricspec.plan.nodes import (
    NO_TIME,
    EntityFilter,
    NullCountQuery,
    Query,
    RowFilter,
    Scope,
    Window,
)
from metricspec.spec.expr import names


@dataclass(frozen=True)
class Member:
    """One query of a statement."""

    query: Query
    scope: Scope
    """The part of the query's scope the statement's ``WHERE`` does not hold (in its aggregates' filter)."""
    window: Window | None
    """A goal window's dates, when the statement's ``WHERE`` reads a wider span (in the filter too)."""
    counted: bool
    """Whether the statement counts the query's rows per group: its answer keeps the groups holding any."""

    def has_condition(self) -> bool:
        return bool(self.scope) or self.window is not None


@dataclass(frozen=True)
class NullCounts:
    """A null-count query answered by a statement: each of its aggregates' null rows, counted within the
    conditions of member ``member`` (-1: the statement's ``WHERE`` alone)."""

    query: NullCountQuery
    member: int


@dataclass
class Statement:
    """One ``SELECT ... GROUP BY`` sent to the database."""

    source: str
    time_column: str
    grain: str | None
    """The period grain; None for a statement of windows (goal totals, all-time values): no period."""
    segments: tuple[str, ...]
    scope: Scope
    """The scope every member shares: the ``WHERE``."""
    span: Window | None
    """Windows: the first and last date any member's window covers (the ``WHERE``); else None."""
    members: list[Member] = field(default_factory=list)
    null_counts: list[NullCounts] = field(default_factory=list)
    where: RowFilter | None = None
    """Every member's ``--where`` (queries with another one are another statement)."""
    entities: EntityFilter | None = None
    """Every member's entity condition (a semi-join before grouping; one window a statement)."""

    @property
    def grouped(self) -> bool:
        return self.grain is not None or bool(self.segments)

    def columns(self) -> list[str]:
        """Every column the statement reads."""
        cols = [self.time_column] if self.time_column != NO_TIME else []
        cols += [*self.segments, *(c for c, _ in self.scope)]
        for m in self.members:
            cols += [*m.query.columns(), *(c for c, _ in m.scope)]
        for n in self.null_counts:
            for a in n.query.aggregates:
                cols += a.columns()
        if self.where is not None:
            cols += names(self.where.node)
        if self.entities is not None:
            cols.append(self.entities.column)
        return list(dict.fromkeys(cols))

    def describe(self) -> str:
        grain = self.grain or ("all" if self.time_column == NO_TIME else "windows")
        segments = ", ".join(self.segments) or "-"
        where = f" · where {self.where.text}" if self.where is not None else ""
        entities = f" · entities {self.entities.column}: {self.entities.text}" if self.entities is not None else ""
        return f"{self.source} · grain {grain} · segments {segments}{where}{entities}"


def fuse(queries: list[Query], null_counts: Sequence[NullCountQuery] = ()) -> list[Statement]:
    """The statements that answer ``queries`` and ``null_counts``, in the order of the queries."""
    groups: dict[tuple[object, ...], list[Query]] = {}
    for q in queries:
        k = q.key
        grain = k.grain if isinstance(k.grain, str) else None
        # an entity condition matches rows by period: one window a statement
        window = k.grain if grain is None and k.entities is not None else None
        groups.setdefault((k.source, k.time_column, grain, k.segments, k.where, k.entities, window), []).append(q)
    statements = [_statement(key[0], key[1], key[2], key[3], members)  # type: ignore[arg-type]
                  for key, members in groups.items()]
    for nc in null_counts:
        _attach(statements, nc)
    return statements


def _statement(source: str, time_column: str, grain: str | None, segments: tuple[str, ...],
               queries: list[Query]) -> Statement:
    common = set(queries[0].key.scope)
    for q in queries[1:]:
        common &= set(q.key.scope)
    scope = tuple(p for p in queries[0].key.scope if p in common)
    span = None
    windows = [q.key.grain for q in queries if isinstance(q.key.grain, Window)]
    if grain is None and time_column != NO_TIME and windows:
        span = Window(min(w.start for w in windows), max(w.end for w in windows))
    st = Statement(source, time_column, grain, segments, scope, span, where=queries[0].key.where,
                   entities=queries[0].key.entities)
    for q in queries:
        residual = tuple(p for p in q.key.scope if p not in common)
        window = q.key.grain if span is not None and q.key.grain != span else None
        assert window is None or isinstance(window, Window)
        # without a GROUP BY every query answers its one row, even over no rows (as polars' group-by on
        # a constant period does: a count distinct of an empty window is 0, not missing)
        counted = st.grouped and (bool(residual) or window is not None)
        st.members.append(Member(q, residual, window, counted))
    return st


def _attach(statements: list[Statement], nc: NullCountQuery) -> None:
    """Count ``nc``'s null rows in a statement over the run's range, in its scope (a new one if none)."""
    for st in statements:
        if st.source != nc.source or st.time_column != nc.time_column or st.segments:
            continue
        if st.where is not None or st.entities is not None:  # null counts read every row of the range
            continue
        if st.span is not None:  # a window statement: only an all-time one reads the whole range
            continue
        for i, m in enumerate(st.members):
            if m.query.key.scope == nc.scope:
                st.null_counts.append(NullCounts(nc, i))
                return
    statements.append(Statement(nc.source, nc.time_column, None, (), nc.scope, None,
                                null_counts=[NullCounts(nc, -1)]))
