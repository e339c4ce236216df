"""Errors and issues.

Library code raises :class:`MetricSpecError` subclasses; only the CLI (``metricspec/cli/``) turns them
into messages and exit codes (0 ok, 1 regression, 2 bad input).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A place in a spec file (1-based line and column)."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Issue:
    """One problem found in a spec or its data."""

    level: Level
    message: str
    where: Location | None = None
    hint: str | None = None
    code: str = "spec"

    def format(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        text = f"{prefix}{self.level.value}: {self.message}"
        if self.hint:
            text += f" — {self.hint}"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        w = self.where
        return (w.file if w else "", (w.line or 0) if w else 0, (w.column or 0) if w else 0, self.message)


class MetricSpecError(Exception):
    """Base class of every error metricspec reports to a user."""

    exit_code = 2

    def __init__(self, message: str, *, where: Location | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def issues(self) -> list[Issue]:
        return [Issue(Level.ERROR, self.message, self.where, self.hint)]

    def __str__(self) -> str:
        return "\n".join(i.format() for i in self.issues())


class SpecError(MetricSpecError):
    """A spec is invalid: carries every issue found, not just the first."""

    def __init__(self, issues: list[Issue]):
        self._issues = sorted(issues, key=Issue.sort_key)
        first = self._issues[0].message if self._issues else "invalid spec"
        super().__init__(first)

    def issues(self) -> list[Issue]:
        return list(self._issues)


class DataError(MetricSpecError):
    """A source cannot be read, or a column is missing or has an unusable type."""


class PluginError(MetricSpecError):
    """A plugin is missing or misbehaves."""


class UsageError(MetricSpecError):
    """Bad command-line usage that click cannot detect itself."""


@dataclass
class IssueCollector:
    """Accumulates issues so validation can report everything at once."""

    issues: list[Issue] = field(default_factory=list)

    def error(self, message: str, where: Location | None = None, hint: str | None = None) -> None:
        self.issues.append(Issue(Level.ERROR, message, where, hint))

    def warning(self, message: str, where: Location | None = None, hint: str | None = None) -> None:
        self.issues.append(Issue(Level.WARNING, message, where, hint))

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level is Level.ERROR]
