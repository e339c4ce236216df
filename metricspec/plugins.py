"""Build the plugin manager (once per process) and look up connectors.

Plugins come in through the ``metricspec`` entry-point group, loaded by pluggy's own
``load_setuptools_entrypoints`` (so ``list_plugin_distinfo`` knows each one's distribution).
The built-in plugins are also registered by import when their entry point is missing (a source
checkout on ``PYTHONPATH``, stale install metadata): metricspec works without its own metadata.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from metricspec import hookspecs
from metricspec.errors import PluginError
from metricspec.version import __version__

ENTRY_POINT_GROUP = "metricspec"
BUILTIN_PLUGINS = {
    # entry-point name: module (the same pairs as [project.entry-points.metricspec] in pyproject.toml)
    "builtin_connectors": "metricspec.connectors.builtin",
    "builtin_notifiers": "metricspec.notifiers.webhook",
}


def make_plugin_manager(*, load_entry_points: bool = True, builtins: bool = True,
                        plugins: tuple[object, ...] = ()) -> pluggy.PluginManager:
    """A new plugin manager (most code wants the cached :func:`plugin_manager`).

    Installed plugins come from the ``metricspec`` entry-point group; the built-ins are registered
    by import if no entry point provided them. Tests choose what is registered:
    ``load_entry_points=False`` skips installed plugins, ``builtins=False`` the built-ins, and
    ``plugins`` are registered last (those already registered, such as a built-in, are skipped).
    Installed plugins that cannot be loaded are left out and listed by :func:`broken_plugins`.
    """
    pm = MetricSpecPluginManager("metricspec")
    pm.add_hookspecs(hookspecs)
    if load_entry_points:
        _load_entry_points(pm)
    if builtins:
        for name, module in BUILTIN_PLUGINS.items():
            if pm.get_plugin(name) is None and not pm.is_blocked(name):
                pm.register(importlib.import_module(module), name=name)
    for plugin in plugins:
        if not pm.is_registered(plugin):
            pm.register(plugin)
    return pm


@dataclass(frozen=True)
class BrokenPlugin:
    """An installed plugin that could not be used: it failed to import, or its hooks do not fit."""

    name: str
    value: str
    problem: str

    def message(self) -> str:
        return f"plugin '{self.name}' ({self.value}) {self.problem}"


HINT_BROKEN = "reinstall or uninstall that plugin package (`metricspec plugins` lists what is installed)"


class MetricSpecPluginManager(pluggy.PluginManager):
    """pluggy's manager, with the installed plugins that could not be loaded (:attr:`broken`)."""

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.broken: list[BrokenPlugin] = []


def broken_plugins(pm: pluggy.PluginManager | None = None) -> list[BrokenPlugin]:
    """The installed plugins ``pm`` (default: the process's manager) could not load."""
    pm = pm if pm is not None else current_plugin_manager()
    return list(getattr(pm, "broken", []))


def loaded_broken_plugins() -> list[BrokenPlugin]:
    """:func:`broken_plugins` of the process's manager if it has been built (nothing is loaded here)."""
    cache_info = getattr(plugin_manager, "cache_info", None)  # tests replace the cached function
    return broken_plugins() if cache_info is None or cache_info().currsize else []


def missing_connector_hint(default: str) -> str:
    """The hint for a connector that is not installed: ``default``, or, when installed plugins failed to
    load (one of them may be the connector's), what failed and how to fix it."""
    broken = broken_plugins()
    if not broken:
        return default
    return (f"{'; '.join(b.message() for b in broken)}: it may provide this connector; "
            f"{HINT_BROKEN.split(' (')[0]}")


