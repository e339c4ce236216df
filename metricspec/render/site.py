"""A static scorecard site: index, one page per spec, per KPI and per responsible person.

Layout (relative links only, so the folder works from a USB stick or GitHub Pages)::

    index.html
    assets/style.css
    scorecards/<spec>.html
    kpi/<spec>--<kpi>.html
    people/<person>.html

Every page's context is built first; then the charts of all pages are drawn in one batch (in
worker processes when asked: vl-convert is most of a build's time) and the templates rendered. The site is
built into a staging folder next to ``out_dir`` and swapped in only when every page was written:
a failed build leaves the previous site untouched.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from metricspec.outputguard import SITE_MARKER
from metricspec.render.context import (
    Builder,
    GoalView,
    IndexPage,
    KpiPage,
    Links,
    NavLink,
    PersonGroup,
    PersonLink,
    PersonPage,
    SpecSummary,
    StatusCount,
    slugify,
)
from metricspec.render.html import _default_environment, page_fields, render_pages, stylesheet
from metricspec.render.i18n import DEFAULT_LANGUAGE, Translator
from metricspec.utils import atomic_write_text, replace_directory, staging_directory

if TYPE_CHECKING:
    from jinja2 import Environment

    from metricspec.engine.results import GoalResult, Results
    from metricspec.render.context import Page

CSS_PATH = "assets/style.css"


@dataclass
class SitePlan:
    """File names for every page, fixed before anything is rendered (stable, collision-free)."""

    specs: dict[str, str] = field(default_factory=dict)  # spec name -> scorecards/<slug>.html
    kpis: dict[tuple[str, str], str] = field(default_factory=dict)  # (spec, kpi) -> kpi/<slug>.html
    people: dict[str, str] = field(default_factory=dict)  # person -> people/<slug>.html

    @classmethod
    def of(cls, results_list: Sequence[Results]) -> SitePlan:
        plan = cls()
        used: set[str] = set()

        def unique(folder: str, base: str) -> str:
            name, n = base, 2
            while f"{folder}/{name}" in used:
                name, n = f"{base}-{n}", n + 1
            used.add(f"{folder}/{name}")
            return f"{folder}/{name}.html"

        for r in results_list:
            plan.specs[r.spec.name] = unique("scorecards", slugify(r.spec.name))
            for k in r.kpis:
                plan.kpis[(r.spec.name, k.name)] = unique("kpi", f"{slugify(r.spec.name)}--{slugify(k.name)}")
        for person in sorted({p for r in results_list for p in people_of(r)}, key=lambda s: (s.casefold(), s)):
            plan.people[person] = unique("people", slugify(person))
        return plan

    def links(self, root: str) -> Links:
        return Links(kpi=lambda spec, kpi: root + self.kpis[(spec, kpi)],
                     person=lambda name: root + self.people[name] if name in self.people else "")


def people_of(r: Results) -> set[str]:
    """Everyone with something to answer for: objective owners and goals' responsible people."""
    out = {o.owner for o in r.objectives if o.owner}
    out |= {g.responsible for g in r.goals() if g.responsible}
    return out


