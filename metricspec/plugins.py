"""Build the plugin manager (once per process) and look up connectors.

Plugins come in through the ``metricspec`` entry-point group, loaded by pluggy's own
``load_setuptools_entrypoints`` (so ``list_plugin_distinfo`` knows each one's distribution).
The built-in plugins are also registered by import when their entry point is missing (a source
checkout on ``PYTHONPATH``, stale install metadata): metricspec works without its own metadata.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any, cast

import pluggy

from metricspec import hookspecs
from metricspec.errors import PluginError

if TYPE_CHECKING:
    from metricspec.connectors.base import Connector

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
    """
    pm = pluggy.PluginManager("metricspec")
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


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    """pluggy's loader; a plugin that fails to import is a :class:`PluginError` naming it, not a
    traceback. One pass over the installed distributions (each pass costs 20–30 ms in an environment
    of 170 packages); only when a plugin fails are the group's entry points read again, to name it."""
    try:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin '{exc.plugin}' does not fit metricspec's hooks: {exc}",
                          hint="upgrade or uninstall that plugin package") from None
    except Exception as exc:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            try:
                ep.load()
            except Exception as failed:
                raise PluginError(
                    f"plugin '{ep.name}' ({ep.value}) failed to load: {type(failed).__name__}: {failed}",
                    hint="reinstall or uninstall that plugin package",
                ) from None
        raise PluginError(f"loading the installed plugins failed: {type(exc).__name__}: {exc}",
                          hint="reinstall or uninstall the metricspec plugin packages") from None


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The process's plugin manager, built on first use (entry points are read once)."""
    return make_plugin_manager()


def reset_plugin_manager() -> None:
    """Forget the cached plugin manager: the next :func:`plugin_manager` call builds a new one
    (for tests that install, block or fake plugins)."""
    import sys

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


def connector_registry(pm: pluggy.PluginManager | None = None) -> dict[str, type[Connector]]:
    """Map connector name -> class; a name claimed twice is an error."""
    pm = pm if pm is not None else plugin_manager()
    registry: dict[str, type[Connector]] = {}
    for impl in pm.hook.metricspec_connectors.get_hookimpls():
        provided = cast("list[type[Connector]] | None", impl.function())
        for cls in provided or []:
            name = cls.name
            if name in registry and registry[name] is not cls:
                raise PluginError(
                    f"connector '{name}' is provided twice ({registry[name].__module__} and {cls.__module__})",
                    hint="uninstall one of the two plugins",
                )
            registry[name] = cls
    return registry


def _call(plugin: object, hook: str) -> list[Any]:
    impl = getattr(plugin, hook, None)
    return list(impl() or []) if callable(impl) else []


def plugin_infos(pm: pluggy.PluginManager | None = None) -> list[PluginInfo]:
    """Every registered plugin with its distribution (from pluggy's ``list_plugin_distinfo``)."""
    from metricspec import __version__

    pm = pm if pm is not None else plugin_manager()
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
