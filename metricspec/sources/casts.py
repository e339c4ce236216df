"""Casts of source columns to the types a spec declares, as native polars expressions.

Every cast that can fail on a value is a :class:`Cast`: an expression for the converted
value (null where a value does not convert) and an expression that is true on the rows
whose value is present but did not convert. :func:`checked` turns a cast into the column
a run reads: it makes the lazy query fail (a polars error) as soon as one value is bad,
so no number is ever computed from a silently dropped value; the caller then finds the
first bad row with :meth:`Cast.bad` (see :func:`metricspec.sources.prepare.first_bad_value`)
and reports source, column, value and row.

Each conversion has a fast path -- what a hand-written polars program would do, e.g.
``str.to_datetime`` with the one format the values have -- and a lenient path that only
sees the values the fast path could not convert (surrounding blanks, another ISO 8601
layout, ``30.0`` for an int), so the common case costs what the hand-written query costs.

Text timestamps without ``timestamp_format`` are parsed with the format found on a sample
of the column (:func:`sniff_formats`); values in other ISO 8601 layouts still convert
through the lenient path. polars is imported inside functions only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from metricspec.sources.timeformats import MAX_YEAR, MIN_YEAR, format_regex

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "AUTO_DATETIME_FORMATS",
    "CAST_HINTS",
    "Cast",
    "cast_expr",
    "checked",
    "dtype_of",
    "has_time",
    "is_aware",
    "plain_cast",
    "sniff_formats",
    "to_target_tz",
]

TRUE_WORDS = ("true", "yes", "1", "t", "y")
FALSE_WORDS = ("false", "no", "0", "f", "n")

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
"""ISO 8601-like layouts accepted for text timestamps without ``timestamp_format``.

They cannot disagree on a value (each fixes the order of year, month and day), so the
order only matters for speed; there is deliberately no day-first/month-first guessing.
"""

SNIFF_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%#z",
    "%Y-%m-%d %H:%M:%S%#z",
    "%Y-%m-%d %H:%M:%S %#z",
    *AUTO_DATETIME_FORMATS,
)
"""Candidates tried on a sample, most specific first: polars parses ``%H:%M:%S`` without a
fraction several times faster than ``%H:%M:%S%.f``, so that is preferred when it fits."""

SNIFF_ROWS = 1000
"""Values of a text time column looked at to choose its format."""

_TIME_DIRECTIVES = re.compile(r"%[HIMSpzZTRcsfkl]|%\.f|%#z|%:z|%\.\d?f")
_ZONE_DIRECTIVES = re.compile(r"%z|%#z|%:z|%::z|%Z")

FINITE = "finite numbers"
FINITE_HINT = ("NaN and infinities are not values a KPI can add up: list their spelling under the connector's "
               "`null_values:` (e.g. [NaN, inf]) to read them as missing, or write them as empty cells or NULL")

CAST_HINTS = {
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


def has_time(fmt: str) -> bool:
    """Whether a strptime format has a time of day (else it describes dates)."""
    return bool(_TIME_DIRECTIVES.search(fmt))


def is_aware(fmt: str) -> bool:
    """Whether values parsed with ``fmt`` carry their UTC offset or zone."""
    return bool(_ZONE_DIRECTIVES.search(fmt))


@dataclass(frozen=True)
class Cast:
    """A conversion of one column that can fail on a value.

    ``value`` is the converted column (null where a value did not convert); ``present`` is
    true where there is a value (not null, not blank), so ``bad`` -- present but not
    converted -- says which values are wrong. ``strict``, when set, is the same conversion
    done with polars' strict casts and parsers: it raises by itself on a value it cannot
    convert, at no extra cost (the fast path); without it the query checks ``bad``.
    """

    column: str
    typ: str
    value: pl.Expr
    present: pl.Expr
    strict: pl.Expr | None = None
    parsed: pl.Expr | None = None
    """A date or datetime parsed from text or numbers: the value before the checks of its format and
    range (:mod:`.timeformats`), which tells why a value is bad."""
    fmt: str | None = None
    """The ``timestamp_format`` a parsed date was read with."""
    what: str | None = None
    """What a value that converts but is refused is not (``finite numbers`` for NaN and infinities)."""

    @property
    def bad(self) -> pl.Expr:
        return self.present & self.value.is_null()


def checked(casts: Sequence[Cast]) -> tuple[list[pl.Expr], list[pl.Expr], list[str]]:
    """The cast columns, failing the query on the first bad value (a polars error).

    Returns two lists of expressions for two ``with_columns`` and the temporary columns to
    drop after them: strict casts raise by themselves; the others are computed once into a
    temporary column, then checked (a strict cast of a marker that is never a number raises
    exactly when some row is bad).
    """
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    first: list[pl.Expr] = []
    second: list[pl.Expr] = []
    temporary: list[str] = []
    for i, cast in enumerate(casts):
        if cast.strict is not None:
            first.append(cast.strict.alias(cast.column))
            continue
        tmp = f"__metricspec_cast{i}__"
        first.append(cast.value.alias(tmp))
        temporary.append(tmp)
        value = pl.col(tmp)
        alarm = pl.when(cast.present & value.is_null()).then(pl.lit("\x00bad value")).cast(pl.Int8, strict=True)
        second.append(pl.when(alarm.is_null()).then(value).alias(cast.column))
    return first, second, temporary


def dtype_of(typ: str, target_tz: str) -> Any:
    """The polars dtype a ``columns:`` type becomes."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    return {
        "str": pl.String,
        "int": pl.Int64,
        "float": pl.Float64,
        "bool": pl.Boolean,
        "date": pl.Date,
        "datetime": pl.Datetime("us", target_tz),
        "duration": pl.Duration("us"),
    }[typ]


