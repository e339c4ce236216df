"""Evaluate KPIs: base aggregations through the fused plan, derived forms on their series.

A *series* is a polars DataFrame with columns ``period`` (Date, first day of the
period), one String column per segment, and ``value`` (Float64, null = no value).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from metricspec.engine.expressions import to_polars
from metricspec.engine.fill import fill_periods
from metricspec.engine.periods import period_range, truncate, truncate_date
from metricspec.engine.plan import (
    EventsQuery,
    Freshness,
    FreshnessQuery,
    Plan,
    QueryKey,
    RunRange,
    Scope,
    Window,
)
from metricspec.errors import DataError
from metricspec.spec.expr import parse
from metricspec.spec.models import KPI

if TYPE_CHECKING:
    from metricspec.connectors.common import PreparedFrame
    from metricspec.engine.backends import Router
    from metricspec.engine.backends.relation import Relation
    from metricspec.loader import LoadedSpec
    from metricspec.spec.models import Spec

Grainish = str | Window


@dataclass(frozen=True)
class Request:
    """One series to compute: a KPI at a grain (or window), broken down by segments, within a scope."""

    kpi: str
    grain: Grainish
    segments: tuple[str, ...] = ()
    scope: Scope = ()
    extra_filter: str | None = None


def make_scope(*scopes: Mapping[str, object]) -> Scope:
    merged: dict[str, object] = {}
    for s in scopes:
        merged.update(s)
    return tuple(sorted(merged.items(), key=lambda kv: kv[0]))


def _and(a: str | None, b: str | None) -> str | None:
    if a and b:
        return f"({a}) and ({b})"
    return a or b


@dataclass
class Evaluator:
    """Collects requests, runs one fused plan, then serves series."""

    loaded: LoadedSpec
    as_of: dt.date
    sources: Mapping[str, pl.LazyFrame]
    schemas: Mapping[str, Mapping[str, pl.DataType]]
    plan: Plan = field(default_factory=Plan)
    _base: dict[Request, tuple[QueryKey, str]] = field(default_factory=dict)
    _frames: dict[QueryKey, pl.DataFrame] = field(default_factory=dict)
    _series: dict[Request, pl.DataFrame] = field(default_factory=dict)
    _pending: dict[Request, None] = field(default_factory=dict)
    """Every registered request, in registration order."""
    _columns: dict[Request, tuple[pl.DataFrame, str]] = field(default_factory=dict)
    """Series computed as a column of their query frame (see :meth:`_columnize`)."""
    null_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    """(source, column or expression) -> rows skipped because the value was null."""
    latest: Mapping[str, dt.date | None] = field(default_factory=dict)
    """Last date with data per source: periods after it are missing, not zero."""
    relations: Mapping[str, Relation] = field(default_factory=dict)
    """Sources that live in a database: their queries run there (the SQL backend)."""
    prepared: Mapping[str, PreparedFrame] = field(default_factory=dict)
    """Per source, what explains a value that does not convert (see :mod:`.dataerrors`)."""
    _router: Router | None = None

    @property
    def backends(self) -> Router:
        """The backend of each source: polars, or SQL for the sources in :attr:`relations`."""
        if self._router is None:
            from metricspec.engine.backends import make_router

            self._router = make_router(self.sources, self.schemas, self.relations, self.prepared)
        return self._router

    @property
    def spec(self) -> Spec:
        return self.loaded.spec

    @property
    def range(self) -> RunRange:
        spec = self.spec
        end = self.as_of if spec.period is None else min(self.as_of, spec.period.end)
        start = spec.period.start if spec.period is not None else None
        return RunRange(start=start, end=end, week_start=spec.week_start)

    def time_column(self, kpi_name: str, kpi: KPI) -> str:
        assert kpi.source is not None
        if kpi.time_column:
            return kpi.time_column
        if kpi.source == "calendar" and kpi.source not in self.spec.sources:
            return "date"
        src = self.spec.sources.get(kpi.source)
        if src is not None and src.time_column:
            return src.time_column
        raise DataError(
            f"KPI '{kpi_name}' has no time column",
            where=self.loaded.where("kpis", kpi_name),
            hint=f"add `time_column: <column>` to the KPI or to source '{kpi.source}'",
        )

    # ------------------------------------------------------------ planning
    def request(self, req: Request) -> None:
        """Register a request and, recursively, everything it reads."""
        if req in self._base or req in self._pending:
            return
        kpi = self.spec.kpis[req.kpi]
        form = kpi.form
        self._pending[req] = None
        if form == "agg":
            key = QueryKey(kpi.source or "", self.time_column(req.kpi, kpi), req.grain, req.segments, req.scope)
            self._base[req] = self.plan.add(key, kpi.agg or "count", kpi.column, _and(kpi.filter, req.extra_filter),
                                            kpi.expression)
            return
        for child in self.children(req, kpi):
            self.request(child)

    def children(self, req: Request, kpi: KPI) -> list[Request]:
        def same(name: str, extra: str | None = None) -> Request:
            return self._child(req, name, extra)

        if kpi.ratio:
            return [same(kpi.ratio.numerator), same(kpi.ratio.denominator)]
        if kpi.share:
            return [same(kpi.share.of, kpi.share.where), same(kpi.share.of)]
        if kpi.formula:
            from metricspec.spec.expr import names

            return [same(n) for n in names(parse(kpi.formula))]
        target = kpi.growth or kpi.cumulative or (kpi.moving_average.kpi if kpi.moving_average else None)
        if target:
            return [same(target)]
        return []

    # ------------------------------------------------------------ execution
    def execute(self, freshness: list[FreshnessQuery] | None = None) -> dict[str, Freshness]:
        """Run every base query on the backend that holds its source, then fill periods and compute the
        derived columns (in polars, once, for every backend).

        ``freshness`` queries run with the base queries (sharing their scans where the backend can);
        their answers are returned, and the last date of data per source they give is used before
        periods are filled (periods after it are missing, not zero).
        """
        from metricspec.engine.backends import Work

        rng = self.range
        work = Work(queries=list(self.plan.queries.values()), null_counts=self.plan.null_count_queries(),
                    freshness=list(freshness or []))
        answers = self.backends.run(work, rng)
        self.null_counts = dict(answers.null_counts)
        fresh = answers.freshness
        if freshness:
            self.latest = {name: dt.date.fromisoformat(f.latest[:10]) if f.latest else None
                           for name, f in fresh.items()}
        filled: dict[QueryKey, pl.LazyFrame] = {}
        periods: dict[QueryKey, list[dt.date]] = {}
        for key in self.plan.queries:
            frame = answers.frames[key]
            end = rng.end
            source_latest = self.latest.get(key.source)
            if source_latest is not None:
                end = min(end, source_latest)
            last = truncate_date(end, key.grain, rng.week_start) if isinstance(key.grain, str) else end
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

    def _columnize(self, periods: Mapping[QueryKey, list[dt.date]],
                   ) -> dict[QueryKey, list[list[tuple[Request, pl.Expr]]]]:
        """Plan, as columns of their query frame, every series whose inputs all come from that frame.

        Base KPIs are columns of their query's frame already; a ratio, share or formula of columns of
        one frame, and growth, cumulative sums and moving averages of such a column, are too. Their rows
        would be exactly the frame's rows (the joins in :meth:`series` match row for row), so instead of
        a join and a few DataFrame operations per series, each frame gets one ``with_columns`` per level
        of derivation, computed with the filling. Series that combine frames (different sources,
        scopes) keep the join path. Returns, per frame, the layers of ``(request, column expression)``
        (``periods``: each frame's periods).
        """
        resolved: dict[Request, tuple[QueryKey, str, int] | None] = {}
        layers: dict[QueryKey, list[list[tuple[Request, pl.Expr]]]] = {}
        partial_periods: dict[QueryKey, list[dt.date]] = {}

        def resolve(req: Request) -> tuple[QueryKey, str, int] | None:
            if req in resolved:
                return resolved[req]
            resolved[req] = None  # guards against cycles (validation rejects them anyway)
            kpi = self.spec.kpis[req.kpi]
            found: tuple[QueryKey, pl.Expr, int] | None = None
            if kpi.form == "agg":
                key, output = self._base[req]
                found = key, pl.col(output), 1
            elif kpi.ratio or kpi.share or kpi.formula or kpi.growth or kpi.cumulative or kpi.moving_average:
                children = self.children(req, kpi)
                parts = [resolve(c) for c in children]
                if children and all(parts) and len({p[0] for p in parts if p}) == 1:
                    key = parts[0][0]  # type: ignore[index]
                    cols = [pl.col(p[1]) for p in parts if p]
                    level = 1 + max(p[2] for p in parts if p)
                    if kpi.ratio or kpi.share:
                        expr = _divide(cols[0], cols[1])
                    elif kpi.formula:
                        from metricspec.spec.expr import names

                        tree = parse(kpi.formula)
                        mapping = dict(zip(names(tree), cols, strict=True))
                        expr = to_polars(tree, lambda n: mapping[n])
                    else:
                        if key not in partial_periods:
                            partial_periods[key] = self._partial_periods(periods[key], req.grain)
                        expr = self._over_time_expr(req, kpi, cols[0], partial_periods[key])
                    found = key, expr, level
            if found is None or not periods[found[0]]:  # an empty frame: the ordinary path copes
                return None
            key, expr, level = found
            stack = layers.setdefault(key, [])
            while len(stack) < level:
                stack.append([])
            name = f"__s{sum(len(layer) for layer in stack)}"
            stack[level - 1].append((req, expr.alias(name)))
            resolved[req] = key, name, level
            return resolved[req]

        for req in self._pending:
            resolve(req)
        return layers

    def series(self, req: Request) -> pl.DataFrame:
        if req in self._series:
            return self._series[req]
        kpi = self.spec.kpis[req.kpi]
        keys = ["period", *req.segments]
        if req in self._columns:  # computed with its frame: already clean and in order
            frame, column = self._columns[req]
            out = pl.DataFrame([frame["period"], *(frame[s] for s in req.segments), frame[column].alias("value")])
            self._series[req] = out
            return out
        if kpi.form == "agg":
            qkey, output = self._base[req]
            frame = self._frames[qkey]
            if frame.height == 0:
                out = _empty(req.segments)
            else:
                out = frame.select([*keys, pl.col(output).alias("value")])
        elif kpi.ratio:
            out = _combine(self.series(self._child(req, kpi.ratio.numerator)),
                           self.series(self._child(req, kpi.ratio.denominator)), keys)
        elif kpi.share:
            out = _combine(self.series(self._child(req, kpi.share.of, kpi.share.where)),
                           self.series(self._child(req, kpi.share.of)), keys)
        elif kpi.formula:
            out = self._formula(req, kpi.formula, keys)
        elif kpi.growth or kpi.cumulative or kpi.moving_average:
            out = self._over_time(req, kpi, keys)
        elif kpi.funnel:
            out = self._funnel(req, kpi)
        elif kpi.retention:
            out = self._retention(req, kpi)
        else:  # pragma: no cover - the model guarantees a form
            raise AssertionError(kpi.form)
        out = out.with_columns(_clean(pl.col("value")).alias("value")).sort(keys)
        self._series[req] = out
        return out

    def _child(self, req: Request, name: str, extra: str | None = None) -> Request:
        """A KPI read by a derived KPI: its own scope, overridden by the request's, minus broken-down columns."""
        own = {k: v for k, v in self.spec.kpis[name].scope.items() if k not in req.segments}
        return Request(name, req.grain, req.segments, make_scope(own, dict(req.scope)), extra)

    def _formula(self, req: Request, formula: str, keys: list[str]) -> pl.DataFrame:
        from metricspec.spec.expr import names

        tree = parse(formula)
        refs = names(tree)
        joined: pl.DataFrame | None = None
        for i, name in enumerate(refs):
            s = self.series(self._child(req, name)).rename({"value": f"__k{i}"})
            joined = s if joined is None else joined.join(s, on=keys, how="full", coalesce=True, nulls_equal=True)
        assert joined is not None
        mapping = {name: pl.col(f"__k{i}") for i, name in enumerate(refs)}
        expr = to_polars(tree, lambda n: mapping[n])
        return joined.select([*keys, expr.alias("value")])

    def _over_time(self, req: Request, kpi: KPI, keys: list[str]) -> pl.DataFrame:
        target = kpi.growth or kpi.cumulative or (kpi.moving_average.kpi if kpi.moving_average else "")
        base = self.series(self._child(req, target))
        if not req.segments:
            base = base.sort("period")
        periods = base["period"].unique().to_list() if base.height else []
        expr = self._over_time_expr(req, kpi, pl.col("value"), self._partial_periods(periods, req.grain))
        return base.select([*keys, expr.alias("value")])

    def _over_time_expr(self, req: Request, kpi: KPI, v: pl.Expr, partial: list[dt.date]) -> pl.Expr:
        """Growth, running total or moving average of ``v`` over the periods of each segment value
        (rows sorted by period when there are no segments)."""
        if isinstance(req.grain, Window):
            return pl.lit(None, dtype=pl.Float64)
        if kpi.growth:
            prev = v.shift(1)
            expr = pl.when(prev == 0).then(None).otherwise((v - prev) / prev.abs())
        elif kpi.cumulative:
            expr = v.fill_null(0).cum_sum()
        else:
            assert kpi.moving_average is not None
            expr = v.rolling_mean(window_size=kpi.moving_average.window, min_samples=kpi.moving_average.window)
        if req.segments:
            expr = expr.over(list(req.segments), order_by="period")
        if not kpi.cumulative and partial:
            # growth and moving averages of a partial (current) period would compare part with whole
            expr = pl.when(pl.col("period").is_in(partial)).then(None).otherwise(expr)
        return expr

    def _partial_periods(self, periods: list[dt.date], grain: Grainish) -> list[dt.date]:
        """The periods that end after the run's end date."""
        if isinstance(grain, Window):
            return []
        from metricspec.engine.periods import period_end

        cutoff = self.range.end + dt.timedelta(days=1)
        return sorted(p for p in periods if period_end(p, grain) > cutoff)

    # ------------------------------------------------------------ funnels and retention
    def _events(self, source: str, time_column: str | None, filter_text: str | None, where: tuple[str, ...],
                scope: Scope, keep: list[str]) -> pl.LazyFrame:
        src = self.spec.sources.get(source)
        tcol = time_column or (src.time_column if src else None)
        if tcol is None:
            raise DataError(f"source '{source}' has no time column", where=self.loaded.where(*where),
                            hint="set `time_column:` on the source or the step")
        query = EventsQuery(source, tcol, parse(filter_text) if filter_text else None, scope, tuple(keep))
        return self.backends.backend_of(source).events(query)

    def _period_of(self, req: Request, col: str) -> pl.Expr:
        date = pl.col(col).dt.date()
        if isinstance(req.grain, Window):
            return pl.lit(req.grain.start, dtype=pl.Date)
        return truncate(date, req.grain, self.spec.week_start)

    def _date_bounds(self, req: Request) -> tuple[dt.date | None, dt.date]:
        rng = self.range
        start, end = rng.start, rng.end
        if isinstance(req.grain, Window):
            start = req.grain.start if start is None else max(start, req.grain.start)
            end = min(end, req.grain.end)
        return start, end

    def _finish(self, req: Request, grouped: pl.DataFrame, wait: dt.timedelta | None = None) -> pl.DataFrame:
        """Fill missing periods with null (rates are never additive).

        With ``wait`` (a funnel window or retention horizon), a period only gets a value once
        every entity starting in it has had that long by the as-of date: a cohort is judged whole.
        """
        keys = ["period", *req.segments]
        if wait is not None and grouped.height and not isinstance(req.grain, Window):
            from metricspec.engine.periods import period_end

            cutoff = self.range.end + dt.timedelta(days=1)
            ready = {p for p in grouped["period"].unique().to_list()
                     if dt.datetime.combine(period_end(p, req.grain), dt.time()) + wait
                     <= dt.datetime.combine(cutoff, dt.time())}
            grouped = grouped.with_columns(
                pl.when(pl.col("period").is_in(sorted(ready))).then(pl.col("value")).otherwise(None).alias("value"))
        if grouped.height == 0 or isinstance(req.grain, Window):
            if grouped.height == 0 and isinstance(req.grain, Window):
                return pl.DataFrame({"period": [req.grain.start], "value": [None]},
                                    schema={"period": pl.Date, "value": pl.Float64})
            return grouped.select([*keys, "value"])
        first = grouped["period"].min()
        last = truncate_date(self.range.end, req.grain, self.spec.week_start)
        periods = pl.DataFrame({"period": period_range(first, last, req.grain)},  # type: ignore[arg-type]
                               schema={"period": pl.Date})
        grid = periods
        if req.segments:
            grid = periods.join(grouped.select(list(req.segments)).unique(), how="cross")
        return grid.join(grouped, on=keys, how="left", nulls_equal=True).select([*keys, "value"])

    def _funnel(self, req: Request, kpi: KPI) -> pl.DataFrame:
        assert kpi.funnel is not None
        steps = kpi.funnel.steps
        window = dt.timedelta(days=kpi.funnel.window_days)
        base_where = ("kpis", req.kpi, "funnel", "steps")
        first = steps[0]
        entry = self._events(first.source, first.time_column, first.filter, (*base_where, "0"), req.scope,
                             [first.key, *req.segments]).rename({first.key: "__key"})
        # each entity enters at its first first-step event; segments from that row
        entry = entry.sort("__t").group_by("__key", maintain_order=True).first().rename({"__t": "__t0"})
        start, end = self._date_bounds(req)
        cutoff = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
        entry = entry.filter(pl.col("__t0") < cutoff)
        if start is not None:
            entry = entry.filter(pl.col("__t0") >= dt.datetime.combine(start, dt.time()))
        # only entities whose window has closed by the as-of date can be judged
        entry = entry.filter(pl.col("__t0") + window <= cutoff)
        cur = entry.with_columns(pl.col("__t0").alias("__tp"))
        for i, step in enumerate(steps[1:], start=1):
            ev = self._events(step.source, step.time_column, step.filter, (*base_where, str(i)), (),
                              [step.key]).rename({step.key: "__key"})
            reached = (
                cur.select(["__key", "__t0", "__tp"]).join(ev, on="__key", how="inner")
                .filter((pl.col("__t") >= pl.col("__tp")) & (pl.col("__t") <= pl.col("__t0") + window)
                        & (pl.col("__t") < cutoff))
                .group_by("__key").agg(pl.col("__t").min().alias("__tnext"))
            )
            cur = cur.join(reached, on="__key", how="inner").with_columns(pl.col("__tnext").alias("__tp")).drop(
                "__tnext")
        done = cur.select("__key").with_columns(pl.lit(1).alias("__done"))
        frame = (
            entry.join(done, on="__key", how="left")
            .with_columns(self._period_of(req, "__t0").alias("period"))
            .group_by(["period", *req.segments])
            .agg((pl.col("__done").fill_null(0).sum() / pl.len()).alias("value"))
            .collect()
        )
        return self._finish(req, frame, window)

    def _retention(self, req: Request, kpi: KPI) -> pl.DataFrame:
        r = kpi.retention
        assert r is not None
        where = ("kpis", req.kpi, "retention")
        seg_source = r.cohort_source or r.source
        events = self._events(r.source, r.time_column, r.filter, where, (), [r.key]).rename({r.key: "__key"})
        if r.cohort_source:
            cohort = self._events(r.cohort_source, r.cohort_time_column, None, where, req.scope,
                                  [r.key, *req.segments]).rename({r.key: "__key"})
        else:
            cohort = self._events(seg_source, r.time_column, r.filter, where, req.scope,
                                  [r.key, *req.segments]).rename({r.key: "__key"})
        cohort = cohort.sort("__t").group_by("__key", maintain_order=True).first().rename({"__t": "__start"})
        start, end = self._date_bounds(req)
        cutoff = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
        after = dt.timedelta(days=r.after_days)
        span = dt.timedelta(days=r.after_days + r.window_days) if r.mode == "active" else after
        cohort = cohort.filter(pl.col("__start") + span <= cutoff)  # had the whole chance to come back
        if start is not None:
            cohort = cohort.filter(pl.col("__start") >= dt.datetime.combine(start, dt.time()))
        ev = events.filter(pl.col("__t") < cutoff)
        joined = cohort.select(["__key", "__start"]).join(ev, on="__key", how="inner")
        if r.mode == "active":
            hit = joined.filter((pl.col("__t") >= pl.col("__start") + after)
                                & (pl.col("__t") < pl.col("__start") + span)).group_by("__key").agg(
                pl.lit(1).alias("__ok"))
        else:
            hit = (joined.filter((pl.col("__t") >= pl.col("__start")) & (pl.col("__t") <= pl.col("__start") + after))
                   .group_by("__key").agg(pl.len().alias("__n")).filter(pl.col("__n") >= 2)
                   .select(["__key", pl.lit(1).alias("__ok")]))
        frame = (
            cohort.join(hit, on="__key", how="left")
            .with_columns(self._period_of(req, "__start").alias("period"))
            .group_by(["period", *req.segments])
            .agg((pl.col("__ok").fill_null(0).sum() / pl.len()).alias("value"))
            .collect()
        )
        return self._finish(req, frame, span)


def _empty(segments: tuple[str, ...]) -> pl.DataFrame:
    schema = {"period": pl.Date, **dict.fromkeys(segments, pl.String), "value": pl.Float64}
    return pl.DataFrame(schema=schema)


def _combine(num: pl.DataFrame, den: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """num / den on matching periods and segments; a zero or missing denominator gives null."""
    joined = num.rename({"value": "__n"}).join(den.rename({"value": "__d"}), on=keys, how="full", coalesce=True,
                                               nulls_equal=True)
    return joined.select([*keys, _divide(pl.col("__n"), pl.col("__d")).alias("value")])


def _divide(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when((den == 0) | den.is_null()).then(None).otherwise(num / den)


SIGNIFICANT_DIGITS = 12
"""Non-integer KPI values are rounded to this many significant digits. The last digits of a
floating-point sum depend on the order polars adds the rows in, which depends on the engine
(in-memory or streaming) and on how the data is split across threads; rounding makes results
byte-identical across machines and engines in practice (tests/test_cli.py checks the examples; a
sum landing exactly on a rounding boundary could still differ) while keeping far more precision
than a ratio or an average needs. Whole numbers below 2**53 are kept as they are: their sums are
exact in any order, and rounding them would drop digits of large counts or amounts in micros."""

_EXACT = float(2**53)


def _clean(value: pl.Expr) -> pl.Expr:
    """A series value: Float64, with NaN and infinities (from data or formulas) as null, and
    non-integers rounded to :data:`SIGNIFICANT_DIGITS` significant digits. Alias the result: its
    output name is not the input's."""
    v = value.cast(pl.Float64)
    exact = (v == v.round(0)) & (v.abs() < _EXACT)
    return pl.when(~v.is_finite()).then(None).when(exact).then(v).otherwise(v.round_sig_figs(SIGNIFICANT_DIGITS))
