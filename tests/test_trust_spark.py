"""Issue 21's "every backend" rules on Spark (local mode): parsed dates in 1900–2200 and without a leap
second, derived columns of one type, NaN and infinities refused (a Spark CSV's NaN once summed to 0.0),
integer sums that do not wrap around. Slow (a Spark session): needs PySpark and a Java runtime."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("pyspark")
pytest.importorskip("ibis")

from backend_support import SparkLoader, database_plugin_manager

from metricspec.engine.run import evaluate
from metricspec.errors import MetricSpecError
from metricspec.loader import load_spec


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    if shutil.which("java") is None:
        pytest.skip("no Java runtime: apt-get install default-jre-headless")
    from metricspec.connectors.spark import spark_session

    yield spark_session("local[2]", {"spark.sql.shuffle.partitions": "1", "spark.ui.enabled": "false",
                                     "spark.sql.adaptive.enabled": "false"})


def _spec(tmp: Path, frame: pl.DataFrame, source: str, kpis: str) -> Path:
    frame.write_parquet(tmp / "d.parquet")
    (tmp / "s.yaml").write_text(f"name: s\ngrains: [month]\nsources:\n  d: {{connector: parquet, options: {{path: "
                                f"d.parquet}}, {source}}}\nkpis:\n{kpis}", encoding="utf-8")
    return tmp / "s.yaml"


def _both(path: Path, spark: object) -> tuple[str, str]:
    """The Results JSON on polars and on Spark."""
    polars_json = evaluate(load_spec(path), as_of=dt.date(2026, 3, 1)).to_json()
    pm = database_plugin_manager(SparkLoader(spark))
    return polars_json, evaluate(load_spec(path), as_of=dt.date(2026, 3, 1), plugin_manager=pm).to_json()


@pytest.mark.parametrize(("values", "typ", "expect"), [
    (["2018-04-11", "0018-04-12"], "date", "has dates outside 1900–2200"),
    (["2018-04-11 10:00:00", "2016-12-31 23:59:60"], "datetime", "'2016-12-31 23:59:60'"),
])
def test_parsed_dates_are_checked_on_spark(tmp_path: Path, spark: object, values: list[str], typ: str,
                                           expect: str) -> None:
    path = _spec(tmp_path, pl.DataFrame({"at": values, "n": [1, 2]}), f"time_column: at, columns: {{at: {typ}}}",
                 "  n: {source: d, agg: sum, column: n}\n")
    with pytest.raises(MetricSpecError) as info:
        evaluate(load_spec(path), as_of=dt.date(2019, 1, 1), plugin_manager=database_plugin_manager(SparkLoader(spark)))
    assert "source 'd': column 'at'" in str(info.value) and expect in str(info.value)


def test_derived_columns_scopes_and_integer_sums_agree_with_polars(tmp_path: Path, spark: object) -> None:
    frame = pl.DataFrame({"at": [dt.date(2026, 1, d) for d in (5, 6, 7, 8)], "userid": [2400000, 2600000, 5000000, 7],
                          "big": [2**62, 2**62, 1, 5]})
    path = _spec(tmp_path, frame, "time_column: at, derive: {bucket: round(userid / 2500000), half: userid / 2}",
                 "  one: {source: d, agg: count, scope: {bucket: 1.0}}\n"
                 "  by_bucket: {source: d, agg: count, segments: [bucket]}\n"
                 "  big: {source: d, agg: sum, column: big}\n  half: {source: d, agg: sum, column: half}\n")
    on_polars, on_spark = _both(path, spark)
    assert on_spark == on_polars
    assert '"value": 2.0' in on_polars and "9.22337203685e+18" in on_polars


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_stored_nan_is_refused_on_spark(tmp_path: Path, spark: object, value: float) -> None:
    path = _spec(tmp_path, pl.DataFrame({"at": [dt.date(2026, 1, 5), dt.date(2026, 1, 6)], "v": [1.5, value]}),
                 "time_column: at", "  v: {source: d, agg: sum, column: v}\n")
    with pytest.raises(MetricSpecError, match="column 'v' has values that are not finite numbers"):
        evaluate(load_spec(path), as_of=dt.date(2026, 3, 1), plugin_manager=database_plugin_manager(SparkLoader(spark)))


def test_a_spark_csv_nan_is_refused(tmp_path: Path, spark: object) -> None:
    """The spark connector reading a CSV itself (Spark's own parser): NaN once summed to 0.0."""
    (tmp_path / "d.csv").write_text("at,v\n2026-01-05,1.5\n2026-01-06,NaN\n", encoding="utf-8")
    (tmp_path / "s.yaml").write_text(
        "name: s\ngrains: [month]\nsources:\n  d: {connector: spark, options: {path: d.csv, format: csv, master: "
        "'local[1]'}, time_column: at, columns: {v: float}}\nkpis:\n  v: {source: d, agg: sum, column: v}\n",
        encoding="utf-8")
    with pytest.raises(MetricSpecError, match="column 'v' has values that are not finite numbers"):
        evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 3, 1))


def test_iso_times_with_offsets_read_as_on_polars(tmp_path: Path, spark: object) -> None:
    """'2026-01-03 14:05 +0000' (as X writes it), 'Z', '-0130' and no seconds: Spark's cast wants the
    seconds and a colon in the offset, so these were 'not datetime' on Spark only."""
    values = ["2026-01-03 14:05 +0000", "2026-01-31 23:30 +0200", "2026-01-31T23:30:00Z", "2026-01-31 23:30:15-0130",
              "2026-02-01 01:30", "2026-02-01T01:30:05", "2026-01-15 10:00:00+05:30", "2026-01-31T22:30Z"]
    frame = pl.DataFrame({"at": values, "n": [10**i for i in range(len(values))]})
    path = _spec(tmp_path, frame, "time_column: at, columns: {at: datetime}", "  n: {source: d, agg: sum, column: n}\n")
    on_polars, on_spark = _both(path, spark)
    assert on_spark == on_polars
    # by UTC instant (Python's fromisoformat): January holds rows 0, 1, 2, 6 and 7 ('-0130' is 1 February 01:00)
    assert '"value": 11000111.0' in on_polars and '"value": 111000.0' in on_polars
