"""Prepare a database source as ibis expressions: renames, column types, time zones, derived columns.

The same rules as :func:`metricspec.sources.prepare.apply_source_options` for polars, so a spec reads
the same whichever backend holds its data: declared types are cast (text becomes numbers, booleans,
dates and datetimes), every datetime becomes wall-clock time in the spec's time zone, ``derive:``
columns are computed. A cast that can fail on a value (text declared ``int``) is checked before the
source's queries run (:class:`CastCheck`): the first bad value is reported, never turned into a silent
null.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from metricspec.engine.backends.dialects import dialect_for
from metricspec.engine.backends.ibis_expr import UntranslatableError, to_ibis
from metricspec.engine.backends.relation import Relation
from metricspec.engine.backends.sql_frames import relation_frame
from metricspec.engine.backends.sql_time import instant_column, localize, to_utc
from metricspec.errors import DataError
from metricspec.sources.casts import CAST_HINTS, FALSE_WORDS, FINITE, FINITE_HINT, TRUE_WORDS
from metricspec.sources.casts import has_time as _has_time
from metricspec.sources.database import SourceOptions
from metricspec.sources.prepare import COLUMN_TYPES, _columns_listing, derived_types, did_you_mean
from metricspec.sources.timeformats import (
    MAX_YEAR,
    MIN_YEAR,
    RANGE_TEXT,
    format_hint,
    format_regex,
)
from metricspec.spec.expr import parse

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_OFFSET = r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$"
"""A time of day followed by a UTC offset, at the end of a text timestamp."""


@dataclass(frozen=True)
class CastCheck:
    """A declared type whose cast can fail on a value: rows where ``bad`` holds are errors."""

    column: str
    typ: str
    table: Any
    """The table the check reads (the source before its casts)."""
    raw: Any
    """The value as stored (for the message)."""
    bad: Any
    """ibis boolean: the stored value is present but did not convert."""
    problem: str | None = None
    """What is wrong with a bad value (default: it is not of the type); ``fix`` says what to do."""
    fix: str | None = None

    def message(self, source: str, value: object) -> str:
        shown = repr(value) if isinstance(value, str) else str(value)
        problem = self.problem or f"values that are not {self.typ}"
        return f"source '{source}': column '{self.column}' has {problem} (e.g. {shown})"

    def hint(self) -> str:
        return self.fix or str(CAST_HINTS[self.typ])


def prepare(raw: Any, dialect: str, connection_key: str, opts: SourceOptions) -> Relation:
    """A prepared :class:`Relation` from a connector's ibis table."""
    def err(message: str, hint: str | None = None) -> DataError:
        return DataError(f"source '{opts.name}': {message}", where=opts.where, hint=hint)

    table = _renamed(raw, opts, err)
    schema = dict(table.schema().items())
    targets = _targets(table, schema, opts, err)
    local_tz = opts.timezone or "UTC"
    exprs: dict[str, Any] = {}
    instants: dict[str, Any] = {}
    checks: list[CastCheck] = []
    try:
        for col, dtype in schema.items():
            if col in targets:
                exprs[col], col_checks = _cast(table[col], dtype, targets[col], opts, dialect)
                checks.extend(col_checks)
            elif dtype.is_timestamp():
                exprs[col] = localize(table[col], dtype.timezone, local_tz, opts.target_timezone, dialect)
            elif dtype.is_floating() and dialect_for(dialect).stores_non_finite:  # NaN and infinities are refused
                checks.append(finite_check(col, table, table[col]))
            instant = _instant(table[col], dtype, targets.get(col), opts, dialect)
            if instant is not None and col not in opts.derive:  # hour periods need it (sql_time.hour_instant)
                instants[instant_column(col)] = instant
        timed = table.mutate(**exprs, **instants) if instants else None
        table = table.mutate(**exprs) if exprs else table
        if opts.derive:
            table, timed = (_derived(t, opts.derive, opts.target_timezone) if t is not None else None
                            for t in (table, timed))
    except UntranslatableError as exc:
        raise err(exc.message, exc.hint) from None
    pschema = polars_schema(table, opts.target_timezone)
    rel = Relation(source=opts.name, table=table, dialect=dialect, connection_key=connection_key, schema=pschema,
                   frame=None, where=opts.where, checks=tuple(checks), instants=timed)  # type: ignore[arg-type]
    object.__setattr__(rel, "frame", relation_frame(rel))
    return rel


