"""Evaluate KPIs: each KPI's kind plans its requests; base aggregations run in the fused plan, derived
kinds combine their inputs' series, row-level kinds compute from rows.

A *series* is a polars DataFrame with columns ``period`` (Date, first day of the
period), one String column per segment, and ``value`` (Float64, null = no value).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from metricspec.engine.backends import Router, Work, make_router
from metricspec.engine.fill import fill_periods
from metricspec.kinds import FromAggregates, FromInputs, FromQuery, Inputs, Planned
from metricspec.plan.nodes import (
    EventsQuery,
    Freshness,
    FreshnessQuery,
    Grainish,
    Plan,
    QueryKey,
    Request,
    RunRange,
    Window,
    make_scope,
)
from metricspec.plan.periods import HOUR, ends_after, last_hour, truncate_date
from metricspec.utils import EXACT_INTEGERS, SIGNIFICANT_DIGITS

if TYPE_CHECKING:
    from metricspec.engine.backends.relation import Relation
    from metricspec.errors import Location
    from metricspec.sources.prepare import PreparedFrame
    from metricspec.spec.loaded import LoadedSpec
    from metricspec.spec.models import Spec

@dataclass
class Evaluator:
    """Collects requests, runs one fused plan, then serves series.

    The kinds plan and compute through it as a :class:`~metricspec.kinds.context.PlanContext`.
    """

    loaded: LoadedSpec
    as_of: dt.date
    sources: Mapping[str, pl.LazyFrame]
    schemas: Mapping[str, Mapping[str, pl.DataType]]
    plan: Plan = field(default_factory=Plan)
    _planned: dict[Request, Planned | None] = field(default_factory=dict)
    """Every registered request, in registration order, and how its kind computes it."""
    _frames: dict[QueryKey, pl.DataFrame] = field(default_factory=dict)
    _series: dict[Request, pl.DataFrame] = field(default_factory=dict)
    _columns: dict[Request, tuple[pl.DataFrame, str]] = field(default_factory=dict)
    """Series computed as a column of their query frame (see :meth:`_columnize`)."""
    null_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    """(source, column or expression) -> rows skipped because the value was null."""
    latest: Mapping[str, dt.date | None] = field(default_factory=dict)
    """Last date with data per source: periods after it are missing, not zero."""
    latest_time: Mapping[str, dt.datetime | None] = field(default_factory=dict)
    """Last time with data per source with times (aware): hours after its hour are missing, not zero."""
    bounds: RunRange | None = None
    """The dates a query covers, instead of the spec's period up to the as-of date (engine/query.py)."""
    relations: Mapping[str, Relation] = field(default_factory=dict)
    """Sources that live in a database: their queries run there (the SQL backend)."""
    prepared: Mapping[str, PreparedFrame] = field(default_factory=dict)
    """Per source, what explains a value that does not convert (see :mod:`metricspec.sources.dataerrors`)."""
    _router: Router | None = None

    @property
    def backends(self) -> Router:
        """The backend of each source: polars, or SQL for the sources in :attr:`relations`."""
        if self._router is None:
            self._router = make_router(self.sources, self.schemas, self.relations, self.prepared)
        return self._router

    @property
    def spec(self) -> Spec:
        return self.loaded.spec

    def where(self, *path: str | int, key: bool = False) -> Location | None:
        """Where the spec wrote ``path``."""
        return self.loaded.where(*path, key=key)

    def events(self, query: EventsQuery) -> pl.LazyFrame:
        """The rows ``query`` asks for, from the backend that holds its source."""
        return self.backends.backend_of(query.source).events(query)

    @property
    def range(self) -> RunRange:
        spec = self.spec
        if self.bounds is not None:
            return self.bounds
        end = self.as_of if spec.period is None else min(self.as_of, spec.period.end)
        start = spec.period.start if spec.period is not None else None
        return RunRange(start=start, end=end, week_start=spec.week_start, timezone=spec.timezone)

    # ------------------------------------------------------------ planning
    def request(self, req: Request) -> None:
        """Register a request and, recursively, everything it reads (each KPI's kind says what)."""
        if req in self._planned:
            return
        kpi = self.spec.kpis[req.kpi]
        self._planned[req] = None  # a guard against cycles (validation rejects them anyway)
        planned = kpi.plan(self, req)
        self._planned[req] = planned
        if isinstance(planned, FromInputs):
            for child in planned.inputs:
                self.request(child)

    def child(self, req: Request, name: str, extra: str | None = None) -> Request:
        """A KPI read by a derived KPI: its own scope, overridden by the request's, minus broken-down columns;
        the request's ``where`` applies to its rows too."""
        own = {k: v for k, v in self.spec.kpis[name].scope.items() if k not in req.segments}
        return Request(name, req.grain, req.segments, make_scope(own, dict(req.scope)), extra, req.where)

    def planned(self, req: Request) -> Planned:
        found = self._planned.get(req)
        if found is None:
            self.request(req)
            found = self._planned[req]
        assert found is not None
        return found

    # ------------------------------------------------------------ execution
    def execute(self, freshness: list[FreshnessQuery] | None = None) -> dict[str, Freshness]:
        """Run every base query on the backend that holds its source, then fill periods and compute the
        derived columns (in polars, once, for every backend).

        ``freshness`` queries run with the base queries (sharing their scans where the backend can);
        their answers are returned, and the last date of data per source they give is used before
        periods are filled (periods after it are missing, not zero).
        """
        rng = self.range
        work = Work(queries=list(self.plan.queries.values()), null_counts=self.plan.null_count_queries(),
                    freshness=list(freshness or []))
        answers = self.backends.run(work, rng)
        self.null_counts = dict(answers.null_counts)
        fresh = answers.freshness
        if freshness:
            self.use_freshness(fresh)
        filled: dict[QueryKey, pl.LazyFrame] = {}
        periods: dict[QueryKey, list[dt.date]] = {}
        for key in self.plan.queries:
            frame = answers.frames[key]
            last = self._last_period(key)
            filled[key], periods[key] = fill_periods(frame, key, self.plan.queries[key].aggregates, rng, last)
        columns = self._columnize(periods)
        for key, layers in columns.items():
            for layer in layers:
                # computed, then cleaned by name: cleaning reads its input several times, and a
                # derived expression (a window, a formula) must not be evaluated that often
                names = [expr.meta.output_name() for _, expr in layer]
                filled[key] = (filled[key].with_columns([expr for _, expr in layer])
                               .with_columns([_clean(pl.col(n)).alias(n) for n in names]))
        # every frame's filling and derived columns in one more collect_all: aggregated frames are
        # small and already in memory, so always the in-memory engine (streaming: ~80x slower here)
        filled_frames = pl.collect_all(list(filled.values()), engine="in-memory") if filled else []
        self._frames = dict(zip(filled, filled_frames, strict=True))
        for key, layers in columns.items():
            for layer in layers:
                for req, expr in layer:
                    self._columns[req] = self._frames[key], expr.meta.output_name()
        return fresh

    def use_freshness(self, fresh: Mapping[str, Freshness]) -> None:
        """The last date (and time) of data per source: periods after it are missing, not zero."""
        self.latest = {name: dt.date.fromisoformat(f.latest[:10]) if f.latest else None for name, f in fresh.items()}
        self.latest_time = {name: _instant(f.latest) for name, f in fresh.items()}

    def _last_period(self, key: QueryKey) -> dt.date:
        """The last period a query's frame is filled to: the run's end, or the source's last data."""
        rng = self.range
        end = rng.end
        source_latest = self.latest.get(key.source)
        if source_latest is not None:
            end = min(end, source_latest)
        if key.grain == HOUR:
            last = last_hour(end, rng.timezone)
            latest = self.latest_time.get(key.source)
            if latest is not None and latest < last:  # the hour of the last row, not the end of its day
                last = latest.astimezone(last.tzinfo).replace(minute=0, second=0, microsecond=0)
            return last
        return truncate_date(end, key.grain, rng.week_start) if isinstance(key.grain, str) else end

    def frame(self, key: QueryKey) -> pl.DataFrame:
        """The filled answer of a query of the plan (after :meth:`execute`)."""
        return self._frames[key]

    def _columnize(self, periods: Mapping[QueryKey, list[dt.date]],
                   ) -> dict[QueryKey, list[list[tuple[Request, pl.Expr]]]]:
        """Plan, as columns of their query frame, every series whose inputs all come from that frame.

        Series read from a query are columns of its frame already (copied and cleaned in layer 0, as
        :meth:`series` cleans them); a derived series whose inputs are all columns of one frame is too: its rows would be exactly the frame's rows (the join in
        :meth:`_joined` matches row for row), so instead of a join per series, each frame gets one
        ``with_columns`` per level of derivation, computed with the filling. The kind's ``combine``
        is the same on both paths. Series that combine frames (different sources, scopes), or read
        rows, take the join path. Returns, per frame, the layers of ``(request, column expression)``
        (``periods``: each frame's periods).
        """
        resolved: dict[Request, tuple[QueryKey, str, int] | None] = {}
        layers: dict[QueryKey, list[list[tuple[Request, pl.Expr]]]] = {}
        partial_periods: dict[QueryKey, list[dt.date]] = {}

        def resolve(req: Request) -> tuple[QueryKey, str, int] | None:
            if req in resolved:
                return resolved[req]
            resolved[req] = None  # guards against cycles (validation rejects them anyway)
            planned = self._planned[req]
            found: tuple[QueryKey, pl.Expr, int] | None = None
            if isinstance(planned, FromQuery):
                found = planned.key, pl.col(planned.output), 1
            elif isinstance(planned, FromInputs):
                parts = [resolve(c) for c in planned.inputs]
                if parts and all(parts) and len({p[0] for p in parts if p}) == 1:
                    key = parts[0][0]  # type: ignore[index]
                    if key not in partial_periods:
                        partial_periods[key] = self._partial_periods(periods[key], req.grain)
                    inputs = Inputs([pl.col(p[1]) for p in parts if p], req.segments, req.grain,
                                    partial_periods[key])
                    found = key, planned.combine(inputs), 1 + max(p[2] for p in parts if p)
            if found is None or not periods[found[0]]:  # an empty frame: the join path copes
                return None
            key, expr, level = found
            stack = layers.setdefault(key, [])  # layer 0: the query's own columns, cleaned
            while len(stack) < level:
                stack.append([])
            name = f"__s{sum(len(layer) for layer in stack)}"
            stack[level - 1].append((req, expr.alias(name)))
            resolved[req] = key, name, level
            return resolved[req]

        for req in self._planned:
            resolve(req)
        return layers

    def series(self, req: Request) -> pl.DataFrame:
        """The request's series: ``period``, its segment columns and ``value``, sorted, clean."""
        if req in self._series:
            return self._series[req]
        keys = ["period", *req.segments]
        if req in self._columns:  # computed with its frame: already clean and in order
            frame, column = self._columns[req]
            out = pl.DataFrame([frame["period"], *(frame[s] for s in req.segments), frame[column].alias("value")])
            self._series[req] = out
            return out
        planned = self.planned(req)
        if isinstance(planned, FromQuery):
            frame = self._frames[planned.key]
            out = _empty(req.segments, frame.schema["period"]) if frame.height == 0 else frame.select(
                [*keys, pl.col(planned.output).alias("value")])
        elif isinstance(planned, FromAggregates):
            out = planned.combine(self._frames[planned.key])
        elif isinstance(planned, FromInputs):
            out = self._joined(req, planned, keys)
        else:
            out = planned.compute()
        out = out.with_columns(_clean(pl.col("value")).alias("value")).sort(keys)
        self._series[req] = out
        return out

    def _joined(self, req: Request, planned: FromInputs, keys: list[str]) -> pl.DataFrame:
        """A derived series from its inputs' series joined on period and segments (all periods of any)."""
        joined: pl.DataFrame | None = None
        for i, child in enumerate(planned.inputs):
            s = self.series(child).rename({"value": f"__k{i}"})
            joined = s if joined is None else joined.join(s, on=keys, how="full", coalesce=True, nulls_equal=True)
        assert joined is not None
        joined = joined.sort(keys)
        periods = joined["period"].unique().to_list() if joined.height else []
        inputs = Inputs([pl.col(f"__k{i}") for i in range(len(planned.inputs))], req.segments, req.grain,
                        self._partial_periods(periods, req.grain))
        return joined.select([*keys, planned.combine(inputs).alias("value")])

    def _partial_periods(self, periods: list[dt.date], grain: Grainish) -> list[dt.date]:
        """The periods that end after the run's end date."""
        if isinstance(grain, Window):
            return []
        end = self.range.end
        return sorted(p for p in periods if ends_after(p, grain, end))


