"""The cohort table a ``cohort_retention`` KPI adds to its result (``KpiResult.cohorts``): one row
per calendar cohort, its size and the share retained at each age."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import polars as pl


class _Result(BaseModel):
    """A part of the Results (as :class:`metricspec.engine.results.ResultModel`): the cohort table a
    cohort_retention KPI adds to its ``KpiResult``."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use (start-up)


class CohortRow(_Result):
    """One cohort of a cohort table: the entities whose first event fell in ``cohort``'s period."""

    cohort: dt.date
    label: str
    size: int
    retained: list[int | None]
    """Per age (0, 1, …): entities active in the cohort's period plus that many; None while that
    period has not ended by the as-of date."""
    shares: list[float | None]
    """``retained / size`` per age (None where ``retained`` is)."""


class CohortTable(_Result):
    """The cohort triangle of a ``cohort_retention`` KPI (its headline scope, all cohorts of the run)."""

    period: Literal["week", "month"]
    ages: list[int]
    rows: list[CohortRow]

    def to_polars(self) -> pl.DataFrame:
        """The table, tidy: one row per cohort and age with ``cohort, label, size, age, retained, share``
        (null where the age's period has not ended)."""
        import polars as pl  # polars: computing only; validate runs without it

        rows = [(r.cohort, r.label, r.size, age, n, share) for r in self.rows
                for age, n, share in zip(self.ages, r.retained, r.shares, strict=True)]
        schema = {"cohort": pl.Date, "label": pl.String, "size": pl.Int64, "age": pl.Int64, "retained": pl.Int64,
                  "share": pl.Float64}
        return pl.DataFrame(rows, schema=schema, orient="row")
