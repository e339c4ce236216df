"""The engine benchmark's data in other file formats, and hand-written polars reading each of them.

Imported by ``bench_engine.py`` as a sibling module. Every format holds the same rows as the
generated parquet files; the time columns are text in the text formats:

* ``csv-iso`` / ``ndjson-iso``: ``2025-09-03 09:44:36.358352`` (ISO 8601 without offset, UTC);
* ``csv-offset`` / ``ndjson-offset``: ``2025-09-03T11:44:36.358352+02:00`` (ISO 8601 with the
  Europe/Madrid offset, so offsets change twice a year);
* ``csv-dmy`` / ``ndjson-dmy``: ``03/09/2025 09:44`` (a spreadsheet export: day first, minutes;
  the specs declare ``timestamp_format``);
* ``sqlite``: one SQLite database, one table per source, times as ISO text.

metricspec reads them through its csv/ndjson/sqlite connectors (the ISO layouts found on a
sample, ``%d/%m/%Y %H:%M`` from ``timestamp_format``); the hand-written program reads them with
``scan_csv``/``scan_ndjson``/``read_database`` and ``str.to_datetime`` with the right format.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

FORMATS = ("parquet", "csv-iso", "csv-offset", "csv-dmy", "ndjson-iso", "ndjson-offset", "ndjson-dmy", "sqlite")
TABLES = ("posts", "interactions", "clicks", "followers")
TIME_COLUMNS = {"posts": "posted_at", "interactions": "occurred_at", "clicks": "clicked_at", "followers": "date"}
WRITE = {"iso": "%Y-%m-%d %H:%M:%S%.6f", "offset": "%Y-%m-%dT%H:%M:%S%.6f%:z", "dmy": "%d/%m/%Y %H:%M"}
PARSE = {"iso": "%Y-%m-%d %H:%M:%S%.f", "offset": "%Y-%m-%dT%H:%M:%S%.f%:z", "dmy": "%d/%m/%Y %H:%M"}
DATE_WRITE = {"iso": "%Y-%m-%d", "offset": "%Y-%m-%d", "dmy": "%d/%m/%Y"}
OFFSET_ZONE = "Europe/Madrid"
VERSION = 1


def layout(fmt: str) -> str:
    """'iso', 'offset' or 'dmy' for a text format (sqlite stores ISO text)."""
    return "iso" if fmt == "sqlite" else fmt.split("-", 1)[1]


def format_dir(d: Path, fmt: str) -> Path:
    return d if fmt == "parquet" else d / fmt


def spec_sources(fmt: str) -> str:
    """The ``sources:`` block of the benchmark spec for ``fmt``."""
    lines = ["sources:"]
    for table in TABLES:
        tcol = TIME_COLUMNS[table]
        if fmt == "parquet":
            lines.append(f"  {table}: {{connector: parquet, options: {{path: {table}.parquet}}, time_column: {tcol}}}")
            continue
        extra = ""
        if fmt == "sqlite":
            options = f"{{path: data.db, table: {table}}}"
            if table == "clicks":
                extra = ", columns: {is_bot: bool}"
        else:
            kind = fmt.split("-", 1)[0]
            options = f"{{path: {table}.{kind}}}"
        if layout(fmt) == "dmy":
            fmt_text = DATE_WRITE["dmy"] if table == "followers" else PARSE["dmy"]
            extra += f", timestamp_format: '{fmt_text}'"
        connector = "sqlite" if fmt == "sqlite" else fmt.split("-", 1)[0]
        lines.append(f"  {table}: {{connector: {connector}, options: {options}, time_column: {tcol}{extra}}}")
    return "\n".join(lines) + "\n"


def _as_text(frame: Any, table: str, style: str) -> Any:
    import polars as pl

    tcol = TIME_COLUMNS[table]
    if table == "followers":
        return frame.with_columns(pl.col(tcol).dt.to_string(DATE_WRITE[style]))
    col = pl.col(tcol)
    if style == "offset":
        col = col.dt.replace_time_zone("UTC").dt.convert_time_zone(OFFSET_ZONE)
    return frame.with_columns(col.dt.to_string(WRITE[style]).alias(tcol))


def ensure_format(d: Path, fmt: str) -> Path:
    """Write the tables of ``d`` (parquet) in ``fmt`` once; returns the format's directory."""
    import polars as pl

    out = format_dir(d, fmt)
    marker = out / f".written-v{VERSION}"
    if fmt == "parquet" or marker.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    style = layout(fmt)
    if fmt == "sqlite":
        db = out / "data.db"
        db.unlink(missing_ok=True)
        con = sqlite3.connect(db)
        for table in TABLES:
            frame = _as_text(pl.read_parquet(d / f"{table}.parquet"), table, style)
            cols = ", ".join(f'"{c}"' for c in frame.columns)
            con.execute(f"CREATE TABLE {table} ({cols})")
            marks = ", ".join("?" for _ in frame.columns)
            for chunk in frame.iter_slices(200_000):
                con.executemany(f"INSERT INTO {table} VALUES ({marks})", chunk.iter_rows())
            con.commit()
        con.close()
    else:
        kind = fmt.split("-", 1)[0]
        for table in TABLES:
            frame = _as_text(pl.read_parquet(d / f"{table}.parquet"), table, style)
            if kind == "csv":
                frame.write_csv(out / f"{table}.csv")
            else:
                frame.write_ndjson(out / f"{table}.ndjson")
    marker.write_text("ok\n")
    return out


def scan(d: Path, fmt: str, table: str) -> Any:
    """Hand-written polars reading ``table`` of ``fmt`` with its time column typed."""
    import polars as pl

    out = format_dir(d, fmt)
    if fmt == "parquet":
        return pl.scan_parquet(out / f"{table}.parquet")
    tcol = TIME_COLUMNS[table]
    if fmt == "sqlite":
        con = sqlite3.connect(out / "data.db")
        try:
            lf = pl.read_database(f"SELECT * FROM {table}", con, infer_schema_length=None).lazy()
        finally:
            con.close()
        if table == "clicks":
            lf = lf.with_columns(pl.col("is_bot").cast(pl.Boolean))
    elif fmt.startswith("csv"):
        lf = pl.scan_csv(out / f"{table}.csv")
    else:
        lf = pl.scan_ndjson(out / f"{table}.ndjson")
    style = layout(fmt)
    text = pl.col(tcol)
    if table == "followers":
        return lf.with_columns(text.str.to_date(DATE_WRITE[style]))
    return lf.with_columns(text.str.to_datetime(PARSE[style], time_unit="us"))
