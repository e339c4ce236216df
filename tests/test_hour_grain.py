"""The ``hour`` grain: local clock hours in the spec's time zone, on polars, DuckDB, PostgreSQL and Spark.

An hour period is an instant (the start of a local clock hour), so the day Europe/Warsaw moves to summer
time (29 March 2026) has 23 hours and the day it goes back (25 October 2026) has 25: 02:00+02:00 and
02:00+01:00 are two hours. Every count is checked against plain Python (``zoneinfo``) on the same rows;
the SQL backends must give byte-identical Results. The times are stored three ways: text with a ``Z``
(converted by the source's ``columns:``), aware UTC timestamps and naive UTC timestamps (``timezone:
UTC``), since each takes its own path to the instant in SQL (engine/backends/sql_time.py).
"""

from __future__ import annotations

import datetime as dt
import itertools
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.engine.run import evaluate
from metricspec.errors import MetricSpecError
from metricspec.loader import load_spec
from metricspec.plan.periods import add_periods, first_hour, last_hour, period_range, shift_local

ZONE = "Europe/Warsaw"
AS_OF = dt.date(2026, 10, 26)
SPEC = """\
name: hourly
timezone: {zone}
grains: [hour, day]
sources:
  text: {{connector: csv, options: {{path: text.csv}}, time_column: at, columns: {{at: datetime}}}}
  aware: {{connector: parquet, options: {{path: aware.parquet}}, time_column: at}}
  naive: {{connector: parquet, options: {{path: naive.parquet}}, time_column: at, timezone: UTC}}
kpis:
  n_text: {{source: text, agg: count, segments: [network]}}
  n_aware: {{source: aware, agg: count}}
  sum_naive: {{source: naive, agg: sum, column: amount}}
  n_naive: {{source: naive, agg: count}}
  mean_naive: {{ratio: {{numerator: sum_naive, denominator: n_naive}}}}
  growth: {{growth: n_aware}}
  last_amount: {{source: naive, agg: last, column: amount}}
"""


def instants(days: list[dt.date], step_minutes: int = 20) -> list[dt.datetime]:
    """Every ``step_minutes`` (UTC) from 22:00 UTC the evening before each day to 02:00 UTC after it."""
    out = set()
    for day in days:
        t = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(22), tzinfo=dt.UTC)
        while t < dt.datetime.combine(day + dt.timedelta(days=1), dt.time(2), tzinfo=dt.UTC):
            out.add(t)
            t += dt.timedelta(minutes=step_minutes)
    return sorted(out)


def write(d: Path, times: list[dt.datetime], zone: str = ZONE) -> Path:
    amounts = [float(i % 7) for i in range(len(times))]
    pl.DataFrame({"at": [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in times],
                  "network": [("x", "fb")[i % 2] for i in range(len(times))]}).write_csv(d / "text.csv")
    pl.DataFrame({"at": times, "amount": amounts},
                 schema={"at": pl.Datetime("us", "UTC"), "amount": pl.Float64}).write_parquet(d / "aware.parquet")
    pl.DataFrame({"at": [t.replace(tzinfo=None) for t in times], "amount": amounts},
                 schema={"at": pl.Datetime("us"), "amount": pl.Float64}).write_parquet(d / "naive.parquet")
    (d / "spec.yaml").write_text(SPEC.format(zone=zone))
    return d / "spec.yaml"


def local_hour(t: dt.datetime, zone: str) -> str:
    """Plain Python: the label of the local clock hour holding instant ``t``."""
    local = t.astimezone(ZoneInfo(zone))
    return local.replace(minute=0, second=0, microsecond=0).isoformat(timespec="minutes")


def headline(results: object, kpi: str, grain: str) -> list[object]:
    k = results.kpi(kpi)  # type: ignore[attr-defined]
    return next(s for s in k.series if s.grain == grain and s.kind == "headline").points


DST_DAYS = [dt.date(2026, 3, 29), dt.date(2026, 10, 25)]


@pytest.fixture(scope="module")
def dst_spec(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dt.datetime]]:
    times = [t for t in instants([*DST_DAYS, dt.date(2026, 10, 26)])
             if t.astimezone(ZoneInfo(ZONE)).date() <= AS_OF]
    return write(tmp_path_factory.mktemp("hourly"), times), times


