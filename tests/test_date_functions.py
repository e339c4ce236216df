"""days_between and months_between in expressions, against Python's own date arithmetic.

* ``days_between(a, b)``: calendar days from a's (local) date to b's, ``(b - a).days`` in Python;
* ``months_between(a, b)``: whole months from a to b, dateutil's ``relativedelta`` (years * 12 + months:
  31 January to 28 February is one month);

on polars and on DuckDB (the SQL translation), with dates, aware datetimes and nulls; then as KPIs on
the example data, against a hand computation; subtracting two dates is refused with the fix.
"""

from __future__ import annotations

import csv
import datetime as dt
import statistics
import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from metricspec.engine.run import evaluate
from metricspec.errors import SpecError
from metricspec.loader import load_spec
from metricspec.plan.expressions import to_polars
from metricspec.spec.expr import parse

EXAMPLES = Path(__file__).parent.parent / "specs" / "examples"
dates = st.one_of(st.none(), st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31)),
                  st.sampled_from([dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2025, 2, 28), dt.date(2024, 3, 30),
                                   dt.date(2024, 4, 30), dt.date(2100, 2, 28), dt.date(2000, 2, 29)]))
"""Any date, and month ends (where whole months are subtle) more often than chance would give them."""


def days_ref(a: dt.date | None, b: dt.date | None) -> int | None:
    return None if a is None or b is None else (b - a).days


def months_ref(a: dt.date | None, b: dt.date | None) -> int | None:
    if a is None or b is None:
        return None
    delta = relativedelta(b, a)
    return delta.years * 12 + delta.months


def _both(frame: pl.DataFrame, text: str) -> tuple[list[object], list[object]]:
    """The expression's values on polars and on DuckDB through ibis."""
    node = parse(text)
    on_polars = frame.select(to_polars(node).alias("x"))["x"].to_list()
    ibis = pytest.importorskip("ibis")
    from metricspec.engine.backends.ibis_expr import to_ibis

    table = ibis.memtable(frame.to_arrow())
    got = ibis.duckdb.connect().to_polars(table.select(x=to_ibis(node, table.__getitem__)))["x"]
    return on_polars, [None if v is None else int(v) for v in got.to_list()]


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(dates, dates), min_size=1, max_size=40))
def test_date_differences_equal_python_on_dates(pairs: list[tuple[dt.date | None, dt.date | None]]) -> None:
    frame = pl.DataFrame({"a": [p[0] for p in pairs], "b": [p[1] for p in pairs]},
                         schema={"a": pl.Date, "b": pl.Date})
    assert all(_both(frame, "days_between(a, b)")[i] == [days_ref(a, b) for a, b in pairs] for i in (0, 1))
    assert all(_both(frame, "months_between(a, b)")[i] == [months_ref(a, b) for a, b in pairs] for i in (0, 1))


@settings(max_examples=40, deadline=None)
@given(instants=st.lists(st.tuples(st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 1, 1)),
                                   st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 1, 1))),
                         min_size=1, max_size=30))
