"""Source options every connector shares: renames, column types and time zones.

:func:`prepare_source` turns whatever a connector read into the frame the spec talks
about; :func:`check_columns` checks, from the schema alone, that the columns the spec
reads exist and have usable types.

Casts run inside the lazy plan as native polars expressions (:mod:`.casts`): a value
that does not convert makes the query fail, and :func:`first_bad_value` then finds the
first such value and reports source, column, value and its 1-based row, e.g.::

    source 'followers': column 'followers' has values that are not int (e.g. 'n/a' at row 17)

(:func:`metricspec.sources.dataerrors.collect_all_checked` does both for a run.)
polars is imported inside the functions only.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from metricspec.errors import DataError, Issue, Level, Location, MetricSpecError
from metricspec.sources.casts import (
    CAST_HINTS,
    FINITE_HINT,
    SNIFF_ROWS,
    Cast,
    cast_expr,
    checked,
    finite,
    has_time,
    plain_cast,
    sniff_formats,
    to_target_tz,
)
from metricspec.sources.timeformats import (
    MAX_YEAR,
    MIN_YEAR,
    RANGE_TEXT,
    format_hint,
    format_regex,
)
from metricspec.spec.exprtypes import derive_types

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "COLUMN_TYPES",
    "KINDS",
    "PreparedFrame",
    "apply_source_options",
    "check_columns",
    "did_you_mean",
    "fast_path_misses",
    "first_bad_value",
    "prepare_source",
    "type_name",
]

COLUMN_TYPES: tuple[str, ...] = ("str", "int", "float", "bool", "date", "datetime", "duration")
"""Type names allowed under a source's ``columns:``."""

KINDS: tuple[str, ...] = ("numeric", "temporal", "string", "bool")
"""Column kinds :func:`check_columns` understands (``None`` means: just present)."""

ROW_INDEX = "__metricspec_row__"


