"""Each source names an installed connector, and its options fit that connector."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from metricspec.errors import Issue, Level, MetricSpecError
from metricspec.plugins import missing_connector_hint
from metricspec.sources.registry import connector_registry
from metricspec.spec.errormap import pydantic_issues
from metricspec.utils import suggest

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec


def validate(loaded: LoadedSpec) -> list[Issue]:
    if not loaded.spec.sources:
        return []
    try:
        registry = connector_registry()
    except MetricSpecError as exc:
        return exc.issues()
    issues: list[Issue] = []
    for name, source in loaded.spec.sources.items():
        base = ("sources", name)
        cls = registry.get(source.connector)
        if cls is None:
            guess = suggest(source.connector, list(registry))
            hint = f"did you mean '{guess}'?" if guess else missing_connector_hint(
                f"installed connectors: {', '.join(sorted(registry))}; a plugin may be missing")
            issues.append(Issue(Level.ERROR, f"unknown connector '{source.connector}'",
                                loaded.where(*base, "connector"), hint))
            continue
        try:
            cls.Options.model_validate(source.options)
        except ValidationError as exc:
            issues.extend(pydantic_issues(exc, source.options, loaded.positions, cls.Options,
                                          prefix=(*base, "options")))
    return issues