def to_target_tz(expr: pl.Expr, dtype: Any, local_tz: str, target_tz: str) -> pl.Expr | None:
    """Expression converting a datetime column to ``target_tz`` (None when already there)."""
    tz = getattr(dtype, "time_zone", None)
    if tz is None:
        return _localise(expr, local_tz, target_tz)
    if tz == target_tz:
        return None
    return expr.dt.convert_time_zone(target_tz)


def _localise(naive: pl.Expr, local_tz: str, target_tz: str, *, strict: bool = False) -> pl.Expr:
    """Naive local times in ``local_tz`` as aware times in ``target_tz``.

    Ambiguous times (a clock set back) take the earlier instant; times skipped by a clock
    set forward become null, so a cast reports them as bad values (with ``strict``, polars
    raises on them).
    """
    aware = naive.dt.replace_time_zone(local_tz, ambiguous="earliest", non_existent="raise" if strict else "null")
    return aware if local_tz == target_tz else aware.dt.convert_time_zone(target_tz)


def plain_cast(col: str, dtype: Any, typ: str, local_tz: str, target_tz: str) -> pl.Expr | None:
    """A cast that cannot fail on a value, as a plain expression; None if it needs checking."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    c = pl.col(col)
    if typ == "str":
        return c.cast(pl.String)
    if typ in ("int", "float") and (dtype.is_integer() or dtype == pl.Boolean):
        return c.cast(pl.Int64 if typ == "int" else pl.Float64)
    if (typ == "bool" and dtype == pl.Boolean) or (typ == "date" and dtype == pl.Date):
        return c
    if typ in ("date", "datetime") and dtype == pl.Datetime:
        conv = to_target_tz(c, dtype, local_tz, target_tz)
        out = conv if conv is not None else c
        return (out.dt.date() if typ == "date" else out).alias(col)
    if typ == "datetime" and dtype == pl.Date:
        return _localise(c.cast(pl.Datetime("us")), local_tz, target_tz).alias(col)
    if typ == "duration" and dtype == pl.Duration:
        return c.cast(pl.Duration("us"))
    if dtype == pl.Null:
        return c.cast(dtype_of(typ, target_tz))
    return None


# ------------------------------------------------------------------------------ sniffing


def sniff_formats(values: Sequence[str]) -> list[str]:
    """The formats (of :data:`SNIFF_FORMATS`) that parse a sample of text timestamps, most
    values first; at most three. Values no format parses are left to the lenient path."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    todo = pl.Series([v.strip() for v in values if v and v.strip()], dtype=pl.String)
    chosen: list[str] = []
    while todo.len() and len(chosen) < 3:
        best: tuple[int, str, pl.Series] | None = None
        for fmt in SNIFF_FORMATS:
            if fmt in chosen:
                continue
            parsed = _parse_series(todo, fmt)
            hits = todo.len() - parsed.null_count()
            if hits and (best is None or hits > best[0]):
                best = (hits, fmt, parsed)
                if hits == todo.len():
                    break
        if best is None:
            break
        chosen.append(best[1])
        todo = todo.filter(best[2].is_null())
    return chosen


