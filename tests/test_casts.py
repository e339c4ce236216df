"""Native casts of source columns: text timestamps, integer dates, DST, fast and lenient paths.

Every parsed value is compared with Python's own ``datetime.strptime`` / ``zoneinfo`` (an
independent implementation), on hand-picked cases and on hypothesis-generated ones.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.engine.run import evaluate
from metricspec.errors import DataError, Location
from metricspec.loader import load_spec
from metricspec.sources.casts import sniff_formats
from metricspec.sources.dataerrors import LenientRetry, collect_all_checked
from metricspec.sources.prepare import prepare_source

UTC = dt.UTC


def prepare(lf: pl.LazyFrame, **kwargs: Any) -> Any:
    args: dict[str, Any] = {
        "source_name": "s", "rename": {}, "columns": {}, "timestamp_format": None, "timezone": None,
        "target_timezone": "UTC", "time_column": None, "where": Location("spec.yaml", 3, 5),
    }
    args.update(kwargs)
    return prepare_source(lf, **args)


def collect(lf: pl.LazyFrame, **kwargs: Any) -> pl.DataFrame:
    """Collect as a run does: a LenientRetry opens the source again with the lenient casts."""
    prepared = prepare(lf, **kwargs)
    try:
        return collect_all_checked([prepared.frame], {"s": prepared})[0]
    except LenientRetry:
        prepared = prepare(lf, lenient=True, **kwargs)
        return collect_all_checked([prepared.frame], {"s": prepared})[0]


# ------------------------------------------------------------------ sniffing


@pytest.mark.parametrize(("values", "expected"), [
    (["2025-09-03 09:44:36"], "%Y-%m-%d %H:%M:%S"),
    (["2025-09-03 09:44:36.358352"], "%Y-%m-%d %H:%M:%S%.f"),
    (["2025-09-03T09:44:36+02:00", "2025-12-03T09:44:36+01:00"], "%Y-%m-%dT%H:%M:%S%#z"),
    (["2025-09-03T09:44:36.5Z"], "%Y-%m-%dT%H:%M:%S%.f%#z"),
    (["2025-09-03 09:44"], "%Y-%m-%d %H:%M"),
    (["2025-09-03"], "%Y-%m-%d"),
    (["2025/09/03 09:44:36"], "%Y/%m/%d %H:%M:%S"),
])
def test_sniff_picks_the_most_specific_format(values: list[str], expected: str) -> None:
    assert sniff_formats(values)[0] == expected


def test_sniff_has_no_day_month_guessing() -> None:
    assert sniff_formats(["03/09/2025 09:44", "13/09/2025 10:00"]) == []


# ------------------------------------------------------------------ text timestamps


def test_iso_layouts_with_and_without_offset_match_python() -> None:
    values = ["2026-01-03 14:05:00", "2026-01-03T14:05:00.250", "2026-01-03 14:05 +0100", "2026-05-18T09:15:03Z",
              " 2026-01-03 14:05:00 ", "2026-01-03", "2026/01/03 14:05:00", "", None]
    out = collect(pl.LazyFrame({"at": values}), columns={"at": "datetime"}, timezone="Europe/Madrid")
    madrid = ZoneInfo("Europe/Madrid")
    expected = [
        dt.datetime(2026, 1, 3, 14, 5, tzinfo=madrid), dt.datetime(2026, 1, 3, 14, 5, 0, 250000, tzinfo=madrid),
        dt.datetime(2026, 1, 3, 13, 5, tzinfo=UTC), dt.datetime(2026, 5, 18, 9, 15, 3, tzinfo=UTC),
        dt.datetime(2026, 1, 3, 14, 5, tzinfo=madrid), dt.datetime(2026, 1, 3, tzinfo=madrid),
        dt.datetime(2026, 1, 3, 14, 5, tzinfo=madrid), None, None,
    ]
    assert out["at"].to_list() == [None if e is None else e.astimezone(UTC) for e in expected]


def test_a_value_beyond_the_sample_in_another_layout_still_converts() -> None:
    # the sample (first 1000 rows) has one layout: the fast path is used, fails on row 1501,
    # and the source is read again with the lenient path -- never a silent null
    values = ["2026-01-03 14:05:00"] * 1500 + ["2026-01-04T08:00Z", " 2026-01-05 10:00:00"]
    lf = pl.LazyFrame({"at": values})
    with pytest.raises(LenientRetry):
        prepared = prepare(lf, columns={"at": "datetime"})
        collect_all_checked([prepared.frame], {"s": prepared})
    out = collect(lf, columns={"at": "datetime"})
    assert out["at"].to_list()[-2:] == [dt.datetime(2026, 1, 4, 8, tzinfo=UTC), dt.datetime(2026, 1, 5, 10, tzinfo=UTC)]


def test_a_bad_value_beyond_the_sample_names_its_row() -> None:
    values = ["2026-01-03 14:05:00"] * 1500 + ["03/01/2026"]
    with pytest.raises(DataError) as info:
        collect(pl.LazyFrame({"at": values}), columns={"at": "datetime"})
    assert info.value.message == ("source 's': column 'at' has values that are not datetime "
                                  "(e.g. '03/01/2026' at row 1501)")
    assert info.value.where == Location("spec.yaml", 3, 5)
    assert "timestamp_format" in (info.value.hint or "")


def test_timestamp_format_is_strict_and_names_the_row() -> None:
    lf = pl.LazyFrame({"at": ["03/01/2026 14:05", "04/01/2026 09:00", "2026-01-05 10:00"]})
    with pytest.raises(DataError, match=r"'2026-01-05 10:00' at row 3"):
        collect(lf, columns={"at": "datetime"}, timestamp_format="%d/%m/%Y %H:%M")
    out = collect(lf.head(2), time_column="at", timestamp_format="%d/%m/%Y %H:%M", timezone="Europe/Warsaw")
    assert out["at"].to_list() == [dt.datetime(2026, 1, 3, 13, 5, tzinfo=UTC), dt.datetime(2026, 1, 4, 8, tzinfo=UTC)]


def test_a_timestamp_format_that_matches_nothing_names_the_first_row() -> None:
    with pytest.raises(DataError, match=r"'2026-01-01' at row 1") as info:
        collect(pl.LazyFrame({"at": ["2026-01-01"]}), columns={"at": "datetime"}, timestamp_format="%Q-%Y")
    assert "timestamp_format" in (info.value.hint or "")


# ------------------------------------------------------------------ daylight saving


def test_local_time_skipped_by_dst_is_a_bad_value_with_its_row() -> None:
    # 2026-03-29 02:30 does not exist in Madrid (clocks jump from 02:00 to 03:00)
    values = ["2026-03-29 01:30:00", "2026-03-29 02:30:00", "2026-03-29 03:30:00"]
    with pytest.raises(DataError) as info:
        collect(pl.LazyFrame({"at": values}), columns={"at": "datetime"}, timezone="Europe/Madrid")
    assert "'2026-03-29 02:30:00' at row 2" in info.value.message
    assert "daylight-saving" in (info.value.hint or "")


def test_ambiguous_local_time_takes_the_earlier_instant() -> None:
    # 2026-10-25 02:30 happens twice in Madrid: first at +02:00 (00:30 UTC)
    out = collect(pl.LazyFrame({"at": ["2026-10-25 02:30:00"]}), columns={"at": "datetime"}, timezone="Europe/Madrid")
    assert out["at"].to_list() == [dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]


# ------------------------------------------------------------------ integer dates


def test_integer_dates_with_timestamp_format() -> None:
    lf = pl.LazyFrame({"date": [19970101, 19971231, None]})
    out = collect(lf, columns={"date": "datetime"}, timestamp_format="%Y%m%d")
    assert out["date"].to_list() == [dt.datetime(1997, 1, 1, tzinfo=UTC), dt.datetime(1997, 12, 31, tzinfo=UTC), None]
    out = collect(lf, columns={"date": "date"}, timestamp_format="%Y%m%d")
    assert out["date"].to_list() == [dt.date(1997, 1, 1), dt.date(1997, 12, 31), None]
    with pytest.raises(DataError, match=r"not date \(e\.g\. 19971340 at row 1\)"):
        collect(pl.LazyFrame({"date": [19971340]}), columns={"date": "date"}, timestamp_format="%Y%m%d")


def test_integers_as_dates_without_a_format_are_refused() -> None:
    with pytest.raises(DataError) as info:
        prepare(pl.LazyFrame({"date": [19970101]}), columns={"date": "date"})
    assert "holds numbers, not dates" in info.value.message
    assert "%Y%m%d" in (info.value.hint or "")


def test_integer_dates_in_a_run(tmp_path: Path) -> None:
    (tmp_path / "sales.csv").write_text("date,units\n19970101,3\n19970102,4\n19970215,5\n")
    (tmp_path / "spec.yaml").write_text(textwrap.dedent("""
        name: panel
        timezone: UTC
        grains: [month]
        sources:
          sales: {connector: csv, options: {path: sales.csv}, time_column: date, columns: {date: date},
                  timestamp_format: "%Y%m%d"}
        kpis:
          units: {source: sales, agg: sum, column: units}
    """))
    res = evaluate(load_spec(tmp_path / "spec.yaml"), as_of=dt.date(1997, 2, 28))
    points = {p.period: p.value for p in res.kpis[0].series[0].points}
    assert points == {dt.date(1997, 1, 1): 7.0, dt.date(1997, 2, 1): 5.0}


# ------------------------------------------------------------------ other types, fast and lenient


def test_numbers_and_booleans_from_text() -> None:
    lf = pl.LazyFrame({"n": ["10", " 20 ", "30.0", "", None], "f": ["0.5", "1", " 2.5", "", None],
                       "b": ["yes", "FALSE", " 1", "", None]})
    out = collect(lf, columns={"n": "int", "f": "float", "b": "bool"})
    assert out["n"].to_list() == [10, 20, 30, None, None]
    assert out["f"].to_list() == [0.5, 1.0, 2.5, None, None]
    assert out["b"].to_list() == [True, False, True, None, None]
    with pytest.raises(DataError, match=r"not int \(e\.g\. '2\.5' at row 2\)"):
        collect(pl.LazyFrame({"n": ["1", "2.5"]}), columns={"n": "int"})


# ------------------------------------------------------------------ property: agrees with Python's strptime

LAYOUTS = [
    ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", None),
    ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", None),
    ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%z", None),
    ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M"),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stamps=st.lists(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 12, 31)),
                    min_size=1, max_size=30),
    layout=st.sampled_from(LAYOUTS),
    offset_minutes=st.integers(-12 * 60, 14 * 60).map(lambda m: m - m % 15),
    zone=st.sampled_from(["UTC", "Europe/Madrid", "America/New_York", "Asia/Kolkata"]),
)
def test_parsed_times_agree_with_python(stamps: list[dt.datetime], layout: tuple[str, str, str | None],
                                        offset_minutes: int, zone: str) -> None:
    write, read, fmt = layout
    tz = dt.timezone(dt.timedelta(minutes=offset_minutes)) if "%z" in write else None
    if "%M" in write and "%S" not in write:
        stamps = [s.replace(second=0, microsecond=0) for s in stamps]
    if "%f" not in write:
        stamps = [s.replace(microsecond=0) for s in stamps]
    local = ZoneInfo(zone)
    expected: list[dt.datetime | None] = []
    for s in stamps:
        if tz is not None:
            expected.append(s.replace(tzinfo=tz).astimezone(UTC))
            continue
        aware = s.replace(tzinfo=local)
        if aware.astimezone(UTC).astimezone(local).replace(tzinfo=None) != s:  # skipped by a DST change
            return  # covered by test_local_time_skipped_by_dst_is_a_bad_value_with_its_row
        expected.append(s.replace(tzinfo=local, fold=0).astimezone(UTC))
    texts = [(s.replace(tzinfo=tz) if tz else s).strftime(write) for s in stamps]
    assert [dt.datetime.strptime(t, read).replace(tzinfo=None) for t in texts if tz is None] == \
        [s for s in stamps if tz is None]  # the reference reads its own output back
    out = collect(pl.LazyFrame({"at": texts}), columns={"at": "datetime"}, timestamp_format=fmt, timezone=zone)
    assert out["at"].to_list() == expected


def test_fractional_numbers_are_not_integer_dates() -> None:
    with pytest.raises(DataError, match=r"not date \(e\.g\. 19970101\.5 at row 2\)"):
        collect(pl.LazyFrame({"date": [19970101.0, 19970101.5]}), columns={"date": "date"}, timestamp_format="%Y%m%d")
