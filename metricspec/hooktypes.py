"""The types metricspec's hooks (:mod:`metricspec.hookspecs`) pass to and get from plugins, below every
layer that uses them: the connector contract (:class:`Connector`, :class:`ConnectorOptions`,
:class:`SourceContext`), an output format (:class:`OutputRenderer`), and what ``metricspec_notify`` gets
(:class:`Finding`, and the :class:`CheckSummary` and :class:`GoalAlert` protocols that the check's
``CheckReport`` and ``PacingAlert`` satisfy).

Their homes above (``metricspec.connectors.base``, ``metricspec.check.findings``, ``metricspec.outputs``)
re-export them, and plugins import them from :mod:`metricspec.plugin_api`. This module must not import
polars at import time: commands that need no data (``validate`` without ``--data``, ``schema``,
``plugins``) stay fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from metricspec.errors import DataError, Location
from metricspec.trust import ROOT_HINT, record_read

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "CheckSummary",
    "Connector",
    "ConnectorOptions",
    "Finding",
    "GoalAlert",
    "OutputRenderer",
    "Severity",
    "SourceContext",
    "jsonable",
]

# -- connectors ---------------------------------------------------------------------------------------


class ConnectorOptions(BaseModel):
    """Base for connector option models: strict, so typos are caught."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)


@dataclass(frozen=True)
class SourceContext:
    """What a connector knows about the source it is reading."""

    source_name: str
    base_dir: Path
    where: Location | None = None
    root: Path | None = None
    """Project root every path must resolve inside (symlinks followed); None: anywhere."""
    sample_rows: int | None = None
    """When set, only a sample is wanted (``validate --data``): a connector that reads eagerly
    (a database query, a workbook) may stop after this many rows. Lazy scans ignore it."""

    def resolve(self, path: str) -> Path:
        """Resolve a path relative to the spec file's directory; refuse one outside :attr:`root`.
        The path is recorded as read (no output option of the command may overwrite it)."""
        p = Path(path).expanduser()
        resolved = self.confine(p if p.is_absolute() else self.base_dir / p)
        record_read(resolved)
        return resolved

    def confine(self, path: Path) -> Path:
        """``path`` if it lies inside :attr:`root` once symlinks are resolved, else a DataError."""
        if self.root is None:
            return path
        real = path.resolve()
        if real != self.root and self.root not in real.parents:
            raise self.error(f"{path} is outside the project root {self.root}", hint=ROOT_HINT)
        return path

    def error(self, message: str, hint: str | None = None) -> DataError:
        return DataError(f"source '{self.source_name}': {message}", where=self.where, hint=hint)


class Connector:
    """Base class for connectors.

    Subclasses set ``name`` and ``Options`` and implement :meth:`scan`.
    """

    name: ClassVar[str]
    Options: ClassVar[type[ConnectorOptions]] = ConnectorOptions
    description: ClassVar[str] = ""

    def scan(self, options: Any, context: SourceContext) -> pl.LazyFrame:
        raise NotImplementedError

    def column_types(self, options: Any, context: SourceContext, columns: list[str]) -> dict[str, str]:
        """Types of the columns :meth:`scan` returns (by the names it gives them), as a spec's
        ``columns:`` would declare them (``int``, ``float``, ``bool``, ``date``, ``datetime``, ...).

        A connector of text exports returns its columns as text and declares their types here, so
        metricspec converts them with the checks every source gets: a value that does not convert
        (``1,234`` for an int, a time in no known layout) stops the run naming the source, column,
        value and row, instead of becoming a silent null or a truncated number. The spec's own
        ``columns:`` win. ``columns`` are the names the scan returned. Default: none.
        """
        return {}

    def explain_error(self, options: Any, context: SourceContext, exc: BaseException) -> DataError | None:
        """Explain an error polars raised while reading this source (called only after a failure).

        Return a :class:`DataError` naming what is wrong and where (column, row, byte), or None
        to let metricspec report polars' own message. The default knows nothing more.
        """
        return None


