"""File connectors: ``csv``, ``parquet``, ``ndjson``, ``json`` and ``excel``.

Paths are resolved relative to the spec file's directory and may be glob patterns
(``data/exports/*.csv``, ``data/events/**/*.parquet``). Every problem a user can
cause (a missing file, a glob matching nothing, an unreadable file) is reported
as a :class:`~metricspec.errors.DataError` naming the source and the resolved path.

polars is imported inside functions only, so importing this module is cheap.
"""

from __future__ import annotations

import csv
import glob as globlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from metricspec.connectors.base import Connector, ConnectorOptions, SourceContext
from metricspec.connectors.whitespace import whitespace_to_csv
from metricspec.errors import DataError

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "CsvConnector",
    "CsvOptions",
    "ExcelConnector",
    "ExcelOptions",
    "JsonConnector",
    "JsonOptions",
    "NdjsonConnector",
    "NdjsonOptions",
    "ParquetConnector",
    "ParquetOptions",
    "first_line",
    "has_glob",
    "resolve_paths",
]

PATH_HINT = "check the path: relative paths are resolved against the spec file's directory"
_GLOB_CHARS = frozenset("*?[")


def has_glob(path: str) -> bool:
    """Whether ``path`` contains glob wildcards (``*``, ``?`` or ``[``)."""
    return any(ch in _GLOB_CHARS for ch in path)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (polars errors carry long tails)."""
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def scan_text_export(path: str, context: SourceContext, *, required: list[str], what: str,
                     read_hint: str | None = None, missing_hint: str | None = None) -> tuple[pl.LazyFrame, list[str]]:
    """Read a platform's CSV export with every column as text, checking it looks like ``what``.

    For connectors of exports (X analytics, URL shorteners…): they rename the columns and declare
    their types (``Connector.column_types``), which metricspec converts with its checked casts. Every
    line is read whole, so a line with more fields than the header (a shifted row) is an error, not
    silently cut (a lazy scan reading a few columns would not see it); exports are small.
    Returns the lazy frame and its header names.
    """
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    paths = resolve_paths(path, context)
    try:
        frame = pl.concat([pl.read_csv(p, infer_schema=False, encoding="utf8-lossy") for p in paths],
                          how="diagonal")
    except Exception as exc:
        ragged = next((found for p in paths if (found := _ragged_line(p)) is not None), None)
        if ragged is not None:
            where, line, fields, expected = ragged
            raise context.error(f"line {line} of {where} has {fields} fields, but the header has {expected}",
                                hint="a value holding the separator must be quoted; export the data again") from None
        raise context.error(f"cannot read {paths[0]} as a CSV export: {first_line(exc)}", hint=read_hint) from None
    lf, headers = frame.lazy(), frame.columns
    missing = [h for h in required if h not in headers]
    if missing:
        raise context.error(
            f"{paths[0]} does not look like {what}: no column " + ", ".join(f"'{m}'" for m in missing),
            hint=missing_hint,
        )
    return lf, headers


def _ragged_line(path: Path) -> tuple[Path, int, int, int] | None:
    """(file, line, fields, header fields) of the first line of a CSV file whose number of fields is not
    the header's (after a read failed)."""

    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        rows = csv.reader(fh)
        header = next(rows, [])
        for row in rows:
            if row and len(row) != len(header):
                return path, rows.line_num, len(row), len(header)
    return None


def resolve_paths(path: str, context: SourceContext, *, allow_dirs: bool = False) -> list[Path]:
    """Resolve ``path`` (a file, a glob, or with ``allow_dirs`` a directory) to existing paths.

    Raises a ``DataError`` naming the resolved path when nothing exists there.
    Glob results are sorted so multi-file sources read in a stable order.
    """
    resolved = context.resolve(path)
    if has_glob(path):
        matches = sorted(Path(p) for p in globlib.glob(str(resolved), recursive=True))
        files = [context.confine(p) for p in matches if p.is_file() or (allow_dirs and p.is_dir())]
        if not files:
            raise context.error(f"no file matches the pattern {resolved}", hint=PATH_HINT)
        return files
    if not resolved.exists():
        raise context.error(f"file not found: {resolved}", hint=PATH_HINT)
    if resolved.is_dir() and not allow_dirs:
        raise context.error(f"{resolved} is a directory, not a file",
                            hint="point `path:` at a file, or use a glob such as dir/*.csv")
    return [resolved]