def _derived(table: Any, derive: Mapping[str, str], timezone: str) -> Any:
    """The derived columns, each cast to its one type, as on polars (sources.open_source)."""
    types = derived_types(derive, polars_schema(table, timezone))
    return table.mutate(**{col: _typed(to_ibis(parse(text), table.__getitem__), types[col])
                           for col, text in derive.items()})


def _typed(value: Any, typ: str | None) -> Any:
    return value if typ is None or typ == "datetime" else value.cast(_IBIS_TYPES[typ])


def _renamed(raw: Any, opts: SourceOptions, err: Any) -> Any:
    names = list(raw.columns)
    if not opts.rename:
        return raw
    missing = [old for old in opts.rename if old not in names]
    if missing:
        details = "; ".join(f"'{m}'{did_you_mean(m, names)}" for m in missing)
        raise err(f"cannot rename missing column{'s' if len(missing) > 1 else ''} {details}",
                  hint=_columns_listing(names))
    renamed = [opts.rename.get(c, c) for c in names]
    dupes = sorted({c for c in renamed if renamed.count(c) > 1})
    if dupes:
        raise err(f"renaming would give two columns named {', '.join(repr(d) for d in dupes)}",
                  hint="rename or drop the existing column first")
    return raw.rename({new: old for old, new in opts.rename.items()})


def _targets(table: Any, schema: dict[str, Any], opts: SourceOptions, err: Any) -> dict[str, str]:
    targets: dict[str, str] = {}
    for col, typ in opts.columns.items():
        if typ not in COLUMN_TYPES:
            raise err(f"unknown type '{typ}' for column '{col}'", hint="types are: " + ", ".join(COLUMN_TYPES))
        if col not in schema:
            raise err(f"`columns:` names the missing column '{col}'{did_you_mean(col, list(schema))}",
                      hint=_columns_listing(list(schema)))
        targets[col] = typ
    tcol = opts.time_column
    if tcol and tcol in schema and tcol not in targets and schema[tcol].is_string():
        targets[tcol] = _sniff_time_kind(table, tcol, opts.timestamp_format)
    return targets


def _sniff_time_kind(table: Any, column: str, fmt: str | None) -> str:
    """'date' if a text time column holds plain dates, else 'datetime' (reads 200 values)."""
    if fmt:
        return "datetime" if _has_time(fmt) else "date"
    try:
        values = table.select(column).limit(200).to_pyarrow().column(0).to_pylist()
    except Exception:
        return "datetime"
    texts = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    return "date" if texts and all(_DATE_ONLY.match(v) for v in texts) else "datetime"


def _cast(col: Any, dtype: Any, typ: str, opts: SourceOptions, dialect: str) -> tuple[Any, list[CastCheck]]:
    """The cast of one declared column, and the checks of its values when it can fail on one."""
    import ibis  # optional and heavy: ibis, for database sources

    local_tz, target = opts.timezone or "UTC", opts.target_timezone
    name, table = col.get_name(), opts_table(col)
    if typ == "str":
        return col.cast("string"), []
    if dtype.is_null():
        return ibis.null(_IBIS_TYPES[typ]), []
    if typ == "duration":
        if dtype.is_interval():
            return col, []
        raise UntranslatableError(f"column '{col.get_name()}': durations are not supported on database sources",
                                  "store the duration as a number of seconds (and declare it float)")
    if typ in ("date", "datetime") and dtype.is_numeric():  # integer dates: their digits in the format
        if not opts.timestamp_format:
            raise UntranslatableError(f"column '{col.get_name()}' holds numbers, not dates",
                                      "if they are dates such as 19970101, set the source's `timestamp_format:` to "
                                      "their format, e.g. '%Y%m%d'")
        if "%s" in opts.timestamp_format:
            raise UntranslatableError(f"column '{name}': seconds since 1970 ('%s') are read on polars only",
                                      "store the times as a timestamp type in the database (to_timestamp), or read "
                                      "the source with `engine: polars`")
        col, dtype = col.cast("int64").cast("string"), ibis.dtype("string")
    text = dtype.is_string()
    value = col.strip() if text else col
    converted = _convert(value, dtype, typ, opts, dialect)
    if typ == "datetime" and not text:
        if dtype.is_timestamp():
            converted = localize(col, dtype.timezone, local_tz, target, dialect)
        elif dtype.is_date():
            converted = localize(col.cast("timestamp"), None, local_tz, target, dialect)
    if typ == "date" and dtype.is_timestamp():
        converted = localize(col, dtype.timezone, local_tz, target, dialect).date()
    checked = text or (typ == "int" and (dtype.is_floating() or dtype.is_decimal())) or (
        typ == "bool" and dtype.is_numeric())
    finite = [finite_check(name, table, converted, col)] if typ == "float" and dialect_for(dialect).stores_non_finite \
        else []
    if not checked:
        return converted, finite
    present = value.notnull() & (value != "") if text else value.notnull()
    if typ in ("date", "datetime") and text:
        return _dates_checked(converted, value, typ, present, name, table, opts.timestamp_format, dialect)
    return converted, [CastCheck(name, typ, table, col, present & converted.isnull()), *finite]


