"""What every KPI kind declares, and the fields every KPI has.

A kind is a pydantic model (its spec keys) with the methods the rest of metricspec reads instead
of asking "which form is this?":

* :meth:`KPIBase.inputs` — the KPIs it reads (validation, cycles, spec diffs, requirements);
* :meth:`KPIBase.sources_read`, :meth:`KPIBase.columns`, :meth:`KPIBase.expressions` — the sources,
  columns and expressions it reads (validation and the column check when sources are opened);
* :meth:`KPIBase.plan` — how a request for it is computed: a column of an aggregated query
  (:class:`FromQuery`), several aggregates of its own query combined (:class:`FromAggregates`), an
  expression over other KPIs' series (:class:`FromInputs`), or a series computed from rows
  (:class:`FromRows`);
* :attr:`KPIBase.additive`, :attr:`KPIBase.default_measure` — how empty periods and goals treat it;
* ``FORM``, ``SUMMARY`` and ``DOCS`` — its key, its line in the docs' table of kinds and where it
  is documented (``tests/test_docs.py`` checks every kind is).

A kind reads the spec and the run through the protocols of :mod:`metricspec.kinds.context` (the
engine implements them; the kinds never import it). Modules of kinds import polars, and what they
compute with it (:mod:`metricspec.kinds.compute`), inside their methods only: loading and validating a
spec never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, field_validator

from metricspec.plan.nodes import NO_TIME, Window
from metricspec.spec.base import Currency, Direction, Grain, Scalar, StrictModel
from metricspec.spec.offsets import VsSpec
from metricspec.spec.segments import check_segments, column_paths
from metricspec.spec.source import HasSources, time_column_of, timeless_source

if TYPE_CHECKING:
    import datetime as dt

    import polars as pl

    from metricspec.kinds.cohort_table import CohortTable
    from metricspec.kinds.context import PlanContext, SpecView
    from metricspec.plan.nodes import QueryKey, Request, Scope

Path = tuple[str | int, ...]
"""A place inside the KPI's own mapping (``("ratio", "numerator")``)."""


@dataclass(frozen=True)
class KpiRef:
    """Another KPI this one reads, and where the spec names it."""

    name: str
    path: Path


@dataclass(frozen=True)
class SourceRef:
    """A source this KPI reads, and where the spec names it."""

    source: str
    path: Path


@dataclass(frozen=True)
class ColumnNeed:
    """A column a source must have: ``kind`` is ``numeric``, ``temporal`` or None (any type)."""

    source: str
    column: str | None
    kind: str | None
    path: Path
    key: bool = False
    """Point at the mapping key of ``path`` (a scope column) rather than its value."""


@dataclass(frozen=True)
class ExpressionSite:
    """An expression of this KPI: where, its text, how it is used and the source whose columns it
    names (None: it names KPIs)."""

    path: Path
    text: str
    use: Literal["filter", "formula", "value", "number"]
    """``number``: a row value that an aggregation adds up or averages (a date or text is refused)."""
    source: str | None


@dataclass(frozen=True)
class KindIssue:
    """A problem of one KPI that only its kind knows about (``path`` inside the KPI)."""

    message: str
    path: Path
    hint: str | None = None
    level: Literal["error", "warning"] = "error"
    key: bool = False


@dataclass(frozen=True)
class FromQuery:
    """The series is column ``output`` of the (period-filled) answer of query ``key``."""

    key: QueryKey
    output: str


@dataclass(frozen=True)
class FromAggregates:
    """The series is ``combine`` of the (period-filled) answer of query ``key``: a kind that registered
    several aggregates on its own query (``ev.plan.add``) combines their columns into ``period``, the
    request's segments and ``value`` (a snapshot's value and its tie check, a window's daily sums)."""

    key: QueryKey
    combine: Callable[[pl.DataFrame], pl.DataFrame]


@dataclass(frozen=True)
class Inputs:
    """What a derived kind combines: its inputs as columns of one frame sorted by period (and
    segments), and facts about that frame."""

    columns: list[pl.Expr]
    segments: tuple[str, ...]
    grain: object
    """The request's grain (a grain name or an engine Window)."""
    partial: list[dt.date]
    """Periods of the frame that end after the run's end date (the current, partial period)."""


@dataclass(frozen=True)
class FromInputs:
    """The series is ``combine`` of the series of ``inputs`` (other KPIs' requests), period by period.

    The evaluator brings the inputs together (as columns of one query frame when they all come
    from one, else by joining their series on period and segments) and applies ``combine`` once.
    """

    inputs: tuple[Request, ...]
    combine: Callable[[Inputs], pl.Expr]


