"""Rows of a database source as polars reads them: fetched on demand, only the columns asked for.

Funnels, retention, control groups and attribution work on rows in polars. For a database source they
read :attr:`Relation.frame`, a LazyFrame registered as a polars IO source: polars pushes the projection
into it, so the SQL sent selects only the columns the consumer reads (never ``SELECT *``), and values
come back with the polars backend's types (datetimes aware in the spec's time zone).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import polars as pl
from polars.io.plugins import register_io_source

from metricspec.engine.backends.relation import relayed
from metricspec.engine.backends.sql_exec import run_checks, to_frame
from metricspec.errors import MetricSpecError

if TYPE_CHECKING:
    from metricspec.engine.backends.relation import Relation


def relation_frame(rel: Relation) -> pl.LazyFrame:
    def source(with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
               batch_size: int | None) -> Iterator[pl.DataFrame]:
        columns = list(with_columns) if with_columns is not None else list(rel.schema)
        try:
            frame = fetch(rel, columns, limit=n_rows)
        except MetricSpecError as exc:  # raised inside polars: keep the place and the hint
            raise relayed(exc) from None
        if predicate is not None:
            frame = frame.filter(predicate)
        yield frame

    return register_io_source(source, schema=rel.schema, explain_name=f"{rel.dialect}:{rel.source}")


def fetch(rel: Relation, columns: list[str], *, limit: int | None = None) -> pl.DataFrame:
    """``SELECT <columns> FROM <prepared source> [LIMIT n]`` as a polars frame with the source's types."""
    run_checks(rel, columns)
    table = rel.table.select(columns) if columns else rel.table.select()
    if limit is not None:
        table = table.limit(limit)
    return polars_view(to_frame(rel, table), {c: rel.schema[c] for c in columns})


def polars_view(frame: pl.DataFrame, schema: dict[str, Any]) -> pl.DataFrame:
    """Cast fetched columns to the polars backend's types: local wall-clock datetimes become aware in
    the spec's zone (a repeated hour's earlier instant, as on the polars backend), decimals floats."""
    exprs = []
    for col, dtype in schema.items():
        have = frame.schema[col]
        c = pl.col(col)
        if isinstance(dtype, pl.Datetime):
            c = c.cast(pl.Datetime("us"))
            if isinstance(have, pl.Datetime) and have.time_zone is not None:
                c = pl.col(col).dt.convert_time_zone(dtype.time_zone or "UTC").cast(dtype)
            else:
                c = c.dt.replace_time_zone(dtype.time_zone, ambiguous="earliest", non_existent="null")
        elif have != dtype:
            c = c.cast(dtype)
        exprs.append(c.alias(col))
    return frame.select(exprs) if exprs else frame


def table_frame(table: Any, source: str, where: Any = None) -> pl.LazyFrame:
    """A database table as stored (no preparation), read by polars with projection pushdown: for
    ``engine: polars``, where the spec's preparation and KPIs run in polars on the columns it reads."""
    from ibis.formats.polars import PolarsType  # optional and heavy: ibis, for database sources

    named = _Named(source, table, where)
    schema: dict[str, pl.DataType] = {}
    for col, dtype in table.schema().items():
        pdtype = PolarsType.from_ibis(dtype)
        schema[col] = pl.Datetime("us", getattr(pdtype, "time_zone", None)) if isinstance(pdtype, pl.Datetime) \
            else pdtype

    def read(with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
             batch_size: int | None) -> Iterator[pl.DataFrame]:
        columns = list(with_columns) if with_columns is not None else list(schema)
        expr = table.select(columns) if columns else table.select()
        if n_rows is not None:
            expr = expr.limit(n_rows)
        try:
            frame = to_frame(named, expr)  # type: ignore[arg-type]
        except MetricSpecError as exc:  # raised inside polars: keep the place and the hint
            raise relayed(exc) from None
        frame = frame.select([pl.col(c).cast(schema[c]) for c in columns]) if columns else frame
        yield frame.filter(predicate) if predicate is not None else frame

    return register_io_source(read, schema=schema, explain_name=f"{table._find_backend().name}:{source}")


class _Named:
    """What :func:`database_error` needs of a relation, for a table read as stored."""

    def __init__(self, source: str, table: Any, where: Any) -> None:
        backend = table._find_backend()
        self.source = source
        self.dialect = backend.name
        self.connection_key = f"{backend.name}:{id(backend)}"
        self.where = where
