"""What a backend is asked and answers: the work, the answers, the ``--explain`` account, and the
:class:`Backend` protocol every backend implements (below the backends, which import it, and the
router in ``backends/__init__.py``, which imports them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from metricspec.errors import DataError

if TYPE_CHECKING:
    import polars as pl

    from metricspec.plan.nodes import (
        EventsQuery,
        Freshness,
        FreshnessQuery,
        NullCountQuery,
        Query,
        QueryKey,
        RunRange,
    )


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
                raise DataError(
                    f"source '{q.key.source}' filters entities by KPI '{inp.name}' of source '{inp.key.source}', "
                    "which another backend holds: the semi-join runs where both sources are",
                    hint="keep both tables in one database (or read both with `engine: polars`)")
    for n in work.null_counts:
        parts.setdefault(owner[n.source], Work()).null_counts.append(n)
    for f in work.freshness:
        parts.setdefault(owner[f.source], Work()).freshness.append(f)
    return parts