def _check_schema(lf: pl.LazyFrame, context: SourceContext, what: str, paths: list[Path]) -> pl.LazyFrame:
    """Read the schema now so that unreadable files fail with a DataError, not at collect time."""
    try:
        lf.collect_schema()
    except Exception as exc:  # polars raises ComputeError, SchemaError, OSError, ... for bad files
        raise context.error(f"cannot read {_describe(paths)} as {what}: {first_line(exc)}",
                            hint=f"check that the file is valid {what} and the connector options match it") from None
    return lf


def _describe(paths: list[Path]) -> str:
    if len(paths) == 1:
        return str(paths[0])
    return f"{len(paths)} files ({paths[0]}, ...)"


# ---------------------------------------------------------------------------- csv

WHITESPACE = "whitespace"


class CsvOptions(ConnectorOptions):
    """Options of the ``csv`` connector."""

    path: str = Field(description="CSV file, relative to the spec; glob patterns read several files.")
    separator: str = Field(
        ",", min_length=1,
        description="Field separator: one character, or `whitespace` for columns aligned with runs of spaces/tabs.",
    )
    encoding: str = Field("utf8", description="Text encoding: utf8 (fast path), utf8-lossy, or any Python codec.")
    has_header: bool = Field(True, description="Whether the first row holds column names.")
    null_values: list[str] = Field(default_factory=list, description="Strings read as missing values.")
    skip_rows: int = Field(0, ge=0, description="Lines to skip before the header.")
    infer_schema_length: int | None = Field(
        10000, ge=0, description="Rows used to infer column types; null reads the whole file."
    )

    @field_validator("separator")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1 and value != WHITESPACE:
            raise ValueError(f"the separator must be one character (e.g. ';' or '\\t'), or '{WHITESPACE}' for "
                             "columns separated by runs of spaces")
        if value == " ":
            raise ValueError(f"a single space splits aligned columns into empty fields; use '{WHITESPACE}' for "
                             "columns separated by runs of spaces")
        return value


class CsvConnector(Connector):
    """Comma-separated (or other delimiter) text files, read lazily with ``polars.scan_csv``."""

    name = "csv"
    Options = CsvOptions
    description = "CSV files (globs allowed)"

    def scan(self, options: CsvOptions, context: SourceContext) -> pl.LazyFrame:
        """Scan the file(s); other encodings than UTF-8, and whitespace-separated files, are read eagerly."""
        import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

        paths = resolve_paths(options.path, context)
        encoding = options.encoding.lower().replace("_", "-")
        if options.separator != WHITESPACE and encoding in ("utf8", "utf-8", "utf8-lossy", "utf-8-lossy"):
            lf = pl.scan_csv(
                [str(p) for p in paths],
                separator=options.separator,
                has_header=options.has_header,
                null_values=list(options.null_values) or None,
                skip_rows=options.skip_rows,
                infer_schema_length=options.infer_schema_length,
                encoding="utf8-lossy" if "lossy" in encoding else "utf8",
            )
            return _check_schema(lf, context, "CSV", paths)
        frames = [_read_csv_eagerly(p, options, context) for p in paths]
        return pl.concat(frames, how="diagonal_relaxed").lazy()

    def explain_error(self, options: CsvOptions, context: SourceContext, exc: BaseException) -> DataError | None:
        """Name the byte that is not UTF-8, or the row of a value beyond the type-inference window."""
        from metricspec.connectors.diagnose import explain_csv_error  # diagnose.py loads polars

        return explain_csv_error(resolve_paths(options.path, context), options, context, exc)


def _read_csv_eagerly(path: Path, options: CsvOptions, context: SourceContext) -> pl.DataFrame:
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    try:
        if options.separator == WHITESPACE:
            data: Path | bytes = whitespace_to_csv(path, options.encoding, options.skip_rows, context)
            separator, skip, encoding = ",", 0, "utf8"
        else:
            data, separator, skip, encoding = path, options.separator, options.skip_rows, options.encoding
        return pl.read_csv(data, separator=separator, has_header=options.has_header,
                           null_values=list(options.null_values) or None, skip_rows=skip,
                           infer_schema_length=options.infer_schema_length, encoding=encoding)
    except LookupError:
        raise context.error(f"unknown text encoding '{options.encoding}'",
                            hint="use a Python codec name such as utf8, latin-1 or cp1252") from None
    except UnicodeDecodeError as exc:
        raise context.error(f"{path} is not {options.encoding} text: {exc.reason} at byte {exc.start}",
                            hint="set the connector's `encoding:` to the file's encoding") from None
    except DataError:
        raise
    except Exception as exc:
        raise context.error(f"cannot read {path} as CSV: {first_line(exc)}",
                            hint="check the encoding, separator and header options") from None


