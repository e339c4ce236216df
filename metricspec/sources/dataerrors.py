"""Turn polars errors raised while reading data into :class:`DataError` naming source, column and row.

A run's queries read every source in one ``collect_all``; when polars fails there (a value
that does not convert, text beyond a CSV's type-inference window, a file that is not UTF-8,
an NDJSON field that changes type) its message names neither the spec's source nor the
row. :func:`collect_all_checked` runs the queries and, on a failure, asks each source in
turn what is wrong with it (:func:`explain_failure`): the first bad value of a declared
type (:func:`~metricspec.sources.prepare.first_bad_value`), then the source's own read
error, explained by its connector where it can (``Connector.explain_error``).

Everything here runs only after a failure: the fast path is one plain ``collect_all``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Literal

import polars as pl

from metricspec.errors import DataError, MetricSpecError
from metricspec.sources.prepare import PreparedFrame, fast_path_misses, first_bad_value

__all__ = ["LenientRetry", "collect_all_checked", "data_errors", "explain_failure", "is_data_error"]

_COLUMN = re.compile(r"column '([^']+)'|column `([^`]+)`")


class LenientRetry(Exception):
    """A source's query failed only because it was read with the fast casts alone: a value
    beyond the sample needs the lenient path. The caller opens the sources again with
    ``lenient=True`` and runs once more (see :func:`metricspec.engine.run.evaluate`)."""

    def __init__(self, source: str) -> None:
        super().__init__(f"source '{source}' needs the lenient casts")
        self.source = source


def is_data_error(exc: BaseException) -> bool:
    """Whether ``exc`` is what polars (or the OS) raises for data it cannot read or compute."""
    panic = getattr(pl.exceptions, "PanicException", None)
    return isinstance(exc, pl.exceptions.PolarsError | OSError) or (panic is not None and isinstance(exc, panic))


def collect_all_checked(lazies: Sequence[pl.LazyFrame], sources: Mapping[str, PreparedFrame], *,
                        engine: Literal["in-memory", "streaming", "auto"] = "in-memory",
                        groups: Sequence[str] | None = None) -> list[pl.DataFrame]:
    """``pl.collect_all(lazies)``; a data error becomes a :class:`DataError` (see the module docs).

    ``groups`` (one name per query, e.g. its source) splits the work on the streaming engine into
    one ``collect_all`` per group: queries sharing a subplan (one source's prepared base) still
    read it once, but the streaming engine no longer holds every source's shared base at once
    (docs/performance.md: 0.93 -> 0.41 GiB at 10M rows). The in-memory engine runs one call.
    """
    if not lazies:
        return []
    with data_errors(sources):
        if groups is None or engine != "streaming" or len(set(groups)) < 2:
            return pl.collect_all(list(lazies), engine=engine)
        order: dict[str, list[int]] = {}
        for i, group in enumerate(groups):
            order.setdefault(group, []).append(i)
        out: list[pl.DataFrame | None] = [None] * len(lazies)
        for indices in order.values():
            frames = pl.collect_all([lazies[i] for i in indices], engine=engine)
            for i, frame in zip(indices, frames, strict=True):
                out[i] = frame
        return [frame for frame in out if frame is not None]


@contextmanager
def data_errors(sources: Mapping[str, PreparedFrame]) -> Iterator[None]:
    """Map polars errors raised inside the block to a :class:`DataError` about ``sources``."""
    try:
        yield
    except MetricSpecError:
        raise
    except BaseException as exc:
        if not is_data_error(exc):
            raise
        raise explain_failure(exc, sources) from None


def explain_failure(exc: BaseException, sources: Mapping[str, PreparedFrame]) -> DataError:
    """The DataError for a failed query over ``sources``: the first source (by name) that
    has a bad value or cannot be read says what and where; else the query itself failed."""
    for name in sorted(sources):
        found = _diagnose(sources[name], exc)
        if found is not None:
            return found
    return DataError(f"computing the KPIs failed: {_first_line(exc)}",
                     hint="check that filters and expressions compare and combine columns of matching types "
                          "(declare types under the source's `columns:`)")


def _diagnose(prepared: PreparedFrame, original: BaseException) -> DataError | None:
    try:
        bad = first_bad_value(prepared)
        if bad is not None:
            return bad
        if fast_path_misses(prepared):
            raise LenientRetry(prepared.source_name)
        # every column, aggregated: reads the whole source without holding it
        prepared.raw.select(pl.all().null_count()).collect(engine="streaming")
    except MetricSpecError as exc:
        return exc if isinstance(exc, DataError) else DataError(exc.message, where=prepared.where)
    except LenientRetry:
        raise
    except BaseException as exc:
        if not is_data_error(exc):
            raise
        return _read_error(prepared, exc)
    return None


def _read_error(prepared: PreparedFrame, exc: BaseException) -> DataError:
    if prepared.explain is not None:
        try:
            explained = prepared.explain(exc)
        except Exception:  # an explanation must never hide the error it explains
            explained = None
        if explained is not None:
            return explained
    text = _first_line(exc)
    m = _COLUMN.search(text)
    column = f" (column '{m.group(1) or m.group(2)}')" if m else ""
    return DataError(f"source '{prepared.source_name}' cannot be read{column}: {text}", where=prepared.where,
                     hint="check the file and the connector options")


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