def _parse_series(values: pl.Series, fmt: str) -> pl.Series:
    if has_time(fmt):
        return values.str.to_datetime(fmt, strict=False, time_unit="us")
    return values.str.to_date(fmt, strict=False)


# ------------------------------------------------------------------------------ casts


def cast_expr(col: str, dtype: Any, typ: str, *, fmt: str | None, formats: Sequence[str],
              local_tz: str, target_tz: str, lenient: bool = True) -> Cast:
    """The checked conversion of column ``col`` (of polars type ``dtype``) to ``typ``.

    ``fmt`` is the source's ``timestamp_format``; ``formats`` the formats sniffed from a
    sample of a text column (used first when there is no ``fmt``). Without ``lenient``, a
    text column gets only the fast path (a value it misses counts as bad): what a source
    uses when its sample shows the fast path is enough (see ``prepare_source``).
    """
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    raw = pl.col(col)
    if typ == "float" and (dtype.is_float() or dtype == pl.Decimal):
        return finite(col, raw.cast(pl.Float64), cheap=True)
    if dtype == pl.String:
        fast = None if lenient else _fast_text(raw, typ, fmt, formats, local_tz, target_tz)
        if typ == "float":  # 'NaN' and 'inf' convert but are refused
            cast = Cast(col, typ, fast, raw.is_not_null()) if fast is not None else \
                _from_text(col, raw, typ, fmt, formats, local_tz, target_tz)
            return replace(finite(col, cast.value), present=cast.present)
        if typ in ("date", "datetime"):  # checked for its format and range: no strict shortcut
            cast = Cast(col, typ, fast, raw.is_not_null()) if fast is not None else \
                _from_text(col, raw, typ, fmt, formats, local_tz, target_tz)
            return _dates_checked(cast, raw if fast is not None else raw.str.strip_chars(), fmt, target_tz)
        if fast is not None:
            strict = _fast_text(raw, typ, fmt, formats, local_tz, target_tz, strict=True)
            return Cast(col, typ, fast, raw.is_not_null(), strict)
        return _from_text(col, raw, typ, fmt, formats, local_tz, target_tz)
    if typ in ("date", "datetime") and dtype.is_numeric() and fmt:
        # integer dates such as 19970101 with timestamp_format '%Y%m%d': parse their digits
        whole = _integral(raw.cast(pl.Float64)) if dtype.is_float() or dtype == pl.Decimal else raw.cast(pl.Int64)
        digits = whole.cast(pl.String)  # 19970101.5 is no date: null, so a bad value
        text = _from_text(col, digits, typ, fmt, (), local_tz, target_tz)
        return _dates_checked(Cast(col, typ, text.value, raw.is_not_null()), digits, fmt, target_tz)
    value = _from_value(raw, dtype, typ, local_tz, target_tz)
    return Cast(col, typ, value, raw.is_not_null())


