"""The built-in connectors, registered through the ``metricspec`` entry-point group.

``pyproject.toml`` declares ``builtin_connectors = "metricspec.connectors.builtin"``,
so the built-ins reach the plugin manager exactly like a third-party plugin does.
Importing this module does not import polars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.connectors.files import (
    CsvConnector,
    ExcelConnector,
    JsonConnector,
    NdjsonConnector,
    ParquetConnector,
)
from metricspec.connectors.spark import SparkConnector
from metricspec.connectors.sql import DuckDBConnector, SqlConnector, SqliteConnector
from metricspec.hookspecs import hookimpl

if TYPE_CHECKING:
    from metricspec.connectors.base import Connector

BUILTIN_CONNECTORS: tuple[type[Connector], ...] = (
    CsvConnector,
    ParquetConnector,
    NdjsonConnector,
    JsonConnector,
    ExcelConnector,
    SqliteConnector,
    SqlConnector,
    DuckDBConnector,
    SparkConnector,
)


@hookimpl
def metricspec_connectors() -> list[type[Connector]]:
    """The connectors that ship with metricspec."""
    return list(BUILTIN_CONNECTORS)
