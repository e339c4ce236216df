"""The ``spark`` connector: a Spark table, SQL query or files, with the KPIs computed by Spark.

The source is returned as an ibis table of a PySpark session, so the SQL backend runs every KPI as
Spark SQL on the cluster (``master: spark://host:7077``), on a Spark Connect server
(``master: sc://host:15002``) or in a local Spark (``master: local[2]``); only the aggregates come back.

One session per master and configuration is created per process and reused by every source. Its SQL
session time zone is set to UTC (metricspec converts times to the spec's zone itself). Needs the
``spark`` extra (``pyspark``) and a Java runtime (Debian: ``default-jre-headless``).
"""

from __future__ import annotations

import glob as globlib
import importlib.util
import re
import shutil
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import unquote, urlparse

from pydantic import Field, field_validator, model_validator

from metricspec.connectors.base import Connector, ConnectorOptions, SourceContext
from metricspec.connectors.files import PATH_HINT, first_line
from metricspec.connectors.sandbox import READ_ONLY_HINT, strip_quoted
from metricspec.connectors.sql import _IDENT, _read_only
from metricspec.connectors.uris import expand_env
from metricspec.errors import MetricSpecError
from metricspec.streams import guarded_descriptor

_SESSIONS: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}

SANDBOX_SETTINGS = {"spark.sql.runSQLOnFiles": "false"}
"""Set on every session, after the spec's own: no ``text.`/etc/passwd``` (SQL straight on files)."""
_CONFIG_ALLOWED = re.compile(
    r"spark\.(executor\.(memory|memoryOverhead|cores|instances)|driver\.(memory|memoryOverhead|cores|maxResultSize)"
    r"|default\.parallelism|sql\.shuffle\.partitions|sql\.adaptive\.[A-Za-z.]+|sql\.ansi\.enabled"
    r"|sql\.autoBroadcastJoinThreshold|sql\.files\.maxPartitionBytes|sql\.execution\.arrow\.[A-Za-z.]+"
    r"|memory\.[A-Za-z.]+|dynamicAllocation\.[A-Za-z.]+|network\.timeout|ui\.enabled|ui\.showConsoleProgress"
    r"|sql\.extensions|sql\.catalog\.spark_catalog)")
"""Settings a spec may give: sizes and tuning, and Delta's catalog. The rest (jars, class paths, Java
options, plugins, file access, the warehouse, Hadoop) loads code or reaches files: put it in the
cluster's configuration, not in a spec a pull request can change."""
_FILE_QUERY = re.compile(r"\b(text|csv|json|parquet|orc|avro|delta|binaryfile|xml)\s*\.\s*`", re.IGNORECASE)
_CODE_FUNCTIONS = re.compile(r"\b(reflect|try_reflect|java_method|read_files)\s*\(", re.IGNORECASE)
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]+):")
REMOTE_SCHEMES = frozenset({"s3", "s3a", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs", "adl", "hdfs", "dbfs",
                            "oss", "viewfs"})
"""Storage outside this machine that ``path:`` may name; ``file:`` paths are confined like plain ones."""


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
                                   "{spark.executor.memory: 4g}: sizes and tuning only.")

    @field_validator("config")
    @classmethod
    def _tuning_only(cls, value: dict[str, str]) -> dict[str, str]:
        refused = sorted(k for k in value if not _CONFIG_ALLOWED.fullmatch(k))
        if refused:
            raise ValueError(f"{', '.join(refused)}: a spec may only give Spark sizes and tuning (memory, cores, "
                             "partitions, adaptive execution, Delta's catalog); settings that load code or reach "
                             "files belong in the cluster's configuration")
        return value

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
    from pyspark.sql import SparkSession  # optional and heavy: the spark extra

    builder = SparkSession.builder.remote(master) if master.startswith("sc://") else \
        SparkSession.builder.master(master).appName("metricspec")
    settings = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false", **config,
                **SANDBOX_SETTINGS}
    for k, v in settings.items():
        builder = builder.config(k, v)
    with guarded_descriptor(2), guarded_descriptor(1):  # the JVM's log lines are masked too
        session = builder.getOrCreate()
    for k, v in {"spark.sql.session.timeZone": "UTC", **SANDBOX_SETTINGS}.items():
        session.conf.set(k, v)  # also on a session that existed already
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
        what = self._checked(options, context)  # before Spark starts: refusals are quick
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
        import ibis  # optional and heavy: only for Spark sources

        con = ibis.pyspark.connect(session)
        try:
            return self._table(con, options, what)
        except Exception as exc:
            if isinstance(exc, MetricSpecError):
                raise
            raise context.error(f"Spark cannot read the source: {first_line(exc)}",
                                hint="check the table name, the SQL of `query:` or the path") from None

    @staticmethod
    def _checked(options: SparkOptions, context: SourceContext) -> str:
        """The table name, query or path Spark is to read, once it passed the sandbox's checks."""
        if options.table is not None:
            if not _IDENT.match(options.table):
                raise context.error(f"'{options.table}' is not a plain table name",
                                    hint="name a table or view of the catalog (db.table); read files with `path:`")
            return options.table
        if options.query is not None:
            return spark_read_only(context, options.query)
        assert options.path is not None
        return spark_path(context, options.path)

    @staticmethod
    def _table(con: Any, options: SparkOptions, what: str) -> Any:
        if options.table is not None:
            database, _, table = what.rpartition(".")
            return con.table(table, database=database or None)
        if options.query is not None:
            return con.sql(what)
        readers = {"parquet": con.read_parquet, "delta": con.read_delta, "csv": con.read_csv,
                   "json": con.read_json}
        return readers[options.format](what)


def spark_read_only(context: SourceContext, query: str) -> str:
    """``query`` if it only reads data Spark already has: SELECT statements only, no SQL straight on
    files (``text.`/etc/passwd```, also off in the session) and no functions that call Java."""
    _read_only(context, query)
    bare = strip_quoted(query, backticks=False)
    found = _FILE_QUERY.search(bare)
    if found:
        raise context.error(f"the query reads files directly ({found.group(0).strip()}…)",
                            hint="read files with `path:` (they must be inside the project root), or query tables")
    found = _CODE_FUNCTIONS.search(bare)
    if found:
        raise context.error(f"the query calls {found.group(1)}(), which runs Java code or reads files",
                            hint=READ_ONLY_HINT)
    return query


def spark_path(context: SourceContext, path: str) -> str:
    """What Spark reads for ``path:``: remote storage (s3a://, gs://, abfss://, hdfs://, dbfs:/ …) as it
    is; a local path or ``file:`` URL confined to the project root, each file it matches included."""
    m = _SCHEME.match(path)
    scheme = m.group("scheme").lower() if m else None
    if scheme in REMOTE_SCHEMES:
        return path
    if scheme not in (None, "file"):
        raise context.error(f"'{scheme}:' is not a storage Spark can read here",
                            hint=f"give a path inside the project, or one of {', '.join(sorted(REMOTE_SCHEMES))}")
    local = unquote(urlparse(path).path) if scheme == "file" else path
    resolved = context.resolve(local)
    matches = [Path(p) for p in globlib.glob(str(resolved), recursive=True)] if any(c in local for c in "*?[") \
        else ([resolved] if resolved.exists() else [])
    if not matches:
        raise context.error(f"file not found: {resolved}", hint=PATH_HINT)
    for match in matches:  # what a glob matches, and what a folder holds, may link outside
        for item in [match, *(match.rglob("*") if match.is_dir() else [])]:
            context.confine(item)
    return str(resolved)