def test_datetimes_count_their_local_dates(instants: list[tuple[dt.datetime, dt.datetime]]) -> None:
    """Datetimes count by the date they have in the spec's time zone (a post at 23:30 UTC on 31 March is
    on 1 April in Warsaw), as periods do."""
    zone = ZoneInfo("Europe/Warsaw")
    utc = ZoneInfo("UTC")
    frame = pl.DataFrame({"a": [a for a, _ in instants], "b": [b for _, b in instants]},
                         schema={"a": pl.Datetime("us"), "b": pl.Datetime("us")}).with_columns(
        pl.all().dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Warsaw"))
    local = [(a.replace(tzinfo=utc).astimezone(zone).date(), b.replace(tzinfo=utc).astimezone(zone).date())
             for a, b in instants]
    on_polars = frame.select(to_polars(parse("days_between(a, b)")).alias("x"))["x"].to_list()
    assert on_polars == [days_ref(a, b) for a, b in local]
    months = frame.select(to_polars(parse("months_between(a, b)")).alias("x"))["x"].to_list()
    assert months == [months_ref(a, b) for a, b in local]


@pytest.mark.parametrize(("a", "b", "days", "months"), [
    (dt.date(2026, 1, 31), dt.date(2026, 2, 28), 28, 1),  # February's last day stands for the 31st
    (dt.date(2026, 1, 31), dt.date(2026, 2, 27), 27, 0),
    (dt.date(2026, 1, 31), dt.date(2026, 3, 30), 58, 1),
    (dt.date(2024, 2, 29), dt.date(2025, 2, 28), 365, 12),
    (dt.date(2024, 3, 31), dt.date(2024, 2, 29), -31, -1),
    (dt.date(2024, 3, 30), dt.date(2024, 2, 29), -30, -1),  # 30 March less a month is 29 February
    (dt.date(2026, 3, 15), dt.date(2026, 1, 16), -58, -1),
    (dt.date(2026, 5, 1), dt.date(2026, 5, 1), 0, 0),
])
def test_edge_cases(a: dt.date, b: dt.date, days: int, months: int) -> None:
    frame = pl.DataFrame({"a": [a], "b": [b]})
    assert _both(frame, "days_between(a, b)") == ([days], [days])
    assert _both(frame, "months_between(a, b)") == ([months], [months])
    assert (days_ref(a, b), months_ref(a, b)) == (days, months)


def test_days_to_convert_a_lead_equal_a_hand_computation(tmp_path: Path) -> None:
    """The cookbook's recipe: mean and median days from a lead to its conversion, per month of the lead."""
    (tmp_path / "s.yaml").write_text(textwrap.dedent(f"""
        name: lead-time
        include: ["{EXAMPLES / 'shared' / 'customers.yaml'}"]
        grains: [month]
        kpis:
          days_to_convert:
            source: leads
            agg: mean
            expression: days_between(created_at, converted_at)
          median_days_to_convert:
            source: leads
            agg: median
            expression: days_between(created_at, converted_at)
    """))
    from metricspec.trust import Confinement

    results = evaluate(load_spec(tmp_path / "s.yaml", Confinement(allow_outside=True)), as_of=dt.date(2026, 11, 1))
    by_month: dict[dt.date, list[int]] = {}
    with (EXAMPLES / "data" / "leads.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if not row["converted_at"]:
                continue
            created = dt.datetime.fromisoformat(row["created_at"]).date()  # UTC, as the spec's zone
            converted = dt.datetime.fromisoformat(row["converted_at"]).date()
            if created <= dt.date(2026, 11, 1):
                by_month.setdefault(created.replace(day=1), []).append((converted - created).days)
    assert by_month
    for name, fn in (("days_to_convert", statistics.fmean), ("median_days_to_convert", statistics.median)):
        points = {p.period: p.value for p in results.kpi(name).series[0].points if p.value is not None}
        assert points.keys() == by_month.keys()
        for month, values in by_month.items():
            assert points[month] == pytest.approx(fn(values), rel=1e-11)


def test_subtracting_dates_is_refused_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("signup,churned\n2026-01-01,2026-02-01\n")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""
        name: tenure
        sources:
          subs: {connector: csv, options: {path: d.csv}, time_column: signup, columns: {churned: date}}
        kpis:
          tenure: {source: subs, agg: mean, expression: churned - signup}
          wrong: {source: subs, agg: mean, expression: "days_between(churned, 3)"}
    """))
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "s.yaml")
    issues = {i.message.split(" in `")[0]: i for i in info.value.issues()}
    assert "days_between(a, b)" in (issues["'-' cannot be applied to a date or timestamp"].hint or "")
    assert "days_between() needs two dates or timestamps, not a number" in issues
    assert issues["'-' cannot be applied to a date or timestamp"].where.line == 6  # type: ignore[union-attr]
