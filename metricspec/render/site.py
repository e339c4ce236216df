"""A static scorecard site: index, one page per spec, per KPI and per person (responsible or measuring).

Layout (relative links only, so the folder works from a USB stick or GitHub Pages)::

    index.html
    assets/style.css
    scorecards/<spec>.html
    kpi/<spec>--<kpi>.html
    people/<person>.html

    assets/vega.js, assets/charts.js     (charts drawn in the browser, the default)

Every page's context is built first. By default the browser draws the charts, from Vega-Lite JSON
embedded in each page, with the Vega bundle in ``assets/`` (nothing loads from the network): a
build is about as fast as evaluating the specs. With ``static_charts`` the charts of all pages are
drawn as SVG in one batch instead (in worker processes when asked, from the disk cache when drawn
before: vl-convert is most of such a build's time), for pages without JavaScript. The site is built
into a staging folder next to ``out_dir`` and swapped in only when every page was written: a failed
build leaves the previous site untouched.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level, SpecError
from metricspec.render.assets import CHARTS_JS, VEGA_JS, charts_js, vega_bundle
from metricspec.render.context import (
    ATTENTION,
    SEVERITY,
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
from metricspec.render.site_files import SITE_MARKER, files_to_keep, site_manifest
from metricspec.render.views import PersonKpi
from metricspec.utils import atomic_write_text, replace_directory, staging_directory

if TYPE_CHECKING:
    from jinja2 import Environment

    from metricspec.engine.results import GoalResult, Results
    from metricspec.progress import Progress
    from metricspec.render.context import Page

CSS_PATH = "assets/style.css"
WRITERS = 8  # threads writing the site's files


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
    """Everyone with something to answer for: objective owners, goals' responsible people, and the
    owners and measurers of KPIs."""
    out = {o.owner for o in r.objectives if o.owner}
    out |= {g.responsible for g in r.goals() if g.responsible}
    out |= {p for k in r.kpis for p in (k.owner, k.measured_by) if p}
    return out


def build_site(results_list: Sequence[Results], out_dir: str | Path, lang: str = DEFAULT_LANGUAGE, *,
               env: Environment | None = None, chart_workers: int | None = None, static_charts: bool = False,
               progress: Progress | None = None, force: bool = False) -> list[Path]:
    """Render the whole site into ``out_dir`` (replaced atomically); returns the files written.

    Files of ``out_dir`` that no earlier build wrote are kept (:func:`~metricspec.render.site_files.files_to_keep`;
    ``force`` replaces those at the paths of its pages).

    By default the browser draws the charts (``assets/vega.js``); ``static_charts`` draws them as SVG
    into the pages instead. ``chart_workers`` caps the processes drawing static charts (default:
    ``$METRICSPEC_CHART_WORKERS``, else none: they are drawn in this process), see
    :func:`metricspec.render.chart_processes.chart_workers`. ``progress`` hears of pages built, charts drawn
    and files written.
    """
    out_dir = Path(out_dir)
    env = env or _default_environment()
    tr = Translator(lang)
    results_list = sorted(results_list, key=lambda r: r.spec.name)
    names = [r.spec.name for r in results_list]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SpecError([Issue(Level.ERROR, f"two specs are named '{n}'", None, "give every spec a unique name")
                         for n in dup])
    plan = SitePlan.of(results_list)
    pages = _render_pages(results_list, plan, tr, env, chart_workers, live_charts=not static_charts,
                          progress=progress)
    keep = files_to_keep(out_dir, pages, force=force)
    staging = staging_directory(out_dir)
    try:
        if progress is not None:
            progress.start("files", len(pages))
        for rel in _write_all(staging, pages):
            if progress is not None:
                progress.advance("files", text=rel)
        atomic_write_text(staging / SITE_MARKER, site_manifest(pages))
        _make_readable(staging)
        _carry_over(out_dir, staging, keep)
        replace_directory(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if progress is not None:
        progress.count("files", len(pages))
        progress.count("scorecards", len(plan.specs))
    return [out_dir / rel for rel in sorted(pages)]


def _write_all(root: Path, pages: dict[str, str]) -> Iterator[str]:
    """Write every file (atomically, synced to disk) under ``root``, a few at a time: waiting for the
    disk is most of writing a site of a thousand pages. Yields each relative path written."""
    def write(item: tuple[str, str]) -> str:
        atomic_write_text(root / item[0], item[1])
        return item[0]

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        yield from pool.map(write, sorted(pages.items()))


def _carry_over(old: Path, staging: Path, files: list[str]) -> None:
    """Copy the files the build keeps into the new site (links as links, modes kept)."""
    for rel in files:
        source, target = old / rel, staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        else:
            shutil.copy2(source, target)


def _make_readable(root: Path) -> None:
    """Temporary files are private (0600); a published site must be readable by a web server."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [root, *root.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


