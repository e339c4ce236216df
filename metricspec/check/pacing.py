"""Pacing alerts: which goals to tell their responsible person about, and the message, in the spec's
language (``metricspec check --notify``, docs/ci.md#pacing-alerts).

A goal is alerted when its chance of meeting the target fell below its ``on_track`` threshold since
the baseline (it was achieved, target reached or on track there, or is new, or there is no
baseline), or when its status got worse than in the baseline (to missed, for one). Each alert says
the goal, its status and chance, what is needed per period left to recover, and links to the goal's
card on the published scorecard site (the spec's ``notify.site_url``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from metricspec.check.baseline_schema import BaselineDocument
from metricspec.engine.judgement import reaches
from metricspec.engine.results import STATUS_ORDER, GoalResult, Results
from metricspec.render.formatting import kpi_unit
from metricspec.render.i18n import Translator
from metricspec.render.site import SitePlan
from metricspec.render.views import slugify

if TYPE_CHECKING:
    from metricspec.spec.models import Spec

PACED = frozenset({"achieved", "target_reached", "on_track"})
"""Statuses whose chance was at least the on-track threshold."""


@dataclass(frozen=True)
class PacingAlert:
    """One goal to tell its responsible person about."""

    person: str
    spec: str
    language: str
    route: str | None  # the spec's ``notify.people`` entry for the person (a URL or ${VARIABLE})
    goal: str  # objective/goal
    title: str
    status: str
    previous: str | None  # the status in the baseline
    chance: float | None
    threshold: float
    link: str | None
    text: str  # the alert in the spec's language


def pacing_alerts(runs: Iterable[tuple[Spec, Results]], baseline: BaselineDocument | None) -> list[PacingAlert]:
    """The alerts of every goal of ``runs`` (each spec with its results) against ``baseline`` (a
    baseline document, or None)."""
    runs = list(runs)
    plan = SitePlan.of([r for _, r in runs])
    out = []
    for spec, results in runs:
        entry = baseline.specs.get(results.spec.name) if baseline is not None else None
        notify = spec.notify
        for g in results.goals():
            was = entry.goals.get(f"{g.objective}/{g.id}") if entry is not None else None
            previous = was.status if was is not None else None
            if not g.responsible or not _alerted(g, previous, baseline is not None):
                continue
            link = None
            if notify is not None and notify.site_url:
                link = (f"{notify.site_url.rstrip('/')}/{plan.specs[results.spec.name]}"
                        f"#goal-{slugify(g.objective)}-{slugify(g.id)}")
            out.append(PacingAlert(
                person=g.responsible, spec=results.spec.name, language=results.spec.language,
                route=notify.people.get(g.responsible) if notify is not None else None,
                goal=f"{g.objective}/{g.id}", title=g.title, status=g.status, previous=previous, chance=g.chance,
                threshold=g.on_track_threshold, link=link, text=alert_text(results, g, previous)))
    return out


def _alerted(g: GoalResult, previous: str | None, has_baseline: bool) -> bool:
    worse = previous is not None and STATUS_ORDER[g.status] > STATUS_ORDER.get(previous, len(STATUS_ORDER))
    below = not g.final and g.chance is not None and not reaches(g.chance, g.on_track_threshold)  # as shown
    return worse or (below and (previous in PACED or previous is None or not has_baseline))


def alert_text(results: Results, g: GoalResult, previous: str | None) -> str:
    """``Half of all mentions positive: off track, 26% chance of 50.0% by 31 Dec 2026 (was on track);
    needs +0.8 pp a month (periods left: 2).``"""
    tr = Translator(results.spec.language if results.spec.language in ("en", "es", "pl") else "en")
    unit, currency = kpi_unit(results, g.kpi)
    text = tr("alert_goal", title=g.title, status=tr.status(g.status).lower(), chance=tr.chance(g.chance),
              target=tr.value(g.target, unit, currency), deadline=tr.date(g.deadline))
    if previous is not None and previous != g.status:
        text += " " + tr("alert_was", status=tr.status(previous).lower())
    if g.needed_per_period is not None and g.periods_left:
        text += "; " + tr("alert_needed", needed=tr.delta(g.needed_per_period, unit, currency),
                          grain=tr.grain_noun(g.grain), left=g.periods_left)
    return text + "."


def by_person(alerts: Sequence[PacingAlert]) -> dict[tuple[str, str | None], list[PacingAlert]]:
    """Alerts grouped into one message per person (and per route, should two specs route one person
    differently), in the order people first appear."""
    out: dict[tuple[str, str | None], list[PacingAlert]] = {}
    for a in alerts:
        out.setdefault((a.person, a.route), []).append(a)
    return out
