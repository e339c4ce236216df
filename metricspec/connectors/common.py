"""Source options every connector shares: renames, column types and time zones.

:func:`apply_source_options` turns whatever a connector read into the frame the
spec talks about; :func:`check_columns` checks, from the schema alone, that the
columns the spec reads exist and have usable types.

Casts that can fail on a value (a string column declared ``int``, ``date``, ...)
run inside the lazy plan through a small vectorised batch function: the first
bad value raises a :class:`~metricspec.errors.DataError` naming the source, the
column, the value and its 1-based row, e.g.::

    source 'followers': column 'followers' has values that are not int (e.g. 'n/a' at row 17)

polars is imported inside the functions only.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from metricspec.errors import DataError, Issue, Level, Location, MetricSpecError

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "COLUMN_TYPES",
    "KINDS",
    "ValueCastError",
    "apply_source_options",
    "check_columns",
    "did_you_mean",
    "type_name",
]

COLUMN_TYPES: tuple[str, ...] = ("str", "int", "float", "bool", "date", "datetime", "duration")
"""Type names allowed under a source's ``columns:``."""

KINDS: tuple[str, ...] = ("numeric", "temporal", "string", "bool")
"""Column kinds :func:`check_columns` understands (``None`` means: just present)."""

ROW_INDEX = "__metricspec_row__"

TRUE_WORDS = ("true", "yes", "1", "t", "y")
FALSE_WORDS = ("false", "no", "0", "f", "n")

# Formats tried, in order, for string timestamps when no ``timestamp_format`` is given
# (after polars' own ISO 8601 inference).
AUTO_DATETIME_FORMATS: tuple[str, ...] = (
    "%Y-%m-%dT%H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f %#z",
    "%Y-%m-%dT%H:%M%#z",
    "%Y-%m-%d %H:%M%#z",
    "%Y-%m-%d %H:%M %#z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
)
"""ISO 8601-like formats tried, in order, for string timestamps without ``timestamp_format``.

Deliberately no format inference: batches are converted separately, and an inferred
format (day-first or month-first?) could differ from one batch to the next.
"""

_TIME_DIRECTIVES = re.compile(r"%[HIMSpzZTRcsfkl]|%\.f|%#z|%:z")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_CAST_HINTS = {
    "int": "fix or remove the value, list it under the connector's `null_values:`, or declare another type "
           "under `columns:`",
    "float": "fix or remove the value, list it under the connector's `null_values:`, or declare another type "
             "under `columns:`",
    "bool": "booleans must be true/false, yes/no or 1/0",
    "date": "set the source's `timestamp_format:` to the strptime format of the values, e.g. '%d/%m/%Y'",
    "datetime": "set the source's `timestamp_format:` to the strptime format of the values, "
                "e.g. '%d/%m/%Y %H:%M' (local times skipped by a daylight-saving change are invalid too)",
    "duration": "durations must be seconds, HH:MM:SS, MM:SS or ISO 8601 such as PT1M30S",
}


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
    import polars as pl

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


def _columns_listing(names: list[str]) -> str:
    shown = ", ".join(names[:25])
    return f"columns are: {shown}" + (", ..." if len(names) > 25 else "")


