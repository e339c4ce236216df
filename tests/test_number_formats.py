"""Numbers as people read them (issue 13): no raw floats in HTML, Markdown, terminal or ``check`` output.

On every example spec: the visible text (and the accessible names) of every page of the site in
English, Spanish and Polish, the Markdown and terminal outputs of ``run``, and ``check`` against a
baseline taken two months earlier show KPI values in their unit and precision (``1.7%``,
``€45.85``, ``11,303``), never ``0.0168253`` or ``1.2e+06``. Plus properties of the formatter.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricspec.render.i18n import Translator

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
AS_OF = dt.date(2026, 11, 1)
#: a decimal with five or more fraction digits, or a number in e-notation: not how a KPI reads
RAW_FLOAT = re.compile(r"(?<![\w.,])\d+[.,]\d{5,}(?!\d)|\b\d(?:[.,]\d+)?e[+-]?\d+\b", re.IGNORECASE)


class Text(HTMLParser):
    """Visible text and accessible names (aria-label, title) of a page; scripts, styles and drawn SVG skipped."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "svg"):
            self.skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "svg"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible(html: str) -> str:
    p = Text()
    p.feed(html)
    return " ".join(p.parts)


def raw_floats(text: str) -> list[str]:
    return [m.group(0) for m in RAW_FLOAT.finditer(text)]


@pytest.fixture(scope="module")
def results():
    from metricspec.cli.runner import run_specs

    return run_specs([EXAMPLES], as_of=AS_OF).results


def test_the_pattern_finds_raw_floats():
    assert raw_floats("forecast 0.0166173 misses the target 0.02; 1.2e+06; 12,34567") == [
        "0.0166173", "1.2e+06", "12,34567"]
    assert raw_floats("1.7% · €45.85 · 1,200,000 · 12.345,68 € · 0.0638 · 2026-W37 · 1\u00a0234,5") == []


@pytest.mark.parametrize("lang", ["en", "es", "pl"])
def test_no_raw_floats_on_any_page(results, tmp_path, lang):
    from metricspec.render.site import build_site

    files = build_site(results, tmp_path / "site", lang)
    pages = [f for f in files if f.suffix == ".html"]
    assert len(pages) > 100
    found = {}
    for page in pages:
        bad = raw_floats(visible(page.read_text(encoding="utf-8")))
        if bad:
            found[str(page.relative_to(tmp_path))] = bad[:5]
    assert not found, found


def test_no_raw_floats_in_markdown_and_the_terminal_table(results):
    from metricspec.cli.runner import RunOutcome

    outcome = RunOutcome(results=results)
    for fmt in ("markdown", "table"):
        text = outcome.render(fmt)
        assert len(text) > 5000
        assert raw_floats(text) == [], fmt
    table = outcome.render("table")
    assert "0.0168253" not in table and "1.7%" in table  # the CTR goal's SMART finding and value


def test_no_raw_floats_in_check_output(results, tmp_path):
    from metricspec.check.baseline import baseline_document, dumps, snapshot
    from metricspec.check.render import render as render_report
    from metricspec.check.runner import check_paths, load_specs
    from metricspec.engine.run import evaluate

    loaded, _, _ = load_specs([EXAMPLES])
    earlier = {s.spec.name: snapshot(evaluate(s, as_of=dt.date(2026, 9, 1)), s) for s in loaded}
    path = tmp_path / "baseline.json"
    path.write_text(dumps(baseline_document(earlier)), encoding="utf-8")
    report, _ = check_paths([EXAMPLES], baseline=path, as_of=AS_OF)
    assert report.findings, "two months later some goals moved"
    for fmt in ("table", "markdown"):
        text = render_report(report, fmt)
        assert raw_floats(text) == [], (fmt, raw_floats(text))
    text = render_report(report, "table")
    assert "current 4.9%  target 6.0%" in text  # the Instagram engagement rate, a percentage
    assert "current €45.85  target €40.00" in text  # CAC in the spec's currency
    assert "target 1,200,000" in text and "1.2e+06" not in text
    assert re.search(r"moved the wrong way \(direction decrease\) by €\d+\.\d\d \(\d+\.\d%\)", text)
    # the JSON report keeps the numbers as numbers
    assert '"current": 0.0487' in render_report(report, "json")