@dataclass
class _Pages:
    """What every page of a site shares while the site is built."""

    results: Sequence[Results]
    plan: SitePlan
    tr: Translator
    scripts: list[str]
    builders: dict[str, Builder] = field(default_factory=dict)
    goal_views: dict[tuple[str, str, str], GoalView] = field(default_factory=dict)

    def nav(self, root: str, current: str | None = None) -> list[NavLink]:
        links = [NavLink(href=root + "index.html", label=self.tr("home"), current=current == "index.html")]
        links += [NavLink(href=root + self.plan.specs[r.spec.name], label=r.spec.title,
                          current=current == self.plan.specs[r.spec.name]) for r in self.results]
        return links

    def fields(self, title: str, root: str, current: str | None) -> dict[str, object]:
        version = self.results[0].metricspec_version if self.results else ""
        return page_fields(self.tr, title=title, root=root, css_href=root + CSS_PATH, nav=self.nav(root, current),
                           version=version, scripts=[root + s for s in self.scripts])

    def goal_view(self, r: Results, g: GoalResult) -> GoalView:
        key = (r.spec.name, g.objective, g.id)
        if key not in self.goal_views:
            self.goal_views[key] = self.builders[r.spec.name].goal(g)
        return self.goal_views[key]


def _render_pages(results_list: Sequence[Results], plan: SitePlan, tr: Translator, env: Environment,
                  chart_workers: int | None = None, *, live_charts: bool = False,
                  progress: Progress | None = None) -> dict[str, str]:
    """Every page as text, keyed by relative path (all rendering happens before any writing)."""
    sub = "../"
    ctx = _Pages(results_list, plan, tr, [CHARTS_JS, VEGA_JS] if live_charts else [])  # base.html defers the second
    ctx.builders = {r.spec.name: Builder(r, tr, plan.links(sub)) for r in results_list}
    results_list = [ctx.builders[r.spec.name].r for r in results_list]  # KPIs titled for readers
    ctx.results = results_list
    pages: dict[str, tuple[str, Page]] = {}  # relative path -> (template, context), rendered at the end
    specs: list[SpecSummary] = []
    for r in results_list:
        b = ctx.builders[r.spec.name]
        r = b.r  # KPIs titled for readers
        rel = plan.specs[r.spec.name]
        pages[rel] = ("scorecard.html", b.scorecard(ctx.fields(tr("scorecard_page_title", title=r.spec.title),
                                                               sub, rel)))
        specs.append(SpecSummary(
            name=r.spec.name, title=r.spec.title, description=r.spec.description, href=rel,
            as_of=tr.date(r.as_of), owner=r.spec.owner, summary=b.summary(r.goals()), total_goals=len(r.goals()),
            kpis=[NavLink(href=plan.kpis[(r.spec.name, k.name)], label=k.title) for k in r.kpis],
            goals=b.goal_links(rel), stale=b.stale_titles(),
            headlines=Builder(r, tr, plan.links("")).headline_kpis()))
        for k in r.kpis:
            pages[plan.kpis[(r.spec.name, k.name)]] = ("kpi.html", KpiPage(
                **ctx.fields(f"{k.title} — {r.spec.title}", sub, None),
                spec_title=r.spec.title, spec_href=sub + rel, as_of=tr.date(r.as_of), tile=b.tile(k),
                section=b.kpi_section(k), segments=b.segment_figures(k),
                goals=[ctx.goal_view(r, g) for g in r.goals() if g.kpi == k.name],
                owner=k.owner, owner_href=ctx.plan.links(sub).person_href(k.owner),
                measured_by=k.measured_by, measured_by_href=ctx.plan.links(sub).person_href(k.measured_by)))
    groups = _groups_by_person(ctx, sub)
    pages.update(_person_pages(ctx, groups))
    attention = sorted((g for s in specs for g in s.goals if g.severity < ATTENTION), key=lambda g: g.severity)
    pages["index.html"] = ("index.html", IndexPage(
        **ctx.fields(tr("site_title"), "", "index.html"), specs=sorted(specs, key=urgency),
        overall=overall_line(tr, specs), attention=attention,
        people=[PersonLink(name=p, href=plan.people[p], goals=sum(len(g.goals) for g in grps))
                for p, grps in groups.items()],
        as_of=", ".join(sorted({tr.date(r.as_of) for r in results_list}))))
    html = render_pages(env, list(pages.values()), tr, chart_workers=chart_workers, live_charts=live_charts,
                        progress=progress)
    out = {CSS_PATH: stylesheet(env), **dict(zip(pages, html, strict=True))}
    if live_charts:
        out[VEGA_JS], out[CHARTS_JS] = vega_bundle(), charts_js()
    return out