def finite_check(name: str, table: Any, value: Any, raw: Any = None) -> CastCheck:
    """NaN and infinities in a float column are bad values (as on polars, sources/casts.py ``finite``)."""
    # x - x is NaN exactly for NaN and ±infinity, on every dialect (Spark's isinf is not translated)
    return CastCheck(name, "float", table, value if raw is None else raw, (value - value).isnan(),
                     f"values that are not {FINITE}", FINITE_HINT)


def _dates_checked(converted: Any, text: Any, typ: str, present: Any, name: str, table: Any, fmt: str | None,
                   dialect: str) -> tuple[Any, list[CastCheck]]:
    """A date parsed from text, null where the text is not written exactly in its format or the date lies
    outside 1900–2200, with a check for each (as on polars, sources/timeformats.py)."""

    import ibis  # ibis: the SQL backend's optional dependency, loaded when a source lives in a database

    lo, hi = (dt.date(MIN_YEAR, 1, 1), dt.date(MAX_YEAR, 12, 31)) if typ == "date" else \
        (dt.datetime(MIN_YEAR, 1, 1), dt.datetime(MAX_YEAR, 12, 31, 23, 59, 59, 999999))
    in_range = (converted >= ibis.literal(lo)) & (converted <= ibis.literal(hi))
    regex = format_regex(fmt) if fmt and dialect_for(dialect).parses_formats else None
    # ISO text: no leap second (PostgreSQL moves 23:59:60 to the next minute, as polars does)
    shaped = text.re_search(regex) if regex else None if fmt else ~text.contains(":60")
    ok = in_range if shaped is None else in_range & shaped
    gated = ibis.cases((ok, converted), else_=ibis.null(converted.type()))
    parse_bad = present & (converted.isnull() if shaped is None else (converted.isnull() | ~shaped))
    checks = [CastCheck(name, typ, table, text, parse_bad,
                        f"values not written as timestamp_format '{fmt}' says" if regex else None,
                        format_hint(fmt) if fmt else None),
              CastCheck(name, typ, table, text, converted.notnull() & ~in_range, f"dates outside {RANGE_TEXT}",
                        format_hint(fmt) if fmt else "fix the value, or set the source's `timestamp_format:` to the "
                        "format the values are in")]
    return gated, checks


def opts_table(col: Any) -> Any:
    """The table a column expression belongs to."""
    return col.op().rel.to_expr()


_IBIS_TYPES = {"str": "string", "int": "int64", "float": "float64", "bool": "boolean", "date": "date",
               "datetime": "timestamp", "duration": "interval"}


def _convert(value: Any, dtype: Any, typ: str, opts: SourceOptions, dialect: str) -> Any:
    import ibis  # optional and heavy: ibis, for database sources

    text = dtype.is_string()
    if typ == "int":
        if text:
            as_float = value.try_cast("float64")
            integral = ibis.cases((as_float.round(0) == as_float, as_float.try_cast("int64")), else_=ibis.null())
            return ibis.coalesce(value.try_cast("int64"), integral)
        if dtype.is_floating() or dtype.is_decimal():
            f = value.cast("float64")
            return ibis.cases((f.round(0) == f, f.try_cast("int64")), else_=ibis.null())
        return value.cast("int64")
    if typ == "float":
        return value.try_cast("float64") if text else value.cast("float64")
    if typ == "bool":
        if text:
            low = value.lower()
            return ibis.cases((low.isin(list(TRUE_WORDS)), True), (low.isin(list(FALSE_WORDS)), False),
                              else_=ibis.null("boolean"))
        if dtype.is_numeric():
            return ibis.cases((value == 1, True), (value == 0, False), else_=ibis.null("boolean"))
        return value.cast("boolean")
    if typ == "date":
        if not text:
            return value if dtype.is_date() else value.cast("date")
        fmt = opts.timestamp_format
        if fmt and not _has_time(fmt):
            return _strptime(value, fmt, dialect).date()
        full = _text_datetime(value, opts, dialect).date()
        if fmt:
            return full
        return ibis.cases((value.re_search(r"^\d{4}-\d{2}-\d{2}$"), value.try_cast("date")), else_=full)
    if typ == "datetime":
        if not text:
            return value
        return _text_datetime(value, opts, dialect)
    raise AssertionError(typ)


