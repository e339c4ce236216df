"""Pacing alerts (``metricspec check --notify``): which goals, one message per responsible person, in
the spec's language, with the chance, what is needed per period and a link to the goal's card; the
webhook notifier routes people to their URLs (``${VARIABLE}`` read from the environment)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_plugin_hooks import Receiver, with_plugins  # tests/ is on sys.path

import metricspec
from metricspec.check.baseline import read_baseline, snapshot
from metricspec.check.baseline_schema import BaselineDocument
from metricspec.check.pacing import PACED, alert_text, by_person, pacing_alerts
from metricspec.cli import main
from metricspec.engine.run import evaluate
from metricspec.loader import load_spec

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
AS_OF = "2026-11-01"
__all__ = ["with_plugins"]  # a fixture used by name

NOTIFY = """
notify:
  site_url: https://metrics.example.com/
  people:
    Marta Nowak: ${SLACK_MARTA}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two example specs (Spanish and Polish), Marta routed to her own webhook, and a baseline of 30 June."""
    root = tmp_path_factory.mktemp("pacing")
    specs = root / "specs"
    specs.mkdir()
    shutil.copyfile(EXAMPLES / "trade_fair_campaign.yaml", specs / "trade_fair_campaign.yaml")
    (specs / "x_brand_awareness.yaml").write_text((EXAMPLES / "x_brand_awareness.yaml").read_text() + NOTIFY)
    shutil.copytree(EXAMPLES / "shared", specs / "shared")
    shutil.copytree(EXAMPLES / "data", specs / "data")
    baseline = root / "baseline.json"
    made = CliRunner().invoke(main, ["baseline", "update", str(specs), "--baseline", str(baseline), "--as-of",
                                     "2026-06-30", "--force"])
    assert made.exit_code == 0, made.output
    return specs, baseline


@pytest.fixture(scope="module")
def brand(project: tuple[Path, Path]) -> tuple[Any, Any]:
    loaded = load_spec(project[0] / "x_brand_awareness.yaml")
    return loaded.spec, evaluate(loaded, as_of=dt.date(2026, 11, 1))


def _baseline(results: Any, status: str | None) -> BaselineDocument:
    """The baseline entry of ``results`` with every goal's status ``status`` (None: as now)."""
    entry = snapshot(results)
    goals = {key: g.model_copy(update={"status": status or g.status}) for key, g in entry.goals.items()}
    return BaselineDocument(specs={results.spec.name: entry.model_copy(update={"goals": goals})})


def test_a_goal_falling_below_its_threshold_is_alerted(brand: tuple[Any, Any]) -> None:
    spec, results = brand
    alerts = pacing_alerts([(spec, results)], _baseline(results, "on_track"))
    expected = {f"{g.objective}/{g.id}" for g in results.goals()
                if g.status not in PACED or (not g.final and g.chance is not None and g.chance < 0.7)}
    assert {a.goal for a in alerts} == expected and expected
    for a in alerts:
        g = next(x for x in results.goals() if f"{x.objective}/{x.id}" == a.goal)
        assert a.person == g.responsible and a.language == "es" and a.previous == "on_track"
        assert a.link == f"https://metrics.example.com/scorecards/x-brand-awareness.html#goal-{a.goal.replace('/', '-')}"
        assert g.title in a.text and "probabilidad" in a.text and "(antes: en camino)" in a.text, a.text
        if g.needed_per_period is not None:
            assert "periodos restantes: 2" in a.text, a.text  # November and December
        assert a.route == ("${SLACK_MARTA}" if a.person == "Marta Nowak" else None)


def test_nothing_to_alert_when_nothing_changed(brand: tuple[Any, Any]) -> None:
    spec, results = brand
    assert pacing_alerts([(spec, results)], _baseline(results, None)) == []  # the same statuses as now
    everyone = pacing_alerts([(spec, results)], None)  # no baseline: every goal below its threshold
    assert {a.goal for a in everyone} == {f"{g.objective}/{g.id}" for g in results.goals()
                                          if not g.final and g.chance is not None and g.chance < 0.7}