@dataclass(frozen=True)
class FromRows:
    """The series is computed by ``compute`` (after the plan ran): from rows a backend returns
    (funnels, retention) or from answers of queries registered while planning."""

    compute: Callable[[], pl.DataFrame]


Planned = FromQuery | FromAggregates | FromInputs | FromRows


class KPIBase(StrictModel):
    """Fields every KPI has, whatever its kind."""

    model_config = ConfigDict(defer_build=True)  # built when a spec first holds its kind (kinds/__init__.py)

    FORM: ClassVar[str] = ""
    """The kind's key in the spec (``agg`` for aggregations) and ``KpiResult.form``."""
    SUMMARY: ClassVar[tuple[str, str]] = ("", "")
    """(keys, value per period): the kind's row in the spec reference's table of kinds."""
    DOCS: ClassVar[str] = ""
    """Where the kind is explained: a page and anchor under docs/."""
    LEGACY_FIELDS: ClassVar[tuple[str, ...]] = (
        "source", "agg", "column", "expression", "filter", "time_column", "ratio", "formula", "share", "growth",
        "cumulative", "moving_average", "funnel", "retention", "scope", "direction",
    )
    """The fields a KPI's definition fingerprint was made of before kinds were split (kept, so a
    baseline recorded then compares equal; see :meth:`definition`)."""
    PRESENTATION: ClassVar[frozenset[str]] = frozenset({
        "title", "description", "unit", "currency", "kind", "axis_from_zero", "segments", "grains", "benchmarks",
        "owner", "measured_by",
        "vs", "complete_after_days",
    })
    """Fields that do not change a KPI's values."""
    NEEDS_PERIODS: ClassVar[bool] = False
    """The kind compares a KPI's periods (growth, windows): it cannot read an all-time KPI."""
    HOURLY: ClassVar[bool] = True
    """The kind can be computed per clock hour (``hour`` grain): aggregations and the kinds combining
    them; kinds that read rows with day windows (funnels, retention, rolling) cannot."""

    title: str | None = None
    description: str | None = None
    unit: Literal["number", "count", "percent", "ratio", "currency", "days"] = "number"
    currency: Currency | None = None
    direction: Direction = Field("increase", description="Which way is good.")
    kind: Literal["outcome", "activity"] = Field(
        "outcome", description="activity KPIs (post volume) are flagged when used as goals."
    )
    axis_from_zero: bool | None = Field(
        None, description="Start the value axis of this KPI's charts at 0. Default: yes for count and currency "
                          "KPIs, no for the others (rates and averages read better zoomed in)."
    )
    complete_after_days: float | None = Field(
        None, ge=0, le=3660,
        description="Values still arrive this many days after a period ends (conversions counted by the day the "
                    "lead came in): scorecards show such recent periods as not complete yet, never as a fall.")
    segments: list[str | list[str]] = Field(
        default_factory=list, description="Dimension columns to break the KPI down by; an item that is a list "
                                          "(`[network, tab]`) is one breakdown by the combination of its columns.")
    scope: dict[str, Scalar] = Field(
        default_factory=dict, description="The headline series, e.g. {account: brand}; benchmarks pick other values."
    )
    grains: list[Grain] = Field(
        default_factory=list, description="Time grains; default: the spec's grains.")
    benchmarks: list[str] = Field(default_factory=list)
    owner: str | None = Field(None, description="The person responsible for the KPI's results.")
    measured_by: str | None = Field(None, description="The person who measures the KPI (collects and reports it).")
    vs: VsSpec | None = Field(None, description="A headline comparison with the period `offset` earlier "
                                               "(`{offset: 4 weeks}`), beside the previous period and last year.")

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: list[str | list[str]]) -> list[str | list[str]]:
        return check_segments(value)

    # ------------------------------------------------------------ what the kind reads
    @property
    def form(self) -> str:
        return self.FORM

    def inputs(self) -> list[KpiRef]:
        """The KPIs this one reads directly."""
        return []

    def sources_read(self) -> list[SourceRef]:
        """The sources this KPI reads directly."""
        return []

    def sources_needed(self, spec: SpecView) -> list[str]:
        """Every source computing this KPI reads (its own, and those of KPIs its filters evaluate)."""
        return [ref.source for ref in self.sources_read()]

    def columns(self, spec: SpecView) -> list[ColumnNeed]:
        """Columns the sources must have for this KPI (segments and scope of a derived KPI are
        checked on its inputs' sources by :func:`metricspec.sources.requirements`)."""
        return []

    def expressions(self, spec: SpecView) -> list[ExpressionSite]:
        """Every expression of this KPI (parsed and type-checked by validation)."""
        return []

    def check(self, spec: SpecView, name: str) -> list[KindIssue]:
        """Problems only this kind knows about (the references are checked from :meth:`inputs`)."""
        return []

    def grain_problem(self, spec: SpecView, grain: str, _seen: frozenset[str] = frozenset()) -> str | None:
        """Why this KPI cannot be computed per ``grain`` (None: it can), looking through its inputs."""
        if grain == "hour" and not self.HOURLY:
            return f"a {self.FORM} KPI is computed per day or longer, not per hour"
        for ref in self.inputs():
            kpi = spec.kpis.get(ref.name)
            if kpi is None or ref.name in _seen:
                continue
            problem = kpi.grain_problem(spec, grain, _seen | {ref.name})
            if problem is not None:
                return f"it reads KPI '{ref.name}': {problem}"
        return None

    def rows_source(self, spec: SpecView) -> str | None:
        """The source whose rows this KPI counts, whose columns its segments, scope and a query's
        ``--by``/``--where`` name (None: it reads other KPIs)."""
        return self.segment_source(spec)

    def conventions(self, spec: SpecView) -> list[str]:
        """What a reader cannot see in the spec: what one event (row) is, how days are counted, what
        happens at the edges of periods and windows. Printed by ``run --explain`` (docs: beside each
        kind in spec-reference.md). Derived kinds have none of their own."""
        return []

    def breakdown_columns(self, source: str) -> list[ColumnNeed]:
        """This KPI's segment and scope columns, read from ``source``'s rows (kinds that read rows)."""
        out = [ColumnNeed(source, c, None, path) for c, path in column_paths(self.segments)]
        return out + [ColumnNeed(source, c, None, ("scope", c), key=True) for c in self.scope]

    def segment_source(self, spec: SpecView) -> str | None:
        """The source whose columns this KPI's segments and scope (and those of KPIs derived from it)
        name, if it reads one source's rows through the aggregated plan."""
        return None

    # ------------------------------------------------------------ how it behaves
    @property
    def additive(self) -> bool:
        """Empty periods count as 0 (True) or as missing (False); a goal's total of an additive KPI
        over a window is the sum of its periods."""
        return False

    @property
    def default_measure(self) -> Literal["total", "latest"]:
        """A goal's measure when it gives none."""
        return "latest"

    @property
    def snapshot(self) -> bool:
        """A value at a point in time (a follower count), not an amount over the period."""
        return False

    def definition(self) -> dict[str, Any]:
        """The fields that make this KPI's values what they are (spec diffs compare them)."""
        out: dict[str, Any] = {f: _dump(getattr(self, f, None)) for f in self.LEGACY_FIELDS}
        for name, info in type(self).model_fields.items():
            if name in self.LEGACY_FIELDS or name in self.PRESENTATION:
                continue
            value = getattr(self, name)
            default = info.get_default(call_default_factory=True)
            if value != default:  # new fields join the fingerprint only when set
                out[name] = _dump(value)
        return out

    # ------------------------------------------------------------ how it is computed
    def plan(self, ev: PlanContext, req: Request) -> Planned:
        """Register what a request for this KPI needs and say how its series is computed."""
        raise NotImplementedError(type(self).__name__)

    def beside_series(self, ev: PlanContext, name: str, scope: Scope) -> CohortTable | None:
        """A table this KPI's result carries beside its series (cohort_retention's cohorts); none."""
        return None


