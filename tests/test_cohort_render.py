"""The cohort table of a cohort_retention KPI on the HTML scorecard (a heat-table with the numbers in
its cells, accessible, escaped), the KPI page of a site, and Markdown."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from metricspec.engine.results import Results
from metricspec.engine.run import evaluate
from metricspec.loader import load_spec
from metricspec.render.cohorts import heat_level
from metricspec.render.html import render_scorecard
from metricspec.render.markdown import results_markdown

AS_OF = dt.date(2026, 5, 20)
EVIL = "<script>alert(1)</script> & *bold* | pipe"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    d = tmp_path_factory.mktemp("cohort_render")
    # January: a, b, c start; a buys in Feb and Mar, b in Mar. February: d starts, buys in April.
    rows = [("a", "2026-01-03"), ("b", "2026-01-10"), ("c", "2026-01-30"), ("a", "2026-02-14"),
            ("a", "2026-03-01"), ("b", "2026-03-31"), ("d", "2026-02-02"), ("d", "2026-04-30"), ("e", "2026-05-02")]
    pl.DataFrame({"customer_id": [r[0] for r in rows], "ordered_at": [r[1] for r in rows]}).write_csv(d / "o.csv")
    (d / "s.yaml").write_text(textwrap.dedent(f"""
        name: render
        sources:
          orders: {{connector: csv, options: {{path: o.csv}}, time_column: ordered_at, columns: {{ordered_at: date}}}}
        kpis:
          m1:
            title: "{EVIL}"
            cohort_retention: {{source: orders, key: customer_id, period: month, age: 1, max_age: 3}}
            unit: percent
          orders: {{source: orders, agg: count}}
        """))
    return evaluate(load_spec(d / "s.yaml"), as_of=AS_OF)


class Cells(HTMLParser):
    """The cohort tables of a page: caption, header cells (with scope) and body rows (cell text, class)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._in: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("class") == "cohort-table":
            self.tables.append({"caption": "", "head": [], "rows": []})
        elif self.tables and tag == "caption":
            self._in = "caption"
        elif self.tables and tag == "tr":
            self.tables[-1]["rows"].append([])
        elif self.tables and tag in ("th", "td"):
            self._cell = [tag, a.get("scope") or "", a.get("class") or "", ""]

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in = None
        elif tag in ("th", "td") and self._cell is not None and self.tables:
            self.tables[-1]["rows"][-1].append(tuple(self._cell))
            self._cell = None
        elif tag == "table":
            self._in = None

    def handle_data(self, data):
        if self._in == "caption":
            self.tables[-1]["caption"] += data
        elif self._cell is not None:
            self._cell[3] += data


def cohort_tables(html: str) -> list[dict]:
    p = Cells()
    p.feed(html)
    return p.tables


def test_the_table_holds_the_triangle(results: Results) -> None:
    table = results.kpi("m1").cohorts
    assert table is not None
    got = [(r.label, r.size, r.retained) for r in table.rows]
    # age 3 of January is April (over by May 20), of February May (not over); e's May cohort is not over
    assert got == [("2026-01", 3, [3, 1, 2, 0]), ("2026-02", 1, [1, 0, 1, None])]
    assert [p.value for p in results.kpi("m1").series[0].points[:2]] == [pytest.approx(1 / 3), 0.0]


def test_scorecard_heat_table_is_accessible_with_numbers_in_cells(results: Results) -> None:
    html = render_scorecard(results, "en")
    [t] = cohort_tables(html)
    assert EVIL in t["caption"] and "share of each cohort (by month of first event)" in t["caption"]
    header, *body = t["rows"]
    assert [c[3] for c in header] == ["Cohort", "Size", "Month 0", "Month 1", "Month 2", "Month 3"]
    assert all(c[0] == "th" and c[1] == "col" for c in header)
    assert [c[3] for c in body[0]] == ["Jan 2026", "3", "100.0%", "33.3%", "66.7%", "0.0%"]
    assert body[0][0][:2] == ("th", "row")
    assert [c[2] for c in body[0][2:]] == ["num heat heat-10", "num heat heat-3", "num heat heat-7",
                                           "num heat heat-0"]
    assert body[1][5][2] == "num heat heat-none"
    assert [c[3] for c in body[1]] == ["Feb 2026", "1", "100.0%", "0.0%", "100.0%", "—"]
    assert "has not ended yet" in html
    # escaped everywhere, never markup
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html == render_scorecard(results, "en")  # same Results, same bytes


def test_the_heat_shades_are_in_the_stylesheet_with_readable_text(results: Results) -> None:
    html = render_scorecard(results, "en")
    for level in range(11):
        m = re.search(rf"\.cohort-table td\.heat-{level} {{ background: hsl\(210 75% ([\d.]+)%\); }}", html)
        assert m and float(m.group(1)) >= 60, level  # light enough for the dark text (WCAG AA)
    assert heat_level(None) is None and heat_level(0.0) == 0 and heat_level(1.0) == 10 and heat_level(0.34) == 3


def test_other_languages_translate_the_table(results: Results) -> None:
    [t] = cohort_tables(render_scorecard(results, "es"))
    assert [c[3] for c in t["rows"][0]][:3] == ["Cohorte", "Tamaño", "Mes 0"]
    assert t["rows"][1][3][3].replace("\xa0", " ") == "33,3 %"


def test_markdown_has_the_table_escaped(results: Results) -> None:
    md = results_markdown(results)
    assert "### Cohorts: \\<script\\>alert(1)\\</script\\> & \\*bold\\* \\| pipe" in md
    assert "| Cohort | Size | Month 0 | Month 1 | Month 2 | Month 3 |" in md
    assert "| 2026-01 | 3 | 100.0% | 33.3% | 66.7% | 0.0% |" in md
    assert "| 2026-02 | 1 | 100.0% | 0.0% | 100.0% | — |" in md


def test_the_site_kpi_page_shows_the_table(results: Results, tmp_path: Path) -> None:
    from metricspec.render.site import build_site

    build_site([results], tmp_path / "site")
    pages = [p for p in (tmp_path / "site").rglob("*.html") if cohort_tables(p.read_text(encoding="utf-8"))]
    # on a site a KPI's charts and tables are on its page (the scorecard's tile links there), not twice
    assert [p.relative_to(tmp_path / "site").parts[0] for p in pages] == ["kpi"]