# -- outputs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutputRenderer:
    """An output format: ``metricspec run SPECS --format NAME``.

    ``render`` turns the results of every spec of the run into the text printed (or written with
    ``-o``); ``description`` is shown by ``metricspec plugins``; ``extension`` is the usual file
    extension of the format (without a dot). ``render`` gets a list of
    :class:`~metricspec.engine.results.Results` (typed ``Any`` here: the engine sits above this module).
    """

    name: str
    render: Callable[[Sequence[Any]], str]
    description: str = ""
    extension: str = "txt"


# -- notifications ------------------------------------------------------------------------------------

Severity = Literal["failure", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """One thing the check noticed.

    ``severity`` is ``failure`` (CI goes red), ``warning`` (noise-level change, shown but
    passing unless ``--strict``) or ``info`` (acknowledged changes, new goals, ...).
    ``category`` is ``results`` (vs the baseline) or ``spec`` (vs a git ref).
    """

    severity: Severity
    rule: str
    category: Literal["results", "spec"]
    spec: str
    subject: str
    message: str
    old: Any = None
    new: Any = None
    where: Location | None = None
    goal: str | None = None  # "objective/goal" when the finding is about a goal
    acknowledged: str | None = None  # the reason, when an `acknowledged:` entry covers it
    unit: str | None = None  # how ``old`` and ``new`` read when they are KPI values (``percent``, ``currency``...)
    currency: str | None = None

    @property
    def title(self) -> str:
        return f"{self.spec}: {self.rule.replace('_', ' ')} — {self.subject}"

    def location_text(self) -> str:
        return str(self.where) if self.where else self.spec

    def to_dict(self) -> dict[str, Any]:
        w = self.where
        return {
            "severity": self.severity, "rule": self.rule, "category": self.category, "spec": self.spec,
            "subject": self.subject, "goal": self.goal, "message": self.message,
            "old": jsonable(self.old), "new": jsonable(self.new),
            "file": w.file if w else None, "line": w.line if w else None, "column": w.column if w else None,
            "acknowledged": self.acknowledged,
        }


def jsonable(value: Any) -> Any:
    """``value`` as JSON can hold it: non-finite floats become None, other objects their text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class GoalAlert(Protocol):
    """A goal falling behind, as ``metricspec_notify`` gets it (``metricspec.check.pacing.PacingAlert`` is
    one: declared here so that the plugin contract does not import the check layer above it)."""

    @property
    def person(self) -> str: ...  # the goal's responsible person
    @property
    def spec(self) -> str: ...
    @property
    def language(self) -> str: ...  # the spec's language, that of ``text``
    @property
    def route(self) -> str | None: ...  # the spec's ``notify.people`` entry for the person
    @property
    def goal(self) -> str: ...  # objective/goal
    @property
    def title(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def previous(self) -> str | None: ...  # the status in the baseline
    @property
    def chance(self) -> float | None: ...
    @property
    def threshold(self) -> float: ...
    @property
    def link(self) -> str | None: ...  # the goal's card
    @property
    def text(self) -> str: ...  # the alert in the spec's language


@runtime_checkable
class CheckSummary(Protocol):
    """The whole report of ``metricspec check`` as ``metricspec_notify`` gets it: a
    ``metricspec.check.findings.CheckReport`` (``metricspec.plugin_api.CheckReport``), which satisfies this
    protocol; declared here so that the plugin contract does not import the check layer above it."""

    @property
    def baseline(self) -> str | None: ...  # the baseline's name, if any
    @property
    def strict(self) -> bool: ...  # --strict: warnings fail too
    @property
    def findings(self) -> list[Finding]: ...  # every finding of every spec
    @property
    def failures(self) -> list[Finding]: ...  # those that fail the check
    @property
    def exit_code(self) -> int: ...
    def summary_line(self) -> str: ...  # ``REGRESSED: 2 spec(s), 5 goal(s); 1 failure(s), ...``
    def goal_summary(self) -> str: ...  # ``6 specs · 31 goals: 12 achieved, 9 on track, ...``
    def to_dict(self) -> dict[str, Any]: ...  # the report as ``check --format json`` writes it
