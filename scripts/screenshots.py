"""Screenshots of the example site for the docs: ``docs/img/{index,scorecard,kpi}-{1400,400}.png``.

Builds ``specs/examples`` as of 2026-11-01 (charts drawn by the browser, the default) into a
temporary folder, opens the index, the customer-value scorecard and the KPI page of the engagement
rate by network in headless Chromium at 1400 and 400 px wide, waits until every chart is drawn and
writes the top of each page (at most :data:`MAX_HEIGHT` px) as PNG. With Pillow installed, each PNG is
then reduced to 256 colours without dithering (flat page colours and anti-aliased text stay sharp; a
third of the size).

Needs chromium and chromium-driver (``apt-get install -y chromium chromium-driver``) and selenium.
Usage: ``python scripts/screenshots.py [--out docs/img]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"index": "index.html", "scorecard": "scorecards/customer-value.html",
         "kpi": "kpi/multi-network--engagement_rate.html"}
WIDTHS = (1400, 400)
MAX_HEIGHT = 3000
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def wait_for_charts(driver: Any, timeout: float = 60.0) -> None:
    """Draw every chart now (pages draw a chart when it scrolls into view) and wait until all are drawn."""
    driver.execute_script("if (window.metricspecDrawAll) { window.metricspecDrawAll(); }")
    deadline = time.monotonic() + timeout
    while driver.execute_script(
            "return document.querySelectorAll('.chart-live:not(.is-drawn):not(.has-error)').length"):
        if time.monotonic() > deadline:
            raise RuntimeError("charts were not drawn in time")
        time.sleep(0.2)


def shrink(path: Path) -> None:
    """Re-save ``path`` with 256 colours and no dithering, if Pillow is installed (otherwise leave it)."""
    try:
        from PIL import Image  # optional: the docs' PNGs are three times smaller with it
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def capture(driver: Any, site: Path, out: Path) -> list[Path]:
    """Screenshot every page of :data:`PAGES` at every width of :data:`WIDTHS` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rel in PAGES.items():
        for width in WIDTHS:
            driver.set_window_size(width, 1000)
            driver.get((site / rel).as_uri())
            wait_for_charts(driver)
            height = min(int(driver.execute_script("return document.documentElement.scrollHeight")), MAX_HEIGHT)
            # the window's outer size includes no browser chrome in headless mode: the viewport is width x height
            driver.set_window_size(width, height)
            wait_for_charts(driver)  # charts follow the new size
            time.sleep(0.5)
            path = out / f"{name}-{width}.png"
            driver.save_screenshot(str(path))
            shrink(path)
            written.append(path)
    return written


def build_example_site(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from metricspec.cli.runner import run_specs
    from metricspec.render.site import build_site

    results = run_specs([ROOT / "specs" / "examples"], as_of=dt.date(2026, 11, 1)).results
    site = folder / "site"
    build_site(results, site, "en")
    return site


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = ap.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        site = build_example_site(Path(tmp))
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            for path in capture(driver, site, args.out):
                print(f"wrote {path}")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
