"""PostgreSQL: exact aggregates (``percentile_cont``), time zones through ``timezone()``, aggregate
answers through a plain statement on a client-side cursor. ibis reads results through a named
server-side cursor (``DECLARE ... CURSOR``), and PostgreSQL never runs a cursor's plan in parallel; an
aggregate's answer is a few rows, so nothing is gained by streaming it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metricspec.engine.backends.dialects.base import (
    EXACT_IN_ZONES,
    Capabilities,
    Dialect,
    prepared_sql,
)

if TYPE_CHECKING:
    import polars as pl



@dataclass(frozen=True)
class Postgres(Dialect):
    name: str = "postgres"
    capabilities: Capabilities = EXACT_IN_ZONES
    sends_small_results: bool = True

    def send(self, backend: Any, expr: Any, sql: str | None) -> pl.DataFrame:
        import polars as pl  # the answer's frame (polars is loaded whenever a spec runs)
        from ibis.formats.polars import PolarsType  # ibis: the SQL backend's optional dependency

        sql = prepared_sql(backend, expr, sql)
        schema = {name: PolarsType.from_ibis(dtype) for name, dtype in expr.as_table().schema().items()}
        con = backend.con
        with con.cursor() as cursor, con.transaction():
            cursor.execute(sql)
            rows = cursor.fetchall()
        # PostgreSQL's DATE_TRUNC of a date answers a timestamp: its date (in the session's zone) is the period
        dates = [i for i, dtype in enumerate(schema.values()) if dtype == pl.Date]
        if dates:
            rows = [tuple(v.date() if i in dates and isinstance(v, dt.datetime) else v for i, v in enumerate(row))
                    for row in rows]
        return pl.DataFrame(rows, schema=schema, orient="row")