# ---------------------------------------------------------------------------- parquet


class ParquetOptions(ConnectorOptions):
    """Options of the ``parquet`` connector."""

    path: str = Field(description="Parquet file, directory or glob (e.g. data/events/**/*.parquet).")
    hive_partitioning: bool | None = Field(
        None, description="Read key=value directories as columns; null detects them automatically."
    )


class ParquetConnector(Connector):
    """Apache Parquet files (optionally hive-partitioned), read lazily with ``polars.scan_parquet``."""

    name = "parquet"
    Options = ParquetOptions
    description = "Parquet files, directories or globs (hive partitions supported)"

    def scan(self, options: ParquetOptions, context: SourceContext) -> pl.LazyFrame:
        """Scan the dataset; the pattern is handed to polars so hive keys are found."""
        import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

        paths = resolve_paths(options.path, context, allow_dirs=True)
        resolved = context.resolve(options.path)
        hive = options.hive_partitioning
        if not has_glob(options.path) and resolved.is_dir():
            files = [context.confine(f) for f in resolved.rglob("*.parquet")]
            if not files:
                raise context.error(f"no .parquet file under the directory {resolved}", hint=PATH_HINT)
        else:
            files = paths
        if hive is None:
            # key=value directories below the fixed part of the path are hive partitions
            base = _fixed_prefix(resolved)
            hive = any(_HIVE_PART.match(part) for f in files for part in _relative_parts(f, base)[:-1])
        lf = pl.scan_parquet(str(resolved), hive_partitioning=hive)
        return _check_schema(lf, context, "Parquet", paths)


_HIVE_PART = re.compile(r"^[^=]+=[^=]*$")


