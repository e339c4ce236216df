"""HTML pages: self-contained scorecards (inline CSS, inline SVG charts, no external URLs) and site pages.

Templates are looked up through a loader chain: directories from plugins' ``metricspec_template_paths``
hook first (later-registered plugins win), then the built-in ``metricspec/render/templates``. A plugin
can therefore override any template (``scorecard.html``, ``macros.html``, ``style.css``, ...) by
shipping a file of the same name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from pydantic import BaseModel

from metricspec.plugins import current_plugin_manager, scoped_plugin_manager
from metricspec.render import charts
from metricspec.render.assets import embed_json, page_config
from metricspec.render.context import Builder, Links, NavLink, Page, ScorecardPage
from metricspec.render.i18n import DEFAULT_LANGUAGE, Translator
from metricspec.render.svg import svg_markup
from metricspec.render.views import ChartView, DataTable

if TYPE_CHECKING:
    import pluggy

    from metricspec.engine.results import Results
    from metricspec.progress import Progress

V = TypeVar("V")


def plugin_template_paths(pm: pluggy.PluginManager | None = None) -> list[str]:
    """Template directories from plugins, highest priority first."""
    if pm is None:
        pm = current_plugin_manager()
    paths: list[str] = []
    # pluggy calls the most recently registered implementation first: that is our priority order
    for result in pm.hook.metricspec_template_paths():
        for p in result or []:
            if str(p) not in paths:
                paths.append(str(p))
    return paths


def make_environment(template_paths: Iterable[str | Path] | None = None, *,
                     plugin_manager: pluggy.PluginManager | None = None) -> Environment:
    """A Jinja environment with autoescaping and the plugin → built-in loader chain.

    ``template_paths`` (highest priority first) replaces the plugin lookup; by default the
    installed plugins are asked.
    """
    paths = list(template_paths) if template_paths is not None else plugin_template_paths(plugin_manager)
    loaders: list[Any] = [FileSystemLoader(str(p)) for p in paths]
    loaders.append(PackageLoader("metricspec.render", "templates"))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml", "svg"), default=True,
                                     default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@functools.cache
def _default_environment() -> Environment:
    return make_environment()


def _environment() -> Environment:
    """The default environment: cached for the process's plugins, built anew inside a
    ``using_plugin_manager`` block (its plugins' templates, not the process's)."""
    scoped = scoped_plugin_manager()
    return make_environment(plugin_manager=scoped) if scoped is not None else _default_environment()


def stylesheet(env: Environment) -> str:
    """The shared CSS (overridable by a plugin's ``style.css``)."""
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, "style.css")
    if "</" in source or "<!--" in source:
        raise ValueError("style.css must not contain '</' or '<!--' (it is inlined into <style>)")
    return source


def render_page(env: Environment, template: str, page: Page, tr: Translator, *,
                chart_workers: int | None = None, progress: Progress | None = None) -> str:
    """One page as HTML, its charts drawn first."""
    return render_pages(env, [(template, page)], tr, chart_workers=chart_workers, progress=progress)[0]


def render_pages(env: Environment, pages: Sequence[tuple[str, Page]], tr: Translator, *,
                 chart_workers: int | None = None, live_charts: bool = False,
                 progress: Progress | None = None) -> list[str]:
    """Pages (``(template, page)`` pairs) as HTML, in order.

    Charts are built with the page contexts and filled in here, before any template is rendered:
    drawn as static SVG, every distinct chart of every page in one batch (in worker processes when
    asked and there are many, from the disk cache when drawn before: see :func:`charts.draw`), each
    with its own id prefix; or, with ``live_charts``, embedded as Vega-Lite JSON for the browser to
    draw. A chart that appears twice on a page gets a second id (``…-2``).
    """
    page_locale = charts.chart_key({}, tr.chart_format)[1]
    if live_charts:
        embeds: dict[charts.Key, str] = {}

        def fill(view: ChartView, chart_id: str) -> ChartView:
            if view.key not in embeds:
                embeds[view.key] = embed_json(*view.key, page_locale=page_locale)
            return view.model_copy(update={"id": chart_id, "embed": embeds[view.key]})
        if progress is not None:
            progress.count("charts_live", len({v.key for _, page in pages for v in chart_views(page)}))
    else:
        svgs = charts.draw((view.key for _, page in pages for view in chart_views(page)), chart_workers, progress)
        markup: dict[tuple[charts.Key, str], str] = {}

        def fill(view: ChartView, chart_id: str) -> ChartView:
            key = (view.key, chart_id)
            if key not in markup:
                markup[key] = svg_markup(svgs[view.key], chart_id)
            return view.model_copy(update={"id": chart_id, "svg": markup[key]})

    out = []
    if progress is not None:
        progress.start("pages", len(pages))
    config = page_config(page_locale) if live_charts else ""
    for template, page in pages:
        has_charts = next(chart_views(page), None) is not None
        # only pages with charts drawn by the browser load the chart script and carry the shared settings
        page = page.model_copy(update={"scripts": page.scripts if has_charts else [],
                                       "chart_config": config if has_charts else ""})
        html = env.get_template(template).render(page=with_charts(page, _unique_ids(fill)), _=tr.gettext)
        out.append(html.rstrip() + "\n")
        if progress is not None:
            progress.advance("pages")
    return out


