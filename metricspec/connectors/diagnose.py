"""Explain read errors of text files after polars raised them: which byte, column and row.

polars reports a CSV value beyond its type-inference window as "could not parse `abc` as
dtype `i64` at column 'n'", a file that is not UTF-8 as "invalid utf-8 sequence", and an
NDJSON field that changes type as "cannot parse '1.5' (f64) as Int64" -- without a row,
and sometimes without a column. These functions read the file(s) again to find them; they
run only after a failure (see ``Connector.explain_error``).
"""

from __future__ import annotations

import codecs
import re
from typing import TYPE_CHECKING, Any

import polars as pl

from metricspec.errors import DataError

if TYPE_CHECKING:
    from pathlib import Path

    from metricspec.connectors.base import SourceContext
    from metricspec.connectors.files import CsvOptions

__all__ = ["explain_csv_error", "explain_ndjson_error", "first_invalid_utf8"]

_CSV_PARSE = re.compile(r"could not parse `(?P<value>.*?)` as dtype `(?P<dtype>[^`]+)` at column '(?P<column>[^']+)'",
                        re.DOTALL)
_DTYPES = {"i64": "Int64", "i32": "Int32", "f64": "Float64", "f32": "Float64", "bool": "Boolean"}
_NAMES = {"Int64": "int", "Int32": "int", "Float64": "float", "Boolean": "bool", "String": "str"}


def first_invalid_utf8(path: Path, chunk: int = 1 << 20) -> tuple[int, int, int] | None:
    """(byte offset, line, byte value) of the first byte of ``path`` that is not UTF-8, or None."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line = 0, 1
    with path.open("rb") as fh:
        while True:
            block = fh.read(chunk)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                bad = offset + exc.start if exc.start < len(block) else offset
                head = block[:max(exc.start, 0)]
                return bad, line + head.count(b"\n"), block[exc.start] if exc.start < len(block) else 0
            if not block:
                return None
            line += block.count(b"\n")
            offset += len(block)


def explain_csv_error(paths: list[Path], options: CsvOptions, context: SourceContext,
                      exc: BaseException) -> DataError | None:
    """A DataError for a CSV read error: the first non-UTF-8 byte, or the row of an unparsable value."""
    text = str(exc)
    if "utf-8" in text.lower() or "utf8" in text.lower():
        for path in paths:
            found = first_invalid_utf8(path)
            if found is not None:
                offset, line, byte = found
                return context.error(
                    f"{path} is not UTF-8 text: byte 0x{byte:02x} at line {line} (byte offset {offset})",
                    hint="set the csv connector's `encoding:` to the file's encoding, e.g. latin-1 or cp1252 "
                         "(or utf8-lossy to replace undecodable bytes)")
        return None
    m = _CSV_PARSE.search(text)
    if m is None:
        return None
    column, value, dtype = m.group("column"), m.group("value"), m.group("dtype")
    located = _locate_csv_value(paths, options, column, value, _DTYPES.get(dtype))
    where = f" at row {located[1]:,} of {located[0]}" if located else ""
    guessed = _NAMES.get(_DTYPES.get(dtype, ""), dtype)
    window = ("the whole file" if options.infer_schema_length is None
              else f"the first {options.infer_schema_length:,} rows")
    return context.error(
        f"column '{column}' holds {value!r}{where}, but its type was guessed as {guessed} from {window}",
        hint="set the csv connector's `infer_schema_length: null` to guess types from every row (then declare "
             "the column's type under `columns:`), list the value under `null_values:`, or fix the value")


def _locate_csv_value(paths: list[Path], options: CsvOptions, column: str, value: str,
                      dtype: str | None) -> tuple[Path, int] | None:
    """(file, 1-based data row) of the first value of ``column`` that is not of ``dtype`` (or equals ``value``)."""
    for path in paths:
        lf = pl.scan_csv(path, separator=options.separator, has_header=options.has_header,
                         null_values=list(options.null_values) or None, skip_rows=options.skip_rows,
                         infer_schema=False, encoding="utf8-lossy")
        if column not in lf.collect_schema().names():
            continue
        col = pl.col(column)
        bad = (col.is_not_null() & col.cast(getattr(pl, dtype), strict=False).is_null()) if dtype else col == value
        hit = lf.with_row_index("__row").filter(bad).select("__row").head(1).collect()
        if hit.height:
            return path, int(hit.item()) + 1
    return None


def explain_ndjson_error(paths: list[Path], infer_schema_length: int | None,
                         context: SourceContext) -> DataError | None:
    """A DataError for a field whose type changes after the lines polars inferred types from."""
    for path in paths:
        try:
            window = dict(pl.scan_ndjson(path, infer_schema_length=infer_schema_length).collect_schema())
            whole = pl.scan_ndjson(path, infer_schema_length=None)
            full = dict(whole.collect_schema())
        except Exception:
            continue
        for column, dtype in full.items():
            guessed = window.get(column)
            if guessed is None or guessed == dtype:
                continue
            found = _changed_value(whole, column, guessed, dtype)
            if found is None:
                continue
            line, value = found
            lines = "every line" if infer_schema_length is None else f"the first {infer_schema_length:,} lines"
            return context.error(
                f"column '{column}' of {path} changes type at line {line:,}: {value!r} is not "
                f"{_NAMES.get(str(guessed), str(guessed))}, the type guessed from {lines}",
                hint="set the ndjson connector's `infer_schema_length: null` to guess types from every line")
    return None


def _changed_value(lf: Any, column: str, guessed: Any, full: Any) -> tuple[int, Any] | None:
    col = pl.col(column)
    narrowed = col.cast(guessed, strict=False)
    differs = col.is_not_null() & (narrowed.is_null() | (narrowed.cast(full, strict=False) != col)).fill_null(True)
    hit = lf.with_row_index("__row").filter(differs).select("__row", column).head(1).collect()
    if hit.height == 0:
        return None
    return int(hit["__row"][0]) + 1, hit[column][0]
