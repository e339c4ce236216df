"""``validate --data``: every source opens and has the columns the spec reads, with usable types.

It reads each source through the same code as ``run`` (the same connector call, the same
casts, the same columns), but only a bounded sample of rows: lazy file scans stop after
:data:`SAMPLE_ROWS` rows, databases and workbooks are asked for that many rows at most.
A source smaller than the sample is read exactly as ``run`` reads it, so on such data the
two cannot disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, MetricSpecError
from metricspec.spec.source import CALENDAR

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec

SAMPLE_ROWS = 1000


def check_data(loaded: LoadedSpec) -> list[Issue]:
    """Open every declared source and read a sample, so bad values in typed columns show up too."""
    from metricspec.sources.dataerrors import LenientRetry  # start-up: polars, only with --data

    try:
        return _check(loaded, lenient=False)
    except LenientRetry:  # a value needs the lenient casts (see prepare_source): as run does
        return _check(loaded, lenient=True)


def _check(loaded: LoadedSpec, *, lenient: bool) -> list[Issue]:
    from metricspec.engine.run import check_sources  # start-up: polars, only with --data
    from metricspec.sources.dataerrors import collect_all_checked  # start-up: polars

    names = list(loaded.spec.sources) + ([CALENDAR] if loaded.spec.calendar else [])
    opened = check_sources(loaded, names, sample_rows=SAMPLE_ROWS, lenient=lenient)
    issues = list(opened.issues)
    for name, lf in opened.frames.items():
        cols = opened.columns_read(loaded, name) or list(opened.schemas[name])
        # a database source has no polars preparation: its frame reads a sample of the prepared table
        sources = {name: opened.prepared[name]} if name in opened.prepared else {}
        try:
            sample = collect_all_checked([lf.select(cols).head(SAMPLE_ROWS)], sources)[0]
            if sample.height < SAMPLE_ROWS:
                # the sample may be the whole source: read it the way a run does (a sliced read of
                # a malformed file can come back short instead of failing)
                collect_all_checked([lf.select(cols)], sources)
        except MetricSpecError as exc:
            issues.extend(exc.issues())
    return issues
