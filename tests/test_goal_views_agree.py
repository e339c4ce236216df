"""One goal, one headline (issues 22 and 23): random goals go through the engine's one judgement and
every view — JSON Results, the terminal table, Markdown, the scorecard's HTML card — and no view may
say two things at once: a status that means "met" with a bar short of full, a bar whose words say
100 % of a target not met, a chance shown on the other side of the threshold its status read."""

from __future__ import annotations

import re
from html import escape as html_escape
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from metricspec.engine.judgement import Situation, ambition, attainment, judge, met
from metricspec.engine.results import GoalResult, Results, chance_percent, english
from metricspec.render.context import Builder
from metricspec.render.formatting import STATUS_LABELS
from metricspec.render.html import make_environment
from metricspec.render.i18n import Translator
from metricspec.render.markdown import results_markdown
from metricspec.render.table import print_results

ROOT = Path(__file__).parent.parent
GOLDEN = Results.model_validate_json((ROOT / "tests" / "golden" / "x_brand_awareness.json").read_text("utf-8"))
BASE = GOLDEN.model_copy(update={"control_groups": [], "attribution": None})  # goals and KPIs: quicker to render
REACHED = {"achieved", "target_reached"}
NOT_REACHED = {"on_track", "off_track", "missed"}
MACROS = make_environment().get_template("macros.html")

finite = st.floats(-1e7, 1e7, allow_nan=False, allow_infinity=False)


@st.composite
def goals(draw: st.DrawFn) -> GoalResult:
    """A goal as the engine makes it: a random situation, judged; its bar, chance and thresholds."""
    target = draw(st.sampled_from([0.0, 1.0, 0.25, 12000.0, -50.0]) | finite)
    near = st.builds(lambda f: target * f, st.sampled_from([0.9994, 0.9996, 0.99996, 1.0, 1.00004, 1.0006]))
    current = draw(st.none() | near | finite)
    direction = draw(st.sampled_from(["increase", "decrease"]))
    passed = draw(st.booleans())
    deadline = None if not passed and draw(st.booleans()) else "2026-12-31"
    on_track = draw(st.integers(2, 99)) / 100
    at_risk = draw(st.integers(1, round(on_track * 100))) / 100
    # chances at and around the thresholds, where a rounded percentage could land on the other side
    edges = st.sampled_from([on_track, at_risk, 0.95, 0.05]).flatmap(
        lambda t: st.floats(t - 0.006, t + 0.006).map(lambda c: min(max(c, 0.0), 1.0)))
    chance = draw(st.none() | edges | st.floats(0, 1))
    within = draw(st.none() | st.floats(0, 1)) if chance is not None else None
    expected = draw(st.none() | finite)
    progress = draw(st.none() | st.floats(-10, 10))
    cannot_fall = draw(st.booleans())
    v = judge(Situation(current=current, target=target, direction=direction, passed=passed, deadline=deadline,
                        cannot_fall=cannot_fall, expected=expected, chance=chance, chance_within_tolerance=within,
                        on_track=on_track, at_risk=at_risk))
    shown = chance if not v.final else (1.0 if v.status == "achieved" else 0.0)
    base = BASE.goals()[0]
    return base.model_copy(update={
        "current": current, "target": target, "direction": direction, "deadline": deadline and base.deadline,
        "status": v.status, "status_reason": english(v.reason_code, v.reason), "status_reason_code": v.reason_code,
        "status_reason_params": v.reason, "final": v.final, "attainment": attainment(current, target, direction,
                                                                                        progress),
        "progress": progress, "expected": expected, "chance": shown, "ambition": ambition(shown, v.final),
        "on_track_threshold": on_track, "at_risk_threshold": at_risk, "forecast_intervals": [],
        "suggested_targets": [], "trend": [], "so_far": [], "so_far_kind": None, "smart": []})