def _unique_ids(fill: Callable[[ChartView, str], ChartView]) -> Callable[[ChartView], ChartView]:
    """``fill`` for one page, with an id the page has not used yet (``…-2`` for a chart shown twice)."""
    seen: dict[str, int] = {}

    def unique(view: ChartView) -> ChartView:
        seen[view.id] = seen.get(view.id, 0) + 1
        return fill(view, view.id if seen[view.id] == 1 else f"{view.id}-{seen[view.id]}")
    return unique


def _chartless(value: object) -> bool:
    """Values that hold no chart: text, numbers, tables (their rows are lists of text)."""
    return isinstance(value, str | int | float | DataTable) or value is None or (
        isinstance(value, list) and bool(value) and isinstance(value[0], str))


def chart_views(value: object) -> Iterator[ChartView]:
    """Every chart in a view, depth first."""
    if _chartless(value):
        return
    if isinstance(value, ChartView):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from chart_views(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from chart_views(item)


def with_charts(value: V, fill: Callable[[ChartView], ChartView]) -> V:
    """``value`` with each of its charts replaced by ``fill(chart)`` (views are frozen: changed parts are
    copied), depth first, in the order :func:`chart_views` lists them."""
    if _chartless(value):
        return value
    if isinstance(value, ChartView):
        return cast(V, fill(value))
    if isinstance(value, BaseModel):
        update = {}
        for name in type(value).model_fields:
            old = getattr(value, name)
            new = with_charts(old, fill)
            if new is not old:
                update[name] = new
        return cast(V, value.model_copy(update=update)) if update else value
    if isinstance(value, list | tuple):
        items = [with_charts(item, fill) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return cast(V, type(value)(items))
    return value


def page_fields(tr: Translator, *, title: str, root: str = "", css_inline: str | None = None,
                css_href: str | None = None, nav: list[NavLink] | None = None, version: str = "",
                scripts: list[str] | None = None) -> dict[str, Any]:
    return {"lang": tr.lang, "page_title": title, "root": root, "css_inline": css_inline, "css_href": css_href,
            "nav": nav or [], "version": version, "scripts": scripts or []}


def scorecard_page(results: Results, tr: Translator, *, links: Links | None = None,
                   fields: dict[str, Any]) -> ScorecardPage:
    return Builder(results, tr, links).scorecard(fields)


def render_scorecard(results: Results, lang: str = DEFAULT_LANGUAGE, *, env: Environment | None = None,
                     chart_workers: int | None = None, progress: Progress | None = None) -> str:
    """One self-contained HTML scorecard of a run (CSS and static SVG charts inline, no scripts);
    ``chart_workers`` as for :func:`metricspec.render.charts.draw` (default: drawn in this process)."""
    env = env or _environment()
    tr = Translator(lang)
    fields = page_fields(tr, title=tr("scorecard_page_title", title=results.spec.title),
                         css_inline=stylesheet(env), version=results.metricspec_version)
    return render_page(env, "scorecard.html", scorecard_page(results, tr, fields=fields), tr,
                       chart_workers=chart_workers, progress=progress)