def _empty(segments: tuple[str, ...], period: pl.DataType | None = None) -> pl.DataFrame:
    schema = {"period": period or pl.Date, **dict.fromkeys(segments, pl.String), "value": pl.Float64}
    return pl.DataFrame(schema=schema)


def _instant(text: str | None) -> dt.datetime | None:
    """A freshness time (ISO 8601) as an aware datetime; None for a date or a time without an offset."""
    if not text or len(text) <= 10:
        return None
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo is not None else None


# Non-integer KPI values are rounded in the engine already (series, headlines, goals read them), with
# the rule every writer applies again: metricspec.utils.SIGNIFICANT_DIGITS explains it.


def _clean(value: pl.Expr) -> pl.Expr:
    """A series value: Float64, with NaN and infinities (from data or formulas) as null, and
    non-integers rounded to :data:`SIGNIFICANT_DIGITS` significant digits, and -0.0 as 0.0 (a median of
    one ``-0.0`` is ``-0.0`` in polars and ``0.0`` in DuckDB). Alias the result: its output name is not
    the input's."""
    v = value.cast(pl.Float64)
    exact = (v == v.round(0)) & (v.abs() < EXACT_INTEGERS)
    return (pl.when(~v.is_finite()).then(None).when(v == 0).then(0.0).when(exact).then(v)
            .otherwise(v.round_sig_figs(SIGNIFICANT_DIGITS)))