def test_one_message_per_person() -> None:
    from metricspec.check.pacing import PacingAlert

    def alert(person: str, goal: str, route: str | None = None) -> PacingAlert:
        return PacingAlert(person, "s", "en", route, goal, goal, "at_risk", "on_track", 0.4, 0.7, None, goal)

    grouped = by_person([alert("A", "o/1"), alert("B", "o/2"), alert("A", "o/3")])
    assert {k: [a.goal for a in v] for k, v in grouped.items()} == {("A", None): ["o/1", "o/3"], ("B", None): ["o/2"]}


def test_check_notify_sends_each_person_one_message(project: tuple[Path, Path], with_plugins: Any) -> None:
    with_plugins()
    specs, baseline = project
    team, marta = Receiver(), Receiver()
    try:
        result = CliRunner().invoke(main, ["check", str(specs), "--baseline", str(baseline), "--as-of", AS_OF,
                                           "--notify"], env={"METRICSPEC_WEBHOOK_URL": team.url,
                                                             "SLACK_MARTA": marta.url})
    finally:
        team.close()
        marta.close()
    assert result.exit_code == 1, result.output  # the regressions still fail the check
    (mine,) = marta.bodies  # one message, however many of her goals fell behind
    assert mine["text"].startswith("Marta Nowak: metas a su cargo que requieren atención")
    lines = [line for line in mine["text"].splitlines() if line.startswith("• ")]
    assert lines and all("|abrir el cuadro de mando>" in line for line in lines)
    assert "<https://metrics.example.com/scorecards/x-brand-awareness.html#goal-engagement-" in mine["text"]
    people = [b["text"].split(":")[0] for b in team.bodies[1:]]
    assert team.bodies[0]["text"].startswith("metricspec check:")  # the team's regressions first
    runs = [(spec.spec, evaluate(spec, as_of=dt.date(2026, 11, 1)))
            for spec in (load_spec(specs / n) for n in ("trade_fair_campaign.yaml", "x_brand_awareness.yaml"))]
    expected = {a.person for a in pacing_alerts(runs, read_baseline(baseline))} - {"Marta Nowak"}
    assert sorted(people) == sorted(expected) and expected  # one message each, everyone else's to the team URL
    assert "for Marta Nowak" in result.output and "secret-token" not in result.output


def test_an_alert_is_in_its_specs_language() -> None:
    results = evaluate(load_spec(EXAMPLES / "trade_fair_campaign.yaml"), as_of=dt.date(2026, 5, 5))
    g = next(x for x in results.goals() if x.id == "fifty_signups")
    text = alert_text(results, g, "on_track")
    assert text.startswith(f"{g.title}: ") and "szansa" in text and "(wcześniej: zgodnie z planem)" in text, text
    assert "17 maj 2026" in text, text


def test_an_unset_variable_is_a_warning(project: tuple[Path, Path], with_plugins: Any) -> None:
    with_plugins()
    specs, baseline = project
    result = CliRunner().invoke(main, ["check", str(specs), "--baseline", str(baseline), "--as-of", AS_OF,
                                       "--notify"], env={"METRICSPEC_WEBHOOK_URL": "", "SLACK_MARTA": ""})
    assert result.exit_code == 1, result.output
    assert "notify.people['Marta Nowak'] is ${SLACK_MARTA}, which is not set" in result.output
    assert "Traceback" not in result.output


def test_a_notifier_taking_person_gets_each_persons_alerts(project: tuple[Path, Path], with_plugins: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str | None, int, int]] = []

    class Recording:
        @metricspec.hookimpl
        def metricspec_notify(self, findings: Any, person: str | None, alerts: Any) -> str | None:
            calls.append((person, len(findings), len(alerts)))
            return None

    with_plugins(Recording())
    monkeypatch.delenv("METRICSPEC_WEBHOOK_URL", raising=False)
    specs, baseline = project
    result = CliRunner().invoke(main, ["check", str(specs), "--baseline", str(baseline), "--as-of", AS_OF,
                                       "--notify"])
    assert result.exit_code == 1, result.output
    team = [c for c in calls if c[0] is None]
    people = [c for c in calls if c[0] is not None]
    assert len(team) == 1 and team[0][1] > 0
    assert people and all(findings == 0 and alerts > 0 for _, findings, alerts in people)
    assert sum(a for _, _, a in people) == team[0][2]  # every alert, once, to its person
