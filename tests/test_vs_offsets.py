"""Comparison offsets: ``vs: {offset: 4 weeks}`` on a KPI, a headline comparison beside the previous
period and the same period last year.

The compared value is checked against a plain-Python computation on the rows (the sum of the period
``offset`` earlier); where the offset is the year-ago offset of a grain (52 weeks, 12 months, 4
quarters, 1 year) it must equal ``previous_year``. KPIs without ``vs`` keep their Results as they
were (the golden files check that byte for byte); the comparison shows in the terminal table, the
Markdown summary and the HTML card.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.engine.run import evaluate
from metricspec.errors import SpecError
from metricspec.loader import load_spec
from metricspec.plan.periods import period_end, truncate_date
from metricspec.spec.offsets import parse_offset, shifted_period

AS_OF = dt.date(2026, 11, 3)
SPEC = """\
name: offsets
grains: [day, week, month, quarter, year]
sources:
  d: {connector: csv, options: {path: d.csv}, time_column: t}
objectives:
  reach: {title: Reach, kpis: [v_4w, v_3m]}
kpis:
  plain: {source: d, agg: sum, column: v}
  v_4w: {source: d, agg: sum, column: v, vs: {offset: 4 weeks}}
  v_3m: {source: d, agg: sum, column: v, vs: {offset: 3 months, title: Last quarter}, grains: [month, quarter]}
  v_10d: {source: d, agg: sum, column: v, vs: {offset: 10 days}}
  v_2q: {source: d, agg: sum, column: v, vs: {offset: 2 quarters}}
  v_52w: {source: d, agg: sum, column: v, vs: {offset: 52 weeks}}
  v_364d: {source: d, agg: sum, column: v, vs: {offset: 364 days}}
  v_1y: {source: d, agg: sum, column: v, vs: {offset: 1 year}}
  ratio_4w: {ratio: {numerator: v_4w, denominator: plain}, vs: {offset: 4 weeks}}
"""


def _write(tmp: Path, rows: list[tuple[dt.date, int]], spec: str = SPEC) -> Path:
    (tmp / "d.csv").write_text("t,v\n" + "".join(f"{d.isoformat()},{v}\n" for d, v in rows))
    (tmp / "s.yaml").write_text(textwrap.dedent(spec))
    return tmp / "s.yaml"


def _rows(seed: int) -> list[tuple[dt.date, int]]:
    rnd = random.Random(seed)
    start = dt.date(2024, 6, 1)
    return [(start + dt.timedelta(days=rnd.randint(0, (AS_OF - start).days)), rnd.randint(0, 50))
            for _ in range(1500)]


def _sum(rows: list[tuple[dt.date, int]], start: dt.date, grain: str) -> float:
    end = period_end(start, grain)
    return float(sum(v for d, v in rows if start <= d < end))


def _kpis(path: Path) -> dict[str, Any]:
    results = json.loads(evaluate(load_spec(path), as_of=AS_OF).to_json())
    return {k["name"]: k for k in results["kpis"]}


OFFSETS = {"v_4w": "4 weeks", "v_3m": "3 months", "v_10d": "10 days", "v_2q": "2 quarters", "v_52w": "52 weeks",
           "v_364d": "364 days", "v_1y": "1 year"}
APPLIES = {"v_4w": {"day", "week"}, "v_3m": {"month", "quarter"}, "v_10d": {"day"},
           "v_2q": {"month", "quarter"}, "v_52w": {"day", "week"}, "v_364d": {"day", "week"},
           "v_1y": {"month", "quarter", "year"}}


def _expected_start(start: dt.date, grain: str, offset: str) -> dt.date:
    """The compared period, computed directly from the offset's unit."""
    n, unit = parse_offset(offset)
    if unit in ("day", "week"):
        return start - dt.timedelta(days=n * (7 if unit == "week" else 1))
    months = n * {"month": 1, "quarter": 3, "year": 12}[unit]
    y, m = divmod(start.year * 12 + start.month - 1 - months, 12)
    return dt.date(y, m + 1, 1)


def test_vs_values_equal_a_plain_python_computation(tmp_path: Path) -> None:
    rows = _rows(3)
    kpis = _kpis(_write(tmp_path, rows))
    checked = 0
    for name, offset in OFFSETS.items():
        for h in kpis[name]["headlines"]:
            grain, start = h["grain"], dt.date.fromisoformat(h["period"])
            if grain not in APPLIES[name]:
                assert "vs" not in h, (name, grain)
                continue
            vs = h["vs"]
            then = _expected_start(start, grain, offset)
            assert truncate_date(then, grain) == then
            assert vs["period"] == then.isoformat() and vs["offset"] == offset
            want = _sum(rows, then, grain)
            assert vs["value"] == want, (name, grain)
            assert h["value"] == _sum(rows, start, grain)
            assert vs["change"] == pytest.approx(h["value"] - want)
            assert vs["change_pct"] == (pytest.approx((h["value"] - want) / abs(want)) if want else None)
            checked += 1
    assert checked == sum(len(a) for a in APPLIES.values())
    assert kpis["v_3m"]["headlines"][0]["vs"]["title"] == "Last quarter"
    assert kpis["v_4w"]["headlines"][0]["vs"]["title"] == "4 weeks earlier"


def test_year_offsets_equal_the_year_ago_comparison(tmp_path: Path) -> None:
    """vs 364 days (day grain), 52 weeks (week grain) and 1 year (month, quarter, year) are exactly
    the headline's previous_year."""
    kpis = _kpis(_write(tmp_path, _rows(8)))
    pairs = [("v_364d", "day"), ("v_52w", "week"), ("v_1y", "month"), ("v_1y", "quarter"), ("v_1y", "year")]
    for name, grain in pairs:
        h = next(h for h in kpis[name]["headlines"] if h["grain"] == grain)
        assert h["vs"]["value"] == h["previous_year"] and h["vs"]["change_pct"] == h["yoy_change_pct"], (name, grain)


