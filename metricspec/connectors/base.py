"""The connector contract, shared by built-in and third-party connectors.

This module must not import polars at import time: commands that need no data
(``validate`` without ``--data``, ``schema``, ``plugins``) stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from metricspec.errors import DataError, Location
from metricspec.trust import record_read

if TYPE_CHECKING:
    import polars as pl


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
            from metricspec.trust import ROOT_HINT

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