def build_site(results_list: Sequence[Results], out_dir: str | Path, lang: str = DEFAULT_LANGUAGE, *,
               env: Environment | None = None, chart_workers: int | None = None) -> list[Path]:
    """Render the whole site into ``out_dir`` (replaced atomically); returns the files written.

    ``chart_workers`` caps the processes drawing charts (default: ``$METRICSPEC_CHART_WORKERS``, else
    none: they are drawn in this process), see :func:`metricspec.render.charts.chart_workers`.
    """
    out_dir = Path(out_dir)
    env = env or _default_environment()
    tr = Translator(lang)
    results_list = sorted(results_list, key=lambda r: r.spec.name)
    names = [r.spec.name for r in results_list]
    if len(set(names)) != len(names):
        from metricspec.errors import Issue, Level, SpecError

        dup = sorted({n for n in names if names.count(n) > 1})
        raise SpecError([Issue(Level.ERROR, f"two specs are named '{n}'", None, "give every spec a unique name")
                         for n in dup])
    plan = SitePlan.of(results_list)
    pages = _render_pages(results_list, plan, tr, env, chart_workers)
    staging = staging_directory(out_dir)
    try:
        for rel, text in sorted(pages.items()):
            atomic_write_text(staging / rel, text)
        atomic_write_text(staging / SITE_MARKER, "A site written by metricspec build; the next build replaces it.\n")
        _make_readable(staging)
        replace_directory(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [out_dir / rel for rel in sorted(pages)]


def _make_readable(root: Path) -> None:
    """Temporary files are private (0600); a published site must be readable by a web server."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [root, *root.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def _render_pages(results_list: Sequence[Results], plan: SitePlan, tr: Translator,
                  env: Environment, chart_workers: int | None = None) -> dict[str, str]:
    """Every page as text, keyed by relative path (all rendering happens before any writing)."""
    version = results_list[0].metricspec_version if results_list else ""
    pages: dict[str, tuple[str, Page]] = {}  # relative path -> (template, context), rendered at the end

    def nav(root: str, current: str | None = None) -> list[NavLink]:
        links = [NavLink(href=root + "index.html", label=tr("home"), current=current == "index.html")]
        links += [NavLink(href=root + plan.specs[r.spec.name], label=r.spec.title,
                          current=current == plan.specs[r.spec.name]) for r in results_list]
        return links

    def fields(title: str, root: str, current: str | None) -> dict[str, object]:
        return page_fields(tr, title=title, root=root, css_href=root + CSS_PATH, nav=nav(root, current),
                           version=version)

    sub = "../"
    builders = {r.spec.name: Builder(r, tr, plan.links(sub)) for r in results_list}
    goal_views: dict[tuple[str, str, str], GoalView] = {}

    def goal_view(r: Results, g: GoalResult) -> GoalView:
        key = (r.spec.name, g.objective, g.id)
        if key not in goal_views:
            goal_views[key] = builders[r.spec.name].goal(g)
        return goal_views[key]

    specs: list[SpecSummary] = []
    goal_counts: dict[str, int] = {}
    person_groups: dict[str, list[PersonGroup]] = {p: [] for p in plan.people}
    for r in results_list:
        b = builders[r.spec.name]
        rel = plan.specs[r.spec.name]
        page = b.scorecard(fields(tr("scorecard_page_title", title=r.spec.title), sub, rel))
        pages[rel] = ("scorecard.html", page)
        specs.append(SpecSummary(
            name=r.spec.name, title=r.spec.title, description=r.spec.description, href=rel,
            as_of=tr.date(r.as_of), owner=r.spec.owner, summary=b.summary(r.goals()), total_goals=len(r.goals()),
            kpis=[NavLink(href=plan.kpis[(r.spec.name, k.name)], label=k.title) for k in r.kpis]))
        for k in r.kpis:
            krel = plan.kpis[(r.spec.name, k.name)]
            kpage = KpiPage(
                **fields(f"{k.title} — {r.spec.title}", sub, None),
                spec_title=r.spec.title, spec_href=sub + rel, as_of=tr.date(r.as_of), tile=b.tile(k),
                section=b.kpi_section(k), segments=b.segment_figures(k),
                goals=[goal_view(r, g) for g in r.goals() if g.kpi == k.name],
            )
            pages[krel] = ("kpi.html", kpage)
        for person in sorted(people_of(r)):
            owned = [o for o in r.objectives if o.owner == person]
            goals = [g for g in r.goals() if g.responsible == person or any(g in o.goals for o in owned)]
            roles = []
            if any(g.responsible == person for g in r.goals()):
                roles.append(tr("role_responsible"))
            if owned:
                roles.append(tr("role_owner"))
            if any(g.measured_by == person for g in r.goals()):
                roles.append(tr("role_measures"))
            goal_counts[person] = goal_counts.get(person, 0) + len(goals)
            person_groups[person].append(PersonGroup(
                spec_title=r.spec.title, spec_href=sub + rel, as_of=tr.date(r.as_of), roles=roles,
                goals=[goal_view(r, g) for g in goals], objectives=[o.title for o in owned]))
    for person, prel in plan.people.items():
        statuses = [g.status.key for grp in person_groups[person] for g in grp.goals]
        summary = [StatusCount(status=c.status, count=statuses.count(c.status.key))
                   for c in builders[results_list[0].spec.name].summary([])]
        ppage = PersonPage(**fields(person, sub, None), name=person, summary=summary,
                           groups=person_groups[person])
        pages[prel] = ("person.html", ppage)
    index = IndexPage(
        **fields(tr("site_title"), "", "index.html"), specs=specs,
        people=[PersonLink(name=p, href=plan.people[p], goals=goal_counts.get(p, 0)) for p in plan.people],
        as_of=", ".join(sorted({tr.date(r.as_of) for r in results_list})),
    )
    pages["index.html"] = ("index.html", index)
    html = render_pages(env, list(pages.values()), tr, chart_workers=chart_workers)
    return {CSS_PATH: stylesheet(env), **dict(zip(pages, html, strict=True))}