def with_goal(g: GoalResult) -> Results:
    objective = BASE.objectives[0].model_copy(update={"goals": [g]})
    return BASE.model_copy(update={"objectives": [objective]})


def check_judgement(g: GoalResult) -> None:
    """The engine's fields: the status, the bar's length and the chance tell one story."""
    if g.current is None:
        assert g.status == "no_data" and g.attainment is None
        return
    reached = met(g.current, g.target, g.direction)
    assert (g.attainment is not None and g.attainment >= 1) == reached
    if g.status in REACHED:
        assert reached
    if g.status in NOT_REACHED:
        assert not reached
    if g.status == "at_risk" and reached:  # full bar, "at risk": the words say why
        assert g.status_reason_code == "reason_reached_at_risk"
    if g.chance is not None and not g.final and g.status_reason_code and "chance" in g.status_reason_code:
        shown = chance_percent(g.chance)  # the chance as every view shows it, a whole percentage
        on_track, at_risk = round(g.on_track_threshold * 100), round(g.at_risk_threshold * 100)
        if g.status == "on_track":
            assert shown >= on_track
        elif g.status == "off_track":
            assert shown < at_risk
        elif g.status_reason_code == "reason_chance_at_risk":
            assert at_risk <= shown < on_track
    if g.status == "target_reached" and g.status_reason_code == "reason_target_reached":
        assert chance_percent(g.chance or 0.0) >= round(g.on_track_threshold * 100)
    if g.ambition == "not_ambitious":
        assert chance_percent(g.chance or 0.0) > 95
    if g.ambition == "not_plausible":
        assert chance_percent(g.chance or 0.0) < 5


def bar_percent(label: str) -> int | None:
    """The share of the target a bar's words give ("11,303 of 12,000: 94% of the target")."""
    m = re.search(r": (\d+)% of the target", label)
    return int(m.group(1)) if m else None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(goals())
def test_status_bar_and_chance_agree_in_every_view(g: GoalResult) -> None:
    check_judgement(g)
    # JSON: what is written is what was judged
    again = Results.model_validate_json(with_goal(g).model_dump_json()).goals()[0]
    assert (again.status, again.attainment, again.chance) == (g.status, g.attainment, g.chance)
    check_judgement(again)
    results = with_goal(g)
    label = STATUS_LABELS[g.status]
    # the terminal and Markdown say the status in words beside the chance they show
    console = Console(width=200, record=True, color_system=None)
    print_results(results, console)
    row = next(line for line in console.export_text().splitlines() if g.title[:20] in line)
    assert label in row
    shown_chance = Translator("en").chance(g.chance) if g.chance is not None else None
    if shown_chance:
        assert shown_chance in row
    md = next(line for line in results_markdown(results).splitlines() if line.startswith(f"| {g.title[:20]}"))
    assert f" {label} |" in md
    if shown_chance:
        assert f"| {shown_chance} |" in md
    # the HTML card: its badge and its bar
    view = Builder(results, Translator("en")).goal(g)
    html = str(MACROS.make_module({"_": Translator("en").gettext}).goal(view))
    assert f"status-border-{g.status.replace('_', '-')}" in html or f"status-border-{g.status}" in html
    # the goals table at the top of the page: the card's status and chance, never another judgement
    link = Builder(results, Translator("en")).goal_links()[0]
    assert (link.status.key, link.chance, link.current) == (g.status, view.chance, view.current)
    table = str(MACROS.make_module({"_": Translator("en").gettext}).goal_table([link]))
    assert f'data-label="Chance by the deadline">{html_escape(view.chance)}</td>' in table
    bar = view.progress
    if g.current is None:
        assert bar is None
        return
    assert bar is not None and 0 <= bar.fill <= 100
    reached = met(g.current, g.target, g.direction)
    assert bar.met == reached == (bar.fill == 100) == ("is-met" in html)
    share = bar_percent(bar.label)
    if share is not None:  # a bar short of full never says 100 %
        assert not reached and share < 100