def did_you_mean(name: str, candidates: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f" (did you mean '{close[0]}'?)" if close else ""


def type_name(dtype: Any) -> str:
    """A user-facing name of a polars dtype, in the vocabulary of ``columns:``."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    if dtype == pl.String or dtype == pl.Categorical or dtype == pl.Enum:
        return "str"
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or dtype == pl.Decimal:
        return "float"
    if dtype == pl.Boolean:
        return "bool"
    if dtype == pl.Date:
        return "date"
    if dtype == pl.Datetime:
        return "datetime"
    if dtype == pl.Duration:
        return "duration"
    if dtype == pl.Null:
        return "empty"
    return str(dtype)


def derived_types(derive: Mapping[str, str], schema: Mapping[str, Any]) -> dict[str, str | None]:
    """The one type of each ``derive:`` column (a ``columns:`` type name, None: unknown), from the
    types of the columns it reads (``schema``: polars dtypes). Every backend casts it to this type."""
    names = {col: type_name(dtype) for col, dtype in schema.items()}
    return derive_types(derive, lambda col: names.get(col) if names.get(col) in COLUMN_TYPES else None)


def _columns_listing(names: list[str]) -> str:
    shown = ", ".join(names[:25])
    return f"columns are: {shown}" + (", ..." if len(names) > 25 else "")


def _check_timezone(name: str, err: Callable[..., DataError], what: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise err(f"unknown {what} '{name}'", hint="use an IANA time zone name such as UTC or Europe/Madrid") from None


@dataclass(frozen=True)
class PreparedFrame:
    """A source's frame after its options, with what is needed to explain a bad value.

    ``frame`` is what the spec reads; ``raw`` the connector's frame after renaming (the
    casts' input); ``casts`` the checked conversions, in ``columns:`` order.
    """

    source_name: str
    frame: pl.LazyFrame
    raw: pl.LazyFrame
    casts: tuple[Cast, ...]
    where: Location | None
    explain: Callable[[BaseException], DataError | None] | None = None
    """The connector's explanation of an error raised while reading (``Connector.explain_error``)."""
    lenient_casts: tuple[Cast, ...] = ()
    """The same casts with the lenient path everywhere: what decides whether a value is bad."""


def apply_source_options(lf: pl.LazyFrame, **options: Any) -> pl.LazyFrame:
    """:func:`prepare_source`'s frame (for connectors and tests that need only the frame)."""
    return prepare_source(lf, **options).frame


def prepare_source(
    lf: pl.LazyFrame,
    *,
    source_name: str,
    rename: Mapping[str, str],
    columns: Mapping[str, str],
    timestamp_format: str | None,
    timezone: str | None,
    target_timezone: str,
    time_column: str | None,
    where: Location | None,
    lenient: bool = False,
) -> PreparedFrame:
    """Rename, cast and convert time zones of a connector's frame (lazily).

    * ``rename`` (old -> new) must name existing columns (with a did-you-mean otherwise);
    * ``columns`` (column -> one of :data:`COLUMN_TYPES`) casts after renaming; strings
      become bools (true/false, yes/no, 1/0), dates and datetimes (``timestamp_format``,
      or the ISO 8601 layout found on a sample), numbers, durations; integers become
      dates through ``timestamp_format`` (``19970101`` with ``%Y%m%d``);
    * every datetime ends up time-zone aware in ``target_timezone``: naive values are
      read as ``timezone`` (default UTC), aware ones are converted;
    * a string ``time_column`` not declared under ``columns`` is parsed as a date (when
      its values look like ``YYYY-MM-DD``) or a datetime.

    Structural problems raise :class:`DataError` at once; a value that cannot be cast
    makes the frame's query fail (see :func:`first_bad_value`).

    A text column whose sample converts on the fast path alone (what a hand-written query
    does: one cast, one ``str.to_datetime`` format) is read with the fast path only; when a
    later value needs the lenient path (blanks around it, another ISO layout), the query fails
    and :func:`fast_path_misses` tells the caller to open the source again with ``lenient``.
    """
    def err(message: str, hint: str | None = None) -> DataError:
        return DataError(f"source '{source_name}': {message}", where=where, hint=hint)

    local_tz = timezone or "UTC"
    _check_timezone(local_tz, err, "timezone")
    _check_timezone(target_timezone, err, "target time zone")
    schema = _read_schema(lf, err)
    lf, schema = _renamed(lf, schema, rename, err)
    targets = _targets(schema, columns, err)
    text_times, sample = _sample_text_columns(lf, schema, targets, time_column, timestamp_format)
    exprs, casts = _typed_casts(schema, targets, text_times, sample, timestamp_format, local_tz, target_timezone,
                                lenient, err)
    casts += _untyped(schema, targets, local_tz, target_timezone, exprs)
    first, second, temporary = checked([used for used, _ in casts])
    frame = lf.with_columns([*exprs, *first]) if exprs or first else lf
    if second:
        frame = frame.with_columns(second).drop(temporary)
    return PreparedFrame(source_name=source_name, frame=frame, raw=lf, casts=tuple(used for used, _ in casts),
                         where=where, lenient_casts=tuple(full for _, full in casts))


def _read_schema(lf: pl.LazyFrame, err: Callable[..., DataError]) -> dict[str, Any]:
    """The connector's columns and their dtypes; a DataError when the source cannot be read."""
    try:
        return dict(lf.collect_schema())
    except MetricSpecError:
        raise
    except Exception as exc:
        raise err(f"cannot be read: {_first_line(exc)}", hint="check the file and the connector options") from None


def _sample_text_columns(lf: pl.LazyFrame, schema: Mapping[str, Any], targets: dict[str, str],
                         time_column: str | None, timestamp_format: str | None
                         ) -> tuple[list[str], dict[str, list[str]]]:
    """The text columns to be read as dates or datetimes, and a sample of every text column to convert.

    A text ``time_column`` the spec gives no type is added to ``targets``, as a date or a datetime by
    what its sample looks like."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    time_text = (time_column if time_column and time_column in schema and time_column not in targets
                 and schema[time_column] == pl.String else None)
    text_times = [c for c, t in targets.items() if t in ("date", "datetime") and schema[c] == pl.String]
    if time_text is not None:
        text_times.append(time_text)
    texts = [c for c, t in targets.items() if schema[c] == pl.String and t != "str"]
    sample = _sample(lf, [*texts, *([time_text] if time_text else [])])
    if time_text is not None:
        targets[time_text] = _time_kind(sample.get(time_text, []), timestamp_format)
    return text_times, sample


def _typed_casts(schema: Mapping[str, Any], targets: Mapping[str, str], text_times: list[str],
                 sample: Mapping[str, list[str]], timestamp_format: str | None, local_tz: str, target_tz: str,
                 lenient: bool, err: Callable[..., DataError]) -> tuple[list[pl.Expr], list[tuple[Cast, Cast]]]:
    """The conversions of the columns the spec types: plain casts that cannot fail, and checked casts
    (each as used and with the lenient path everywhere)."""
    exprs: list[pl.Expr] = []
    casts: list[tuple[Cast, Cast]] = []
    for col, typ in targets.items():
        expr = plain_cast(col, schema[col], typ, local_tz, target_tz)
        if expr is not None:
            exprs.append(expr)
            continue
        if typ in ("date", "datetime") and schema[col].is_numeric() and not timestamp_format:
            raise err(f"column '{col}' holds numbers, not dates",
                      hint="if they are dates such as 19970101, set the source's `timestamp_format:` to their "
                           "format, e.g. '%Y%m%d' ('%s' for seconds since 1970)")
        formats = sniff_formats(sample.get(col, [])) if col in text_times and not timestamp_format else []
        casts.append(_cast_pair(col, schema[col], typ, timestamp_format, formats, local_tz, target_tz,
                                None if lenient else sample.get(col)))
    return exprs, casts


def _untyped(schema: Any, targets: Mapping[str, str], local_tz: str, target_tz: str,
             exprs: list[Any]) -> list[tuple[Cast, Cast]]:
    """The columns the spec gives no type: datetimes converted to the spec's zone (appended to ``exprs``),
    and float columns checked: NaN and infinities are refused, on every connector."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    checks: list[tuple[Cast, Cast]] = []
    for col, dtype in schema.items():
        if col not in targets and dtype == pl.Datetime:
            expr = to_target_tz(pl.col(col), dtype, local_tz, target_tz)
            if expr is not None:
                exprs.append(expr.alias(col))
        elif col not in targets and dtype.is_float():
            check = finite(col, pl.col(col), cheap=True)
            checks.append((check, check))
    return checks


def _cast_pair(col: str, dtype: Any, typ: str, fmt: str | None, formats: list[str], local_tz: str,
               target_tz: str, sample: list[str] | None) -> tuple[Cast, Cast]:
    """(the cast to use, the lenient cast that judges values) for one column.

    A text column (given its ``sample``; None: always lenient) uses the fast path alone when it
    converts every value of the sample.
    """
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    full = cast_expr(col, dtype, typ, fmt=fmt, formats=formats, local_tz=local_tz, target_tz=target_tz)
    if sample is None or dtype != pl.String:
        return full, full
    fast = cast_expr(col, dtype, typ, fmt=fmt, formats=formats, local_tz=local_tz, target_tz=target_tz,
                     lenient=False)
    return (full if _misses(sample, col, fast) else fast), full


def _misses(values: list[str] | None, col: str, cast: Cast) -> bool:
    """Whether the (fast-path) cast misses a value of the sample."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    if not values:
        return False
    frame = pl.DataFrame({col: values}, schema={col: pl.String})
    return bool(frame.select(cast.bad.any()).item())


def _renamed(lf: pl.LazyFrame, schema: dict[str, Any], rename: Mapping[str, str],
             err: Callable[..., DataError]) -> tuple[pl.LazyFrame, dict[str, Any]]:
    if not rename:
        return lf, schema
    missing = [old for old in rename if old not in schema]
    if missing:
        names = list(schema)
        details = "; ".join(f"'{m}'{did_you_mean(m, names)}" for m in missing)
        raise err(f"cannot rename missing column{'s' if len(missing) > 1 else ''} {details}",
                  hint=_columns_listing(names))
    renamed = [rename.get(c, c) for c in schema]
    dupes = sorted({c for c in renamed if renamed.count(c) > 1})
    if dupes:
        raise err(f"renaming would give two columns named {', '.join(repr(d) for d in dupes)}",
                  hint="rename or drop the existing column first")
    return lf.rename(dict(rename)), {rename.get(c, c): t for c, t in schema.items()}


def _targets(schema: Mapping[str, Any], columns: Mapping[str, str], err: Callable[..., DataError]) -> dict[str, str]:
    targets: dict[str, str] = {}
    for col, typ in columns.items():
        if typ not in COLUMN_TYPES:
            raise err(f"unknown type '{typ}' for column '{col}'", hint="types are: " + ", ".join(COLUMN_TYPES))
        if col not in schema:
            raise err(f"`columns:` names the missing column '{col}'{did_you_mean(col, list(schema))}",
                      hint=_columns_listing(list(schema)))
        targets[col] = typ
    return targets


def _sample(lf: pl.LazyFrame, cols: list[str]) -> dict[str, list[str]]:
    """Up to :data:`SNIFF_ROWS` values of each text column (a read of the source's first rows)."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    cols = list(dict.fromkeys(cols))
    if not cols:
        return {}
    try:
        frame = lf.select([pl.col(c) for c in cols]).head(SNIFF_ROWS).collect()
    except Exception:  # an unreadable source fails later, with its own message
        return {}
    return {c: [v for v in frame[c].to_list() if v is not None] for c in cols if frame.schema[c] == pl.String}


def _time_kind(values: list[str], fmt: str | None) -> str:
    """'date' if a text time column holds plain dates, else 'datetime'."""
    if fmt:
        return "datetime" if has_time(fmt) else "date"
    stripped = [v.strip() for v in values if v.strip()]
    if stripped and all(len(v) == 10 and v[4] == "-" and v[7] == "-" and v.replace("-", "").isdigit()
                        for v in stripped):
        return "date"
    return "datetime"


def first_bad_value(prepared: PreparedFrame) -> DataError | None:
    """The first row (in the connector's order) with a value that does not convert, as a
    DataError naming source, column, value and row; None when every value converts.

    Reads the source again: called only after a query on it failed.
    """
    casts = prepared.lenient_casts or prepared.casts
    found = _first_flagged(prepared, casts)
    if found is None:
        return None
    row, cast = found
    raw = row[cast.column]
    shown = repr(raw) if isinstance(raw, str) else str(raw)
    at = int(row[ROW_INDEX])
    source = f"source '{prepared.source_name}': column '{cast.column}'"
    parsed = _parsed_at(prepared, cast, at)
    if parsed is not None and cast.what:
        return DataError(f"{source} has values that are not {cast.what} (e.g. {shown} at row {at + 1})",
                         where=prepared.where, hint=FINITE_HINT)
    if parsed is not None and cast.fmt and not _matches(raw, cast.fmt):
        return DataError(f"{source} has values not written as timestamp_format '{cast.fmt}' says (e.g. {shown} at "
                         f"row {at + 1}, which would be read as {parsed})", where=prepared.where,
                         hint=format_hint(cast.fmt))
    if parsed is not None and cast.typ in ("date", "datetime") and not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return DataError(f"{source} has dates outside {RANGE_TEXT} (e.g. {shown} at row {at + 1}, read as {parsed})",
                         where=prepared.where, hint=format_hint(cast.fmt) if cast.fmt else
                         "fix the value, or set the source's `timestamp_format:` to the format the values are in")
    if parsed is not None and ":60" in str(raw):
        return DataError(f"{source} has a leap second (e.g. {shown} at row {at + 1}), which is not a time of day "
                         "metricspec can place: polars and DuckDB would move it to the next minute, or drop it",
                         where=prepared.where, hint="write it as :59 (or drop the row) in the data")
    return DataError(
        f"{source} has values that are not {cast.typ} (e.g. {shown} at row {at + 1})",
        where=prepared.where,
        hint=CAST_HINTS[cast.typ],
    )


def _parsed_at(prepared: PreparedFrame, cast: Cast, row: int) -> Any:
    """What a date cast's parser alone makes of the value at ``row`` (None: it does not parse)."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    if cast.parsed is None:
        return None
    found = prepared.raw.with_row_index(ROW_INDEX).filter(pl.col(ROW_INDEX) == row).select(cast.parsed).collect()
    return found.item() if found.height else None


def _matches(raw: object, fmt: str) -> bool:

    regex = format_regex(fmt)
    return regex is None or (isinstance(raw, str | int) and re.search(regex, str(raw).strip()) is not None)


def fast_path_misses(prepared: PreparedFrame) -> bool:
    """Whether a value converts only on the lenient path (the source needs opening with ``lenient``)."""
    fast = any(c is not full for c, full in zip(prepared.casts, prepared.lenient_casts, strict=False))
    return fast and _first_flagged(prepared, prepared.casts) is not None


def _first_flagged(prepared: PreparedFrame, casts: tuple[Cast, ...]) -> tuple[dict[str, Any], Cast] | None:
    """The first row (with its row index) where one of ``casts`` flags a bad value, and that cast."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    if not casts:
        return None
    flags = [c.bad.fill_null(False).alias(f"__bad{i}") for i, c in enumerate(casts)]
    cols = list(dict.fromkeys(c.column for c in casts))
    found = (prepared.raw.with_row_index(ROW_INDEX)
             .select([pl.col(ROW_INDEX), *[pl.col(c) for c in cols], *flags])
             .filter(pl.any_horizontal([pl.col(f"__bad{i}") for i in range(len(flags))]))
             .head(1).collect())
    if found.height == 0:
        return None
    row = found.row(0, named=True)
    return row, next(c for i, c in enumerate(casts) if row[f"__bad{i}"])


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def check_columns(
    lf: pl.LazyFrame,
    required: Mapping[str, str | tuple[str | None, ...] | None],
    *,
    source_name: str,
    where_for: Callable[..., Location | None],
) -> list[Issue]:
    """Issues for required columns that are missing or have an unusable type.

    ``required`` maps a column to the kind the spec needs -- ``'numeric'``, ``'temporal'``,
    ``'string'``, ``'bool'`` or ``None`` (present, any type) -- or to every kind it is needed as
    (a column summed by one KPI and used as the time column of another is checked as both).
    ``where_for(col)`` places a missing column; ``where_for(col, kind)`` the use that needs ``kind``.
    Only the schema is read.
    """
    try:
        schema = dict(lf.collect_schema())
    except MetricSpecError as exc:
        return exc.issues()
    except Exception as exc:
        return [Issue(Level.ERROR, f"source '{source_name}' cannot be read: {_first_line(exc)}", where_for(""),
                      "check the file and the connector options", code="data")]
    names = list(schema)
    issues: list[Issue] = []
    for col, wanted in required.items():
        if col not in schema:
            issues.append(Issue(Level.ERROR, f"source '{source_name}' has no column '{col}'{did_you_mean(col, names)}",
                                where_for(col), _columns_listing(names), code="data"))
            continue
        for kind in wanted if isinstance(wanted, tuple) else (wanted,):
            found = _kind_problem(col, schema[col], kind)
            if found is not None:
                problem, hint = found
                issues.append(Issue(Level.ERROR, f"source '{source_name}': column '{col}' is {type_name(schema[col])}, "
                                    f"not {problem}", where_for(col, kind) if kind else where_for(col), hint,
                                    code="data"))
    return issues


def _kind_problem(col: str, dtype: Any, kind: str | None) -> tuple[str, str] | None:
    """(what the column should be, the fix) when ``dtype`` cannot serve as ``kind``; None when it can."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    nested = isinstance(dtype, pl.List | pl.Array | pl.Struct | pl.Object)
    if kind == "numeric" and not (dtype.is_numeric() or dtype == pl.Boolean or dtype == pl.Null):
        if dtype == pl.Date or dtype == pl.Datetime:
            return "numeric", ("a date is not a number to add up or average: count the rows, take `agg: last` of a "
                               "value, or measure a delay with days_between(a, b) in `expression:`")
        return "numeric", f"declare its type under the source's `columns:`, e.g. columns: {{{col}: float}}"
    if kind == "temporal" and not (dtype == pl.Date or dtype == pl.Datetime or dtype == pl.Null):
        return "a date or datetime", (f"declare it under the source's `columns:`, e.g. columns: {{{col}: datetime}}, "
                                      "and set `timestamp_format:` if the values are not ISO 8601")
    if kind == "bool" and not (dtype == pl.Boolean or dtype == pl.Null):
        return "bool", f"declare it under the source's `columns:`, e.g. columns: {{{col}: bool}}"
    if kind in ("string", None) and nested:
        return ("a plain value" if kind is None else "a string",
                "flatten the column in the connector (e.g. a SQL query) or pick another column")
    return None
