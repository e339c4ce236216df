"""``engine: duckdb`` on a file source: DuckDB reads the files and computes the KPIs.

For CSV, Parquet, NDJSON and JSON sources, the same connector options (path or glob, separator,
header, null values, ...) are handed to DuckDB's readers through ibis, and the source becomes a
database relation: every KPI on it runs as SQL in an in-process DuckDB, never loading the rows into
polars. Useful when files are larger than memory or when a team wants DuckDB's semantics; the
default (polars) is as fast on files that fit.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from metricspec.connectors.base import SourceContext
from metricspec.connectors.files import first_line, resolve_paths
from metricspec.connectors.sandbox import apply_duckdb_settings, duckdb_config, duckdb_settings

SUPPORTED = ("csv", "parquet", "ndjson", "json")


def duckdb_relation(connector: str, options: Any, context: SourceContext, text_columns: tuple[str, ...] = ()) -> Any:
    """An ibis table over the source's files, read by an in-process DuckDB.

    ``text_columns`` (the time column, columns declared date or datetime) are read from a CSV as text,
    so metricspec parses them with the checks every backend applies (sources/timeformats.py):
    DuckDB's own date detection would take a year written 0018 as the year 18.
    """
    if connector not in SUPPORTED:
        raise context.error(f"`engine: duckdb` reads {', '.join(SUPPORTED)} files, not the {connector} connector",
                            hint="remove `engine:` or read the data with the duckdb connector's `query:`")
    if importlib.util.find_spec("ibis") is None or importlib.util.find_spec("duckdb") is None:
        raise context.error("`engine: duckdb` needs DuckDB and ibis",
                            hint="pip install 'metricspec-cli[duckdb]'")
    import ibis  # optional and heavy: only for engine: duckdb

    found = resolve_paths(options.path, context, allow_dirs=connector == "parquet")  # inside the root
    paths = [str(p) for p in found]
    con = ibis.duckdb.connect(**duckdb_config())
    # DuckDB may read these files and nothing else (no environment, no other files, no extensions)
    allowed = sorted({str(p) for p in found} | {str(p.resolve()) for p in found}
                     | {str(f) for p in found if p.is_dir() for f in p.rglob("*")})
    apply_duckdb_settings(con.con, duckdb_settings(context.base_dir, allowed))
    try:
        if connector == "csv":
            kwargs: dict[str, Any] = {"delim": options.separator, "header": options.has_header,
                                      "skip": options.skip_rows}
            if options.null_values:
                kwargs["nullstr"] = list(options.null_values)
            if options.infer_schema_length is None:
                kwargs["sample_size"] = -1
            else:
                kwargs["sample_size"] = max(options.infer_schema_length, 1)
            encoding = options.encoding.lower().replace("_", "-")
            if encoding not in ("utf8", "utf-8"):
                kwargs["encoding"] = "latin-1" if encoding in ("latin1", "latin-1", "iso-8859-1") else encoding
            table = con.read_csv(paths, **kwargs)
            parsed = {c: "VARCHAR" for c in text_columns if c in table.columns and not table[c].type().is_string()}
            return con.read_csv(paths, **kwargs, types=parsed) if parsed else table
        if connector == "parquet":
            return con.read_parquet(paths)
        return con.read_json(paths, format="newline_delimited" if connector == "ndjson" else "array")
    except Exception as exc:
        raise context.error(f"DuckDB cannot read {paths[0]}: {first_line(exc)}",
                            hint="check the file and the connector options, or remove `engine: duckdb`") from None