def finite(col: str, value: pl.Expr, *, cheap: bool = False) -> Cast:
    """``value`` (a float column) checked to be finite: NaN and infinities are bad values.

    ``cheap``: ``value`` is a stored column (no conversion to compute twice), so the check raises by
    itself in the one projection that reads it (:func:`checked`'s strict path)."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    strict = None
    if cheap:
        alarm = pl.when(~value.is_finite()).then(pl.lit("\x00bad value")).cast(pl.Int8, strict=True)
        strict = pl.when(alarm.is_null()).then(value)
    return Cast(col, "float", pl.when(value.is_finite()).then(value), value.is_not_null(), strict=strict,
                parsed=value, what=FINITE)


def date_bounds(typ: str, target_tz: str) -> tuple[pl.Expr, pl.Expr]:
    """The first and last allowed value of a date or datetime column (``MIN_YEAR`` .. ``MAX_YEAR``)."""

    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    if typ == "date":
        return pl.lit(dt.date(MIN_YEAR, 1, 1)), pl.lit(dt.date(MAX_YEAR, 12, 31))
    zone = ZoneInfo(target_tz)
    dtype = pl.Datetime("us", target_tz)
    return (pl.lit(dt.datetime(MIN_YEAR, 1, 1, tzinfo=zone), dtype=dtype),
            pl.lit(dt.datetime(MAX_YEAR, 12, 31, 23, 59, 59, 999999, tzinfo=zone), dtype=dtype))


def _dates_checked(cast: Cast, text: pl.Expr, fmt: str | None, target_tz: str) -> Cast:
    """``cast`` (a date or datetime parsed from ``text``) null where the text is not written exactly in
    its format (``timestamp_format``; without one, a leap second) or the date lies outside
    ``MIN_YEAR`` .. ``MAX_YEAR``, so that such a value is a bad value (see :mod:`.timeformats`)."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    lo, hi = date_bounds(cast.typ, target_tz)
    ok = (cast.value >= lo) & (cast.value <= hi)
    regex = format_regex(fmt) if fmt else None
    if regex is not None:
        ok = ok & text.str.contains(regex)
    elif not fmt:
        ok = ok & ~text.str.contains(":60", literal=True)
    return Cast(cast.column, cast.typ, pl.when(ok).then(cast.value), cast.present, parsed=cast.value, fmt=fmt)


def _from_value(raw: pl.Expr, dtype: Any, typ: str, local_tz: str, target_tz: str) -> pl.Expr:
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    if typ == "int":
        if dtype.is_float() or dtype == pl.Decimal:
            return _integral(raw.cast(pl.Float64))
        return raw.cast(pl.Int64, strict=False)
    if typ == "float":
        return raw.cast(pl.Float64, strict=False)
    if typ == "bool":
        if dtype.is_numeric():
            f = raw.cast(pl.Float64)
            return pl.when(f == 1).then(True).when(f == 0).then(False).otherwise(None)
        return raw.cast(pl.Boolean, strict=False)
    if typ == "datetime":  # numbers are dates only with a format (prepare_source refuses them without)
        return _localise(raw.cast(pl.Datetime("us"), strict=False), local_tz, target_tz)
    if typ == "date":
        return raw.cast(pl.Date, strict=False)
    assert typ == "duration"
    if dtype.is_numeric():
        return _seconds(raw.cast(pl.Float64))
    return raw.cast(pl.Duration("us"), strict=False)


def _integral(f: pl.Expr) -> pl.Expr:
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    ok = f.is_finite() & (f.round(0) == f) & (f.abs() < 2.0**63)
    return pl.when(ok).then(f).cast(pl.Int64, strict=False)


def _seconds(seconds: pl.Expr) -> pl.Expr:
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    return (seconds * 1_000_000).round(0).cast(pl.Int64, strict=False).cast(pl.Duration("us"))


