"""Text files whose columns are separated by runs of spaces or tabs (``separator: whitespace``).

Exports "aligned for reading" pad their columns with spaces, so one space is not one field
separator. Each line is split on runs of blanks (double quotes group a field that holds
blanks, as in CSV) and the rows are handed to polars' CSV reader, which infers the types
as for any CSV file. A line with more fields than the header is an error naming the line.
The split runs in Python (the csv module): about a million rows a minute; see
docs/performance.md.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from metricspec.connectors.base import SourceContext

__all__ = ["whitespace_to_csv"]


def whitespace_to_csv(path: Path, encoding: str, skip_rows: int, context: SourceContext) -> bytes:
    """The file as comma-separated UTF-8 bytes (raises DataError for a line with too many fields).

    ``encoding`` is a Python codec; ``utf8-lossy`` replaces undecodable bytes.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    width: int | None = None
    lossy = encoding.lower().replace("_", "-") in ("utf8-lossy", "utf-8-lossy")
    with path.open(encoding="utf-8" if lossy else encoding, errors="replace" if lossy else "strict",
                   newline="") as fh:
        for number, line in enumerate(fh, start=1):
            if number <= skip_rows:
                continue
            text = line.replace("\t", " ").strip()
            if not text:
                continue
            fields = next(csv.reader([text], delimiter=" ", skipinitialspace=True))
            if width is None:
                width = len(fields)
            elif len(fields) > width:
                raise context.error(
                    f"{path}: line {number} has {len(fields)} fields, the first row has {width}",
                    hint="quote values that contain spaces (\"New York\"), or fix the line",
                )
            writer.writerow(fields)
    return out.getvalue().encode("utf-8")
