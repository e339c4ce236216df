"""What the charts of a scorecard show (issue 13, "Charts must not mislead"), on the example specs.

The chart specs are inspected as data (no drawing): which series carry which target lines, what the
captions say against the goal cards and KPI tiles, where value axes start, what axes are called, and
that every chart has its numbers as a table. Static SVG is drawn for the ``<title>`` checks.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from metricspec.render import charts
from metricspec.render.context import Builder
from metricspec.render.i18n import Translator
from metricspec.render.svg import add_point_titles, svg_markup

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
AS_OF = dt.date(2026, 11, 1)
XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def examples():
    from metricspec.cli.runner import run_specs

    return {r.spec.name: r for r in run_specs([EXAMPLES], as_of=AS_OF).results}


def spec(figure) -> dict:
    return json.loads(figure.chart.vega_lite)


def layers(s: dict) -> list[dict]:
    return s.get("layer", [s])


def rules(figure) -> list[dict]:
    """The target lines of a chart: ``{series, value, ...}`` rows of its rule layer."""
    return [row for layer in layers(spec(figure)) if layer["mark"]["type"] == "rule"
            for row in layer["data"]["values"]]


def series_colour(figure, name: str) -> str:
    colour = next(layer["encoding"]["color"] for layer in layers(spec(figure)) if "color" in layer["encoding"])
    return dict(zip(colour["scale"]["domain"], colour["scale"]["range"], strict=True))[name]


def y_axis(figure) -> dict:
    return next(layer["encoding"]["y"] for layer in layers(spec(figure)) if layer["mark"]["type"] == "line")


def by_title(figures, text: str):
    return next(f for f in figures if text in f.chart.title)


def goal(results, gid: str):
    return next(g for g in results.goals() if g.id == gid)


# -- target lines ---------------------------------------------------------------------------------


def test_a_segment_goal_draws_its_target_on_that_segment_only(examples):
    r = examples["multi-network"]
    b, g = Builder(r, Translator("en")), goal(r, "engagement_rate_instagram")
    k = r.kpi("engagement_rate")
    assert g.scope == {"network": "instagram"} and k.scope == {}
    # the all-networks chart of the KPI carries no target
    for f in b.kpi_section(k).figures:
        assert rules(f) == [], f.chart.title
        # the caption names the goal drawn elsewhere: the KPI has a goal, just not on this chart
        assert "Goals on this KPI drawn on their own charts: 6% engagement rate on Instagram." in f.chart.description
    # the monthly segment chart: the target on Instagram's line, in Instagram's colour
    segments = b.segment_figures(k)
    monthly = by_title(segments, "by network (Monthly)")
    [rule] = rules(monthly)
    assert rule["value"] == g.target == 0.06 and rule["series"] == "Target 6.0%"  # a legend entry fits a phone
    assert rule["tip"] == f"Target: {g.title}: 6.0%"
    assert series_colour(monthly, rule["series"]) == series_colour(monthly, "instagram")
    assert "instagram" in monthly.chart.description and "6.0%" in monthly.chart.description
    # the table gives the target in Instagram's column
    header = monthly.table.headers
    target_row = next(row for row in monthly.table.rows if row[0] == f"Target: {g.title}")
    assert target_row[header.index("instagram")] == "6.0%"
    assert all(cell == "" for i, cell in enumerate(target_row[1:], 1) if header[i] != "instagram")
    # the goal is monthly: its target is not drawn on the weekly segment chart
    assert rules(by_title(segments, "by network (Weekly)")) == []
    # and its own chart (its scoped trend) has it
    assert [x["value"] for x in rules(b.goal(g).figure)] == [0.06]


def test_a_goal_on_the_kpis_own_scope_draws_on_the_headline_chart(examples):
    r = examples["x-brand-awareness"]
    g, k = goal(r, "followers_12k"), r.kpi("followers")
    assert g.scope == k.scope == {"account": "brand"}
    monthly = by_title(Builder(r, Translator("en")).kpi_section(k).figures, "(Monthly)")
    assert [(x["series"], x["value"], x["tip"]) for x in rules(monthly)] == [
        ("Target 12,000", 12000, f"Target: {g.title}: 12,000")]


def test_an_additive_total_draws_its_target_against_the_running_sum(examples):
    r = examples["multi-network"]
    b, g = Builder(r, Translator("en")), goal(r, "clicks")
    assert g.measure == "total"
    f = b.goal(g).figure
    rows = spec(f)["layer"][0]["data"]["values"]
    values = [row["value"] for row in rows]
    # a running sum from the goal's start to the end of each complete month (the running one left out)
    assert values == sorted(values) and values[-1] == pytest.approx(g.so_far[-1].value)
    assert values[-1] <= g.current
    assert {row["series"] for row in rows} == {"Running total since 1 Jan 2026"}
    assert [x["value"] for x in rules(f)] == [20000]
    # a per-month chart would compare one month with the year's target: not drawn there
    for fig in b.kpi_section(r.kpi("link_clicks")).figures:
        assert all(x["value"] != 20000 for x in rules(fig))


def test_a_rate_over_the_window_draws_its_target_and_the_value_so_far(examples):
    r = examples["customer-value"]
    b, g = Builder(r, Translator("en")), goal(r, "conversion_rate")
    assert g.measure == "total" and r.kpi("conversion_rate").unit == "percent"
    f = b.goal(g).figure
    assert {x["series"]: x["value"] for x in rules(f)} == {"Target": 0.25}
    rows = spec(f)["layer"][0]["data"]["values"]  # the rate over the window so far, month by month
    assert {row["series"] for row in rows} == {"Value since 1 Jan 2026"}
    assert rows[-1]["value"] == pytest.approx(g.so_far[-1].value) == pytest.approx(g.current)
    assert f"Value since 1 Jan 2026 over {len(rows)} complete periods" in f.chart.description
    # the monthly KPI chart shows the same target (a rate compares with a rate)
    monthly = by_title(b.kpi_section(r.kpi("conversion_rate")).figures, "(Monthly)")
    assert [x["value"] for x in rules(monthly)] == [0.25]


# -- captions and cards use the same number ----------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "es", "pl"])
def test_captions_name_the_number_on_the_card(examples, lang):
    tr = Translator(lang)
    partial = tr("partial_period", period="").strip()
    for r in examples.values():
        b = Builder(r, tr)
        for g in r.goals():
            view = b.goal(g)
            if "target" in g.status_reason_params:  # the headline says the target as the card does (not €400,000.00)
                assert view.target in view.status_reason, (r.spec.name, g.id, view.status_reason)
            if view.figure is None:
                continue
            desc = view.figure.chart.description
            if g.measure == "latest":  # the chart ends at the card's number, the latest complete period
                assert f": {view.current}" in desc, (r.spec.name, g.id)
            if g.forecast_intervals and not g.final:  # and says the card's forecast and its 80 % range
                fmt, band = b.figures.fmt(g.kpi), g.forecast_intervals[0]
                assert band.level == 0.8 and f"{view.forecast}," in desc, (r.spec.name, g.id)
                assert fmt(band.low) in desc and fmt(band.high) in desc, (r.spec.name, g.id)
                assert view.forecast_range == tr("interval", low=fmt(band.low), high=fmt(band.high))
            assert partial not in b.figures.basis(g), (r.spec.name, g.id)  # never a period in progress
        for k in r.kpis:
            tile = b.tile(k)
            for f in b.kpi_section(k).figures:
                if tile.grain in f.chart.title and tile.value_full != "—":  # the tile's grain: its goal's
                    # every digit in the caption (the tile shows 11.3k, 11,303 on hover)
                    assert f"({tile.period}): {tile.value_full}" in f.chart.description, (r.spec.name, k.name)
                    if tile.unfinished:  # a period whose values still arrive is called so on both
                        assert tile.unfinished.split(": ", 1)[1] in f.chart.description, (r.spec.name, k.name)
            if tile.sparkline is not None:  # the sparkline ends at the tile's period, never one in progress
                assert tile.sparkline.last == tile.period, (r.spec.name, k.name)
                assert partial not in tile.sparkline.last
                if tile.value_full != "—":
                    assert f"{tile.period}: {tile.value_full}." in tile.sparkline.description


# -- axes -------------------------------------------------------------------------------------------


def test_value_axes_start_at_zero_for_counts_and_money_unless_the_kpi_says_otherwise(examples):
    units = {"count": "(count)", "percent": "(%)", "currency": "(€)", "ratio": "(ratio)", "days": "(days)"}
    seen = set()
    for r in examples.values():
        b = Builder(r, Translator("en"))
        for k in r.kpis:
            for f in b.kpi_section(k).figures:
                y = y_axis(f)
                expected = k.axis_from_zero if k.axis_from_zero is not None else k.unit in ("count", "currency")
                assert y["scale"]["zero"] is expected, (r.spec.name, k.name)
                if k.unit in units:
                    assert y["title"].endswith(units[k.unit]), (k.name, y["title"])
                x = next(layer["encoding"]["x"] for layer in layers(spec(f)) if layer["mark"]["type"] == "line")
                assert x["title"] in ("Day", "Week", "Month", "Quarter", "Year")
                seen.add((k.unit, y["scale"]["zero"]))
    assert {("count", True), ("count", False), ("currency", True), ("percent", False)} <= seen
    followers = examples["x-brand-awareness"].kpi("followers")
    assert followers.unit == "count" and followers.axis_from_zero is False


def test_axis_titles_name_the_unit_in_the_pages_language(examples):
    r = examples["customer-value"]
    es = by_title(Builder(r, Translator("es")).kpi_section(r.kpi("revenue")).figures, "(Mensual)")
    assert y_axis(es)["title"] == "Revenue (€)"
    pl = by_title(Builder(r, Translator("pl")).kpi_section(r.kpi("leads")).figures, "(Miesięcznie)")
    assert y_axis(pl)["title"] == "Leads (liczba)"
    assert next(layer["encoding"]["x"]["title"] for layer in layers(spec(pl))) == "Miesiąc"


def test_legends_wrap_rather_than_cut_long_names():
    long = charts.trend_chart("t", "T", "d", [charts.Line("A line with a rather long name", [("Jan", 1.0)])],
                              [charts.Rule("Target: 6% engagement rate on Instagram", 2.0)])
    legend = next(layer["encoding"]["color"]["legend"] for layer in layers(json.loads(long.vega_lite)))
    assert legend["columns"] == 1 and legend["labelLimit"] >= 480
    short = charts.trend_chart("t", "T", "d", [charts.Line("A", [("Jan", 1.0)]), charts.Line("B", [("Jan", 2.0)])])
    assert next(layer["encoding"]["color"]["legend"] for layer in layers(json.loads(short.vega_lite)))["columns"] == 2


# -- numbers one click away, and a <title> per point ----------------------------------------------------


def figures_in(value) -> list:
    """Every Figure of a view, depth first."""
    from pydantic import BaseModel

    from metricspec.render.views import Figure

    if isinstance(value, Figure):
        return [value]
    if isinstance(value, BaseModel):
        return [f for name in type(value).model_fields for f in figures_in(getattr(value, name))]
    if isinstance(value, list):
        return [f for item in value for f in figures_in(item)]
    return []


def test_every_chart_has_its_numbers_as_a_table(examples):
    for r in examples.values():
        b = Builder(r, Translator("en"))
        page = b.scorecard({"lang": "en", "page_title": "t", "root": "", "css_inline": None, "css_href": None,
                            "nav": [], "version": ""})
        from metricspec.render.html import chart_views

        figures = figures_in(page)
        assert len(figures) == len(list(chart_views(page))), r.spec.name  # every chart is a figure ...
        for f in figures:
            assert f.table is not None and f.table.rows, (r.spec.name, f.chart.title)  # ... with a table
            assert all(len(row) == len(f.table.headers) for row in f.table.rows)


def test_static_svg_has_a_title_per_point_with_the_formatted_value():
    tr = Translator("en")
    chart = charts.trend_chart(
        "t", "T", "d", [charts.Line("Reach", [("Jan 2026", 1234.5), ("Feb 2026", None), ("Mar 2026", 0.0166173)]),
                        charts.Line(f"seg {XSS}", [("Jan 2026", 2.0)])],
        [charts.Rule("Target", 0.02)], axes=charts.Axes(fmt=lambda v: tr.value(v, "percent")))
    svg = svg_markup(charts.draw([chart.key], workers=1)[chart.key], "t")
    titles = re.findall(r"<title>(.*?)</title>", svg)
    assert titles == ["Jan 2026 · Reach: 123,450.0%", "Mar 2026 · Reach: 1.7%",
                      "Jan 2026 · seg &lt;script&gt;alert(1)&lt;/script&gt;: 200.0%", "Target: 2.0%"]
    points = re.findall(r'<path[^>]*aria-roledescription="point"[^>]*>(?!<title>)', svg)
    assert points == [], "every point has a <title>"
    assert "<script" not in svg


def test_add_point_titles_only_touches_marks_that_stand_for_a_number():
    svg = ('<svg><path aria-label="a &lt;b&gt;" role="graphics-symbol" aria-roledescription="point" d="M0"/>'
           '<path aria-label="whole line" role="graphics-symbol" aria-roledescription="line mark" d="M1"/>'
           '<line aria-label="t" role="graphics-symbol" aria-roledescription="rule mark" x2="1"/></svg>')
    out = add_point_titles(svg)
    assert out == ('<svg><path aria-label="a &lt;b&gt;" role="graphics-symbol" aria-roledescription="point" d="M0">'
                   '<title>a &lt;b&gt;</title></path>'
                   '<path aria-label="whole line" role="graphics-symbol" aria-roledescription="line mark" d="M1"/>'
                   '<line aria-label="t" role="graphics-symbol" aria-roledescription="rule mark" x2="1">'
                   '<title>t</title></line></svg>')


def test_a_goal_whose_first_period_is_still_running_says_so(examples):
    """The engine's current value of a 'latest' goal falls back to the period in progress when none has
    ended: the caption calls it that, not the latest complete period."""
    from metricspec.engine.results import Point

    r = examples["multi-network"]
    g = goal(r, "reach")
    running = [Point(dt.date(2026, 11, 1), "2026-11", 1234.0, partial=True)]  # the trend's only period
    early = g.model_copy(update={"trend": running, "current": 1234.0})
    b = Builder(r, Translator("en"))
    assert b.figures.basis(early) == "period in progress, Nov 2026"
    assert b.figures.basis(g) == "latest complete period, Oct 2026"
    assert b.goal(early).figure is None  # a goal chart leaves the running period out: nothing to draw yet
    assert b.goal(early).current == "1,234"  # the card still says the value


# -- what the scorecard shows besides charts ----------------------------------------------------------


def test_journeys_on_the_scorecard_count_the_customers_journeys(examples):
    """The journeys table: the most common first → in between → converting patterns, counted here
    again from the journeys themselves (all 3,144 are kept for this example)."""
    from collections import Counter

    from metricspec.render.attribution_view import attribution_view

    r = examples["customer-value"]
    a = r.attribution
    assert a is not None and a.journeys is not None
    assert len(a.journeys) == a.journeys_total == a.attributed_conversions
    counts = Counter((j.initial_channel, tuple(j.intermediate_channels), j.converting_channel)
                     for j in a.journeys if j.n_touches)
    view = attribution_view(r, a, Translator("en"), "cv")
    assert view.journeys is not None and len(view.journeys.rows) == 10
    expected = sorted(counts.items(), key=lambda kv: -kv[1])[:10]
    shown = [((row[0], tuple(row[1].split(" → ")) if row[1] != "—" else (), row[2]), int(row[3].replace(",", "")))
             for row in view.journeys.rows]
    assert [n for _, n in shown] == [n for _, n in expected]
    assert all(counts[pattern] == n for pattern, n in shown)
    shares = [float(row[4].rstrip("%")) for row in view.journeys.rows]
    assert shares[0] == pytest.approx(100 * expected[0][1] / a.attributed_conversions, abs=0.05)


def test_incremental_cac_on_the_scorecard_is_the_control_groups(examples):
    """Social spend over the exposed group's conversions beyond the control rate, computed here from the
    control group's numbers and the spend data (DuckDB)."""
    import duckdb

    from metricspec.render.attribution_view import attribution_view

    r = examples["customer-value"]
    cg = next(c for c in r.control_groups if c.name == "social_exposure")
    m = next(x for x in cg.metrics if x.name == "conversion_rate")
    spend = duckdb.sql(
        f"select sum(spend) from read_csv_auto('{EXAMPLES / 'data' / 'channel_spend.csv'}') "
        "where channel in ('x', 'instagram', 'linkedin', 'facebook', 'tiktok', 'youtube') "
        "and month < date '2026-11-02'").fetchall()[0][0]
    assert m.treatment_value is not None and m.control_value is not None and m.difference_ci_high is not None
    incremental = (m.treatment_value - m.control_value) * m.treatment_n
    cac = spend / incremental
    low = spend / (m.difference_ci_high * m.treatment_n)
    assert m.difference_ci_low is not None and m.difference_ci_low < 0, "the interval of the difference reaches 0: no upper bound"
    view = attribution_view(r, r.attribution, Translator("en"), "cv").incremental
    assert view is not None
    assert view.cac == f"€{cac:,.2f}" and view.interval == f"€{low:,.2f} to no upper bound"
    assert view.conversions == f"{incremental:,.1f}" and view.spend == f"€{spend:,.2f}"
    assert view.confidence == "95%" and not view.significant and view.significance == "not significant"


@pytest.mark.parametrize(("lang", "texts"), [
    ("es", ["Captación de leads", "Captación", "Primer contacto", "Cadena de Markov", "Valor de Shapley"]),
    ("pl", ["Pozyskiwanie leadów", "Pozyskanie", "Pierwszy kontakt", "Łańcuch Markowa", "Wartość Shapleya"]),
])
def test_objective_types_stages_and_models_are_translated(examples, lang, texts):
    from metricspec.render.html import _default_environment, page_fields, render_pages

    r = examples["customer-value"]
    tr = Translator(lang)
    page = Builder(r, tr).scorecard(page_fields(tr, title="t"))
    [html] = render_pages(_default_environment(), [("scorecard.html", page)], tr, live_charts=True)
    visible = re.sub(r"<script.*?</script>|<[^>]+>", " ", html, flags=re.S)
    for text in texts:
        assert text in visible, text
    for raw in ("lead_generation", "first_touch", "position_based", "time_decay", "Type: sales"):
        assert raw not in visible, raw
