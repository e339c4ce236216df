"""What every database dialect is: its name, its :class:`Capabilities`, and its behaviour where databases
differ (time zones, sums, regular expressions, parsing text times, sending a statement, errors).

:class:`Dialect` is the behaviour of a database ibis reaches that has no module of its own: exact
aggregates compiled as ibis compiles them, no time-zone conversion, results read with ibis' own
``to_polars``. Each database with a module (duckdb.py, postgres.py, pyspark.py, …) subclasses it and
overrides what differs. ibis is imported inside the methods: it is the SQL backend's optional dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from metricspec.engine.backends.ibis_expr import UntranslatableError

if TYPE_CHECKING:
    import polars as pl

Support = Literal["exact", "approximate", "missing"]
"""How a database computes an aggregate: exactly, only approximately (ClickHouse's ``uniq``, BigQuery's
``APPROX_QUANTILES``), or not at all (ibis refuses to translate it)."""


@dataclass(frozen=True)
class Capabilities:
    """What a database computes as the polars backend does."""

    time_zones: bool
    """Time zones are converted in its SQL (sql_time.py): a datetime becomes local wall-clock time."""
    quantiles: Support
    """Percentiles (``p90``…), linearly interpolated between the two nearest values."""
    count_distinct: Support
    """``count_distinct``."""
    median: Support
    """``median``, linearly interpolated."""
    first_last: Support = "exact"
    """``first`` and ``last``: the value at the earliest or latest time (ibis' ``argmin``/``argmax``)."""

    def support(self, agg: str) -> Support:
        """How an aggregation (a KPI's ``agg:``) is computed: exactly unless it is one of those above."""
        if agg in ("first", "last"):
            return self.first_last
        if agg == "count_distinct":
            return self.count_distinct
        if agg == "median":
            return self.median
        if agg.startswith("p") and agg[1:].isdigit():
            return self.quantiles
        return "exact"


EXACT = Capabilities(time_zones=False, quantiles="exact", count_distinct="exact", median="exact")
"""A database whose aggregates ibis compiles to exact SQL (and refuses to translate when it cannot)."""
EXACT_IN_ZONES = Capabilities(time_zones=True, quantiles="exact", count_distinct="exact", median="exact")
"""Exact aggregates, and time zones converted in its SQL (sql_time.py): DuckDB, PostgreSQL, Spark."""


def prepared_sql(backend: Any, expr: Any, sql: str | None) -> str:
    """The SQL of ``expr`` (``sql`` if compiled ahead), after the hooks that register the in-memory tables
    an expression reads."""
    hooks = getattr(backend, "_run_pre_execute_hooks", None)
    if hooks is not None:
        hooks(expr)
    return sql if sql is not None else str(backend.compile(expr))


@dataclass(frozen=True)
class Dialect:
    """A database the SQL backend runs statements in (ibis backend ``name``)."""

    name: str
    capabilities: Capabilities = EXACT
    back_reference: str = "\\"
    """What precedes a group's number in ``regexp_replace``'s replacement (``\\1``)."""
    sends_small_results: bool = False
    """Aggregate answers are sent as SQL through :meth:`send` (else ibis' ``to_polars``)."""
    sends_all_results: bool = False
    """Row reads go through :meth:`send` too (the database's own export streams them)."""
    stores_non_finite: bool = True
    """Its float columns can hold NaN and infinities, so every float column is checked for them."""
    out_of_memory_hint: str = ("the database ran out of memory for this query: ask its administrator for more, "
                               "or narrow the KPIs")

    # ------------------------------------------------------------------ aggregates
    def sum_input(self, value: Any) -> Any:
        """The value a ``sum`` adds up (a database whose integer sum overflows widens it)."""
        return value

    def count_distinct(self, value: Any, where: Any) -> Any:
        if self.capabilities.count_distinct == "approximate":
            return value.approx_nunique(where=where)
        return value.nunique(where=where)

    def quantile(self, value: Any, fraction: float) -> Any:
        if self.capabilities.quantiles == "approximate":
            return value.approx_quantile(fraction)
        return value.quantile(fraction)

    def median(self, value: Any, where: Any) -> Any:
        if self.capabilities.median == "approximate":
            return value.approx_median(where=where)
        return value.median(where=where)

    # ------------------------------------------------------------------ time zones (sql_time.py)
    def check_time_zones(self) -> None:
        if not self.capabilities.time_zones:
            raise UntranslatableError(
                f"converting time zones is not supported on {self.name} yet",
                "store the times in the spec's time zone (or in UTC with `timezone: UTC` in the spec), or read the "
                "source with `engine: polars`")

    def utc_to_wall(self, ts: Any, zone: str) -> Any:
        """Wall-clock time in ``zone`` (naive) of naive UTC wall-clock time ``ts``."""
        return self.aware_to_wall(self._udf("to_aware")("UTC", ts), zone)

    def aware_to_wall(self, ts: Any, zone: str) -> Any:
        """Wall-clock time in ``zone`` (naive) of a stored aware timestamp."""
        return self._udf("to_naive")(zone, ts)

    def wall_to_utc(self, ts: Any, zone: str) -> Any:
        """UTC wall-clock time (naive) of wall-clock ``ts`` in ``zone``, as the database resolves it."""
        return self._udf("to_naive")("UTC", self._udf("to_aware")(zone, ts))

    def aware_to_utc(self, ts: Any) -> Any:
        """A stored aware timestamp as naive UTC time."""
        return self._udf("to_naive")("UTC", ts)

    @property
    def aware_read_as_utc(self) -> bool:
        """Aware timestamps arrive as naive UTC wall-clock times (the session's time zone is UTC)."""
        return False

    @staticmethod
    def _udf(name: str) -> Any:
        from metricspec.engine.backends import sql_udfs  # imports ibis (optional, heavy)

        return {"to_aware": sql_udfs.tz_naive_to_aware, "to_naive": sql_udfs.tz_aware_to_naive,
                "spark_to_utc": sql_udfs.spark_to_utc, "spark_from_utc": sql_udfs.spark_from_utc,
                "strptime_aware": sql_udfs.try_strptime_aware, "strptime_naive": sql_udfs.try_strptime_naive}[name]

    # ------------------------------------------------------------------ text times (sql_prepare.py)
    @property
    def parses_formats(self) -> bool:
        """``timestamp_format:`` is translated (:meth:`strptime`)."""
        return False

    def strptime(self, value: Any, fmt: str) -> Any:
        """Text parsed with ``timestamp_format`` (polars' chrono directives), null where it does not parse."""
        raise UntranslatableError(
            f"`timestamp_format:` is only translated for DuckDB, not {self.name}",
            "store the times as a timestamp type in the database (or cast them in the source's `query:`)")

    # ------------------------------------------------------------------ sending (sql_exec.py)
    def send(self, backend: Any, expr: Any, sql: str | None) -> pl.DataFrame:
        """Run ``expr`` (its SQL compiled ahead, or None) and read the answer into polars."""
        import polars as pl  # the answer's frame (polars is loaded whenever a spec runs)

        out = expr.to_polars()
        assert isinstance(out, pl.DataFrame)
        return out
