"""The sqlite connector reads only the columns a run needs, through connectorx where it can.

Against the standard library's read of the whole table (what every run did before): the same frame on
tables connectorx types well, on tables it cannot (an untyped column whose first value is null, values
of two types), and an error (not a silent truncation) when later values do not fit the first rows' type.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.connectors.sqlite_read import SAMPLE_ROWS, sqlite_lazy
from metricspec.errors import DataError


def _db(path: Path, ddl: str, rows: list[tuple[Any, ...]]) -> Path:
    con = sqlite3.connect(path)
    con.execute(ddl)
    con.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in rows[0])})", rows)
    con.commit()
    con.close()
    return path


def _lazy(path: Path, query: str = "SELECT * FROM t") -> pl.LazyFrame:
    return sqlite_lazy(path, query, lambda: sqlite3.connect(path), lambda m: DataError(m))


def _stdlib(path: Path, query: str = "SELECT * FROM t") -> pl.DataFrame:
    con = sqlite3.connect(path)
    try:
        return pl.read_database(query, con, infer_schema_length=None)
    finally:
        con.close()


def test_only_the_columns_collected_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("connectorx")
    db = _db(tmp_path / "d.db", "CREATE TABLE t (a INTEGER, b TEXT, c REAL, d TEXT)",
             [(i, f"x{i % 3}", i / 4, "2026-01-01") for i in range(3000)])
    sent: list[str] = []
    real = pl.read_database_uri

    def spy(query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return real(query, *args, **kwargs)

    monkeypatch.setattr(pl, "read_database_uri", spy)
    got = _lazy(db).select(pl.col("b"), pl.col("c").sum()).collect()
    assert sent == ['SELECT "b", "c" FROM (\nSELECT * FROM t\n) AS metricspec_query']
    want = _stdlib(db).select(pl.col("b"), pl.col("c").sum())
    assert got.equals(want)
    assert _lazy(db).select(pl.len()).collect().item() == 3000


def test_columns_connectorx_cannot_type_are_read_by_sqlite3(tmp_path: Path) -> None:
    rows = [(None, 1, "x"), (2, 2.5, "y"), (3, 3, None)] + [(i, i, "z") for i in range(SAMPLE_ROWS)]
    db = _db(tmp_path / "d.db", "CREATE TABLE t (a, b, c)", rows)
    assert _lazy(db).collect().equals(_stdlib(db))


def test_a_column_null_in_the_first_rows_takes_the_type_of_its_first_values(tmp_path: Path) -> None:
    rows = [(i, None) for i in range(SAMPLE_ROWS + 5)] + [(1, 7), (2, 8)]
    db = _db(tmp_path / "d.db", "CREATE TABLE t (a, b)", rows)
    got = _lazy(db).collect()
    assert got.schema["b"] == pl.Int64 and got["b"].drop_nulls().to_list() == [7, 8]


def test_later_values_of_another_type_are_an_error_not_a_truncation(tmp_path: Path) -> None:
    rows = [(i,) for i in range(SAMPLE_ROWS)] + [(2.5,)]
    db = _db(tmp_path / "d.db", "CREATE TABLE t (a)", rows)
    with pytest.raises(Exception, match="column 'a' holds Float64 values where its first rows hold Int64"):
        _lazy(db).collect()
    # whole numbers stored as REAL later on fit an integer column exactly
    db2 = _db(tmp_path / "e.db", "CREATE TABLE t (a)", [(i,) for i in range(SAMPLE_ROWS)] + [(7.0,)])
    assert _lazy(db2).collect()["a"].to_list()[-1] == 7


def test_an_unusual_file_name_is_read_by_sqlite3(tmp_path: Path) -> None:
    folder = tmp_path / "a dir?x"
    folder.mkdir()
    db = _db(folder / "d.db", "CREATE TABLE t (a INTEGER)", [(1,), (2,)])
    assert _lazy(db).collect()["a"].to_list() == [1, 2]
    assert sorted(p.name for p in folder.iterdir()) == ["d.db"]  # nothing created beside it


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.integers(-100, 100), st.one_of(st.none(), st.integers(0, 9)),
                               st.sampled_from(["a", "b", None])), min_size=1, max_size=50),
       typed=st.booleans())
def test_same_frame_as_the_standard_library(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[Any, ...]],
                                            typed: bool) -> None:
    d = tmp_path_factory.mktemp("sq")
    ddl = "CREATE TABLE t (a INTEGER, b INTEGER, c TEXT)" if typed else "CREATE TABLE t (a, b, c)"
    db = _db(d / "d.db", ddl, rows)
    want, got = _stdlib(db), _lazy(db).collect()
    for col in want.columns:
        if want.schema[col] == pl.Null:
            assert got[col].null_count() == got.height
        else:
            assert got[col].to_list() == want[col].to_list(), col
