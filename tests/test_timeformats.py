"""Parsed dates are written exactly in their format and lie in 1900–2200, on every backend (issue 21).

`%m/%d/%Y %H:%M` on `4/11/18 04:53` parsed the year 18 AD on polars and DuckDB (Python's strptime
refuses it), so a year's rows fell out of their periods; `23:59:60` became the next minute; integers
under `datetime` without a format were read as epoch seconds. The reference is Python's strptime.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from metricspec.cli import main
from metricspec.errors import DataError
from metricspec.sources.prepare import apply_source_options
from metricspec.sources.timeformats import format_regex

FORMATS = ["%m/%d/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%Y%m%d", "%d %b %Y %I:%M %p",
           "%B %d, %Y", "%y-%m-%d", "%Y-%m-%dT%H:%M:%S%z", "%a %d %b %Y %H:%M", "%j/%Y", "%H:%M %d/%m/%y"]


def _read(values: list[str], fmt: str | None, typ: str = "datetime") -> pl.DataFrame:
    lf = pl.LazyFrame({"t": values}, schema={"t": pl.String})
    out = apply_source_options(lf, source_name="s", rename={}, columns={"t": typ}, timestamp_format=fmt,
                               timezone=None, target_timezone="UTC", time_column="t", where=None)
    return out.collect()


@settings(max_examples=300, deadline=None)
@given(when=st.datetimes(dt.datetime(1969, 1, 1), dt.datetime(2068, 12, 31)), fmt=st.sampled_from(FORMATS))
def test_a_value_python_writes_in_a_format_is_read_back_as_python_reads_it(when: dt.datetime, fmt: str) -> None:
    text = when.replace(tzinfo=dt.UTC).strftime(fmt)
    if "%y" in fmt and when.year % 100 == 69:  # Python and DuckDB read 69 as 1969, polars as 2069: refused
        assert not re.search(format_regex(fmt) or "", text)
        return
    regex = format_regex(fmt.replace("%z", "%#z"))
    assert regex is not None and re.search(regex, text), (fmt, text)
    expected = dt.datetime.strptime(text, fmt)
    expected = expected if expected.tzinfo else expected.replace(tzinfo=dt.UTC)
    got = _read([text], fmt)["t"][0]
    assert got == expected.astimezone(dt.UTC)


@pytest.mark.parametrize(("value", "fmt"), [
    ("4/11/18 04:53", "%m/%d/%Y %H:%M"),  # the two-digit year polars and DuckDB read as 18 AD
    ("2016-12-31 23:59:60", "%Y-%m-%d %H:%M:%S"),  # a leap second: the next minute on polars
    ("2024-01-0110:00", "%Y-%m-%d %H:%M"),  # no space where the format has one
    ("18-04-11", "%Y-%m-%d"),
])
def test_values_python_refuses_are_refused(value: str, fmt: str) -> None:
    with pytest.raises(ValueError):
        dt.datetime.strptime(value, fmt)
    regex = format_regex(fmt)
    assert regex is not None and not re.search(regex, value)
    with pytest.raises(pl.exceptions.PolarsError):  # the query fails; first_bad_value names the row (below)
        _read(["2024-01-01 10:00" if "%H" in fmt else "2024-01-01", value][1:], fmt)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
@pytest.mark.parametrize(("rows", "fmt", "expect"), [
    (["4/11/2018 04:53", "4/12/18 05:53"], "%m/%d/%Y %H:%M",
     "has values not written as timestamp_format '%m/%d/%Y %H:%M' says (e.g. '4/12/18 05:53'"),
    (["2018-04-11", "0018-04-12"], None, "has dates outside 1900–2200 (e.g. '0018-04-12'"),
    (["2018-04-11 10:00:00", "2301-01-01 10:00:00"], None, "has dates outside 1900–2200 (e.g. '2301-01-01 10:00:00'"),
    (["2016-12-31 23:59:59", "2016-12-31 23:59:60"], None, "'2016-12-31 23:59:60'"),
])
def test_bad_dates_stop_the_run_naming_source_column_and_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            engine: str, rows: list[str], fmt: str | None,
                                                            expect: str) -> None:
    if engine == "duckdb":
        pytest.importorskip("duckdb")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text("at,n\n" + "".join(f"{r},1\n" for r in rows), encoding="utf-8")
    extra = f", timestamp_format: '{fmt}'" if fmt else ""
    (tmp_path / "s.yaml").write_text(
        f"name: s\nsources:\n  d: {{connector: csv, options: {{path: d.csv}}, time_column: at, columns: {{at: "
        f"{'date' if len(rows[0]) == 10 else 'datetime'}}}, engine: {engine}{extra}}}\n"
        "kpis:\n  n: {source: d, agg: sum, column: n}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "s.yaml", "--as-of", "2019-01-01"])
    assert result.exit_code == 2, result.output
    assert "s.yaml:3" in result.output and "source 'd': column 'at'" in result.output and expect in result.output
    if engine == "polars":
        assert "at row 2" in result.output
    assert "Traceback" not in result.output


def test_integer_dates_need_a_format() -> None:
    lf = pl.LazyFrame({"d": [19970101, 19970102]})
    opts = {"source_name": "s", "rename": {}, "timezone": None, "target_timezone": "UTC", "time_column": "d",
            "where": None}
    for typ in ("date", "datetime"):  # datetime once read 19970101 as epoch seconds (1970-08-20)
        with pytest.raises(DataError, match="holds numbers, not dates"):
            apply_source_options(lf, columns={"d": typ}, timestamp_format=None, **opts)
    got = apply_source_options(lf, columns={"d": "datetime"}, timestamp_format="%Y%m%d", **opts).collect()
    assert got["d"].to_list() == [dt.datetime(1997, 1, d, tzinfo=dt.UTC) for d in (1, 2)]
    seconds = pl.LazyFrame({"d": [1_700_000_000]})
    got = apply_source_options(seconds, columns={"d": "datetime"}, timestamp_format="%s", **opts).collect()
    assert got["d"][0] == dt.datetime.fromtimestamp(1_700_000_000, dt.UTC)


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, object]]:
    """DuckDB, and a throwaway PostgreSQL when its binaries are installed."""
    pytest.importorskip("ibis")
    pytest.importorskip("duckdb")
    from backend_support import database_plugin_managers

    with database_plugin_managers() as managers:
        yield dict(managers)


@pytest.mark.parametrize(("values", "typ", "expect"), [
    (["2018-04-11", "0018-04-12"], "date", "has dates outside 1900–2200 (e.g. '0018-04-12')"),
    (["2018-04-11 10:00:00", "2301-01-01 10:00:00"], "datetime", "has dates outside 1900–2200"),
    (["2018-04-11 10:00:00", "2016-12-31 23:59:60"], "datetime", "'2016-12-31 23:59:60'"),
])
def test_text_dates_in_a_database_are_checked_too(tmp_path: Path, databases: dict[str, object], values: list[str],
                                                   typ: str, expect: str) -> None:
    """The same text loaded into DuckDB and PostgreSQL tables (the SQL backend parses it there)."""
    from metricspec.engine.run import evaluate
    from metricspec.errors import MetricSpecError
    from metricspec.loader import load_spec

    pl.DataFrame({"at": values, "n": [1, 2]}).write_parquet(tmp_path / "d.parquet")
    (tmp_path / "s.yaml").write_text(
        "name: s\nsources:\n  d: {connector: parquet, options: {path: d.parquet}, time_column: at, "
        f"columns: {{at: {typ}}}}}\nkpis:\n  n: {{source: d, agg: sum, column: n}}\n", encoding="utf-8")
    for name, pm in databases.items():
        with pytest.raises(MetricSpecError) as info:
            evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2019, 1, 1), plugin_manager=pm)
        assert "source 'd': column 'at'" in str(info.value) and expect in str(info.value), (name, str(info.value))
