"""Translation and locale formatting for the HTML scorecards.

UI strings live in simple per-language message files, ``metricspec/render/locales/<lang>.json``
(English is the reference; every file has exactly the same keys and ``{placeholders}``). The same
files translate the engine's sentences by their message code (:meth:`Translator.message`).
Numbers, percentages, currencies and dates are formatted with Babel for the language's locale.
See docs/translating.md for how to add a language.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import math
import string
from collections.abc import Mapping
from importlib import resources
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import (
    format_compact_currency,
    format_compact_decimal,
    format_scientific,
    get_minus_sign_symbol,
    get_plus_sign_symbol,
    parse_pattern,
)

from metricspec.engine.results import ENGINE_MESSAGES, PARAM_KINDS, ParamValue, chance_percent
from metricspec.errors import Issue, Level, SpecError
from metricspec.render.numbers import NumberFormat

HUGE = 1e15
"""From this magnitude on numbers are shown in scientific notation (babel's digit patterns fail near 1e308)."""
COMPACT_FROM = 10_000
"""From this magnitude on :meth:`Translator.compact` writes short forms (``11.3k``); below, all digits."""

#: language code -> (Babel locale, d3 format locale used inside charts)
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("en_GB", "en-GB"),
    "es": ("es_ES", "es-ES"),
    "pl": ("pl_PL", "pl-PL"),
}
DEFAULT_LANGUAGE = "en"


def available_languages() -> list[str]:
    return sorted(LANGUAGES)


