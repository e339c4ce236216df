"""DuckDB (in this process): exact aggregates, time zones through ``timezone()``, ``timestamp_format:``
through ``try_strptime``, answers through DuckDB's own Arrow export (ibis' result conversion imports
pandas: 0.7 s of every run)."""

from __future__ import annotations

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

_STRPTIME = {"%.f": "%f", "%#z": "%z", "%:z": "%z"}
"""polars' (chrono's) directives that DuckDB writes differently."""



@dataclass(frozen=True)
class DuckDB(Dialect):
    name: str = "duckdb"
    capabilities: Capabilities = EXACT_IN_ZONES
    sends_small_results: bool = True
    sends_all_results: bool = True
    out_of_memory_hint: str = (
        "DuckDB ran out of the memory it may use: raise the duckdb connector's `memory_limit:` (DuckDB "
        "spills to disk within it, but a count distinct needs some room) or run on a larger machine")

    @property
    def parses_formats(self) -> bool:
        return True

    def strptime(self, value: Any, fmt: str) -> Any:
        """``try_strptime`` (DuckDB's strptime takes the same format language as polars for the common
        directives)."""
        duck = fmt
        for chrono, duckdb_directive in _STRPTIME.items():
            duck = duck.replace(chrono, duckdb_directive)
        parse = self._udf("strptime_aware" if "%z" in duck else "strptime_naive")
        return parse(value, duck)

    def send(self, backend: Any, expr: Any, sql: str | None) -> pl.DataFrame:
        frame: pl.DataFrame = backend.con.sql(prepared_sql(backend, expr, sql)).pl()
        return frame
