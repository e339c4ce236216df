"""Execution backends: each runs a :class:`~metricspec.plan.nodes.Plan`'s queries where the data lives.

A backend's one job is :meth:`Backend.run`: from the queries of the sources it holds, answer small
aggregated tables (one row per period and segment value), the rows each aggregate skipped because
the value was null, and each source's freshness. Everything after that (filling periods, derived
KPIs, goals, statistics) runs once, in polars, on those small frames, whatever the backend.

* :mod:`.polars` runs files and in-memory frames with polars' lazy engine (the default);
* :mod:`.sql` compiles the plan to ibis expressions and runs it in the database a source's connector
  opened (DuckDB, PostgreSQL, Spark, ...), fetching only the aggregates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import polars as pl

    from metricspec.engine.backends.relation import Relation
    from metricspec.plan.nodes import (
        EventsQuery,
        Freshness,
        FreshnessQuery,
        NullCountQuery,
        Query,
        QueryKey,
        RunRange,
    )
    from metricspec.sources.prepare import PreparedFrame


@dataclass
class Work:
    """What one backend is asked to compute in one go."""

    queries: list[Query] = field(default_factory=list)
    null_counts: list[NullCountQuery] = field(default_factory=list)
    freshness: list[FreshnessQuery] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.queries or self.null_counts or self.freshness)


@dataclass
class Answers:
    frames: dict[QueryKey, pl.DataFrame] = field(default_factory=dict)
    """Per query: ``period`` (Date), segments (String), one Float64 column per aggregate, sorted."""
    null_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    """(source, column or expression) -> rows skipped because the value was null (the largest count
    over the scopes it is read in)."""
    freshness: dict[str, Freshness] = field(default_factory=dict)

    def update(self, other: Answers) -> None:
        self.frames.update(other.frames)
        for k, n in other.null_counts.items():
            self.null_counts[k] = max(self.null_counts.get(k, 0), n)
        self.freshness.update(other.freshness)


@dataclass
class Explained:
    """What a backend would do with some work (``--explain``)."""

    queries: dict[QueryKey, dict[str, object]] = field(default_factory=dict)
    """Per query: ``backend``, ``runs_in``, and on a database the ``statement`` (1-based, in
    :attr:`statements`) that answers it and its ``sql``."""
    statements: list[str] = field(default_factory=list)
    """Every statement sent to a database, in order (the SQL, or a comment naming what a statement
    reads that is compiled only when it runs: cast checks, freshness)."""


class Backend(Protocol):
    """Runs work on the sources it was given."""

    @property
    def name(self) -> str:
        """Shown by --explain."""
        ...

    def run(self, work: Work, rng: RunRange) -> Answers:
        """Execute every query, null count and freshness query of ``work``."""
        ...

    def explain(self, work: Work, rng: RunRange) -> Explained:
        """Where each query of ``work`` runs and, for SQL backends, the statements they send."""
        ...

    def events(self, query: EventsQuery) -> pl.LazyFrame:
        """The rows a funnel step or retention cohort reads (filtered and projected where the data is)."""
        ...


def record_nulls(answers: Answers, source: str, label: str, n: int) -> None:
    key = (source, label)
    answers.null_counts[key] = max(answers.null_counts.get(key, 0), n)


def split_work(work: Work, owner: Mapping[str, str]) -> dict[str, Work]:
    """Split ``work`` by the backend that holds each source (``owner``: source -> backend key)."""
    parts: dict[str, Work] = {}
    for q in work.queries:
        parts.setdefault(owner[q.key.source], Work()).queries.append(q)
        for inp in q.key.entities.inputs if q.key.entities is not None else ():
            if owner[inp.key.source] != owner[q.key.source]:
                from metricspec.errors import DataError

                raise DataError(
                    f"source '{q.key.source}' filters entities by KPI '{inp.name}' of source '{inp.key.source}', "
                    "which another backend holds: the semi-join runs where both sources are",
                    hint="keep both tables in one database (or read both with `engine: polars`)")
    for n in work.null_counts:
        parts.setdefault(owner[n.source], Work()).null_counts.append(n)
    for f in work.freshness:
        parts.setdefault(owner[f.source], Work()).freshness.append(f)
    return parts


@dataclass
class Router:
    """Sends each source's work to the backend that holds the source."""

    backends: dict[str, Backend]
    owner: dict[str, str]
    """source -> key of its backend in :attr:`backends`."""

    def run(self, work: Work, rng: RunRange) -> Answers:
        answers = Answers()
        for key, part in sorted(split_work(work, self.owner).items()):
            answers.update(self.backends[key].run(part, rng))
        return answers

    def explain(self, work: Work, rng: RunRange) -> Explained:
        """Every backend's :meth:`Backend.explain`, statements numbered across the run."""
        out = Explained()
        for key, part in sorted(split_work(work, self.owner).items()):
            got = self.backends[key].explain(part, rng)
            for qkey, info in got.queries.items():
                n = info.get("statement")
                out.queries[qkey] = {**info, "statement": n + len(out.statements)} if isinstance(n, int) else info
            out.statements += got.statements
        return out

    def backend_of(self, source: str) -> Backend:
        return self.backends[self.owner[source]]


def make_router(sources: Mapping[str, pl.LazyFrame], schemas: Mapping[str, Mapping[str, pl.DataType]],
                relations: Mapping[str, Relation] | None = None,
                prepared: Mapping[str, PreparedFrame] | None = None) -> Router:
    """Polars for every source, except those that live in a database (``relations``): those run on
    one SQL backend per database connection. ``prepared`` explains values that do not convert on
    the polars backend (:mod:`metricspec.sources.dataerrors`)."""
    from metricspec.engine.backends.polars import PolarsBackend

    backends: dict[str, Backend] = {"polars": PolarsBackend(sources, schemas, dict(prepared or {}))}
    owner = dict.fromkeys(sources, "polars")
    for name, rel in (relations or {}).items():
        key = f"sql:{rel.connection_key}"
        if key not in backends:
            from metricspec.engine.backends.sql import SqlBackend

            backends[key] = SqlBackend(rel.dialect)
        backend = backends[key]
        assert hasattr(backend, "add")
        backend.add(name, rel)
        owner[name] = key
    return Router(backends, owner)