@functools.cache
def load_messages(lang: str) -> dict[str, str]:
    """The message catalogue of ``lang`` (a copy-safe cached dict)."""
    path = resources.files("metricspec.render").joinpath("locales", f"{lang}.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"locales/{lang}.json must map message ids to strings")
    return data


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Translator:
    """UI strings and locale-aware formatting for one language."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        if lang not in LANGUAGES:
            raise SpecError([Issue(Level.ERROR, f"unknown language '{lang}'", None,
                                   f"use one of: {', '.join(available_languages())}")])
        self.lang = lang
        self.babel_locale, self.chart_locale = LANGUAGES[lang]
        self.locale = Locale.parse(self.babel_locale)
        self.messages = load_messages(lang)
        self.fallback = load_messages(DEFAULT_LANGUAGE)
        self._plus = self.plus_sign = get_plus_sign_symbol(self.locale)
        symbols = self.locale.number_symbols.get("latn", self.locale.number_symbols)
        #: d3-format locale for chart axes, taken from Babel so charts and text agree
        self.chart_format: dict[str, Any] = {"decimal": symbols["decimal"], "thousands": symbols["group"],
                                             "grouping": [3], "currency": ["", ""], "minus": symbols["minusSign"],
                                             "percent": symbols["percentSign"]}
        self._minus = get_minus_sign_symbol(self.locale)
        self._numbers = NumberFormat(self.locale)
        self._periods: dict[tuple[dt.date | None, str, str | None], str] = {}

    # -- strings -----------------------------------------------------------------------------
    def gettext(self, key: str, **kwargs: Any) -> str:
        text = self.messages.get(key) or self.fallback.get(key) or key
        return text.format(**kwargs) if kwargs else text

    __call__ = gettext

    def status(self, status: str) -> str:
        return self.gettext(f"status_{status}")

    def message(self, code: str | None, params: Mapping[str, ParamValue], english: str, unit: str = "number",
                currency: str | None = None, digits: int | None = None) -> str:
        """A sentence of the engine (a goal's status reason or forecast method, a SMART finding, a data note).

        Every language, English included, fills the template of the message ``code`` with its
        ``params`` formatted for the locale (KPI values in ``unit``/``currency``, dates, percentages,
        grains), so ``forecast 0.0166173`` reads ``forecast 1.66%``; ``digits``: the KPI's one precision (its
        tile's and card's), so a goal's headline says ``€400,000`` as its card does. The engine's own ``english``
        text (kept in the JSON output) is shown only when the code is missing (Results written
        before codes existed) or unknown, or when the params do not fit the template.
        """
        if code not in ENGINE_MESSAGES:
            return english
        template = self.messages.get(code) or self.fallback.get(code) or ENGINE_MESSAGES[code]
        values = {name: self._param(name, value, unit, currency, digits) for name, value in params.items()}
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):  # params that do not fit the template: keep the English text
            return english

    def _param(self, name: str, value: ParamValue, unit: str, currency: str | None, digits: int | None = None,
               ) -> str:
        kind = PARAM_KINDS.get(name, "text")
        if kind in ("grain", "group"):
            key = f"{kind}_noun_{value}"
            return self.gettext(key) if key in self.fallback else str(value)
        if kind == "pvalue" and not isinstance(value, str):
            return self.pvalue(value)
        if kind == "date":
            return self.date(str(value))
        if isinstance(value, str) or kind == "text":
            return str(value)
        if kind in ("value", "approx"):
            return self.value(value, unit, currency, digits)
        if kind == "delta":
            return self.delta(value, unit, currency)
        if kind == "decimal":
            return self.number(value, 2)
        if kind == "change":
            return self.percent(value, 2, signed=True)
        if kind == "share":
            return self.percent(value, 0 if float(value * 100).is_integer() else 1)
        if kind == "chance":
            return self.chance(value)
        return self.number(value, 0)

    # -- numbers -----------------------------------------------------------------------------
    def number(self, value: float | None, digits: int | None = None) -> str:
        if value is None:
            return "—"
        if abs(value) >= HUGE:
            return self.huge(value)
        if digits is None:
            if float(value).is_integer() and abs(value) < 1e15:
                digits = 0
            elif abs(value) >= 100:
                digits = 1
            elif abs(value) >= 1:
                digits = 2
            else:
                digits = 3
        return self._numbers.decimal(value, digits)

    def pvalue(self, value: float | None) -> str:
        """A p-value: four decimals, and ``< 0.0001`` rather than a row of zeros."""
        if value is None:
            return "—"
        if 0 <= value < 0.0001:
            return "<\u00a0" + self.number(0.0001, 4)
        return self.number(value, 4)

    def percent(self, value: float | None, digits: int = 1, signed: bool = False) -> str:
        """``0.123`` -> ``12.3%`` (``12,3 %`` in Spanish), in the locale's percent pattern."""
        if value is None:
            return "—"
        if abs(value) >= HUGE:
            return self.huge(value * 100) + "%"
        text = self._numbers.percent(value, digits)
        if text is None:
            pattern = copy.copy(parse_pattern(self.locale.percent_formats[None].pattern))
            pattern.frac_prec = (digits, digits)
            text = str(pattern.apply(value, self.locale))
        if signed and value > 0 and not text.startswith(self._plus):
            text = self._plus + text
        return text

    def chance(self, value: float | None) -> str:
        """A probability as a whole percentage, ``<1%`` and ``>99%`` short of certainty (as the engine's
        English text, :func:`metricspec.engine.results.chance_text`)."""
        if value is None:
            return "—"
        if 0 < value < 0.005:
            return "<" + self.percent(0.01, 0)
        if 0.995 <= value < 1:
            return ">" + self.percent(0.99, 0)
        return self.percent(chance_percent(value) / 100, 0)  # the percentage the status read

    def huge(self, value: float) -> str:
        """Numbers too large for digit patterns (babel cannot quantize 1e308): scientific notation."""
        return str(format_scientific(value, "0.###E0", locale=self.locale))

    def value(self, value: float | None, unit: str = "number", currency: str | None = None,
              digits: int | None = None) -> str:
        """A KPI value in its unit (count, percent, ratio, currency, days, number); counts are whole numbers.

        ``digits`` fixes the decimals (a KPI's one precision, :mod:`metricspec.render.kpi_numbers`): of the
        percentage for percentages, of the amount for money; by default each unit's own."""
        if value is None:
            return "—"
        if unit == "percent":
            return self.percent(value, 1 if digits is None else digits)
        if unit == "count":
            return self.number(float(round(value)), 0) if abs(value) < HUGE else self.huge(value)
        if digits is not None and unit != "currency":
            return self.number(value, digits)
        if unit == "ratio":
            return self.number(value, 3 if abs(value) < 10 else 2)
        if unit == "currency":
            if currency and abs(value) < HUGE:
                return self._numbers.currency(value, currency, digits)
            return self.number(value, 2 if digits is None else digits)
        if unit == "days":
            return self.number(round(value), 0) if float(value).is_integer() else self.number(value, 1)
        return self.number(value)

    def compact(self, value: float | None, unit: str = "number", currency: str | None = None,
                digits: int | None = None) -> str:
        """A value to scan: ``11.3k``, ``€306k``, ``1.2m`` (CLDR's short forms: ``11,3 mil``, ``11,3 tys.``) from
        ten thousand on, three significant digits; smaller values and percentages as :meth:`value`."""
        if value is None or unit == "percent" or abs(value) < COMPACT_FROM or abs(value) >= HUGE:
            return self.value(value, unit, currency, digits)
        magnitude = 10 ** (3 * int(math.log10(abs(value)) // 3))
        fraction = 0 if abs(value) / magnitude >= 100 else 1
        if unit == "currency" and currency:
            return str(format_compact_currency(value, currency, locale=self.locale, fraction_digits=fraction))
        return str(format_compact_decimal(value, locale=self.locale, fraction_digits=fraction))

    def delta(self, value: float | None, unit: str = "number", currency: str | None = None,
              digits: int | None = None, compact: bool = False) -> str:
        """A signed difference: ``+1,234``, ``+2.5 pp`` for percentages (percentage points); ``compact``:
        shortened as :meth:`compact` shortens values (``-€31.5k``), beside a compact value."""
        if value is None:
            return "—"
        if unit == "percent":
            text = self.number(value * 100, 1 if digits is None else digits) + "\u00a0" + self.gettext("unit_pp")
        else:
            text = (self.compact if compact else self.value)(value, unit, currency, digits)
        if value > 0:
            return self._plus + text
        return text

    # -- dates -------------------------------------------------------------------------------
    def date(self, value: dt.date | str | None) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
            if len(value) <= 10:
                return str(format_date(parsed.date(), "medium", locale=self.locale))
            return str(format_datetime(parsed, "medium", locale=self.locale, tzinfo=parsed.tzinfo))
        return str(format_date(value, "medium", locale=self.locale))

    def period(self, start: dt.date | None, grain: str, label: str | None = None) -> str:
        """A period for people: ``Sep 2026`` for a month, ``2026-W37`` for a week (remembered: a build
        names the same periods thousands of times, and Babel's date patterns are slow)."""
        key = (start, grain, label)
        if key not in self._periods:
            self._periods[key] = self._period(start, grain, label)
        return self._periods[key]

    def _period(self, start: dt.date | None, grain: str, label: str | None) -> str:
        if start is None:
            return self.gettext("period_all_time") if grain == "all" else (label or "—")
        if grain == "month":
            return str(format_skeleton("yMMM", start, locale=self.locale))
        if grain == "day":
            return str(format_date(start, "medium", locale=self.locale))
        if grain == "year":
            return str(start.year)
        return label or start.isoformat()

    def grain_noun(self, grain: str) -> str:
        """``month``, ``mes``, ``miesiąc``: a grain as a noun."""
        key = f"grain_noun_{grain}"
        return self.gettext(key) if key in self.fallback else grain

    def grain(self, grain: str) -> str:
        return self.gettext(f"grain_{grain}") if f"grain_{grain}" in self.fallback else grain
