"""Build the plugin manager and look up connectors."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, cast

import pluggy

from metricspec import hookspecs
from metricspec.errors import PluginError

if TYPE_CHECKING:
    from metricspec.connectors.base import Connector

ENTRY_POINT_GROUP = "metricspec"
_DISTRIBUTIONS: dict[int, tuple[str, str]] = {}
"""Distribution name and version of each plugin loaded from an entry point (by plugin id)."""


def make_plugin_manager(*, load_entry_points: bool = True, plugins: tuple[object, ...] = ()) -> pluggy.PluginManager:
    """Create a plugin manager.

    Built-in connectors come in through the same ``metricspec`` entry-point group
    as third-party plugins. Tests can pass ``load_entry_points=False`` and register
    exactly the ``plugins`` they want.
    """
    pm = pluggy.PluginManager("metricspec")
    pm.add_hookspecs(hookspecs)
    if load_entry_points:
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name != "builtin_connectors", e.name)):
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken third-party plugin must not crash with a traceback
                raise PluginError(
                    f"plugin '{ep.name}' ({ep.value}) failed to load: {type(exc).__name__}: {exc}",
                    hint="reinstall or uninstall that plugin package",
                ) from None
            pm.register(plugin, name=ep.name)
            dist = getattr(ep, "dist", None)
            if dist is not None:
                _DISTRIBUTIONS[id(plugin)] = (dist.metadata["Name"], dist.version)
    for plugin in plugins:
        pm.register(plugin)
    return pm


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str
    version: str
    connectors: tuple[str, ...]
    templates: tuple[str, ...]


def connector_registry(pm: pluggy.PluginManager) -> dict[str, type[Connector]]:
    """Map connector name -> class; a name claimed twice is an error."""
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


def plugin_infos(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Describe every registered plugin with its distribution and version."""
    infos: list[PluginInfo] = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        dist = _DISTRIBUTIONS.get(id(plugin))
        connectors: list[str] = []
        templates: list[str] = []
        hook = getattr(plugin, "metricspec_connectors", None)
        if hook is not None:
            connectors = sorted(c.name for c in hook() or [])
        thook = getattr(plugin, "metricspec_template_paths", None)
        if thook is not None:
            templates = [str(t) for t in thook() or []]
        infos.append(
            PluginInfo(
                name=name,
                distribution=dist[0] if dist is not None else "(registered directly)",
                version=dist[1] if dist is not None else "",
                connectors=tuple(connectors),
                templates=tuple(templates),
            )
        )
    return sorted(infos, key=lambda i: (i.distribution, i.name))
