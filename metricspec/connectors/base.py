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

if TYPE_CHECKING:
    import polars as pl


class ConnectorOptions(BaseModel):
    """Base for connector option models: strict, so typos are caught."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


@dataclass(frozen=True)
class SourceContext:
    """What a connector knows about the source it is reading."""

    source_name: str
    base_dir: Path
    where: Location | None = None

    def resolve(self, path: str) -> Path:
        """Resolve a path relative to the spec file's directory."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

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
