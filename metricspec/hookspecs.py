"""Hook specifications: the contract between metricspec and its plugins.

Plugins register through the ``metricspec`` entry-point group, exactly like the
built-in connectors (see ``[project.entry-points.metricspec]`` in pyproject.toml).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from metricspec.connectors.base import Connector

hookspec = pluggy.HookspecMarker("metricspec")


@hookspec
def metricspec_connectors() -> list[type[Connector]]:  # type: ignore[empty-body]  # a specification
    """Return connector classes this plugin provides.

    Each class has a unique ``name`` (the value of ``connector:`` in a spec), an
    ``Options`` pydantic model validating the source's ``options:`` mapping, and a
    ``scan(options, context)`` method returning a ``polars.LazyFrame``.
    """


@hookspec
def metricspec_template_paths() -> list[str]:  # type: ignore[empty-body]  # a specification
    """Return directories of Jinja templates that add to or override the built-in ones.

    Directories returned by later-registered plugins win over earlier ones; all
    plugin directories win over the built-in templates.
    """
