"""The ``spark`` connector: a Spark table, SQL query or files, with the KPIs computed by Spark.

The source is returned as an ibis table of a PySpark session, so the SQL backend runs every KPI as
Spark SQL on the cluster (``master: spark://host:7077``), on a Spark Connect server
(``master: sc://host:15002``) or in a local Spark (``master: local[2]``); only the aggregates come back.

One session per master and configuration is created per process and reused by every source. Its SQL
session time zone is set to UTC (metricspec converts times to the spec's zone itself). Needs the
``spark`` extra (``pyspark``) and a Java runtime (Debian: ``default-jre-headless``).
"""

from __future__ import annotations

import importlib.util
import shutil
from typing import Any, Literal, Self

from pydantic import Field, model_validator

from metricspec.connectors.base import Connector, ConnectorOptions, SourceContext
from metricspec.connectors.files import PATH_HINT, first_line
from metricspec.connectors.sql import expand_env

_SESSIONS: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}


class SparkOptions(ConnectorOptions):
    """Options of the ``spark`` connector: exactly one of ``table``, ``query`` and ``path``."""

    table: str | None = Field(None, description="Table or view in the Spark catalog, e.g. analytics.events.")
    query: str | None = Field(None, description="Spark SQL query whose result is the source.")
    path: str | None = Field(None, description="Files to read (a file, a folder or a glob), relative to the spec.")
    format: Literal["parquet", "delta", "csv", "json"] = Field(
        "parquet", description="Format of `path`.")
    master: str = Field(
        "local[*]", description="Spark master: local[2], spark://host:7077, yarn, or a Spark Connect URL "
        "sc://host:15002. Environment variables such as ${SPARK_TOKEN} are expanded.")
    config: dict[str, str] = Field(default_factory=dict, description="Extra Spark settings, e.g. "
                                   "{spark.executor.memory: 4g}.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in ("table", "query", "path") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `table`, `query` and `path`")
        return self


def spark_session(master: str, config: dict[str, str]) -> Any:
    """The process's Spark session for ``master`` and ``config`` (created on first use)."""
    key = (master, tuple(sorted(config.items())))
    if key in _SESSIONS:
        return _SESSIONS[key]
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.remote(master) if master.startswith("sc://") else \
        SparkSession.builder.master(master).appName("metricspec")
    settings = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false", **config}
    for k, v in settings.items():
        builder = builder.config(k, v)
    session = builder.getOrCreate()
    session.conf.set("spark.sql.session.timeZone", "UTC")
    if not master.startswith("sc://"):
        session.sparkContext.setLogLevel("ERROR")
    _SESSIONS[key] = session
    return session


class SparkConnector(Connector):
    """A Spark table, query or files; the KPIs run in Spark."""

    name = "spark"
    Options = SparkOptions
    description = "Spark table, query or files (KPIs computed by Spark)"

    def scan(self, options: SparkOptions, context: SourceContext) -> Any:
        """Start (or reuse) the Spark session and return the source as an ibis table."""
        if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("ibis") is None:
            raise context.error("the spark connector needs PySpark and ibis",
                                hint="pip install 'metricspec-cli[spark]' (and a Java runtime for a local Spark)")
        master = expand_env(options.master, context)
        if not master.startswith("sc://") and shutil.which("java") is None:
            raise context.error("Spark needs a Java runtime and `java` is not on the PATH",
                                hint="install one (Debian/Ubuntu: apt-get install default-jre-headless) or set "
                                     "JAVA_HOME")
        try:
            session = spark_session(master, {k: expand_env(v, context) for k, v in options.config.items()})
        except Exception as exc:
            raise context.error(f"Spark could not start on master '{master}': {first_line(exc)}",
                                hint="check the master URL and that the cluster is reachable") from None
        import ibis

        con = ibis.pyspark.connect(session)
        try:
            return self._table(con, options, context)
        except Exception as exc:
            from metricspec.errors import MetricSpecError

            if isinstance(exc, MetricSpecError):
                raise
            raise context.error(f"Spark cannot read the source: {first_line(exc)}",
                                hint="check the table name, the SQL of `query:` or the path") from None

    @staticmethod
    def _table(con: Any, options: SparkOptions, context: SourceContext) -> Any:
        if options.table is not None:
            database, _, table = options.table.rpartition(".")
            return con.table(table, database=database or None)
        if options.query is not None:
            return con.sql(options.query)
        assert options.path is not None
        path = context.resolve(options.path)
        if not any(ch in options.path for ch in "*?[") and not path.exists() and "://" not in options.path:
            raise context.error(f"file not found: {path}", hint=PATH_HINT)
        target = options.path if "://" in options.path else str(path)
        readers = {"parquet": con.read_parquet, "delta": con.read_delta, "csv": con.read_csv,
                   "json": con.read_json}
        return readers[options.format](target)
