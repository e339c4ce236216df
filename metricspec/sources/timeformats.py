"""What a parsed date must be: written exactly in its format, and between 1900 and 2200.

polars (chrono) and DuckDB parse more than a format says: ``%Y`` takes ``18`` as the year 18 AD
(``4/11/18`` with ``%m/%d/%Y``; Python's strptime refuses it), ``23:59:60`` becomes the next minute,
a space in the format matches no space at all. Rows then fall out of their periods silently. So every
date or datetime parsed from text or numbers passes two checks, on every backend:

* **the format, exactly**: with ``timestamp_format`` a value must match :func:`format_regex` of the
  format (Python's strptime rules: ``%Y`` four digits, ``%y`` two, ``%S`` 00-59 — no leap second;
  ``%y`` refuses ``69``, which Python and DuckDB read as 1969 and polars as 2069);
  the ISO 8601 layouts read without a format refuse a leap second (``:60``);
* **the range**: the parsed date lies in :data:`MIN_YEAR`–:data:`MAX_YEAR` (a two-digit year read
  with ``%Y``, an epoch in the wrong unit, a typo'd year all land outside it).

A value failing either is a bad value: the run stops naming the source, column, value and row.
"""

from __future__ import annotations

import re

__all__ = ["MAX_YEAR", "MIN_YEAR", "RANGE_TEXT", "format_hint", "format_regex"]

MIN_YEAR = 1900
MAX_YEAR = 2200
RANGE_TEXT = f"{MIN_YEAR}–{MAX_YEAR}"

_MONTHS = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
          "oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
_DAYS = "mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
_DAY = "3[01]|[12][0-9]|0?[1-9]| [1-9]"
_H24 = "2[0-3]|[01]?[0-9]"
_H12 = "1[0-2]|0?[1-9]"
_MIN_SEC = "[0-5][0-9]|[0-9]"
_OFFSET = "[+-][0-9]{2}:?[0-9]{2}"

_DIRECTIVES: dict[str, str] = {
    "Y": "[0-9]{4}", "y": "[0-5][0-9]|6[0-8]|[7-9][0-9]", "C": "[0-9]{2}", "m": "1[0-2]|0?[1-9]", "d": _DAY, "e": _DAY,
    "H": _H24, "k": _H24, "I": _H12, "l": _H12, "M": _MIN_SEC, "S": _MIN_SEC, "j": "36[0-6]|3[0-5][0-9]|[12][0-9]{2}|0?[1-9][0-9]|0{0,2}[1-9]",
    "p": "(?i:am|pm)", "P": "(?i:am|pm)", "b": f"(?i:{_MONTHS})", "h": f"(?i:{_MONTHS})", "B": f"(?i:{_MONTHS})",
    "a": f"(?i:{_DAYS})", "A": f"(?i:{_DAYS})", "f": "[0-9]{1,9}", "z": _OFFSET, "Z": "[A-Za-z][A-Za-z0-9_/+-]*",
    "s": "-?[0-9]+", "u": "[1-7]", "w": "[0-6]", "%": "%", "n": r"\s+", "t": r"\s+",
}
_COMPOSITE = {"T": "%H:%M:%S", "R": "%H:%M", "D": "%m/%d/%y", "F": "%Y-%m-%d", "x": "%m/%d/%y", "X": "%H:%M:%S"}
_EXTENDED: list[tuple[re.Pattern[str], str]] = [  # chrono's directives with a modifier ({0}: its digit)
    (re.compile(r"%\.([369])f"), r"\.[0-9]{{{0}}}"),
    (re.compile(r"%([369])f"), "[0-9]{{{0}}}"),
    (re.compile(r"%\.f"), r"(?:\.[0-9]{{1,9}})?"),
    (re.compile(r"%::z"), "[+-][0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}"),
    (re.compile(r"%:z"), "[+-][0-9]{{2}}:[0-9]{{2}}"),
    (re.compile(r"%#z"), "(?:[Zz]|[+-][0-9]{{2}}(?::?[0-9]{{2}})?)"),
]


def format_regex(fmt: str) -> str | None:
    """An anchored regular expression (Rust's and RE2's syntax alike) that a value written exactly in
    strptime format ``fmt`` matches; None when the format holds a directive it does not know (the
    range check still applies)."""
    out: list[str] = ["^"]
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            out.append(r"\s+" if ch.isspace() else re.escape(ch))
            i += 1
            continue
        for pattern, regex in _EXTENDED:
            m = pattern.match(fmt, i)
            if m:
                out.append(regex.format(*m.groups()))
                i = m.end()
                break
        else:
            if i + 1 >= len(fmt):
                return None
            d = fmt[i + 1]
            if d in _COMPOSITE:
                inner = format_regex(_COMPOSITE[d])
                assert inner is not None
                out.append(inner[1:-1])
            elif d in _DIRECTIVES:
                out.append(f"(?:{_DIRECTIVES[d]})")
            else:
                return None
            i += 2
    out.append("$")
    return "".join(out)


def format_hint(fmt: str) -> str:
    """How to write ``timestamp_format`` for the values (the common slips named)."""
    hint = f"the values must be written exactly as timestamp_format '{fmt}' says"
    if "%Y" in fmt:
        hint += ": %Y is a four-digit year (a two-digit year such as 18 needs %y)"
    if "%y" in fmt:
        hint += ": %y reads 00-68 as 2000-2068 and 70-99 as 1970-1999 (69, read differently by polars and "
        "DuckDB, is refused: write four-digit years with %Y)"
    return hint + "; seconds run 00-59 (a leap second 23:59:60 is not accepted)"