def _from_text(col: str, raw: pl.Expr, typ: str, fmt: str | None, formats: Sequence[str],
               local_tz: str, target_tz: str) -> Cast:
    """A text column: the fast path on the raw values, the lenient path on what it missed."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    fast = _fast_text(raw, typ, fmt, formats, local_tz, target_tz)
    stripped = (raw if fast is None else pl.when(fast.is_null()).then(raw)).str.strip_chars()
    rest = pl.when(stripped != "").then(stripped)  # blank values are missing, not bad
    lenient = _lenient_text(rest, typ, fmt, formats, local_tz, target_tz)
    value = lenient if fast is None else pl.coalesce(fast, lenient)
    present = raw.str.strip_chars().str.len_bytes() > 0
    return Cast(col, typ, value, present.fill_null(False))


def _fast_text(raw: pl.Expr, typ: str, fmt: str | None, formats: Sequence[str],
               local_tz: str, target_tz: str, *, strict: bool = False) -> pl.Expr | None:
    """What a hand-written query does: one cast, or ``str.to_datetime`` with one format.

    With ``strict`` polars raises on a value it cannot convert (a local time skipped by a
    daylight-saving change included) instead of giving null.
    """
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    if typ == "int":
        return raw.cast(pl.Int64, strict=strict)
    if typ in ("float", "duration"):
        f = raw.cast(pl.Float64, strict=strict)
        return f if typ == "float" else _seconds(f)
    primary = fmt or (formats[0] if formats else None)
    if primary is None or typ not in ("date", "datetime"):
        return None
    if typ == "date" and not has_time(primary):
        return raw.str.to_date(primary, strict=strict)
    parsed = _parse_datetime(raw, primary, local_tz, target_tz, strict=strict)
    return parsed.dt.date() if typ == "date" else parsed


def _parse_datetime(text: pl.Expr, fmt: str, local_tz: str, target_tz: str, *, strict: bool = False) -> pl.Expr:
    """Text parsed with one format, as aware datetimes in ``target_tz`` (null where it does not fit)."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    if not has_time(fmt):
        naive = text.str.to_date(fmt, strict=strict).cast(pl.Datetime("us"))
        return _localise(naive, local_tz, target_tz, strict=strict)
    parsed = text.str.to_datetime(fmt, strict=strict, time_unit="us")
    if "%s" in fmt:  # seconds since 1970-01-01 UTC: an instant, whatever the source's time zone
        return parsed.dt.replace_time_zone("UTC").dt.convert_time_zone(target_tz)
    if is_aware(fmt):  # polars gives UTC
        return parsed if target_tz == "UTC" else parsed.dt.convert_time_zone(target_tz)
    return _localise(parsed, local_tz, target_tz, strict=strict)


def _all_datetimes(text: pl.Expr, fmt: str | None, formats: Sequence[str], local_tz: str,
                   target_tz: str) -> pl.Expr:
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    tried = (fmt,) if fmt else tuple(dict.fromkeys([*formats, *AUTO_DATETIME_FORMATS]))
    return pl.coalesce([_parse_datetime(text, f, local_tz, target_tz) for f in tried])


def _lenient_text(rest: pl.Expr, typ: str, fmt: str | None, formats: Sequence[str],
                  local_tz: str, target_tz: str) -> pl.Expr:
    """Conversions of stripped, non-blank text (null where a value does not convert)."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    if typ == "int":
        return rest.cast(pl.Int64, strict=False).fill_null(_integral(rest.cast(pl.Float64, strict=False)))
    if typ == "float":
        return rest.cast(pl.Float64, strict=False)
    if typ == "bool":
        mapping = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}
        return rest.str.to_lowercase().replace_strict(mapping, default=None, return_dtype=pl.Boolean)
    if typ == "datetime":
        return _all_datetimes(rest, fmt, formats, local_tz, target_tz)
    if typ == "date":
        if fmt and not has_time(fmt):
            return rest.str.to_date(fmt, strict=False)
        dates = _all_datetimes(rest, fmt, formats, local_tz, target_tz).dt.date()
        return dates if fmt else rest.str.to_date("%Y-%m-%d", strict=False).fill_null(dates)
    assert typ == "duration"
    return _duration_text(rest)


def _duration_text(s: pl.Expr) -> pl.Expr:
    """Seconds, [H:]MM:SS or ISO 8601 (PnDTnHnMnS) text as durations."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

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
    any_part = pl.any_horizontal([p.is_not_null() for p in parts])
    from_iso = parts[0].fill_null(0) * 86400 + parts[1].fill_null(0) * 3600 + parts[2].fill_null(0) * 60 \
        + parts[3].fill_null(0)
    total = pl.coalesce(seconds, from_clock, pl.when(any_part).then(from_iso))
    return _seconds(total)
