"""The connectors' registry: every connector the registered plugins provide, by name.

The built-in connectors are a plugin like any other (``metricspec.connectors.builtin``, entry point
``builtin_connectors``); a plugin package adds its own through the same hook
(``metricspec_connectors``, docs/writing-plugins.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from metricspec.errors import PluginError
from metricspec.plugins import current_plugin_manager

if TYPE_CHECKING:
    import pluggy

    from metricspec.connectors.base import Connector


def connector_registry(pm: pluggy.PluginManager | None = None) -> dict[str, type[Connector]]:
    """Map connector name -> class; a name claimed twice is an error."""
    pm = pm if pm is not None else current_plugin_manager()
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
