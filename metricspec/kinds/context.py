"""What a kind reads when it checks, plans and computes: the spec it belongs to and the run it is
planned in, as small protocols.

The kinds sit below the spec document and the engine in the layers (pyproject.toml): they never
import :class:`metricspec.spec.models.Spec` or the engine's evaluator. They name these protocols
instead; the spec model and :class:`metricspec.engine.kpis.Evaluator` implement them (mypy checks
that they do where they are passed to a kind).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from metricspec.spec.source import HasSources

if TYPE_CHECKING:
    import datetime as dt

    import polars as pl

    from metricspec.errors import Location
    from metricspec.kinds.base import KPIBase
    from metricspec.plan.nodes import EventsQuery, Plan, Request, RunRange


class GoalView(Protocol):
    """A goal, as a kind checks it against its KPI."""

    @property
    def kpi(self) -> str: ...

    @property
    def grain(self) -> str | None: ...


class SpecView(HasSources, Protocol):
    """The spec a kind belongs to: its sources, its KPIs and their grains, its goals."""

    @property
    def kpis(self) -> Mapping[str, KPIBase]: ...

    @property
    def week_start(self) -> str: ...

    @property
    def timezone(self) -> str:
        """The spec's time zone (IANA name): local dates and hours are in it."""
        ...

    def kpi_grains(self, kpi: KPIBase) -> list[str]: ...

    def goals(self) -> Sequence[tuple[str, str, GoalView]]:
        """(objective, goal id, goal) in spec order."""
        ...


class PlanContext(Protocol):
    """The run a request is planned in (the engine's evaluator): the spec, the plan the kind adds its
    aggregates to, the run's dates, and the rows of a source (where the source lives)."""

    @property
    def spec(self) -> SpecView: ...

    @property
    def plan(self) -> Plan: ...

    @property
    def range(self) -> RunRange:
        """The run's dates: rows from ``start`` to ``end`` take part."""
        ...

    @property
    def schemas(self) -> Mapping[str, Mapping[str, pl.DataType]]:
        """Per opened source, its columns' types."""
        ...

    @property
    def latest(self) -> Mapping[str, dt.date | None]:
        """Per source, the last date with data (known after the plan ran)."""
        ...

    def where(self, *path: str | int, key: bool = False) -> Location | None:
        """Where the spec wrote ``path`` (for an error's file:line)."""
        ...

    def child(self, req: Request, name: str, extra: str | None = None) -> Request:
        """The request for KPI ``name`` read by ``req``'s KPI (its scope, the request's breakdown)."""
        ...

    def events(self, query: EventsQuery) -> pl.LazyFrame:
        """The rows ``query`` asks for, filtered and projected by the backend that holds its source."""
        ...
