"""Reading data: every fault is an error naming source, column and row (exit 2, no traceback), no
inference window truncates a value, and ``validate --data`` agrees with ``run`` on every file."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner, Result

from metricspec.cli import main

SPEC = """
name: reading
timezone: UTC
grains: [month]
sources:
  sales: {{connector: {connector}, options: {options}, time_column: day{extra}}}
kpis:
  units: {{source: sales, agg: sum, column: amount}}
  orders: {{source: sales, agg: count}}
"""


def write_spec(tmp_path: Path, connector: str = "csv", options: str = "{path: sales.csv}", extra: str = "") -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(connector=connector, options=options, extra=extra))
    return spec


def run(spec: Path) -> Result:
    return CliRunner().invoke(main, ["run", str(spec), "--as-of", "2026-12-31", "--format", "json"])


def validate(spec: Path) -> Result:
    return CliRunner().invoke(main, ["validate", str(spec), "--data"])


def assert_data_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


def units(result: Result) -> float:
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    kpi = next(k for k in data["kpis"] if k["name"] == "units")
    return float(sum(p["value"] or 0 for p in kpi["series"][0]["points"]))


# ------------------------------------------------------------------ errors beyond the inference window


def test_text_beyond_the_csv_inference_window_names_column_and_row(tmp_path: Path) -> None:
    rows = [f"2026-01-{1 + i % 28:02d},{i % 7}" for i in range(15_000)] + ["2026-02-01,abc"]
    (tmp_path / "sales.csv").write_text("day,amount\n" + "\n".join(rows) + "\n")
    spec = write_spec(tmp_path)
    assert_data_error(run(spec), "source 'sales'", "column 'amount'", "'abc'", "row 15,001", "infer_schema_length")
    # reading the whole file to guess types makes the column text: declared float, the value is named
    spec = write_spec(tmp_path, options="{path: sales.csv, infer_schema_length: null}", extra=", columns: {amount: float}")
    assert_data_error(run(spec), "column 'amount' has values that are not float (e.g. 'abc' at row 15001)")


def test_a_float_beyond_the_csv_window_is_an_error_not_a_truncation(tmp_path: Path) -> None:
    rows = [f"2026-01-{1 + i % 28:02d},1" for i in range(12_000)] + ["2026-02-01,1.5"]
    (tmp_path / "sales.csv").write_text("day,amount\n" + "\n".join(rows) + "\n")
    assert_data_error(run(write_spec(tmp_path)), "column 'amount' holds '1.5' at row 12,001")
    spec = write_spec(tmp_path, options="{path: sales.csv, infer_schema_length: null}")
    assert units(run(spec)) == 12_001.5


def test_latin1_csv_names_the_byte_and_line(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_bytes("day,amount,shop\n2026-01-02,3,Sevilla\n2026-01-03,4,Logro\xf1o\n"
                                         .encode("latin-1"))
    assert_data_error(run(write_spec(tmp_path)), "is not UTF-8 text: byte 0xf1 at line 3", "encoding")
    spec = write_spec(tmp_path, options="{path: sales.csv, encoding: latin-1}")
    assert units(run(spec)) == 7


def test_ndjson_type_change_names_column_and_line(tmp_path: Path) -> None:
    lines = [json.dumps({"day": "2026-01-05", "amount": 1}) for _ in range(20)] + [
        json.dumps({"day": "2026-01-06", "amount": 1.5})]
    (tmp_path / "sales.ndjson").write_text("\n".join(lines) + "\n")
    spec = write_spec(tmp_path, "ndjson", "{path: sales.ndjson, infer_schema_length: 10}")
    assert_data_error(run(spec), "column 'amount'", "changes type at line 21", "1.5", "infer_schema_length: null")
    spec = write_spec(tmp_path, "ndjson", "{path: sales.ndjson, infer_schema_length: null}")
    assert units(run(spec)) == 21.5


def test_json_infers_from_every_record(tmp_path: Path) -> None:
    records = [{"day": "2026-01-05", "amount": 1} for _ in range(20_000)] + [{"day": "2026-01-06", "amount": 1.5}]
    (tmp_path / "sales.json").write_text(json.dumps(records))
    assert units(run(write_spec(tmp_path, "json", "{path: sales.json}"))) == 20_001.5


def test_excel_infers_from_every_row(tmp_path: Path) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    book = xlsxwriter.Workbook(str(tmp_path / "sales.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["day", "amount"])
    for i in range(1, 1500):
        sheet.write_row(i, 0, ["2026-01-05", 1])
    sheet.write_row(1500, 0, ["2026-01-06", 1.5])
    book.close()
    assert units(run(write_spec(tmp_path, "excel", "{path: sales.xlsx}"))) == 1500.5
    book = xlsxwriter.Workbook(str(tmp_path / "sales.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["day", "amount"])
    for i in range(1, 1500):
        sheet.write_row(i, 0, ["2026-01-05", 1])
    sheet.write_row(1500, 0, ["2026-01-06", "abc"])
    book.close()
    # the text makes the column text: the spec's sum says so instead of skipping the value
    assert_data_error(run(write_spec(tmp_path, "excel", "{path: sales.xlsx}")), "column 'amount' is str, not numeric")


def test_a_filter_on_mismatched_types_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text("day,amount,shop\n2026-01-02,3,a\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent("""
        name: reading
        timezone: UTC
        grains: [month]
        sources:
          sales: {connector: csv, options: {path: sales.csv}, time_column: day}
        kpis:
          odd: {source: sales, agg: count, filter: "shop > 5"}
    """))
    result = run(spec)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


# ------------------------------------------------------------------ whitespace-aligned files


ALIGNED = """\
panel_id   day          units   shop
   1001    2026-01-02      3    "Los Arcos"
   1002    2026-01-15     12    Norte
   1003    2026-02-01      7    Sur
