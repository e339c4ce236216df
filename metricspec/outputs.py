"""Output formats of ``metricspec run``: the built-in ones and those plugins add.

Plugins return :class:`OutputRenderer` objects (defined in :mod:`metricspec.hooktypes`, re-exported here)
from the ``metricspec_output_renderers`` hook;
:func:`output_renderers` collects them (a name claimed twice, or a built-in name, is an error).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from metricspec.errors import PluginError, UsageError
from metricspec.hooktypes import OutputRenderer as OutputRenderer
from metricspec.plugins import current_plugin_manager
from metricspec.utils import suggest

if TYPE_CHECKING:
    import pluggy

    from metricspec.engine.results import Results

BUILTIN_FORMATS = ("table", "json", "csv", "markdown")


def output_renderers(pm: pluggy.PluginManager | None = None) -> dict[str, OutputRenderer]:
    """The output formats plugins provide, by name."""
    if pm is None:
        pm = current_plugin_manager()
    found: dict[str, tuple[OutputRenderer, str]] = {}
    for impl in pm.hook.metricspec_output_renderers.get_hookimpls():
        for renderer in cast("list[OutputRenderer] | None", impl.function()) or []:
            if not isinstance(renderer, OutputRenderer):
                raise PluginError(f"plugin '{impl.plugin_name}' returned {type(renderer).__name__} from "
                                  "metricspec_output_renderers", hint="return metricspec.outputs.OutputRenderer objects")
            if renderer.name in BUILTIN_FORMATS:
                raise PluginError(f"plugin '{impl.plugin_name}' provides the output format '{renderer.name}', "
                                  "which is built in", hint="give the format another name")
            if renderer.name in found:
                raise PluginError(f"output format '{renderer.name}' is provided twice (plugins "
                                  f"'{found[renderer.name][1]}' and '{impl.plugin_name}')",
                                  hint="uninstall one of the two plugins")
            found[renderer.name] = (renderer, impl.plugin_name)
    return {name: r for name, (r, _) in sorted(found.items())}


def find_renderer(name: str, pm: pluggy.PluginManager | None = None) -> OutputRenderer:
    """The plugin renderer called ``name``; a :class:`UsageError` listing every format otherwise."""
    renderers = output_renderers(pm)
    if name in renderers:
        return renderers[name]
    names = [*BUILTIN_FORMATS, *renderers]
    guess = suggest(name, names)
    raise UsageError(f"--format '{name}' is not an output format",
                     hint=(f"did you mean '{guess}'? " if guess else "") + f"formats: {', '.join(names)}")


def render_with_plugin(name: str, results: Sequence[Results], pm: pluggy.PluginManager | None = None) -> str:
    """The text of ``results`` in the plugin format ``name``."""
    renderer = find_renderer(name, pm)
    text = renderer.render(list(results))
    if not isinstance(text, str):
        raise PluginError(f"output format '{name}' returned {type(text).__name__}, not text",
                          hint="its render function must return a str")
    return text
