"""A spec's sources: where data comes from, and the column that dates a source's rows.

The spec's language (below the kinds in the layers, pyproject.toml): the kinds, validation, the
sources' opening and the engine read a source's time column through :func:`time_column_of`, so the
publishing calendar and sources without dates mean the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal, Protocol

from pydantic import Field

from metricspec.spec.base import BUILT_ON_USE, Name, StrictModel
from metricspec.spec.joins import Join

ColumnType = Literal["str", "int", "float", "bool", "date", "datetime", "duration"]
CALENDAR = "calendar"
"""The publishing calendar (the spec's ``calendar:``) read as a source: one row per day, dated by ``date``."""


class Source(StrictModel):
    """Where data comes from: a connector plus options, renames and column types."""

    connector: str = Field(description="Connector name, e.g. csv, parquet, excel, sqlite, sql, duckdb, or a plugin's.")
    options: dict[str, object] = Field(default_factory=dict, description="Connector options, validated by the connector.")
    description: str | None = None
    time_column: str | None = Field(None, description="Default time column of KPIs reading this source.")
    rename: dict[str, str] = Field(default_factory=dict, description="Column renames, old name -> new name.")
    columns: dict[str, ColumnType] = Field(default_factory=dict, description="Column types to cast to.")
    timestamp_format: str | None = Field(None, description="strptime format of string timestamps.")
    timezone: str | None = Field(None, description="Time zone of naive timestamps in the data (default UTC).")
    derive: dict[str, str] = Field(
        default_factory=dict,
        description="Computed columns, name -> expression over columns, e.g. {posted_on: 'date(2014, month, 1)'}.",
    )
    engine: Literal["polars", "duckdb"] | None = Field(
        None,
        description="Where the source's KPIs are computed. Default: in the database for database connectors "
        "(duckdb, sql, spark), in polars for files. polars: fetch the columns the spec reads and compute in "
        "polars. duckdb: read csv, parquet, ndjson or json files with DuckDB and compute there.",
    )
    entities: dict[Name, str] = Field(
        default_factory=dict,
        description="Keys with one row per value (primary entities), entity name -> column, e.g. "
        "{customer: customer_id}; a join to this source matches on this column.",
    )
    joins: Annotated[list[Join], BUILT_ON_USE] = Field(  # built when a source has joins (start-up)
        default_factory=list,
        description="Many-to-one joins: the columns of other sources looked up by key (left join; see Join).",
    )


class HasSources(Protocol):
    """A spec, as far as its sources go (:class:`metricspec.spec.models.Spec` is one)."""

    @property
    def sources(self) -> Mapping[str, Source]: ...


def time_column_of(spec: HasSources, source: str, own: str | None = None) -> str | None:
    """The column that dates the rows of ``source``: ``own`` (a KPI's, a step's or a group's
    ``time_column``), else the source's; ``date`` for the publishing calendar when no source of that
    name is declared; None when there is none (see :func:`timeless_source`)."""
    if own:
        return own
    src = spec.sources.get(source)
    if src is not None:
        return src.time_column
    return "date" if source == CALENDAR else None


def timeless_source(spec: HasSources, name: str) -> bool:
    """Whether source ``name`` declares ``time_column: null`` (a source without dates: its KPIs are
    all-time, see :mod:`metricspec.kinds.alltime`)."""
    src = spec.sources.get(name)
    return src is not None and src.time_column is None and "time_column" in src.model_fields_set