def _fixed_prefix(path: Path) -> Path:
    """The leading part of ``path`` without glob characters."""
    parts: list[str] = []
    for part in path.parts:
        if has_glob(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path()


def _relative_parts(path: Path, base: Path) -> tuple[str, ...]:
    try:
        return path.relative_to(base).parts
    except ValueError:
        return path.parts


# ---------------------------------------------------------------------------- ndjson / json


class NdjsonOptions(ConnectorOptions):
    """Options of the ``ndjson`` connector."""

    path: str = Field(description="Newline-delimited JSON file (one object per line); globs allowed.")
    infer_schema_length: int | None = Field(10000, ge=1, description="Lines used to infer column types.")


class NdjsonConnector(Connector):
    """Newline-delimited JSON (JSON Lines), read lazily with ``polars.scan_ndjson``."""

    name = "ndjson"
    Options = NdjsonOptions
    description = "Newline-delimited JSON (JSON Lines)"

    def scan(self, options: NdjsonOptions, context: SourceContext) -> pl.LazyFrame:
        """Scan the file(s)."""
        import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

        paths = resolve_paths(options.path, context)
        lf = pl.scan_ndjson([str(p) for p in paths], infer_schema_length=options.infer_schema_length)
        return _check_schema(lf, context, "NDJSON", paths)

    def explain_error(self, options: NdjsonOptions, context: SourceContext, exc: BaseException) -> DataError | None:
        """Name the column and line where a value changes type after the inference window."""
        from metricspec.connectors.diagnose import explain_ndjson_error  # diagnose.py loads polars

        return explain_ndjson_error(resolve_paths(options.path, context), options.infer_schema_length, context)


class JsonOptions(ConnectorOptions):
    """Options of the ``json`` connector."""

    path: str = Field(description="JSON file holding an array of records; globs allowed.")


class JsonConnector(Connector):
    """A JSON array of records (``[{...}, {...}]``), read with ``polars.read_json``."""

    name = "json"
    Options = JsonOptions
    description = "JSON array of records"

    def scan(self, options: JsonOptions, context: SourceContext) -> pl.LazyFrame:
        """Read every file eagerly (JSON cannot be streamed) and return a LazyFrame."""
        import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

        frames = []
        for p in resolve_paths(options.path, context):
            if _first_char(p) not in ("[", ""):
                raise context.error(f"{p} is not a JSON array of records",
                                    hint="the file must hold [{...}, {...}]; use the ndjson connector for one "
                                         "object per line")
            try:
                # types from every record: a window would turn a later 1.5 in an integer column into 1
                frame = pl.read_json(p, infer_schema_length=None)
            except Exception as exc:
                raise context.error(f"cannot read {p} as a JSON array of records: {first_line(exc)}",
                                    hint="the file must hold [{...}, {...}]; use the ndjson connector for one "
                                         "object per line") from None
            frames.append(frame)
        return pl.concat(frames, how="diagonal_relaxed").lazy()


def _first_char(path: Path) -> str:
    """The first non-blank character of a text file ('' when empty or unreadable as text)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096).decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    except OSError:
        return ""
    return head[:1]


# ---------------------------------------------------------------------------- excel


class ExcelOptions(ConnectorOptions):
    """Options of the ``excel`` connector."""

    path: str = Field(description="Workbook (.xlsx, .xlsm, .xls, .ods); globs read several workbooks.")
    sheet: str | int | None = Field(
        None, description="Sheet name, or 1-based sheet number; default the first sheet."
    )
    engine: Literal["calamine", "openpyxl"] = Field("calamine", description="Reader engine.")
    has_header: bool = Field(True, description="Whether the first row holds column names.")

    @field_validator("sheet")
    @classmethod
    def _positive_sheet(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, int) and value < 1:
            raise ValueError("sheet numbers start at 1")
        return value


_EXCEL_EXTRA = {"calamine": "fastexcel", "openpyxl": "openpyxl"}


class ExcelConnector(Connector):
    """Excel and OpenDocument workbooks, read with ``polars.read_excel``."""

    name = "excel"
    Options = ExcelOptions
    description = "Excel/ODS workbooks (one sheet)"

    def scan(self, options: ExcelOptions, context: SourceContext) -> pl.LazyFrame:
        """Read one sheet of each workbook eagerly and return a LazyFrame."""
        import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

        frames = [self._read(p, options, context) for p in resolve_paths(options.path, context)]
        return pl.concat(frames, how="diagonal_relaxed").lazy()

    def _read(self, path: Path, options: ExcelOptions, context: SourceContext) -> pl.DataFrame:
        import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

        # types from every row (a sampled window turns later text in a number column into nulls)
        kwargs: dict[str, object] = {"infer_schema_length": None}
        if context.sample_rows is not None:
            kwargs["read_options"] = {"n_rows": context.sample_rows}
        if isinstance(options.sheet, int):
            kwargs["sheet_id"] = options.sheet
        elif isinstance(options.sheet, str):
            kwargs["sheet_name"] = options.sheet
        else:
            kwargs["sheet_id"] = 1
        try:
            frame = pl.read_excel(path, engine=options.engine, has_header=options.has_header, **kwargs)  # type: ignore[call-overload]
        except ImportError:
            raise context.error(
                f"reading Excel with the {options.engine} engine needs the '{_EXCEL_EXTRA[options.engine]}' package",
                hint="pip install 'metricspec-cli[excel]'",
            ) from None
        except Exception as exc:
            sheets = _sheet_names(path)
            if sheets is not None and not _sheet_exists(options.sheet, sheets):
                raise context.error(
                    f"workbook {path} has no sheet {options.sheet!r}",
                    hint="its sheets are: " + ", ".join(repr(s) for s in sheets),
                ) from None
            raise context.error(f"cannot read {path} as an Excel workbook: {first_line(exc)}",
                                hint="check that the file is a valid .xlsx/.xls/.ods workbook") from None
        assert isinstance(frame, pl.DataFrame)
        return frame


def _sheet_exists(sheet: str | int | None, sheets: list[str]) -> bool:
    if sheet is None:
        return bool(sheets)
    if isinstance(sheet, int):
        return 1 <= sheet <= len(sheets)
    return sheet in sheets


def _sheet_names(path: Path) -> list[str] | None:
    """Sheet names of a workbook, or None when it cannot be opened at all."""
    try:
        import fastexcel  # optional: the excel extra

        return list(fastexcel.read_excel(str(path)).sheet_names)
    except Exception:
        pass
    try:
        import openpyxl  # type: ignore[import-untyped,unused-ignore]  # optional (when fastexcel fails)

        wb = openpyxl.load_workbook(path, read_only=True)
        try:
            return list(wb.sheetnames)
        finally:
            wb.close()
    except Exception:
        return None
