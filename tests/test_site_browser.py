"""Built sites in real headless Chromium: the example site as a user sees it (issue 13), and a hostile one.

Needs the Debian packages ``chromium`` and ``chromium-driver`` and the ``selenium`` package;
skipped (with the reason) when they are missing. Screenshots go to $METRICSPEC_SCREENSHOTS
(default: the test's tmp_path); ``scripts/screenshots.py`` writes the ones in docs/img/.

On the example site (charts drawn by the browser, the default): pages load without console errors
and draw every chart; a goal scoped to Instagram draws its target on Instagram's line only; no
visible text has a raw float; journeys and the incremental CAC are on the scorecard; nothing
scrolls sideways at 400 px and the navigation folds into a menu; legends and axis titles fit in
their charts; hovering a point shows its value; the legend highlights a series; without JavaScript
every chart's numbers are shown. On a static site (``--static-charts``) every chart point, bar and
target line has an SVG ``<title>``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

CHROMEDRIVER = "/usr/bin/chromedriver"
EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
AS_OF = dt.date(2026, 11, 1)
RAW_FLOAT = re.compile(r"(?<![\w.,])\d+[.,]\d{5,}(?!\d)|\b\d(?:[.,]\d+)?e[+-]?\d+\b", re.IGNORECASE)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync")


def _chromium_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    if not Path(CHROMEDRIVER).exists() or not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "chromium is not installed (apt-get install -y chromium chromium-driver)"
    return None


pytestmark = pytest.mark.skipif(_chromium_missing() is not None, reason=_chromium_missing() or "")


def make_driver(javascript: bool = True):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in (*FLAGS, "--window-size=1400,1000"):
        options.add_argument(arg)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def driver():
    d = make_driver()
    yield d
    d.quit()


@pytest.fixture(scope="module")
def example_results():
    from metricspec.cli.runner import run_specs

    return run_specs([EXAMPLES], as_of=AS_OF).results


@pytest.fixture(scope="module")
def example_site(example_results, tmp_path_factory):
    from metricspec.render.site import build_site

    out = tmp_path_factory.mktemp("examples") / "site"
    build_site(example_results, out, "en")
    return out


@pytest.fixture(scope="module")
def static_site(example_results, tmp_path_factory):
    """Two examples with every kind of chart (trends, sparklines, lift intervals, attribution bars)."""
    from metricspec.render.site import build_site

    out = tmp_path_factory.mktemp("static") / "site"
    build_site([r for r in example_results if r.spec.name in ("customer-value", "multi-network")], out, "en",
               static_charts=True)
    return out


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    from test_html import AS_OF as DEMO_AS_OF  # tests/ is on sys.path
    from test_html import ATTRIBUTION, CONTROL_GROUP, write_world

    from metricspec.engine.run import evaluate
    from metricspec.loader import load_spec
    from metricspec.render.site import build_site

    d = tmp_path_factory.mktemp("browser")
    res = evaluate(load_spec(write_world(d)), as_of=DEMO_AS_OF)
    res = res.model_copy(update={"control_groups": [CONTROL_GROUP], "attribution": ATTRIBUTION})
    out = d / "site"
    build_site([res], out, "en")
    return out


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("METRICSPEC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def severe(logs: list[dict]) -> list[dict]:
    return [e for e in logs if e.get("level") in ("SEVERE", "WARNING")]


def open_page(driver, page: Path, width: int = 1400, timeout: float = 60.0) -> None:
    """Load a page and wait until the browser has drawn every chart (or failed to)."""
    driver.set_window_size(width, 1000)
    driver.get(page.as_uri())
    driver.execute_script("if (window.metricspecDrawAll) { window.metricspecDrawAll(); }")  # not just those in view
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = driver.execute_script(
            "return document.querySelectorAll('.chart-live:not(.is-drawn):not(.has-error)').length")
        if left == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{page}: charts not drawn within {timeout} s")


def sample_pages(site: Path) -> list[Path]:
    """The index, every scorecard and person page, and the KPI pages of one scorecard."""
    return ([site / "index.html", *sorted((site / "scorecards").glob("*.html")),
             *sorted((site / "people").glob("*.html"))[:3], *sorted((site / "kpi").glob("multi-network--*.html"))])


# -- the example site ---------------------------------------------------------------------------------


def test_pages_load_and_draw_every_chart_without_errors(driver, example_site):
    driver.get_log("browser")  # flush
    for page in sample_pages(example_site):
        open_page(driver, page)
        assert driver.execute_script("return document.documentElement.lang") == "en"
        # charts.js runs only on pages with charts drawn by the browser (the index and person pages have none)
        assert driver.execute_script("return document.documentElement.classList.contains('js')") == \
            driver.execute_script("return document.querySelectorAll('.chart-live').length > 0"), page
        errors = driver.execute_script(
            "return Array.from(document.querySelectorAll('.chart-live.has-error')).map(e => e.dataset.error)")
        assert not errors, (page, errors)
        sizes = driver.execute_script(
            "return Array.from(document.querySelectorAll('.chart-live')).map(e => {"
            " const s = e.querySelector('svg'); return s ? s.getBoundingClientRect().width : 0; })")
        assert all(w > 100 for w in sizes), (page, sizes)  # drawn at the column's width
        assert not severe(driver.get_log("browser")), page
        # the tables are closed again once the charts are drawn
        assert driver.execute_script("return document.querySelectorAll('details[open][data-open-without-js]').length"
                                     ) == 0
        for href in driver.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"):
            assert href.startswith("file://") and Path(href.split("#")[0].removeprefix("file://")).is_file(), href


def drawn_chart(driver, title: str) -> dict:
    """The drawn chart whose caption starts with ``title``: its spec and what the browser drew."""
    return driver.execute_script("""
        const fig = Array.from(document.querySelectorAll('figure')).find(
            f => f.querySelector('.chart-title') && f.querySelector('.chart-title').textContent.startsWith(arguments[0]));
        const box = fig.querySelector('.chart-live');
        const spec = JSON.parse(fig.querySelector('script[type="application/json"]').textContent).spec;
        return {spec: spec,
                rules: Array.from(box.querySelectorAll('g.mark-rule.role-mark line')).map(l => l.getAttribute('stroke')),
                lines: Array.from(box.querySelectorAll('g.mark-line.role-mark path')).map(p => p.getAttribute('stroke'))};
    """, title)


def test_a_segment_goal_draws_its_target_on_that_segment_only(driver, example_site):
    open_page(driver, example_site / "kpi" / "multi-network--engagement_rate.html")
    for title in ("Engagement rate (per impression) (Monthly)", "Engagement rate (per impression) (Weekly)",
                  "Engagement rate (per impression) by network (Weekly)"):
        assert drawn_chart(driver, title)["rules"] == [], title
    chart = drawn_chart(driver, "Engagement rate (per impression) by network (Monthly)")
    colour = next(layer["encoding"]["color"] for layer in chart["spec"]["layer"])
    palette = dict(zip(colour["scale"]["domain"], colour["scale"]["range"], strict=True))
    assert chart["rules"] == [palette["instagram"]], "one target line, in Instagram's colour"
    assert palette["instagram"] in chart["lines"]
    open_page(driver, example_site / "scorecards" / "multi-network.html")
    goal = drawn_chart(driver, "Progress: 6% engagement rate on Instagram")
    assert len(goal["rules"]) == 1


def test_totals_draw_their_target(driver, example_site):
    """A rate over the window is drawn as its value so far (the line), against its target."""
    open_page(driver, example_site / "scorecards" / "customer-value.html")
    assert len(drawn_chart(driver, "Progress: Convert 25% of leads")["rules"]) == 1  # the target
    open_page(driver, example_site / "scorecards" / "multi-network.html")
    assert len(drawn_chart(driver, "Progress: 20,000 short-link clicks in 2026")["rules"]) == 1


def test_no_raw_floats_in_visible_text(driver, example_site):
    for page in sample_pages(example_site):
        open_page(driver, page)
        text = driver.execute_script("return document.body.innerText")
        assert not RAW_FLOAT.findall(text), (page, RAW_FLOAT.findall(text)[:5])
    open_page(driver, example_site / "scorecards" / "multi-network.html")
    text = driver.execute_script("return document.body.innerText")
    assert "chance of meeting the target 6.0% by the deadline" in text  # the reason's numbers formatted


def test_journeys_and_incremental_cac_are_on_the_scorecard(driver, example_site, example_results):
    r = next(r for r in example_results if r.spec.name == "customer-value")
    open_page(driver, example_site / "scorecards" / "customer-value.html")
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('#journeys tbody tr')).map(tr => tr.innerText.split('\\t'))")
    paths = r.attribution.journey_paths[:10]
    assert len(rows) == len(paths) == 10
    for row, p in zip(rows, paths, strict=True):
        assert [c.strip() for c in row[:4]] == [p.initial, " → ".join(p.intermediate) or "—", p.converting,
                                                f"{p.conversions:,}"]
    inc = r.attribution.incremental
    text = driver.execute_script("return document.getElementById('incremental-cac').innerText")
    assert f"€{inc.incremental_cac:,.2f}" in text
    assert f"95% interval: €{inc.incremental_cac_ci[0]:,.2f} to no upper bound" in text
    assert "not significant" in text and f"{inc.treatment_n:,} exposed customers" in text


def test_nothing_scrolls_sideways_on_a_phone_and_the_menu_folds(driver, example_site):
    for page in sample_pages(example_site):
        open_page(driver, page, width=400)
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (page, overflow)
    open_page(driver, example_site / "index.html", width=400)
    visible = "return getComputedStyle(document.querySelector(arguments[0])).display !== 'none'"
    assert not driver.execute_script(visible, ".nav-wide") and driver.execute_script(visible, ".nav-narrow")
    links = "return Array.from(document.querySelectorAll('.nav-narrow a')).filter(a => a.checkVisibility()).length"
    assert driver.execute_script(links) == 0
    driver.find_element("css selector", ".nav-narrow summary").click()
    assert driver.execute_script(links) == 1 + len(list(EXAMPLES.glob("*.yaml")))  # home and every scorecard
    open_page(driver, example_site / "index.html", width=1400)
    assert driver.execute_script(visible, ".nav-wide") and not driver.execute_script(visible, ".nav-narrow")


def test_two_or_three_columns_on_desktop_one_on_a_phone(driver, example_site):
    columns = ("return Array.from(new Set(Array.from(document.querySelectorAll(arguments[0]))"
               ".map(e => Math.round(e.getBoundingClientRect().left)))).length")
    for width, trends, cards in ((1400, 3, 3), (400, 1, 1)):
        open_page(driver, example_site / "kpi" / "warehouse-sales--converted_leads.html", width=width)
        assert driver.execute_script(columns, ".charts > .chart-cell") == trends, width
        open_page(driver, example_site / "scorecards" / "multi-network.html", width=width)
        assert driver.execute_script(columns, ".objective .tiles > .tile") == (4 if width == 1400 else 2), width
        open_page(driver, example_site / "index.html", width=width)
        assert driver.execute_script(columns, ".cards > .card") == cards, width


def test_legends_and_axis_titles_fit_in_their_charts(driver, example_site):
    script = """
        const out = [];
        for (const box of document.querySelectorAll('.chart-live')) {
          const svg = box.querySelector('svg').getBoundingClientRect();
          for (const t of box.querySelectorAll('.role-legend-label text, .role-axis-title text')) {
            const r = t.getBoundingClientRect();
            if (r.left < svg.left - 1 || r.right > svg.right + 1 || r.top < svg.top - 1 || r.bottom > svg.bottom + 1
                || t.textContent.endsWith('…')) out.push(t.textContent);
          }
        }
        return [out, document.querySelectorAll('.chart-live .role-axis-title text').length];
    """
    pages = [*sorted((example_site / "scorecards").glob("*.html")),
             example_site / "kpi" / "multi-network--engagement_rate.html"]
    for width in (1400, 400):
        for page in pages:
            open_page(driver, page, width=width)
            cut, titles = driver.execute_script(script)
            charts = driver.execute_script("return document.querySelectorAll('.chart-live').length")
            assert cut == [] and titles >= 2 * charts - 4, (page, width, cut)  # x and y titles of the charts with axes


def test_hovering_a_point_shows_its_value(driver, example_site):
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(driver, example_site / "scorecards" / "multi-network.html")
    point = driver.execute_script("""
        const fig = Array.from(document.querySelectorAll('figure')).find(
            f => f.querySelector('.chart-title')?.textContent.startsWith('Progress: 1.2 M monthly reach'));
        fig.scrollIntoView({block: 'center'});
        return fig.querySelector('.chart-live g.mark-symbol path');
    """)
    ActionChains(driver).move_to_element(point).perform()
    deadline = time.monotonic() + 10
    text = ""
    while time.monotonic() < deadline and not text:
        text = driver.execute_script(
            "const t = document.getElementById('vg-tooltip-element');"
            "return t && t.classList.contains('visible') ? t.innerText : ''")
        time.sleep(0.2)
    assert "Jan 2026" in text and "Values per period" in text and re.search(r"\d{3},\d{3}", text), text


def test_the_legend_highlights_a_series(driver, example_site):
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(driver, example_site / "kpi" / "multi-network--engagement_rate.html")
    opacities = """
        const fig = Array.from(document.querySelectorAll('figure')).find(
            f => f.querySelector('.chart-title')?.textContent.startsWith(
                'Engagement rate (per impression) by network (Weekly)'));
        fig.scrollIntoView({block: 'center'});
        return [Array.from(fig.querySelectorAll('.chart-live g.mark-line path')).map(p => p.getAttribute('opacity')),
                Array.from(fig.querySelectorAll('.chart-live .role-legend-symbol path'))[1]];
    """
    before, symbol = driver.execute_script(opacities)
    assert set(before) <= {None, "1"}
    ActionChains(driver).move_to_element(symbol).click().perform()
    time.sleep(0.5)
    after, _ = driver.execute_script(opacities)
    assert sorted(after) == ["0.15", "0.15", "0.15", "1"], after


def test_without_javascript_every_chart_shows_its_numbers(example_site):
    d = make_driver(javascript=False)
    try:
        d.get((example_site / "scorecards" / "customer-value.html").as_uri())
        state = d.execute_script("""return [
            document.documentElement.classList.contains('js'),
            document.querySelectorAll('figure').length,
            Array.from(document.querySelectorAll('details[data-open-without-js]')).filter(
                d => d.open && d.querySelector('table').checkVisibility()).length,
            Array.from(document.querySelectorAll('.chart-live')).filter(e => e.checkVisibility()).length]""")
    finally:
        d.quit()
    scripted, figures, open_tables, empty_boxes = state
    assert not scripted and figures >= 5
    assert open_tables == figures, "every chart's table is open"
    assert empty_boxes == 0, "no empty chart boxes"


def test_static_charts_have_a_title_per_point(driver, static_site):
    pages = [static_site / "index.html", *sorted((static_site / "scorecards").glob("*.html")),
             static_site / "kpi" / "multi-network--engagement_rate.html"]
    for page in pages:
        driver.set_window_size(1400, 1000)
        driver.get(page.as_uri())
        untitled, svgs, titles, marked = driver.execute_script("""
            const svgs = Array.from(document.querySelectorAll('.chart-svg svg'));
            const marks = svgs.flatMap(s => Array.from(s.querySelectorAll(
                '[aria-roledescription="point"], [aria-roledescription="bar"], [aria-roledescription="rule mark"]')));
            const marked = svgs.filter(s => s.querySelector(
                '[aria-roledescription="point"], [aria-roledescription="bar"], [aria-roledescription="rule mark"]'));
            return [marks.filter(m => !m.querySelector('title')).length, svgs.length,
                    marked.filter(s => s.querySelector('title')).length, marked.length];""")
        # every chart with points, bars or target lines titles them (a survival curve is a line of no points)
        assert (svgs > 0 or page.name == "index.html") and untitled == 0 and titles == marked, (page, svgs, titles)
        # sparklines are inline SVG of their own (no points to title: the KPI's page has every number)
        assert driver.execute_script("return document.querySelectorAll('.sparkline svg.spark').length") > 0
        assert driver.execute_script("return document.querySelectorAll('script').length") == 0


def test_screenshots(driver, example_site, tmp_path):
    """scripts/screenshots.py, which writes docs/img/, on the example site."""
    import importlib.util

    script = Path(__file__).resolve().parent.parent / "scripts" / "screenshots.py"
    spec = importlib.util.spec_from_file_location("screenshots", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.capture(driver, example_site, screenshot_dir(tmp_path))
    assert {p.name for p in written} == {f"{name}-{w}.png" for name in ("index", "scorecard", "kpi")
                                         for w in (1400, 400)}
    for p in written:
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
        width = int.from_bytes(data[16:20], "big")
        assert width == int(p.stem.rsplit("-", 1)[1]), p


# -- a site of hostile text ---------------------------------------------------------------------------


def test_injected_script_shows_as_text(driver, hostile_site):
    from selenium.common.exceptions import NoAlertPresentException

    page = hostile_site / "scorecards" / "html-demo.html"
    open_page(driver, page)
    try:
        alert = driver.switch_to.alert
        text = alert.text
        alert.dismiss()
        pytest.fail(f"an alert opened: {text}")
    except NoAlertPresentException:
        pass
    scripts = driver.execute_script(
        "return Array.from(document.querySelectorAll('script')).map(s => [s.getAttribute('src'), s.type])")
    assert all(src in ("../assets/charts.js", "../assets/vega.js") or kind == "application/json"
               for src, kind in scripts), scripts
    body = driver.execute_script("return document.body.innerText")
    assert "Reach 4,000 followers <script>alert(1)</script>" in body
    assert "Ana <script>alert(1)</script>" in body
    # a segment value inside a chart drawn by the browser is text too
    svg_text = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg text')).map(t => t.textContent).join('|')")
    assert "<script>alert(1)</script>" in svg_text
    json.loads(driver.execute_script("return document.querySelector('script[type=\"application/json\"]').textContent"))


def test_charts_have_accessible_names(driver, hostile_site):
    open_page(driver, hostile_site / "scorecards" / "html-demo.html")
    names = driver.execute_script(  # the drawing is the image, named; its figure's caption says the same
        "return Array.from(document.querySelectorAll('figure .chart-box')).map(f => [f.getAttribute('role'),"
        " f.getAttribute('aria-label'), f.querySelector('svg') !== null])")
    assert names
    for role, label, has_svg in names:
        assert role == "img" and label and has_svg