def _dump(value: object) -> object:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_defaults=False)
    return value


def over_time(expr: pl.Expr, inputs: Inputs, *, partial_is_missing: bool) -> pl.Expr:
    """``expr`` (a window over the input's periods: shift, cumulative sum, rolling mean) computed per
    segment value in period order; no value over a custom window (a goal's total).

    ``partial_is_missing``: the current, partial period gets no value (a growth or moving average of
    part of a period against whole ones would mislead).
    """
    import polars as pl  # heavy: loaded when a series is computed, never when a spec is loaded

    if isinstance(inputs.grain, Window):
        return pl.lit(None, dtype=pl.Float64)
    if inputs.segments:
        expr = expr.over(list(inputs.segments), order_by="period")
    if partial_is_missing and inputs.partial:
        expr = pl.when(pl.col("period").is_in(inputs.partial)).then(None).otherwise(expr)
    return expr


def query_time_column(spec: HasSources, source: str, own: str | None = None) -> str | None:
    """The time column of a query on ``source``: the column that dates its rows
    (:func:`~metricspec.spec.source.time_column_of`: ``own``, the source's, the calendar's ``date``),
    or ``NO_TIME`` for a source without dates (``time_column: null``: every row, no periods); None when
    there is neither (the caller says what to add)."""
    tcol = time_column_of(spec, source, own)
    if tcol:
        return tcol
    return NO_TIME if timeless_source(spec, source) else None
