"""Hook specifications: the contract between metricspec and its plugins.

Plugins register through the ``metricspec`` entry-point group, exactly like the
built-in connectors and notifier (see ``[project.entry-points.metricspec]`` in pyproject.toml).
Every hook is typed and documented here, tested, and described in docs/writing-plugins.md
(``tests/test_hookspecs.py`` enforces that). The types the hooks name are defined in
:mod:`metricspec.hooktypes`, below this module (plugins import them from :mod:`metricspec.plugin_api`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pluggy

from metricspec.hooktypes import CheckSummary, Connector, Finding, GoalAlert, OutputRenderer

hookspec = pluggy.HookspecMarker("metricspec")
hookimpl = pluggy.HookimplMarker("metricspec")
"""Decorator for hook implementations (``metricspec.hookimpl`` for plugins)."""


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


@hookspec
def metricspec_output_renderers() -> list[OutputRenderer]:  # type: ignore[empty-body]  # a specification
    """Return output formats for ``metricspec run --format NAME`` (like datasette's
    ``register_output_renderer``).

    Each :class:`~metricspec.hooktypes.OutputRenderer` (``metricspec.plugin_api.OutputRenderer``) has a unique ``name`` (not one of the
    built-in formats ``table``, ``json``, ``csv``, ``markdown``) and a ``render`` function that
    takes the list of :class:`~metricspec.engine.results.Results` of the run and returns the text
    to print or to write with ``-o``. A ``render`` function raises
    :class:`~metricspec.errors.MetricSpecError` for results it cannot show.
    """


@hookspec
def metricspec_notify(findings: Sequence[Finding], report: CheckSummary, person: str | None,
                      alerts: Sequence[GoalAlert]) -> str | None:
    """Tell people what ``metricspec check --notify`` found: regressions, and goals falling behind.

    Called once for the team when the check fails, with ``person=None``, the failing ``findings``
    (the regressions), every pacing alert and the whole ``report``; and once per responsible person
    with pacing alerts (:mod:`metricspec.check.pacing`: a goal whose chance fell below its threshold
    or whose status got worse since the baseline), with ``person`` set, that person's ``alerts`` (each
    with its text in the spec's language, a link to the goal's card, and the person's route from the
    spec's ``notify.people``) and no findings. Implementations may take only the arguments they
    need; one that does not take ``person`` gets the team call only. Return a short description of
    where the notification went (``"webhook https://hooks.example.com/…"``; never a secret), or
    ``None`` when this notifier is not configured. Raise :class:`~metricspec.errors.MetricSpecError`
    when sending fails: ``check`` reports it as a warning and keeps its exit code (a failed
    notification is not a regression). Every implementation is called, even when another one fails.
    """