def _load_entry_points(pm: MetricSpecPluginManager) -> None:
    """pluggy's loader. A plugin that fails to import, or whose hooks do not fit, is recorded in
    ``pm.broken`` and blocked, and the others are loaded without it: one broken package does not stop
    the commands and specs that never use it (issue 25). One pass over the installed distributions
    (each pass costs 20–30 ms in an environment of 170 packages) when nothing is broken; the entry
    points are read again only to find the one that failed."""
    entry_points = None
    for _ in range(100):  # a pass per broken plugin; bounded in case the environment keeps changing
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or str(exc.plugin)
            if pm.get_plugin(name) is not None:
                pm.unregister(name=name)
            pm.set_blocked(name)
            value = getattr(exc.plugin, "__name__", str(exc.plugin))
            pm.broken.append(BrokenPlugin(name, value, f"does not fit metricspec's hooks: {exc}"))
        except Exception as exc:
            if entry_points is None:
                entry_points = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
            failed = _first_failing(pm, entry_points)
            if failed is None:
                raise PluginError(f"loading the installed plugins failed: {type(exc).__name__}: {exc}",
                                  hint="reinstall or uninstall the metricspec plugin packages") from None
            pm.set_blocked(failed.name)
            pm.broken.append(failed)
    raise PluginError("loading the installed plugins did not settle", hint=HINT_BROKEN)


def _first_failing(pm: pluggy.PluginManager, entry_points: list[Any]) -> BrokenPlugin | None:
    for ep in entry_points:
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            ep.load()
        except Exception as failed:
            return BrokenPlugin(ep.name, ep.value, f"failed to load: {type(failed).__name__}: {failed}")
    return None


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The process's plugin manager, built on first use (entry points are read once)."""
    return make_plugin_manager()


_SCOPED: ContextVar[pluggy.PluginManager | None] = ContextVar("metricspec_plugin_manager", default=None)


@contextlib.contextmanager
def using_plugin_manager(pm: pluggy.PluginManager | None) -> Iterator[None]:
    """Within the block (this thread or task only), :func:`current_plugin_manager` is ``pm``; ``None``
    changes nothing. ``metricspec.load(..., plugin_manager=pm)`` and ``evaluate`` use it, so a test or an
    application chooses its connectors without touching the process's manager."""
    if pm is None:
        yield
        return
    token = _SCOPED.set(pm)
    try:
        yield
    finally:
        _SCOPED.reset(token)


def current_plugin_manager() -> pluggy.PluginManager:
    """The manager in use: that of the enclosing :func:`using_plugin_manager` block, else the process's."""
    scoped = _SCOPED.get()
    return scoped if scoped is not None else plugin_manager()


def scoped_plugin_manager() -> pluggy.PluginManager | None:
    """The manager of the enclosing :func:`using_plugin_manager` block, or None outside one."""
    return _SCOPED.get()


def reset_plugin_manager() -> None:
    """Forget the cached plugin manager: the next :func:`plugin_manager` call builds a new one
    (for tests that install, block or fake plugins)."""
    plugin_manager.cache_clear()
    html = sys.modules.get("metricspec.render.html")
    if html is not None:  # its cached Jinja environment holds the plugins' template paths
        html._default_environment.cache_clear()


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]
    connectors: tuple[str, ...]
    templates: tuple[str, ...]
    output_formats: tuple[str, ...]


def _call(plugin: object, hook: str) -> list[Any]:
    impl = getattr(plugin, hook, None)
    return list(impl() or []) if callable(impl) else []


def plugin_infos(pm: pluggy.PluginManager | None = None) -> list[PluginInfo]:
    """Every registered plugin with its distribution (from pluggy's ``list_plugin_distinfo``)."""
    pm = pm if pm is not None else current_plugin_manager()
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    infos: list[PluginInfo] = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        dist = dists.get(id(plugin))
        if dist is not None:
            distribution, version = str(dist.project_name), str(dist.version)
        elif name in BUILTIN_PLUGINS:
            distribution, version = "metricspec-cli (built in, registered by import)", __version__
        else:
            distribution, version = "(registered directly)", ""
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or []))
        infos.append(PluginInfo(
            name=name, distribution=distribution, version=version, hooks=hooks,
            connectors=tuple(sorted(c.name for c in _call(plugin, "metricspec_connectors"))),
            templates=tuple(str(t) for t in _call(plugin, "metricspec_template_paths")),
            output_formats=tuple(sorted(r.name for r in _call(plugin, "metricspec_output_renderers"))),
        ))
    return sorted(infos, key=lambda i: (i.distribution, i.name))
