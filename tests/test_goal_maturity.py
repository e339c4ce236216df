"""Goals on a KPI whose values still arrive after a period ends (``complete_after_days``): the periods not
complete yet are left out of the goal's current value, its forecast's history, its chart and its
caption, and the Result says so. Checked against plain Python on data whose answer is known."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import polars as pl
import pytest

from metricspec.engine.maturity import still_arriving
from metricspec.engine.run import evaluate
from metricspec.loader import load_spec
from metricspec.render.goal_figures import drawn_points
from metricspec.render.html import render_scorecard
from metricspec.render.i18n import available_languages, load_messages
from metricspec.render.markdown import results_markdown

AS_OF = dt.date(2026, 11, 1)
START = dt.date(2026, 1, 1)
OCTOBER, SEPTEMBER = dt.date(2026, 10, 1), dt.date(2026, 9, 1)

SPEC = """
name: maturing
grains: [month]
sources:
  funnel: {connector: csv, options: {path: funnel.csv}, time_column: date, columns: {date: date}}
kpis:
  leads: {source: funnel, agg: sum, column: leads}
  conversions: {source: funnel, agg: sum, column: conversions, complete_after_days: LAG}
  conversion_rate: {ratio: {numerator: conversions, denominator: leads}, unit: percent, complete_after_days: LAG}
objectives:
  acquisition:
    goals:
      rate_latest: {kpi: conversion_rate, target: 0.3, measure: latest, start: 2026-01-01, deadline: 2026-12-31}
      rate_total: {kpi: conversion_rate, target: 0.3, measure: total, start: 2026-01-01, deadline: 2026-12-31}
      converted: {kpi: conversions, target: 1200, start: 2026-01-01, deadline: 2026-12-31}
"""


def rows(until: dt.date) -> list[tuple[dt.date, int, int]]:
    """10 leads a day; by lead date, 2 or 3 conversions a day (rising by month), and in October only 1 a
    day: October's leads are still converting."""
    out, day = [], START
    while day <= until:
        conv = 1 if day >= OCTOBER else 2 + (day.day + day.month) % 2
        out.append((day, 10, conv))
        day += dt.timedelta(days=1)
    return out


def world(d: Path, lag: str, until: dt.date) -> Path:
    data = rows(until)
    pl.DataFrame({"date": [r[0] for r in data], "leads": [r[1] for r in data],
                  "conversions": [r[2] for r in data]}).write_csv(d / "funnel.csv")
    spec = textwrap.dedent(SPEC).replace("complete_after_days: LAG", lag)
    (d / "spec.yaml").write_text(spec)
    return d / "spec.yaml"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    path = world(tmp_path_factory.mktemp("maturing"), "complete_after_days: 30", AS_OF)
    return evaluate(load_spec(path), as_of=AS_OF)


@pytest.fixture(scope="module")
def goals(results):
    return {g.id: g for g in results.goals()}


def plain(until: dt.date, since: dt.date = START) -> tuple[int, int]:
    """(leads, conversions) of the days in [since, until], in plain Python."""
    data = [r for r in rows(AS_OF) if since <= r[0] <= until]
    return sum(r[1] for r in data), sum(r[2] for r in data)


def test_the_rule_itself():
    # a month ends on the 1st of the next: September matured on 1 October + 30 days = 31 October
    assert still_arriving(AS_OF, AS_OF, "month", 30) == [OCTOBER]
    assert still_arriving(AS_OF, AS_OF, "month", None) == []
    assert still_arriving(AS_OF, AS_OF, "month", 0) == []
    assert still_arriving(AS_OF, AS_OF, "month", 31) == [OCTOBER]
    assert still_arriving(AS_OF, AS_OF, "month", 32) == [OCTOBER]  # 1 October + 32 days = the as-of date's end
    assert still_arriving(AS_OF, AS_OF, "month", 33) == [SEPTEMBER, OCTOBER]
    assert still_arriving(AS_OF, dt.date(2026, 8, 31), "month", 33) == []  # a deadline before them


def test_latest_uses_the_latest_mature_period(goals):
    leads, conv = plain(dt.date(2026, 9, 30), SEPTEMBER)
    assert goals["rate_latest"].current == pytest.approx(conv / leads)


def test_a_rate_over_the_window_stops_at_the_latest_mature_period(goals):
    leads, conv = plain(dt.date(2026, 9, 30))
    g = goals["rate_total"]
    assert g.current == pytest.approx(conv / leads)
    assert [p.period for p in g.so_far][-1] == SEPTEMBER
    assert g.forecast_method_params["n"] == 9  # January to September


def test_a_running_total_stops_at_the_latest_mature_period(goals):
    _, conv = plain(dt.date(2026, 9, 30))
    g = goals["converted"]
    assert g.current == conv
    assert g.so_far[-1].period == SEPTEMBER and g.so_far[-1].value == conv


def test_the_result_says_what_was_left_out_and_why(goals):
    for g in goals.values():
        assert g.left_out == [OCTOBER]
        (note,) = g.notes
        assert note.code == "note_goal_left_out"
        assert note.message == "2026-10 left out: values still arriving (complete after 30 days)"