# -- the formatter ----------------------------------------------------------------------------------

DIGITS = {"percent": 1, "currency": 2, "count": 1, "days": 1, "ratio": 3, "number": 3}


def parse(text: str, tr: Translator) -> float:
    """A formatted number back to a float (locale separators, signs, units and symbols removed)."""
    symbols = tr.locale.number_symbols.get("latn", tr.locale.number_symbols)
    body = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    body = body.replace(symbols["group"], "").replace(symbols["decimal"], ".")
    body = body.replace(symbols["minusSign"], "-").replace("\u2212", "-")
    body = re.sub(r"[^0-9.\-]", "", body)
    return float(body)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.sampled_from(sorted(DIGITS)),
       st.sampled_from(["en", "es", "pl"]))
def test_values_read_back_within_their_precision(value, unit, lang):
    tr = Translator(lang)
    text = tr.value(value, unit, "EUR" if unit == "currency" else None)
    assert raw_floats(text) == []
    digits = re.split(re.escape(tr.locale.number_symbols.get("latn", tr.locale.number_symbols)["decimal"]),
                      text.replace("\u00a0", " "))
    fraction = re.match(r"\d*", digits[1]).group(0) if len(digits) > 1 else ""
    assert len(fraction) <= DIGITS[unit], text
    shown = parse(text, tr) / (100 if unit == "percent" else 1)
    step = 10.0 ** -len(fraction) / (100 if unit == "percent" else 1)
    assert math.isclose(shown, value, abs_tol=step / 2 + 1e-9 * max(1.0, abs(value))), (value, text)


# -- the fast formatter is Babel ----------------------------------------------------------------------------


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e18, max_value=1e18),
                 st.integers(-10**12, 10**12),
                 st.decimals(places=4, min_value=-10**6, max_value=10**6).map(float)),
       st.integers(0, 4), st.sampled_from(["en", "es", "pl"]), st.sampled_from(["EUR", "PLN", "USD", "JPY"]))
def test_fast_number_formats_equal_babels(value, digits, lang, currency):
    import copy

    from babel.numbers import format_currency, format_decimal, parse_pattern

    from metricspec.render.numbers import NumberFormat

    tr = Translator(lang)
    fast = NumberFormat(tr.locale)
    assert fast.decimal(value, digits) == format_decimal(value, "#,##0" + ("." + "0" * digits if digits else ""),
                                                         locale=tr.locale)
    pattern = copy.copy(parse_pattern(tr.locale.percent_formats[None].pattern))
    pattern.frac_prec = (digits, digits)
    assert fast.percent(value, digits) == pattern.apply(value, tr.locale)
    assert fast.currency(value, currency) == format_currency(value, currency, locale=tr.locale)


def test_fast_formats_of_edges():
    from babel.numbers import format_decimal

    from metricspec.render.numbers import NumberFormat

    en = NumberFormat(Translator("en").locale)
    assert en.decimal(2.675, 2) == "2.68" and en.decimal(0.125, 2) == "0.12"  # the decimal value, half-even
    assert en.decimal(-0.001, 2) == "-0.00"
    assert en.decimal(float("nan"), 1) == format_decimal(float("nan"), "#,##0.0", locale=en.locale)  # Babel's
    assert en.decimal(1e30, 2) == "1,000,000,000,000,000,000,000,000,000,000.00"  # Babel's context fails here
    assert en.currency(-1234.5, "EUR") == "-€1,234.50" and en.currency(1234.4, "JPY") == "JP¥1,234"  # no decimals
    assert NumberFormat(Translator("es").locale).percent(0.123, 1) == "12,3\u00a0%"