def test_a_derived_kpi_compares_its_own_values(tmp_path: Path) -> None:
    kpis = _kpis(_write(tmp_path, _rows(4)))
    ratio = kpis["ratio_4w"]
    week = next(h for h in ratio["headlines"] if h["grain"] == "week")
    points = {p["period"]: p["value"] for s in ratio["series"] if s["grain"] == "week" for p in s["points"]}
    assert week["vs"]["value"] == points[week["vs"]["period"]]


def test_kpis_without_vs_have_no_vs_key(tmp_path: Path) -> None:
    kpis = _kpis(_write(tmp_path, _rows(5)))
    assert all("vs" not in h for h in kpis["plain"]["headlines"])
    assert '"vs"' not in json.dumps(kpis["plain"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 30), unit=st.sampled_from(["day", "week", "month", "quarter", "year"]),
       grain=st.sampled_from(["day", "week", "month", "quarter", "year"]),
       day=st.dates(dt.date(2001, 1, 1), dt.date(2090, 12, 31)))
def test_a_shifted_period_is_a_period_start_exactly_the_offset_earlier(n: int, unit: str, grain: str,
                                                                       day: dt.date) -> None:
    start = truncate_date(day, grain)
    offset = f"{n} {unit}{'s' if n > 1 else ''}"
    then = shifted_period(start, grain, offset)
    if then is None:
        assert (unit in ("day", "week") and grain not in ("day", "week")) or (
            unit in ("day",) and grain == "week" and n % 7) or (
            unit in ("month", "quarter", "year") and grain in ("day", "week")) or (
            grain == "quarter" and unit == "month" and n % 3) or (
            grain == "year" and ((unit == "month" and n % 12) or (unit == "quarter" and n % 4)))
        return
    assert truncate_date(then, grain) == then
    assert then == _expected_start(start, grain, offset)


def test_the_comparison_shows_in_terminal_markdown_and_html(tmp_path: Path) -> None:
    from rich.console import Console

    from metricspec.render.html import render_scorecard
    from metricspec.render.markdown import results_markdown
    from metricspec.render.table import print_results

    results = evaluate(load_spec(_write(tmp_path, _rows(6))), as_of=AS_OF)
    k = next(k for k in results.kpis if k.name == "v_4w")
    vs = k.headlines[0].vs
    assert vs is not None and vs.label is not None
    md = results_markdown(results)
    assert "| vs last year | vs earlier |" in md
    pct = f"{vs.change_pct:+.1%}"
    assert f"vs {vs.label} |" in md and pct in md.split("vs earlier |", 1)[1], md
    out = io.StringIO()
    print_results(results, Console(file=out, width=250, color_system=None))
    text = out.getvalue()
    assert "vs earlier" in text and f"vs {vs.label}" in text, text
    other = text.split("Other KPIs", 1)[1]  # KPIs outside objectives show it too
    v_10d = next(k for k in results.kpis if k.name == "v_10d").headlines[0].vs
    assert v_10d is not None and "vs earlier" in other and f"vs {v_10d.label}" in other, other
    html = render_scorecard(results)  # a tile names both periods and the comparison's title
    assert "3 Nov 2026 vs 6 Oct 2026 (4 weeks earlier)" in html and "Oct 2026 vs Jul 2026 (Last quarter)" in html


def test_terminal_and_markdown_are_unchanged_without_vs(tmp_path: Path) -> None:
    from metricspec.render.markdown import results_markdown

    spec = SPEC.replace("kpis: [v_4w, v_3m]", "kpis: [plain]")
    md = results_markdown(evaluate(load_spec(_write(tmp_path, _rows(6), spec)), as_of=AS_OF))
    assert "| KPI | Period | Value | vs previous | Δ% | vs last year |\n|---|---|---:|---:|---:|---:|\n" in md
    assert "vs earlier" not in md


@pytest.mark.parametrize(("vs", "message", "hint"), [
    ("{offset: 4 weks}", "offset '4 weks' is not a number and a unit", "offset: 4 weeks"),
    ("{offset: 0 days}", "must be at least 1 day", None),
    ("{offset: 200 years}", "at most 100 years", None),
    ("{ofset: 4 weeks}", "unknown key 'ofset'", None),
])
def test_a_bad_offset_gets_a_clear_error_with_the_line(tmp_path: Path, vs: str, message: str,
                                                       hint: str | None) -> None:
    spec = SPEC.replace("v_10d: {source: d, agg: sum, column: v, vs: {offset: 10 days}}",
                        f"v_10d: {{source: d, agg: sum, column: v, vs: {vs}}}")
    with pytest.raises(SpecError) as info:
        load_spec(_write(tmp_path, [], spec))
    text = "\n".join(i.format() for i in info.value.issues())
    assert "s.yaml:11" in text and message in text, text
    if hint:
        assert hint in text, text


def test_an_offset_that_fits_none_of_the_grains_is_a_warning(tmp_path: Path) -> None:
    from metricspec.validation import validate

    spec = SPEC.replace("v_10d: {source: d, agg: sum, column: v, vs: {offset: 10 days}}",
                        "v_10d: {source: d, agg: sum, column: v, vs: {offset: 10 days}, grains: [month, week]}")
    issues = validate(load_spec(_write(tmp_path, [], spec)))
    found = [i for i in issues if "vs offset '10 days'" in i.message]
    assert len(found) == 1 and found[0].level.value == "warning", [i.format() for i in issues]
    assert found[0].where is not None and found[0].where.line == 11
    assert "days or weeks for day and week grains" in (found[0].hint or "")