"""


def test_whitespace_separator_reads_aligned_columns(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text(ALIGNED)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(connector="csv", options="{path: sales.csv, separator: whitespace}", extra="")
                    .replace("column: amount", "column: units"))
    assert units(run(spec)) == 22
    assert validate(spec).exit_code == 0
    frame = pl.read_csv(tmp_path / "sales.csv", separator="\t", has_header=False)  # the file is not tabbed
    assert frame.width == 1


def test_a_single_space_separator_is_refused_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text(ALIGNED)
    spec = write_spec(tmp_path, options='{path: sales.csv, separator: " "}')
    for result in (run(spec), validate(spec)):
        assert result.exit_code == 2, result.output
        assert "whitespace" in result.output


def test_whitespace_separator_rejects_a_line_with_extra_fields(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text(ALIGNED + "   1004    2026-02-03      1    Los Olivos\n")
    spec = write_spec(tmp_path, options="{path: sales.csv, separator: whitespace}")
    for result in (run(spec), validate(spec)):
        assert_data_error(result, "line 5 has 5 fields, the first row has 4")


# ------------------------------------------------------------------ validate --data reads a sample


def test_sql_sources_are_sampled_by_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "sales.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE sales (day TEXT, amount REAL)")
    con.executemany("INSERT INTO sales VALUES (?, ?)", [("2026-01-05", 1.0)] * 5000)
    con.commit()
    con.close()
    queries: list[str] = []
    real = pl.read_database

    def spy(query: Any, *args: Any, **kwargs: Any) -> Any:
        queries.append(str(query))
        return real(query, *args, **kwargs)

    monkeypatch.setattr(pl, "read_database", spy)
    spec = write_spec(tmp_path, "sqlite", "{path: sales.db, table: sales}")
    assert validate(spec).exit_code == 0
    assert queries and all(q.endswith("LIMIT 1000") for q in queries), queries
    queries.clear()
    assert units(run(spec)) == 5000
    # a run learns the column types from 1000 rows, then reads the columns it needs (through connectorx)
    assert queries == ['SELECT * FROM (\nSELECT * FROM "sales"\n) AS metricspec_query LIMIT 1000']
    # a query ending in a line comment is sampled too (the comment must not swallow the LIMIT)
    spec = write_spec(tmp_path, "sqlite", '{path: sales.db, query: "SELECT day, amount FROM sales -- all of them"}')
    queries.clear()
    assert validate(spec).exit_code == 0, validate(spec).output
    assert queries and all(q.endswith("LIMIT 1000") for q in queries), queries


# ------------------------------------------------------------------ run and validate --data agree


def _rows(n: int = 30) -> list[str]:
    return [f"2026-01-{1 + i % 28:02d},{i % 5}" for i in range(n)]


MALFORMED: dict[str, Callable[[], bytes]] = {
    "clean": lambda: ("day,amount\n" + "\n".join(_rows()) + "\n").encode(),
    "extra field": lambda: ("day,amount\n" + "\n".join(_rows(10)) + "\n2026-01-11,1,9\n" + "\n".join(_rows(5))).encode(),
    "missing field": lambda: ("day,amount\n" + "\n".join(_rows(10)) + "\n2026-01-11\n").encode(),
    "unbalanced quote": lambda: (b'day,amount\n2026-01-01,"1\n2026-01-02,2\n'),
    "unbalanced quote later": lambda: ("day,amount\n" + "\n".join(_rows(10)) + '\n2026-01-11,"5\n2026-01-12,3\n').encode(),
    "text in number": lambda: ("day,amount\n" + "\n".join(_rows(10)) + "\n2026-01-11,n/a\n").encode(),
    "bad date": lambda: ("day,amount\n" + "\n".join(_rows(10)) + "\n11/01/2026,3\n").encode(),
    "empty date": lambda: ("day,amount\n" + "\n".join(_rows(10)) + "\n,3\n").encode(),
    "blank lines": lambda: ("day,amount\n\n" + "\n\n".join(_rows(10)) + "\n\n").encode(),
    "bom": lambda: ("\ufeffday,amount\n" + "\n".join(_rows(10)) + "\n").encode(),
    "crlf": lambda: ("day,amount\r\n" + "\r\n".join(_rows(10)) + "\r\n").encode(),
    "semicolons": lambda: ("day;amount\n" + "\n".join(r.replace(",", ";") for r in _rows(10)) + "\n").encode(),
    "latin-1": lambda: ("day,amount,shop\n2026-01-02,3,Logro\xf1o\n").encode("latin-1"),
    "nul bytes": lambda: b"day,amount\n2026-01-02,3\x00\n",
    "header only": lambda: b"day,amount\n",
    "empty file": lambda: b"",
    "no header": lambda: ("\n".join(_rows(10)) + "\n").encode(),
    "duplicate header": lambda: (b"day,amount,amount\n2026-01-02,3,4\n"),
    "trailing separator": lambda: ("day,amount,\n" + "\n".join(r + "," for r in _rows(10)) + "\n").encode(),
    "padded values": lambda: ("day,amount\n" + "\n".join(f" {r.split(',')[0]} , {r.split(',')[1]} "
                                                       for r in _rows(10)) + "\n").encode(),
    "mixed layouts": lambda: (b"day,amount\n2026-01-02,3\n2026-01-03 10:00,4\n2026-01-04T10:00:00Z,5\n"),
    "dst gap": lambda: (b"day,amount\n2026-03-29 02:30:00,3\n"),
    "huge number": lambda: (b"day,amount\n2026-01-02,1e400\n"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("declared", [False, True])
@pytest.mark.parametrize("engine", ["in-memory", "streaming"])
def test_validate_data_and_run_agree(tmp_path: Path, case: str, declared: bool, engine: str,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICSPEC_POLARS_ENGINE", engine)
    (tmp_path / "sales.csv").write_bytes(MALFORMED[case]())
    extra = ", columns: {amount: float, day: datetime}, timezone: Europe/Madrid" if declared else ""
    spec = write_spec(tmp_path, extra=extra)
    ran, checked = run(spec), validate(spec)
    assert "Traceback" not in ran.output + checked.output
    assert ran.exit_code in (0, 2) and checked.exit_code in (0, 2), (ran.output, checked.output)
    assert (ran.exit_code == 0) == (checked.exit_code == 0), (
        f"{case}: run exit {ran.exit_code}, validate --data exit {checked.exit_code}\n"
        f"run: {ran.output}\nvalidate: {checked.output}")


# ------------------------------------------------------------------ one conversion per run


@pytest.mark.parametrize("as_of", [None, "2026-12-31"])
def test_each_source_is_read_and_converted_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        as_of: str | None) -> None:
    from metricspec.connectors.files import CsvConnector

    n = 5000
    (tmp_path / "sales.csv").write_text(
        "day,amount,shop\n" + "".join(f"2026-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00:00,{i % 9},s{i % 3}\n"
                                      for i in range(n)))
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent("""
        name: once
        timezone: Europe/Madrid
        grains: [week, month, quarter]
        sources:
          sales: {connector: csv, options: {path: sales.csv}, time_column: day}
        kpis:
          units: {source: sales, agg: sum, column: amount, segments: [shop]}
          orders: {source: sales, agg: count}
          big: {share: {of: orders, where: "amount > 4"}}
        objectives:
          sales:
            kpis: [units]
            goals:
              more: {kpi: units, target: 100, start: 2026-01-01, deadline: 2026-12-31}
    """))
    seen: list[int] = []
    scan = CsvConnector.scan

    def counting(self: CsvConnector, options: Any, context: Any) -> pl.LazyFrame:
        def count(s: pl.Series) -> pl.Series:
            seen.append(len(s))
            return s

        return scan(self, options, context).with_columns(
            pl.col("day").map_batches(count, return_dtype=pl.String, is_elementwise=True))

    monkeypatch.setattr(CsvConnector, "scan", counting)
    args = ["run", str(spec), "--format", "json", *(["--as-of", as_of] if as_of else [])]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    # every row once, plus the sample the time format is sniffed from (at most 1000 rows)
    assert n <= sum(seen) <= n + 1000, seen