def test_days_the_clocks_change_have_23_and_25_hours(dst_spec) -> None:
    path, times = dst_spec
    res = evaluate(load_spec(path), as_of=AS_OF)
    points = headline(res, "n_aware", "hour")
    per_day = Counter(p.period.astimezone(ZoneInfo(ZONE)).date() for p in points)
    assert per_day[dt.date(2026, 3, 29)] == 23
    assert per_day[dt.date(2026, 10, 25)] == 25
    labels = [p.label for p in points]
    assert len(set(labels)) == len(labels)
    assert "2026-10-25T02:00+02:00" in labels and "2026-10-25T02:00+01:00" in labels
    assert "2026-03-29T02:00+01:00" not in labels and "2026-03-29T03:00+02:00" in labels
    expected = Counter(local_hour(t, ZONE) for t in times)
    for kpi in ("n_aware", "n_naive", "n_text"):
        got = {p.label: p.value for p in headline(res, kpi, "hour")}
        assert {k: v for k, v in got.items() if v} == {k: float(v) for k, v in expected.items()}, kpi
    # a day's hours add up to the day
    days = {p.label: p.value for p in headline(res, "n_aware", "day")}
    assert days["2026-10-25"] == 25 * 3 and days["2026-03-29"] == 23 * 3


def test_hourly_ratio_growth_and_last_per_hour(dst_spec) -> None:
    path, times = dst_spec
    res = evaluate(load_spec(path), as_of=AS_OF)
    amounts = {t: float(i % 7) for i, t in enumerate(times)}
    sums: dict[str, float] = {}
    counts: Counter[str] = Counter()
    last: dict[str, tuple[dt.datetime, float]] = {}
    for t, a in amounts.items():
        h = local_hour(t, ZONE)
        sums[h] = sums.get(h, 0.0) + a
        counts[h] += 1
        if h not in last or t >= last[h][0]:
            last[h] = (t, a)
    mean = {p.label: p.value for p in headline(res, "mean_naive", "hour")}
    lasts = {p.label: p.value for p in headline(res, "last_amount", "hour")}
    for h in counts:
        assert mean[h] == pytest.approx(sums[h] / counts[h], rel=1e-11)  # values keep 12 significant digits
        assert lasts[h] == last[h][1]
    growth = headline(res, "growth", "hour")
    by_label = {p.label: p.value for p in headline(res, "n_aware", "hour")}
    ordered = list(by_label)
    for prev, cur in itertools.pairwise(ordered):
        g = next(p.value for p in growth if p.label == cur)
        if by_label[prev]:
            assert g == pytest.approx((by_label[cur] - by_label[prev]) / by_label[prev])
    # the headline hour compares with the hour before it (the repeated 02:00 included)
    head = next(h for h in res.kpi("n_aware").headlines if h.grain == "hour")
    assert head.label == "2026-10-26T23:00+01:00" and head.previous == 3.0 and head.value == 3.0


def test_results_json_round_trips_hour_periods(dst_spec) -> None:
    from metricspec.engine.results import Results

    path, _ = dst_spec
    res = evaluate(load_spec(path), as_of=AS_OF)
    text = res.to_json()
    assert '"period": "2026-10-25T02:00:00+01:00"' in text
    assert Results.model_validate_json(text).to_json() == text


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, object]]:
    pytest.importorskip("ibis")
    pytest.importorskip("duckdb")
    from backend_support import database_plugin_managers

    with database_plugin_managers() as managers:
        yield dict(managers)


def test_sql_backends_give_the_same_hours(dst_spec, databases) -> None:
    path, _ = dst_spec
    expected = evaluate(load_spec(path), as_of=AS_OF).to_json()
    for name, pm in databases.items():
        assert evaluate(load_spec(path), as_of=AS_OF, plugin_manager=pm).to_json() == expected, name


def test_spark_gives_the_same_hours(dst_spec) -> None:
    pytest.importorskip("pyspark")
    import shutil

    if shutil.which("java") is None:
        pytest.skip("no Java runtime: apt-get install default-jre-headless")
    from backend_support import SparkLoader, database_plugin_manager

    from metricspec.connectors.spark import spark_session

    path, _ = dst_spec
    expected = evaluate(load_spec(path), as_of=AS_OF).to_json()
    session = spark_session("local[2]", {"spark.sql.shuffle.partitions": "1", "spark.ui.enabled": "false",
                                         "spark.sql.adaptive.enabled": "false"})
    pm = database_plugin_manager(SparkLoader(session))
    assert evaluate(load_spec(path), as_of=AS_OF, plugin_manager=pm).to_json() == expected


def test_half_hour_zones_get_their_local_hours(tmp_path: Path, databases) -> None:
    """Asia/Kolkata is UTC+05:30: its hours start at :30 UTC."""
    times = instants([dt.date(2026, 1, 10)], step_minutes=15)
    path = write(tmp_path, times, zone="Asia/Kolkata")
    res = evaluate(load_spec(path), as_of=dt.date(2026, 1, 11))
    got = {p.label: p.value for p in headline(res, "n_aware", "hour") if p.value}
    assert got == {k: float(v) for k, v in Counter(local_hour(t, "Asia/Kolkata") for t in times).items()}
    assert all(label.endswith(":00+05:30") for label in got)
    expected = res.to_json()
    for name, pm in databases.items():
        assert evaluate(load_spec(path), as_of=dt.date(2026, 1, 11), plugin_manager=pm).to_json() == expected, name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(minutes=st.lists(st.integers(0, 4 * 24 * 60 - 1), min_size=1, max_size=40),
       zone=st.sampled_from(["Europe/Warsaw", "America/New_York", "Asia/Kolkata", "UTC", "Australia/Sydney"]))