def _instant(col: Any, dtype: Any, typ: str | None, opts: SourceOptions, dialect: str) -> Any:
    """The instant of a datetime column as naive UTC time (None: the column holds no datetimes)."""
    local_tz = opts.timezone or "UTC"
    if typ is None or (typ == "datetime" and dtype.is_timestamp()):
        return to_utc(col, dtype.timezone, local_tz, dialect) if dtype.is_timestamp() else None
    if typ == "datetime" and dtype.is_string():
        return _text_datetime(col.strip(), opts, dialect, instant=True)
    return None


def _text_datetime(value: Any, opts: SourceOptions, dialect: str, *, instant: bool = False) -> Any:
    """Wall-clock time in the spec's zone of a text timestamp: ISO 8601 with or without an offset, or
    ``timestamp_format`` (``instant``: its instant, as naive UTC time)."""
    import ibis  # optional and heavy: ibis, for database sources

    local_tz, target = opts.timezone or "UTC", opts.target_timezone

    def convert(ts: Any, stored_tz: str | None) -> Any:
        if instant:
            return to_utc(ts, stored_tz, local_tz, dialect)
        return localize(ts, stored_tz, local_tz, target, dialect)

    fmt = opts.timestamp_format
    if fmt:
        parsed = _strptime(value, fmt, dialect)
        has_zone = any(d in fmt for d in ("%z", "%#z", "%:z", "%Z"))
        return convert(parsed, "UTC" if has_zone else None)
    iso = _iso_offset(value, dialect)
    with_offset = iso.re_search(_OFFSET)
    aware = convert(iso.try_cast("timestamp('UTC')"), "UTC")
    naive = convert(iso.try_cast("timestamp"), None)
    return ibis.cases((with_offset, aware), else_=naive)


def _iso_offset(value: Any, dialect: str) -> Any:
    """ISO 8601 text with its UTC offset written as every dialect reads it: '2026-01-01 09:41 +0000'
    (as X writes it) and '...T09:41Z' become '2026-01-01 09:41:00+00:00' (Spark wants the seconds and
    the colon, DuckDB no space before the offset). Each step reads the text once (a CASE would repeat
    it, and the SQL would grow with every step)."""
    group = dialect_for(dialect).back_reference  # regexp_replace's back-references
    iso = value.replace("T", " ").replace(" +", "+").replace(" -", "-").replace("Z", "+00:00").replace("z", "+00:00")
    iso = iso.re_replace(r"([+-][0-9]{2})([0-9]{2})$", f"{group}1:{group}2")
    return iso.re_replace(r"( [0-9]{2}:[0-9]{2})([+-][0-9]{2}:[0-9]{2})$", f"{group}1:00{group}2")


def _strptime(value: Any, fmt: str, dialect: str) -> Any:
    """Text parsed with ``timestamp_format`` where the database translates it (DuckDB's ``try_strptime``);
    other databases parse text times in their own format languages, so there the column must be typed in
    the database."""
    return dialect_for(dialect).strptime(value, fmt)


def polars_schema(table: Any, target_timezone: str) -> dict[str, pl.DataType]:
    """The polars view of a prepared table: what the polars backend would see after preparation
    (datetimes aware in the spec's time zone)."""
    from ibis.formats.polars import PolarsType  # optional and heavy: ibis, for database sources

    out: dict[str, pl.DataType] = {}
    for col, dtype in table.schema().items():
        if dtype.is_timestamp():
            out[col] = pl.Datetime("us", target_timezone)
        elif dtype.is_decimal():
            out[col] = pl.Float64()
        elif dtype.is_null():
            out[col] = pl.Null()
        else:
            out[col] = PolarsType.from_ibis(dtype)
    return out
