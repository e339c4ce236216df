"""A KPI's numbers as a reader sees them (issue 22): compact forms, one precision per KPI, whole counts,
changes in points for rates, named comparisons, zoomed axes with a minimum span, periods not complete
yet and stale KPIs; each checked against a plain computation, with hypothesis for the invariants."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricspec.render.chart_layers import MIN_SPAN_STEPS, label_step, value_domain
from metricspec.render.i18n import Translator
from metricspec.render.kpi_numbers import kpi_digits

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
AS_OF = dt.date(2026, 11, 1)
EN = Translator("en")
SUFFIX = {"k": 1e3, "m": 1e6, "bn": 1e9}


@pytest.fixture(scope="module")
def examples():
    from metricspec.cli.runner import run_specs

    return {r.spec.name: r for r in run_specs([EXAMPLES], as_of=AS_OF).results}


def parse_compact(text: str) -> float:
    m = re.fullmatch(r"(-?)€?(\d+(?:\.\d)?)(k|m|bn)", text.replace("−", "-"))
    assert m, text
    return (-1 if m.group(1) else 1) * float(m.group(2)) * SUFFIX[m.group(3)]


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=10_000, max_value=9.9e11, allow_nan=False))
def test_compact_numbers_keep_three_significant_digits(value):
    text = EN.compact(value, "count")
    back = parse_compact(text)
    digits = len(str(int(abs(value))))  # 5 digits: 11.3k (one decimal), 6 digits: 306k (none)
    unit = 10 ** ((digits - 1) // 3 * 3)
    step = unit / 10 if (digits - 1) % 3 < 2 else unit
    assert abs(back - value) <= step / 2 + 1e-6 * value, (value, text)
    assert EN.compact(value, "currency", "EUR").startswith("€")


@given(st.floats(min_value=-9_999.4, max_value=9_999.4, allow_nan=False))
def test_below_ten_thousand_every_digit(value):
    assert EN.compact(value, "count") == EN.value(value, "count") == f"{round(value):,}".replace("-", "-")


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_counts_are_whole_numbers(value):
    assert EN.value(value, "count") == f"{round(value):,}"


def test_compact_forms_in_every_language():
    assert [Translator(lang).compact(11_303, "count") for lang in ("en", "es", "pl")] == [
        "11.3k", "11,3\xa0mil", "11,3\xa0tys."]
    assert EN.compact(306_409.4, "currency", "EUR") == "€306k"
    assert EN.compact(0.173, "percent") == "17.3%"  # a percentage is never shortened


def test_one_precision_per_kpi(examples):
    """Every value of a KPI has the same decimals (counts none), checked on every example KPI."""
    from metricspec.render.kpi_numbers import kpi_format

    for r in examples.values():
        for k in r.kpis:
            fmt = kpi_format(r, k.name, EN)
            texts = [fmt.full(p.value) for s in k.series for p in s.points if p.value is not None]
            decimals = {len(m.group(1)) if (m := re.search(r"\.(\d+)", t)) else 0 for t in texts}
            assert len(decimals) <= 1, (r.spec.name, k.name, decimals)
            if k.unit == "count":
                assert decimals <= {0}
    ratio = examples["x-brand-awareness"].kpi("follower_ratio")
    assert kpi_digits(ratio) == 2  # 9.189 and 14.82 on one tile read 9.19 and 14.82


def test_tile_changes_against_the_series(examples):
    """The change on a tile is the headline value minus the previous point's value, computed here from the
    series: in points for rates, in the KPI's unit otherwise, compact from ten thousand on as the tile's value
    (``-€31.5k`` beside ``€82.5k``), with the two periods named."""
    from metricspec.render.context import Builder

    checked = compact = 0
    for r in examples.values():
        b = Builder(r, EN)
        for k in r.kpis:
            grain = b.goal_grain(k.name)  # a KPI with a goal shows its goal's period (issue 22)
            h = next((x for x in k.headlines if x.grain == grain), k.headlines[0] if k.headlines else None)
            tile = b.tile(k)
            if h is None or tile.unfinished or not tile.changes or h.value is None:
                continue
            series = next(s for s in k.series if s.kind == "headline" and s.grain == h.grain)
            i = [p.period for p in series.points].index(h.period)
            prev = series.points[i - 1]
            if prev.value is None:
                continue
            first = tile.changes[0]
            assert first.compared == f"{EN.period(h.period, h.grain, h.label)} vs " \
                                     f"{EN.period(prev.period, h.grain, prev.label)}"
            text = first.text.replace("−", "-").split(" (")[0].lstrip("+")
            expected = (h.value - prev.value) * (100 if k.unit == "percent" else 1)
            if k.unit != "percent" and abs(expected) >= 10_000:  # compact, as the tile's value: three digits
                number, tolerance = parse_compact(text), abs(expected) * 0.0051
                compact += 1
            else:
                magnitude = float(re.search(r"[\d,]+(?:\.\d+)?", text).group(0).replace(",", ""))
                number = -magnitude if text.startswith("-") else magnitude
                tolerance = 0.051 if k.unit == "percent" else 0.51 * 10 ** -(kpi_digits(k) or 0)
            assert abs(number - expected) <= tolerance, (r.spec.name, k.name, first.text, expected)
            assert first.text.endswith("pp") == (k.unit == "percent"), first.text
            assert first.arrow == ("▲" if expected > 0 else "▼" if expected < 0 else "■")
            checked += 1
    assert checked > 50 and compact > 3


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=30),
       st.sampled_from(["percent", "ratio", "currency", "count", "number", "days"]))
def test_a_zoomed_axis_spans_enough_for_ticks_to_differ(values, unit):
    domain, zoomed = value_domain(values, unit, zero=False)
    lo, hi = domain if domain else (min(values), max(values))
    assert lo <= min(values) and hi >= max(values)
    step = label_step(unit, values)
    assert hi - lo >= min(MIN_SPAN_STEPS * step, max(values) - min(values)) - 1e-9
    if domain:
        assert hi - lo >= MIN_SPAN_STEPS * step * (1 - 1e-9)
        ticks = [lo + i * (hi - lo) / 4 for i in range(5)]  # five ticks: labels at the axis' precision differ
        assert len({round(t / step) for t in ticks}) == 5
        if min(values) >= 0:
            assert lo >= 0  # no negative values invented for data that has none
    assert zoomed == (lo > 0 or hi < 0)
    assert value_domain(values, unit, zero=True) == (None, False)


def test_not_complete_and_stale_against_dates(examples):
    from metricspec.plan.periods import period_end
    from metricspec.render.periods import is_stale, newest_end, not_complete

    r = examples["warehouse-sales"]
    k = r.kpi("converted_leads")
    weekly = next(s for s in k.series if s.kind == "headline" and s.grain == "week")
    expected = {p.period for p in weekly.points if not p.partial
                and period_end(p.period, "week") + dt.timedelta(days=30) > r.as_of + dt.timedelta(days=1)}
    assert not_complete(k, weekly.points, "week", r.as_of) == expected
    assert {p.label for p in weekly.points if p.period in expected} == {
        "2026-W40", "2026-W41", "2026-W42", "2026-W43", "2026-W44"}
    x = examples["x-brand-awareness"]
    newest = newest_end(x.kpis)
    assert newest == dt.date(2026, 10, 31)
    assert sorted(k.name for k in x.kpis if is_stale(k, newest)) == [
        "export_engagement_rate", "export_engagements", "export_impressions"]