def test_the_chart_does_not_draw_the_immature_period(goals):
    for g in goals.values():
        assert OCTOBER not in [p.period for p in drawn_points(g, AS_OF)]


def test_the_forecast_is_as_if_the_immature_period_had_no_data(goals, tmp_path):
    """The same goal on the data without October, and no complete_after_days: same current and forecast."""
    path = world(tmp_path, "", dt.date(2026, 9, 30))
    other = {g.id: g for g in evaluate(load_spec(path), as_of=AS_OF).goals()}["rate_latest"]
    g = goals["rate_latest"]
    assert (g.current, g.forecast, g.chance) == (other.current, other.forecast, other.chance)
    assert g.forecast_intervals == other.forecast_intervals


def test_without_the_setting_nothing_is_left_out(tmp_path):
    path = world(tmp_path, "", AS_OF)
    for g in evaluate(load_spec(path), as_of=AS_OF).goals():
        assert g.left_out == [] and g.notes == []


@pytest.mark.parametrize("lang, text", [
    ("en", "Oct 2026 left out: values still arriving (complete after 30 days)"),
    ("es", "Se deja fuera oct 2026: los valores aún están llegando (completo a los 30 días)"),
    ("pl", "pominięto paź 2026: wartości wciąż napływają (kompletne po 30 dniach)"),
])
def test_the_goal_card_shows_the_note_in_every_language(results, lang, text):
    """The periods named as the page names them (the JSON keeps the engine's ``2026-10``)."""
    html = render_scorecard(results, lang)
    assert html.count(text) == len(results.goals())


def test_the_markdown_shows_the_note(results):
    assert results_markdown(results).count("left out: values still arriving") == len(results.goals())


def test_every_language_has_the_note():
    for lang in available_languages():
        assert "note_goal_left_out" in load_messages(lang)


def test_the_chart_caption_counts_the_mature_periods_only(results):
    html = render_scorecard(results, "en")
    assert html.count("over 9 complete periods up to Sept 2026") >= len(results.goals())
    assert "complete periods up to Oct 2026" not in html


PASSED_GOALS = """
objectives:
  acquisition:
    goals:
      rate_met: {kpi: conversion_rate, target: 0.2, measure: latest, start: 2026-01-01, deadline: 2026-10-31}
      rate_short: {kpi: conversion_rate, target: 0.3, measure: latest, start: 2026-01-01, deadline: 2026-10-31}
      total_met: {kpi: conversions, target: 500, start: 2026-01-01, deadline: 2026-10-31}
      total_short: {kpi: conversions, target: 1000, start: 2026-01-01, deadline: 2026-10-31}
"""


def passed_deadline(d: Path, lag: str) -> dict[str, object]:
    path = world(d, lag, AS_OF)
    path.write_text(path.read_text().split("objectives:")[0] + textwrap.dedent(PASSED_GOALS).lstrip())
    results = evaluate(load_spec(path), as_of=AS_OF)
    return {"results": results, **{g.id: g for g in results.goals()}}


def test_a_passed_deadline_is_not_final_while_its_last_period_arrives(tmp_path):
    """The deadline (31 Oct) has passed, but October's conversions still arrive: no goal is final yet (a sum
    is final early only when its values are known never to be negative: a count, or a forecast's floor,
    and past the deadline there is no forecast); each says which period it waits for. Without the setting
    the same goals are final."""
    got = passed_deadline(tmp_path, "complete_after_days: 30")
    leads, conversions = plain(dt.date(2026, 9, 30), SEPTEMBER)
    assert got["rate_met"].current == pytest.approx(conversions / leads) == pytest.approx(0.25)  # September's
    expect = {"rate_met": ("target_reached", "reason_reached_pending", False),
              "rate_short": ("at_risk", "reason_pending", False),
              "total_met": ("target_reached", "reason_reached_pending", False),
              "total_short": ("at_risk", "reason_pending", False)}
    for name, (status, code, final) in expect.items():
        g = got[name]
        assert (g.status, g.status_reason_code, g.final) == (status, code, final), name
        if not final:
            assert g.status_reason_params["periods"] == "2026-10" and "still arriving" in g.status_reason
            assert g.chance is None  # no forecast past the deadline, and no 0 % / 100 % either
    assert got["total_short"].current == plain(dt.date(2026, 9, 30))[1]  # October's conversions not counted
    html = render_scorecard(got["results"], "es")
    assert "no es definitivo: aún llegan valores de oct 2026" in html
    final = passed_deadline(tmp_path, "")
    assert {n: (final[n].status, final[n].final) for n in expect} == {
        # October read as if complete: 1 conversion a day, 10 %, so the goal met in September reads missed
        "rate_met": ("missed", True), "rate_short": ("missed", True), "total_met": ("achieved", True),
        "total_short": ("missed", True)}


def test_the_periods_left_count_those_still_arriving(goals):
    """October (still arriving), November and December are the periods not complete yet up to the deadline:
    the change needed per period spreads the gap over all three, as October's conversions will count."""
    g = goals["converted"]
    assert g.periods_left == 3
    assert g.needed_per_period == pytest.approx((1200 - plain(dt.date(2026, 9, 30))[1]) / 3)
