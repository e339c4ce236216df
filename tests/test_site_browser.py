"""Open every page of a built site in real headless Chromium.

Needs the Debian packages ``chromium`` and ``chromium-driver`` and the ``selenium`` package;
skipped (with the reason) when they are missing. Screenshots go to $METRICSPEC_SCREENSHOTS
(default: the test's tmp_path).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMEDRIVER = "/usr/bin/chromedriver"


def _chromium_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    if not Path(CHROMEDRIVER).exists() or not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "chromium is not installed (apt-get install -y chromium chromium-driver)"
    return None


pytestmark = pytest.mark.skipif(_chromium_missing() is not None, reason=_chromium_missing() or "")


@pytest.fixture(scope="module")
def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield d
    d.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from test_html import AS_OF, ATTRIBUTION, CONTROL_GROUP, write_world  # tests/ is on sys.path

    from metricspec.engine.run import evaluate
    from metricspec.loader import load_spec
    from metricspec.render.site import build_site

    d = tmp_path_factory.mktemp("browser")
    res = evaluate(load_spec(write_world(d)), as_of=AS_OF)
    res = res.model_copy(update={"control_groups": [CONTROL_GROUP], "attribution": ATTRIBUTION})
    out = d / "site"
    build_site([res], out, "en")
    return out


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("METRICSPEC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def full_page_screenshot(driver, path: Path, width: int = 1280) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(int(height) + 20, 8000))
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)


def severe(logs: list[dict]) -> list[dict]:
    return [e for e in logs if e.get("level") in ("SEVERE", "WARNING")]


def test_every_page_loads_without_errors_and_links_resolve(driver, site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 5
    driver.get_log("browser")  # flush
    for page in pages:
        driver.get(page.as_uri())
        assert driver.execute_script("return document.readyState") == "complete"
        assert driver.title, page
        assert driver.execute_script("return document.documentElement.lang") == "en"
        # the stylesheet really applied (a missing CSS file would leave the default background)
        bg = driver.execute_script("return getComputedStyle(document.documentElement).backgroundColor")
        assert bg == "rgb(245, 247, 250)", (page, bg)
        errors = severe(driver.get_log("browser"))
        assert not errors, (page, errors)
        hrefs = driver.execute_script(
            "return Array.from(document.querySelectorAll('a[href], link[href]')).map(a => a.href)")
        for href in hrefs:
            assert href.startswith("file://"), (page, href)
            target = href.split("#")[0].removeprefix("file://")
            assert Path(target).is_file(), (page, href)
            anchor = href.split("#", 1)[1] if "#" in href else ""
            if anchor and Path(target) == page:
                assert driver.execute_script("return !!document.getElementById(arguments[0])", anchor), (page, href)


def test_injected_script_shows_as_text(driver, site):
    from selenium.common.exceptions import NoAlertPresentException

    page = site / "scorecards" / "html-demo.html"
    driver.get(page.as_uri())
    try:
        alert = driver.switch_to.alert
        text = alert.text
        alert.dismiss()
        pytest.fail(f"an alert opened: {text}")
    except NoAlertPresentException:
        pass
    assert driver.execute_script("return document.querySelectorAll('script').length") == 0
    body = driver.execute_script("return document.body.innerText")
    assert "Reach 4,000 followers <script>alert(1)</script>" in body
    assert "Ana <script>alert(1)</script>" in body
    # a segment value inside an SVG chart is text too
    svg_text = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg text')).map(t => t.textContent).join('|')")
    assert "<script>alert(1)</script>" in svg_text


def test_charts_have_accessible_names(driver, site):
    driver.get((site / "scorecards" / "html-demo.html").as_uri())
    names = driver.execute_script(
        "return Array.from(document.querySelectorAll('figure')).map(f => [f.getAttribute('role'),"
        " f.getAttribute('aria-label'), f.querySelector('svg') !== null])")
    assert names
    for role, label, has_svg in names:
        assert role == "img" and label and has_svg


def test_layout_fits_a_phone(driver, site):
    driver.set_window_size(390, 844)
    try:
        for rel in ("index.html", "scorecards/html-demo.html"):
            driver.get((site / rel).as_uri())
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, (rel, overflow)  # wide charts and tables scroll inside their box
    finally:
        driver.set_window_size(1280, 1000)


def test_screenshots(driver, site, tmp_path):
    folder = screenshot_dir(tmp_path)
    driver.get((site / "index.html").as_uri())
    full_page_screenshot(driver, folder / "index.png")
    driver.get((site / "scorecards" / "html-demo.html").as_uri())
    full_page_screenshot(driver, folder / "scorecard.png")
    driver.set_window_size(390, 844)
    driver.save_screenshot(str(folder / "scorecard-phone.png"))
    driver.set_window_size(1280, 1000)
    for name in ("index.png", "scorecard.png", "scorecard-phone.png"):
        data = (folder / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
