"""Numbers that were silently wrong (issue 21): an int64 sum wrapping around, NaN and infinities in a
numeric column erasing a period's sum, on every connector and backend.

References: Python's exact integer sum (then one rounding to float, as DuckDB's HUGEINT and
PostgreSQL's numeric sums do), and the rows of the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.cli import main
from metricspec.engine.run import evaluate
from metricspec.errors import DataError
from metricspec.loader import load_spec

pytest.importorskip("duckdb")
pytest.importorskip("ibis")

from backend_support import DuckDBLoader, database_plugin_manager, database_plugin_managers

SPEC = """\
name: n
grains: [month]
sources:
  p: {connector: parquet, options: {path: p.parquet}, time_column: at}
kpis:
  total: {source: p, agg: sum, column: v}
  doubled: {source: p, agg: sum, expression: "v + 0"}
"""


def _sum(tmp: Path, values: list[int], backend: str) -> float | None:
    pl.DataFrame({"at": [dt.date(2026, 1, 1 + i % 28) for i in range(len(values))], "v": values},
                 schema={"at": pl.Date, "v": pl.Int64}).write_parquet(tmp / "p.parquet")
    (tmp / "s.yaml").write_text(SPEC, encoding="utf-8")
    pm = database_plugin_manager(DuckDBLoader()) if backend == "duckdb" else None
    results = evaluate(load_spec(tmp / "s.yaml"), as_of=dt.date(2026, 2, 1), plugin_manager=pm)
    values_of = {k.name: [p.value for s in k.series for p in s.points] for k in results.kpis}
    assert values_of["total"] == values_of["doubled"]
    return values_of["total"][0]


big = st.integers(-(2**63) + 1, 2**63 - 1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(big, min_size=1, max_size=6))
@pytest.mark.parametrize("backend", ["polars", "duckdb"])
def test_integer_sums_do_not_wrap_around(tmp_path_factory: pytest.TempPathFactory, backend: str,
                                         values: list[int]) -> None:
    """Two rows of 2**62 summed to -9.2e18 on polars (int64 wraps); the exact total, rounded once."""
    got = _sum(tmp_path_factory.mktemp("sum"), values, backend)
    assert got == _shown(sum(values))


def _shown(total: int) -> float:
    """The exact total as a KPI value: one rounding to float, then 12 significant digits past 2**53
    (engine/kpis.py SIGNIFICANT_DIGITS)."""
    value = float(total)
    return value if abs(value) < 2**53 else pl.Series([value]).round_sig_figs(12)[0]


def test_the_issue_s_overflow(tmp_path: Path) -> None:
    assert _sum(tmp_path, [2**62, 2**62], "polars") == _shown(2**63) > 0


def _csv_run(tmp: Path, cells: list[str], engine: str, null_values: str = "", declared: bool = False) -> str:
    (tmp / "d.csv").write_text("at,v\n" + "".join(f"2026-01-0{i + 1},{c}\n" for i, c in enumerate(cells)),
                               encoding="utf-8")
    options = "{path: d.csv" + (f", null_values: {null_values}" if null_values else "") + "}"
    (tmp / "s.yaml").write_text(
        f"name: s\ngrains: [month]\nsources:\n  d: {{connector: csv, options: {options}, time_column: at, "
        f"engine: {engine}{', columns: {v: float}' if declared else ''}}}\nkpis:\n  total: {{source: d, agg: sum, column: v}}\n  avg: {{source: d, agg: mean, "
        "column: v}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(tmp / "s.yaml"), "--as-of", "2026-02-01", "--format", "json"])
    assert "Traceback" not in result.output
    return f"{result.exit_code}\n{result.output}"


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
@pytest.mark.parametrize(("spelling", "declared"), [("NaN", False), ("inf", False), ("1e999", False), ("NaN", True),
                                                    ("nan", True), ("-Infinity", True), ("inf", True)])
def test_non_finite_cells_are_refused_with_their_row(tmp_path: Path, engine: str, spelling: str,
                                                     declared: bool) -> None:
    """CSV `NaN`/`inf` made January's sum and mean "no value" with no note, while `nan` and `-Infinity`
    were refused (a text column): one rule now, on every connector, whether polars' type inference
    took the column for numbers or the spec declares it float."""
    out = _csv_run(tmp_path, ["1.5", spelling, "2"], engine, declared=declared)
    assert out.startswith("2\n"), out
    assert "source 'd': column 'v' has values that are not finite numbers" in out and "null_values" in out
    if engine == "polars":
        assert "at row 2)" in out


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_non_finite_spellings_listed_as_null_values_are_missing(tmp_path: Path, engine: str) -> None:
    out = _csv_run(tmp_path, ["1.5", "NaN", "2", "inf"], engine, "[NaN, inf]")
    assert out.startswith("0\n"), out
    assert '"value": 3.5' in out and '"value": 1.75' in out
    assert "2 row(s) with a null 'v' in source 'd' were skipped" in out


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, object]]:
    with database_plugin_managers() as managers:
        yield dict(managers)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_stored_nan_or_infinity_is_refused_on_every_backend(tmp_path: Path, databases: dict[str, object],
                                                              value: float) -> None:
    pl.DataFrame({"at": [dt.date(2026, 1, 1), dt.date(2026, 1, 2)], "v": [1.0, value]}).write_parquet(
        tmp_path / "p.parquet")
    (tmp_path / "s.yaml").write_text(SPEC, encoding="utf-8")
    for name, pm in {"polars": None, **databases}.items():
        with pytest.raises(DataError, match="column 'v' has values that are not finite numbers"):
            evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 2, 1), plugin_manager=pm)
        assert name


def _write_ndjson(d: Path, cell: str) -> str:
    rows = [("2026-01-01", "1.5"), ("2026-01-02", cell), ("2026-01-03", "2")]
    pl.DataFrame({"at": [a for a, _ in rows], "v": [v for _, v in rows]}).write_ndjson(d / "d.ndjson")
    return "{connector: ndjson, options: {path: d.ndjson}, time_column: at, columns: {v: float}}"


def _write_excel(d: Path, cell: str) -> str:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(d / "d.xlsx"))
    sheet = book.add_worksheet()
    for i, row in enumerate([["at", "v"], ["2026-01-01", 1.5], ["2026-01-02", cell], ["2026-01-03", 2.0]]):
        sheet.write_row(i, 0, row)
    book.close()
    return "{connector: excel, options: {path: d.xlsx}, time_column: at, columns: {v: float}}"


def _write_sqlite(d: Path, cell: str) -> str:
    import sqlite3

    with sqlite3.connect(d / "d.db") as conn:  # SQLite stores NaN as NULL; an infinity stays one
        conn.execute("create table t (at text, v real)")
        conn.executemany("insert into t values (?, ?)", [("2026-01-01", 1.5), ("2026-01-02", float(cell)),
                                                         ("2026-01-03", 2.0)])
    return "{connector: sqlite, options: {path: d.db, table: t}, time_column: at}"


@pytest.mark.parametrize(("write", "cell"), [(_write_ndjson, "NaN"), (_write_ndjson, "-Infinity"),
                                             (_write_excel, "NaN"), (_write_excel, "inf"), (_write_sqlite, "inf"),
                                             (_write_sqlite, "-inf")])
def test_non_finite_cells_are_refused_by_every_file_and_database_connector(tmp_path: Path, write: object,
                                                                           cell: str) -> None:
    """One rule on every connector (the csv, parquet, DuckDB, PostgreSQL and Spark cases are above and in
    test_trust_spark.py): the second row's NaN or infinity stops the run naming column and row."""
    assert callable(write)
    source = write(tmp_path, cell)
    (tmp_path / "s.yaml").write_text(f"name: s\ngrains: [month]\nsources:\n  d: {source}\nkpis:\n"
                                     "  v: {source: d, agg: sum, column: v}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"column 'v' has values that are not finite numbers \(e\.g\. .* at row 2\)"):
        evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 2, 1))
