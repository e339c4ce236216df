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
from dataclasses import dataclass
from typing import TYPE_CHECKING

from metricspec.engine.backends.polars import PolarsBackend
from metricspec.engine.backends.work import (
    Answers,
    Backend,
    Explained,
    Work,
    record_nulls,
    split_work,
)

if TYPE_CHECKING:
    import polars as pl

    from metricspec.engine.backends.relation import Relation
    from metricspec.plan.nodes import RunRange
    from metricspec.sources.prepare import PreparedFrame

__all__ = ["Answers", "Backend", "Explained", "Router", "Work", "make_router", "record_nulls", "split_work"]


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
    backends: dict[str, Backend] = {"polars": PolarsBackend(sources, schemas, dict(prepared or {}))}
    owner = dict.fromkeys(sources, "polars")
    for name, rel in (relations or {}).items():
        key = f"sql:{rel.connection_key}"
        if key not in backends:
            from metricspec.engine.backends.sql import SqlBackend  # start-up: databases only

            backends[key] = SqlBackend(rel.dialect)
        backend = backends[key]
        assert hasattr(backend, "add")
        backend.add(name, rel)
        owner[name] = key
    return Router(backends, owner)
