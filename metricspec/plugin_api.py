"""The supported surface for plugins: what a third-party plugin may import from metricspec.

Import from here only (``from metricspec.plugin_api import Connector, hookimpl``): these names are
kept stable across releases, while the modules they come from (``metricspec.connectors``,
``metricspec.hookspecs``, ...) are internal and may move. The bundled plugins under ``plugins/``
import nothing else from metricspec (``tests/test_plugin_api.py`` checks that, and that every name
below exists); docs/writing-plugins.md describes each name.

* Hooks: :data:`hookimpl` marks an implementation of a hook of :mod:`metricspec.hookspecs`
  (``metricspec_connectors``, ``metricspec_template_paths``, ``metricspec_output_renderers``,
  ``metricspec_notify``).
* Connectors: :class:`Connector` (subclass it), :class:`ConnectorOptions` (the base of its options
  model), :class:`SourceContext` (what ``scan`` gets: paths, errors, sampling), the file helpers
  :func:`scan_text_export` and :func:`resolve_paths`, and the database settings of
  :mod:`metricspec.connectors.sandbox` a connector that runs queries applies.
* Outputs and notifications: :class:`OutputRenderer`; the types the hooks pass, :class:`Results`,
  :class:`Finding`, :class:`CheckReport` and the :class:`GoalAlert` protocol.
* Errors: raise :class:`MetricSpecError` (or :class:`DataError`, usually from
  ``context.error(...)``; :class:`PluginError` for a plugin's own setup); :class:`Location` is where
  an error points in a spec.
* Tests: :func:`make_plugin_manager` builds a manager with chosen plugins and
  :func:`connector_registry` lists the connectors it provides.

Importing this module does not import polars: plugins are loaded for every command. ``Results``,
``CheckReport`` and ``connector_registry`` (which import much more) are imported when
first used; import the types under ``TYPE_CHECKING`` when they are only annotations.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from metricspec.connectors.files import resolve_paths, scan_text_export
from metricspec.connectors.sandbox import (
    apply_duckdb_settings,
    duckdb_allowed_paths,
    duckdb_config,
    duckdb_settings,
    select_only,
    sqlite_lockdown,
    sqlite_uri,
)
from metricspec.errors import DataError, Location, MetricSpecError, PluginError
from metricspec.hookspecs import hookimpl
from metricspec.hooktypes import (
    Connector,
    ConnectorOptions,
    Finding,
    GoalAlert,
    OutputRenderer,
    SourceContext,
)
from metricspec.plugins import make_plugin_manager

if TYPE_CHECKING:
    from metricspec.check.findings import CheckReport
    from metricspec.engine.results import Results
    from metricspec.sources.registry import connector_registry

_LAZY = {
    # name: module; these import polars, the check package or the sources package, so only when asked
    "CheckReport": "metricspec.check.findings",
    "Results": "metricspec.engine.results",
    "connector_registry": "metricspec.sources.registry",
}


def __getattr__(name: str) -> Any:
    """The types of :data:`_LAZY`, imported on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'metricspec.plugin_api' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "CheckReport",
    "Connector",
    "ConnectorOptions",
    "DataError",
    "Finding",
    "GoalAlert",
    "Location",
    "MetricSpecError",
    "OutputRenderer",
    "PluginError",
    "Results",
    "SourceContext",
    "apply_duckdb_settings",
    "connector_registry",
    "duckdb_allowed_paths",
    "duckdb_config",
    "duckdb_settings",
    "hookimpl",
    "make_plugin_manager",
    "resolve_paths",
    "scan_text_export",
    "select_only",
    "sqlite_lockdown",
    "sqlite_uri",
]