def urgency(s: SpecSummary) -> tuple[int, int, int, str]:
    """Scorecards on the index, most urgent first: by their goals missed, then off track, then at risk."""
    counts = {c.status.key: c.count for c in s.summary}
    return (-counts.get("missed", 0), -counts.get("off_track", 0), -counts.get("at_risk", 0), s.title.casefold())


def overall_line(tr: Translator, specs: Sequence[SpecSummary]) -> str:
    """``23 goals in 7 scorecards: 3 missed, 10 off track, …``: every status some goal has, worst first."""
    counts: dict[str, int] = {}
    labels: dict[str, str] = {}
    for s in specs:
        for c in s.summary:
            counts[c.status.key] = counts.get(c.status.key, 0) + c.count
            labels[c.status.key] = c.status.label
    parts = [tr("status_count", n=counts[key], status=labels[key].lower())
             for key in sorted(counts, key=SEVERITY.__getitem__) if counts[key]]
    return tr("overall_line", goals=sum(counts.values()), specs=len(specs), parts=", ".join(parts) or "—")


def _groups_by_person(ctx: _Pages, sub: str) -> dict[str, list[PersonGroup]]:
    """Per person (in the plan's order): for each spec, the goals they answer for and their roles."""
    tr = ctx.tr
    groups: dict[str, list[PersonGroup]] = {p: [] for p in ctx.plan.people}
    for r in ctx.results:
        for person in sorted(people_of(r)):
            owned = [o for o in r.objectives if o.owner == person]
            goals = [g for g in r.goals() if g.responsible == person or any(g in o.goals for o in owned)]
            roles = []
            if any(g.responsible == person for g in r.goals()):
                roles.append(tr("role_responsible"))
            if owned:
                roles.append(tr("role_owner"))
            kpis = _kpis_of(ctx, r, person, sub)
            if any(k.owner == person for k in r.kpis):
                roles.append(tr("role_kpi_owner"))
            if any(g.measured_by == person for g in r.goals()) or any(k.measured_by == person for k in r.kpis):
                roles.append(tr("role_measures"))
            groups[person].append(PersonGroup(
                spec_title=r.spec.title, spec_href=sub + ctx.plan.specs[r.spec.name], as_of=tr.date(r.as_of),
                roles=roles, objectives=[o.title for o in owned],
                # a person's page lists goal cards without their charts: it loads no chart script
                goals=[ctx.goal_view(r, g).model_copy(update={"figure": None}) for g in goals],
                kpis=kpis))
    return groups


def _kpis_of(ctx: _Pages, r: Results, person: str, sub: str) -> list[PersonKpi]:
    """The KPIs of ``r`` that ``person`` owns or measures (spec order), linked to their pages."""
    out = []
    for k in r.kpis:
        roles = [ctx.tr(key) for key, who in (("role_kpi_owner", k.owner), ("role_measures", k.measured_by))
                 if who == person]
        if roles:
            out.append(PersonKpi(title=k.title, href=sub + ctx.plan.kpis[(r.spec.name, k.name)], roles=roles))
    return out


def _person_pages(ctx: _Pages, by_person: dict[str, list[PersonGroup]]) -> dict[str, tuple[str, Page]]:
    out: dict[str, tuple[str, Page]] = {}
    any_builder = next(iter(ctx.builders.values()), None)
    for person, groups in by_person.items():
        statuses = [g.status.key for grp in groups for g in grp.goals]
        summary = [StatusCount(status=c.status, count=statuses.count(c.status.key))
                   for c in (any_builder.summary([]) if any_builder else [])]
        out[ctx.plan.people[person]] = ("person.html", PersonPage(**ctx.fields(person, "../", None), name=person,
                                                                  summary=summary, groups=groups))
    return out