def _check_timezone(name: str, err: Callable[..., DataError], what: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise err(f"unknown {what} '{name}'", hint="use an IANA time zone name such as UTC or Europe/Madrid") from None


def apply_source_options(
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
) -> pl.LazyFrame:
    """Rename, cast and convert time zones of a connector's frame (lazily).

    * ``rename`` (old -> new) must name existing columns (with a did-you-mean otherwise);
    * ``columns`` (column -> one of :data:`COLUMN_TYPES`) casts after renaming; strings
      become bools (true/false, yes/no, 1/0), dates and datetimes (``timestamp_format``
      or ISO 8601), numbers, durations;
    * every datetime ends up time-zone aware in ``target_timezone``: naive values are
      read as ``timezone`` (default UTC), aware ones are converted;
    * a string ``time_column`` not declared under ``columns`` is parsed as a date (when
      its values look like ``YYYY-MM-DD``) or a datetime.

    Structural problems raise :class:`DataError` at once; a value that cannot be cast
    raises :class:`DataError` when the frame is collected, naming column, value and row.
    """
    import polars as pl

    def err(message: str, hint: str | None = None) -> DataError:
        return DataError(f"source '{source_name}': {message}", where=where, hint=hint)

    local_tz = timezone or "UTC"
    _check_timezone(local_tz, err, "timezone")
    _check_timezone(target_timezone, err, "target time zone")
    try:
        schema: dict[str, Any] = dict(lf.collect_schema())
    except MetricSpecError:
        raise
    except Exception as exc:
        raise err(f"cannot be read: {_first_line(exc)}", hint="check the file and the connector options") from None

    if rename:
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
        lf = lf.rename(dict(rename))
        schema = {rename.get(c, c): t for c, t in schema.items()}

    targets: dict[str, str] = {}
    for col, typ in columns.items():
        if typ not in COLUMN_TYPES:
            raise err(f"unknown type '{typ}' for column '{col}'", hint="types are: " + ", ".join(COLUMN_TYPES))
        if col not in schema:
            raise err(f"`columns:` names the missing column '{col}'{did_you_mean(col, list(schema))}",
                      hint=_columns_listing(list(schema)))
        targets[col] = typ
    if time_column and time_column in schema and time_column not in targets and schema[time_column] == pl.String:
        targets[time_column] = _sniff_time_kind(lf, time_column, timestamp_format)

    plain: list[pl.Expr] = []
    checked: list[pl.Expr] = []
    for col, typ in targets.items():
        expr = _plain_cast(col, schema[col], typ, local_tz, target_timezone)
        if expr is not None:
            plain.append(expr)
            continue
        convert = _Converter(source_name, col, typ, schema[col], timestamp_format, local_tz, target_timezone, where)
        checked.append(
            pl.struct([pl.col(col), pl.col(ROW_INDEX)])
            .map_batches(convert, return_dtype=convert.return_dtype(), is_elementwise=True)
            .alias(col)
        )
    for col, dtype in schema.items():
        if col not in targets and dtype == pl.Datetime:
            expr = _to_target_tz(pl.col(col), dtype, local_tz, target_timezone)
            if expr is not None:
                plain.append(expr.alias(col))
    if checked:
        lf = lf.with_row_index(ROW_INDEX).with_columns(checked).drop(ROW_INDEX)
    if plain:
        lf = lf.with_columns(plain)
    return lf


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _has_time(fmt: str) -> bool:
    return bool(_TIME_DIRECTIVES.search(fmt))


def _sniff_time_kind(lf: pl.LazyFrame, column: str, fmt: str | None) -> str:
    """'date' if a string time column holds plain dates, else 'datetime' (reads a few rows)."""
    import polars as pl

    if fmt:
        return "datetime" if _has_time(fmt) else "date"
    try:
        sample = lf.select(pl.col(column)).head(200).collect().to_series()
    except Exception:
        return "datetime"
    values = [v.strip() for v in sample.drop_nulls().to_list() if v.strip()]
    if values and all(_DATE_ONLY.match(v) for v in values):
        return "date"
    return "datetime"


def _to_target_tz(expr: pl.Expr, dtype: Any, local_tz: str, target_tz: str) -> pl.Expr | None:
    """Expression converting a datetime column to ``target_tz`` (None when already there)."""
    tz = getattr(dtype, "time_zone", None)
    if tz is None:
        return expr.dt.replace_time_zone(local_tz, ambiguous="earliest", non_existent="null").dt.convert_time_zone(
            target_tz)
    if tz == target_tz:
        return None
    return expr.dt.convert_time_zone(target_tz)


def _plain_cast(col: str, dtype: Any, typ: str, local_tz: str, target_tz: str) -> pl.Expr | None:
    """A cast that cannot fail on a value, as a plain expression; None if it needs checking."""
    import polars as pl

    c = pl.col(col)
    if typ == "str":
        return c.cast(pl.String)
    if typ in ("int", "float") and (dtype.is_integer() or dtype == pl.Boolean):
        return c.cast(pl.Int64 if typ == "int" else pl.Float64)
    if typ == "float" and (dtype.is_float() or dtype == pl.Decimal):
        return c.cast(pl.Float64)
    if typ == "bool" and dtype == pl.Boolean:
        return c
    if typ == "date" and dtype == pl.Date:
        return c
    if typ == "date" and dtype == pl.Datetime:
        conv = _to_target_tz(c, dtype, local_tz, target_tz)
        return (conv if conv is not None else c).dt.date().alias(col)
    if typ == "datetime" and dtype == pl.Datetime:
        conv = _to_target_tz(c, dtype, local_tz, target_tz)
        return (conv if conv is not None else c).alias(col)
    if typ == "datetime" and dtype == pl.Date:
        return (c.cast(pl.Datetime("us")).dt.replace_time_zone(local_tz, ambiguous="earliest", non_existent="null")
                .dt.convert_time_zone(target_tz).alias(col))
    if typ == "duration" and dtype == pl.Duration:
        return c.cast(pl.Duration("us"))
    if dtype == pl.Null:
        return c.cast(_dtype_of(typ, target_tz))
    return None


def _dtype_of(typ: str, target_tz: str) -> Any:
    import polars as pl

    return {
        "str": pl.String,
        "int": pl.Int64,
        "float": pl.Float64,
        "bool": pl.Boolean,
        "date": pl.Date,
        "datetime": pl.Datetime("us", target_tz),
        "duration": pl.Duration("us"),
    }[typ]


class ValueCastError(DataError):
    """A value that cannot be cast to its declared type (raised while collecting).

    polars re-raises an exception from a batch function as ``type(exc)(str(exc) + context)``,
    which would lose ``where`` and ``hint``; this class restores them from its own
    ``str()`` so the error a caller catches is as precise as the one raised.
    """

    _known: ClassVar[dict[str, tuple[str, Location | None, str | None]]] = {}

    def __init__(self, message: str, *, where: Location | None = None, hint: str | None = None):
        text = message.split("\n\nThis error occurred", 1)[0].rstrip()
        known = self._known.get(text) if where is None and hint is None else None
        if known is not None:
            message, where, hint = known
        super().__init__(message, where=where, hint=hint)
        if known is None:
            if len(self._known) > 256:
                self._known.clear()
            self._known[str(self)] = (message, where, hint)


class _Converter:
    """Batch function casting one column and raising a DataError on the first bad value.

    It receives a struct of the column and the row index, so a bad value's row is
    exact whichever batch it arrives in.
    """

    def __init__(self, source_name: str, column: str, typ: str, dtype: Any, fmt: str | None,
                 local_tz: str, target_tz: str, where: Location | None) -> None:
        self.source_name = source_name
        self.column = column
        self.typ = typ
        self.dtype = dtype
        self.fmt = fmt
        self.local_tz = local_tz
        self.target_tz = target_tz
        self.where = where

    def return_dtype(self) -> Any:
        return _dtype_of(self.typ, self.target_tz)

    def __call__(self, batch: pl.Series) -> pl.Series:
        import polars as pl

        values = batch.struct.field(self.column)
        rows = batch.struct.field(ROW_INDEX)
        present = values.is_not_null()
        if values.dtype == pl.String:
            values = values.str.strip_chars()
            present = present & (values != "")
            values = pl.Series(self.column, values).set(~present.fill_null(False), None)
        out = self._convert(values).alias(self.column)
        bad = (out.is_null() & present).fill_null(False)
        if bad.any():
            i = int(bad.arg_true()[0])
            raw = batch.struct.field(self.column)[i]
            shown = repr(raw) if isinstance(raw, str) else str(raw)
            raise ValueCastError(
                f"source '{self.source_name}': column '{self.column}' has values that are not {self.typ} "
                f"(e.g. {shown} at row {int(rows[i]) + 1})",
                where=self.where,
                hint=_CAST_HINTS[self.typ],
            )
        return out.cast(self.return_dtype())

    # -- conversions (vectorised; a value that does not convert becomes null)

    def _convert(self, s: pl.Series) -> pl.Series:
        return {
            "int": self._int,
            "float": self._float,
            "bool": self._bool,
            "date": self._date,
            "datetime": self._datetime,
            "duration": self._duration,
        }[self.typ](s)

    def _int(self, s: pl.Series) -> pl.Series:
        import polars as pl

        if s.dtype == pl.String:
            direct = s.cast(pl.Int64, strict=False)
            as_float = s.cast(pl.Float64, strict=False)
            return direct.fill_null(self._integral(as_float))
        if s.dtype.is_float() or s.dtype == pl.Decimal:
            return self._integral(s.cast(pl.Float64))
        return s.cast(pl.Int64, strict=False)

    @staticmethod
    def _integral(f: pl.Series) -> pl.Series:
        import polars as pl

        ok = f.is_finite() & (f.round(0) == f) & (f.abs() < 2.0**63)
        return f.set(~ok.fill_null(False), None).cast(pl.Int64, strict=False)

    def _float(self, s: pl.Series) -> pl.Series:
        import polars as pl

        return s.cast(pl.Float64, strict=False)

    def _bool(self, s: pl.Series) -> pl.Series:
        import polars as pl

        if s.dtype == pl.String:
            mapping = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}
            return s.str.to_lowercase().replace_strict(mapping, default=None, return_dtype=pl.Boolean)
        if s.dtype.is_numeric():
            f = s.cast(pl.Float64)
            return (pl.select(pl.when(f == 1).then(True).when(f == 0).then(False).otherwise(None)
                              .alias(self.column)).to_series())
        return s.cast(pl.Boolean, strict=False)

    def _datetime(self, s: pl.Series) -> pl.Series:
        import polars as pl

        target = pl.Datetime("us", self.target_tz)
        if s.dtype == pl.String:
            formats: tuple[str, ...] = (self.fmt,) if self.fmt else AUTO_DATETIME_FORMATS
            result = pl.Series(self.column, [None] * len(s), dtype=target)
            for fmt in formats:
                todo = result.is_null() & s.is_not_null()
                if not todo.any():
                    break
                try:
                    if not _has_time(fmt):
                        parsed = s.str.to_date(fmt, strict=False).cast(pl.Datetime("us"))
                    else:
                        parsed = s.str.to_datetime(fmt, strict=False, time_unit="us")
                except Exception:  # an invalid strptime format: nothing parses
                    continue
                result = result.fill_null(self._localise(parsed))
            return result
        if s.dtype.is_numeric():
            # epoch timestamps: seconds, milliseconds or microseconds by magnitude
            f = s.cast(pl.Float64)
            top = f.abs().max()
            mag = float(top) if isinstance(top, int | float) else None
            scale = 1_000_000 if mag is None or mag < 1e11 else (1_000 if mag < 1e14 else 1)
            micros = (f * scale).round(0).cast(pl.Int64, strict=False)
            return micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC").dt.convert_time_zone(self.target_tz)
        return self._localise(s.cast(pl.Datetime("us"), strict=False))

    def _localise(self, parsed: pl.Series) -> pl.Series:
        import polars as pl

        if parsed.dtype == pl.Datetime and getattr(parsed.dtype, "time_zone", None) is None:
            parsed = parsed.dt.replace_time_zone(self.local_tz, ambiguous="earliest", non_existent="null")
        return parsed.dt.convert_time_zone(self.target_tz).cast(pl.Datetime("us", self.target_tz))

    def _date(self, s: pl.Series) -> pl.Series:
        import polars as pl

        if s.dtype != pl.String:
            return s.cast(pl.Date, strict=False)
        result = pl.Series(self.column, [None] * len(s), dtype=pl.Date)
        if self.fmt and not _has_time(self.fmt):
            return s.str.to_date(self.fmt, strict=False)
        if not self.fmt:
            result = s.str.to_date("%Y-%m-%d", strict=False)
        if (result.is_null() & s.is_not_null()).any():
            result = result.fill_null(self._datetime(s).dt.date())
        return result

    def _duration(self, s: pl.Series) -> pl.Series:
        import polars as pl

        if s.dtype.is_numeric():
            return (s.cast(pl.Float64) * 1_000_000).round(0).cast(pl.Int64, strict=False).cast(pl.Duration("us"))
        if s.dtype != pl.String:
            return s.cast(pl.Duration("us"), strict=False)
        seconds = s.cast(pl.Float64, strict=False)
        clock = s.str.extract_groups(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")
        h = clock.struct.field("1").cast(pl.Float64, strict=False).fill_null(0.0)
        m = clock.struct.field("2").cast(pl.Float64, strict=False)
        sec = clock.struct.field("3").cast(pl.Float64, strict=False)
        from_clock = h * 3600 + m * 60 + sec
        iso = s.str.to_uppercase().str.extract_groups(
            r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
        )
        parts = [iso.struct.field(str(i)).cast(pl.Float64, strict=False) for i in range(1, 5)]
        any_part = parts[0].is_not_null() | parts[1].is_not_null() | parts[2].is_not_null() | parts[3].is_not_null()
        from_iso = (parts[0].fill_null(0) * 86400 + parts[1].fill_null(0) * 3600 + parts[2].fill_null(0) * 60
                    + parts[3].fill_null(0))
        from_iso = from_iso.set(~any_part.fill_null(False), None)
        total = seconds.fill_null(from_clock).fill_null(from_iso)
        return (total * 1_000_000).round(0).cast(pl.Int64, strict=False).cast(pl.Duration("us"))


def check_columns(
    lf: pl.LazyFrame,
    required: Mapping[str, str | None],
    *,
    source_name: str,
    where_for: Callable[[str], Location | None],
) -> list[Issue]:
    """Issues for required columns that are missing or have an unusable type.

    ``required`` maps a column to the kind the spec needs: ``'numeric'``, ``'temporal'``,
    ``'string'``, ``'bool'`` or ``None`` (present, any type). Only the schema is read.
    """
    import polars as pl

    try:
        schema = dict(lf.collect_schema())
    except MetricSpecError as exc:
        return exc.issues()
    except Exception as exc:
        return [Issue(Level.ERROR, f"source '{source_name}' cannot be read: {_first_line(exc)}", where_for(""),
                      "check the file and the connector options", code="data")]
    names = list(schema)
    issues: list[Issue] = []
    for col, kind in required.items():
        where = where_for(col)
        if col not in schema:
            issues.append(Issue(Level.ERROR, f"source '{source_name}' has no column '{col}'{did_you_mean(col, names)}",
                                where, _columns_listing(names), code="data"))
            continue
        dtype = schema[col]
        have = type_name(dtype)
        nested = isinstance(dtype, pl.List | pl.Array | pl.Struct | pl.Object)
        problem: str | None = None
        hint: str | None = None
        if kind == "numeric" and not (dtype.is_numeric() or dtype == pl.Boolean or dtype == pl.Null):
            problem = "numeric"
            hint = f"declare its type under the source's `columns:`, e.g. columns: {{{col}: float}}"
        elif kind == "temporal" and not (dtype == pl.Date or dtype == pl.Datetime or dtype == pl.Null):
            problem = "a date or datetime"
            hint = (f"declare it under the source's `columns:`, e.g. columns: {{{col}: datetime}}, and set "
                    "`timestamp_format:` if the values are not ISO 8601")
        elif kind == "bool" and not (dtype == pl.Boolean or dtype == pl.Null):
            problem = "bool"
            hint = f"declare it under the source's `columns:`, e.g. columns: {{{col}: bool}}"
        elif kind in ("string", None) and nested:
            problem = "a plain value" if kind is None else "a string"
            hint = "flatten the column in the connector (e.g. a SQL query) or pick another column"
        elif kind is not None and kind not in KINDS:
            problem = None
        if problem is not None:
            issues.append(Issue(Level.ERROR, f"source '{source_name}': column '{col}' is {have}, not {problem}",
                                where, hint, code="data"))
    return issues