def test_hours_add_up_to_days_in_any_zone(tmp_path_factory, minutes: list[int], zone: str) -> None:
    """Property: every row lands in exactly one hour, the hour plain Python gives, and a day's hours
    add up to the day (whatever the zone and its clock changes)."""
    # the weekends their clocks go back (Kolkata and UTC have no change)
    base = {"America/New_York": dt.datetime(2026, 10, 30, tzinfo=dt.UTC),
            "Australia/Sydney": dt.datetime(2026, 4, 3, tzinfo=dt.UTC)}.get(zone, dt.datetime(2026, 10, 23, tzinfo=dt.UTC))
    times = sorted({base + dt.timedelta(minutes=m) for m in minutes})
    path = write(tmp_path_factory.mktemp("prop"), times, zone=zone)
    as_of = (base + dt.timedelta(days=5)).date()
    res = evaluate(load_spec(path), as_of=as_of)
    hours = {p.label: p.value for p in headline(res, "n_aware", "hour") if p.value}
    assert hours == {k: float(v) for k, v in Counter(local_hour(t, zone) for t in times).items()}
    assert sum(hours.values()) == len(times)
    per_day: Counter[str] = Counter()
    for p in headline(res, "n_aware", "hour"):
        per_day[p.period.astimezone(ZoneInfo(zone)).date().isoformat()] += int(p.value or 0)
    days = {p.label: p.value for p in headline(res, "n_aware", "day")}
    assert {d: float(n) for d, n in per_day.items() if n} == {d: v for d, v in days.items() if v}


def test_period_arithmetic_counts_instants() -> None:
    z = ZONE
    first, last = first_hour(dt.date(2026, 10, 25), z), last_hour(dt.date(2026, 10, 25), z)
    assert len(period_range(first, last, "hour")) == 25
    assert len(period_range(first_hour(dt.date(2026, 3, 29), z), last_hour(dt.date(2026, 3, 29), z), "hour")) == 23
    two = add_periods(first, "hour", 2)
    assert two.isoformat() == "2026-10-25T02:00:00+02:00"
    assert add_periods(two, "hour", 1).isoformat() == "2026-10-25T02:00:00+01:00"
    # the same clock hour 364 days earlier (not 8736 hours: the clocks changed in between)
    assert shift_local(first_hour(dt.date(2026, 7, 1), z), -364, z).isoformat() == "2025-07-02T00:00:00+02:00"


def test_kinds_that_cannot_be_hourly_are_refused(tmp_path: Path) -> None:
    write(tmp_path, instants([dt.date(2026, 10, 25)]))
    (tmp_path / "bad.yaml").write_text(textwrap.dedent("""\
        name: bad
        timezone: Europe/Warsaw
        sources:
          aware: {connector: parquet, options: {path: aware.parquet}, time_column: at}
        kpis:
          n: {source: aware, agg: count}
          r: {rolling: {kpi: n, days: 7}, grains: [hour, day]}
          g: {growth: r, grains: [hour]}
        """))
    with pytest.raises(MetricSpecError) as info:
        load_spec(tmp_path / "bad.yaml")
    text = str(info.value)
    assert "KPI 'r' cannot be computed per hour: a rolling KPI is computed per day or longer" in text
    assert "KPI 'g' cannot be computed per hour: it reads KPI 'r'" in text
    assert "grains: [day]" in text


def test_a_time_column_of_dates_cannot_be_hourly(tmp_path: Path) -> None:
    pl.DataFrame({"day": [dt.date(2026, 1, 1)]}).write_parquet(tmp_path / "d.parquet")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""\
        name: dates
        grains: [hour]
        sources:
          d: {connector: parquet, options: {path: d.parquet}, time_column: day}
        kpis:
          n: {source: d, agg: count}
        """))
    with pytest.raises(MetricSpecError, match="time column 'day' of source 'd' holds Date, not date and time"):
        evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 1, 2))


def test_tidy_frames_hold_an_hours_local_date_and_label(dst_spec) -> None:
    path, _ = dst_spec
    tidy = evaluate(load_spec(path), as_of=AS_OF).to_polars().filter(kpi="n_aware", grain="hour")
    assert tidy.schema["period"] == pl.Date
    day = tidy.filter(pl.col("period") == dt.date(2026, 10, 25))
    assert day.height == 25 and day["label"].n_unique() == 25
