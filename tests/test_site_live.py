"""Sites whose charts the browser draws, the disk cache of static charts, progress and the summary line."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from metricspec.progress import Progress
from metricspec.render import assets, chart_cache, chart_processes, charts

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    from test_html import AS_OF, ATTRIBUTION, CONTROL_GROUP, write_world  # tests/ is on sys.path

    from metricspec.engine.run import evaluate
    from metricspec.loader import load_spec

    folder = tmp_path_factory.mktemp("live-world")
    res = evaluate(load_spec(write_world(folder)), as_of=AS_OF)
    return res.model_copy(update={"control_groups": [CONTROL_GROUP], "attribution": ATTRIBUTION})


class Recorder(Progress):
    def __init__(self) -> None:
        super().__init__()
        self.stages: dict[str, int | None] = {}
        self.steps: dict[str, int] = {}

    def start(self, stage, total=None):
        self.stages[stage] = total

    def advance(self, stage, n=1, text=None):
        self.steps[stage] = self.steps.get(stage, 0) + n


class Scripts(HTMLParser):
    """The <script> elements of a page: attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs_d = dict(attrs)
        if attrs_d.get("id"):
            self.ids.add(str(attrs_d["id"]))
        if tag == "script":
            self._open = attrs_d
            self.scripts.append((attrs_d, ""))

    def handle_data(self, data):
        if self._open is not None:
            attrs_d, text = self.scripts[-1]
            self.scripts[-1] = (attrs_d, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = None


def scripts_of(html: str) -> Scripts:
    p = Scripts()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def live_site(results, tmp_path_factory):
    from metricspec.render.site import build_site

    out = tmp_path_factory.mktemp("live") / "site"
    progress = Recorder()
    files = build_site([results], out, "en", progress=progress)
    return out, files, progress


def test_live_site_ships_the_vega_bundle_and_embeds_every_chart(live_site):
    out, _, _ = live_site
    drawn = 0
    bundle = (out / assets.VEGA_JS).read_text(encoding="utf-8")
    assert "vegaEmbed" in bundle and len(bundle) > 500_000
    assert (out / assets.CHARTS_JS).read_text(encoding="utf-8") == assets.charts_js()
    for page in out.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        p = scripts_of(html)
        external = [a["src"] for a, _ in p.scripts if a.get("src")]
        root = "" if page.parent == out else "../"
        figures = html.count("<figure")
        # only pages with charts load charts.js (deferred), which loads the Vega bundle when a chart comes into view
        assert external == ([root + assets.CHARTS_JS] if figures else []), page
        if figures:
            [tag] = [a for a, _ in p.scripts if a.get("src")]
            assert "defer" in tag and tag["data-vega"] == root + assets.VEGA_JS
        blocks = [(a, text) for a, text in p.scripts if a.get("type") == "application/json" and "data-chart-for" in a]
        config = [text for a, text in p.scripts if a.get("id") == "chart-config"]
        assert len(config) == (1 if figures else 0), page
        if config:  # the settings every chart shares, once a page
            shared = json.loads(config[0])
            assert shared["config"] == charts.shared_config() and "decimal" in shared["locale"]
        assert not [a for a, text in p.scripts if not a.get("src") and a.get("type") != "application/json"], \
            "no inline JavaScript"
        assert len(blocks) == figures, page
        drawn += figures
        for a, text in blocks:
            assert a["data-chart-for"] in p.ids, "every block names the element it is drawn into"
            data = json.loads(text)
            assert "$schema" not in data["spec"] and "config" not in data["spec"] and "locale" not in data
            assert "<" not in text and ">" not in text, "nothing in a block can end it"
        assert not re.search(r"https?://(?!www\.w3\.org/)", html), page
        assert ("data-open-without-js" in html) == (figures > 0)  # tables stay open without JavaScript
    assert drawn > 10  # goal charts and every KPI page's trends (the scorecard does not chart its KPIs twice)


def test_untrusted_text_in_embedded_json_is_escaped(live_site):
    out, _, _ = live_site
    html = (out / "scorecards" / "html-demo.html").read_text(encoding="utf-8")
    assert XSS not in html
    p = scripts_of(html)
    texts = [text for a, text in p.scripts if a.get("type") == "application/json"]
    assert any("\\u003cscript\\u003e" in t for t in texts)
    decoded = [json.loads(t) for t in texts]
    assert any(XSS in json.dumps(d, ensure_ascii=False) for d in decoded), "the value itself is kept"


def test_script_json_escapes_what_could_end_a_script_block():
    text = json.dumps({"a": "</script><script>alert(1)</script>", "b": "x & y > z", "c": "\u2028\u2029"},
                      ensure_ascii=False)
    safe = assets.script_json(text)
    assert "</" not in safe and "<" not in safe and "\u2028" not in safe
    assert json.loads(safe) == json.loads(text)


def test_live_build_draws_nothing_and_counts_for_the_summary(live_site, results):
    _, files, progress = live_site
    assert progress.counts["charts_live"] > 5 and "charts_drawn" not in progress.counts
    assert progress.counts["files"] == len(files) and progress.counts["scorecards"] == 1
    assert progress.stages["pages"] == progress.steps["pages"] == len([f for f in files if f.suffix == ".html"])
    assert progress.steps["files"] == len(files)


def test_static_site_has_no_scripts(results, tmp_path):
    from metricspec.render.site import build_site

    build_site([results], tmp_path / "site", "en", static_charts=True)
    assert not (tmp_path / "site" / "assets" / "vega.js").exists()
    for page in (tmp_path / "site").rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script" not in html and "data-open-without-js" not in html
        assert html.count("<svg") >= html.count("<figure")


def test_a_chart_twice_on_a_page_gets_two_ids():
    from metricspec.render.html import _unique_ids
    from metricspec.render.views import ChartView

    view = ChartView(id="c", title="t", description="d", vega_lite="{}", locale='"en-GB"')
    fill = _unique_ids(lambda v, i: v.model_copy(update={"id": i}))
    assert [fill(view).id for _ in range(3)] == ["c", "c-2", "c-3"]


# -- the disk cache -----------------------------------------------------------------------------------


@pytest.fixture
def counted(monkeypatch, tmp_path):
    """A fresh disk cache and memory, and a count of the charts vl-convert draws."""
    drawn: list[charts.Key] = []
    real = charts._draw_one
    monkeypatch.setattr(charts, "_draw_one", lambda key: drawn.append(key) or real(key))
    monkeypatch.setattr(charts, "_drawn", OrderedDict())
    monkeypatch.setenv(chart_cache.CACHE_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.setenv(chart_processes.WORKERS_VARIABLE, "1")
    return drawn


def site_bytes(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_rebuild_with_unchanged_data_draws_nothing(results, tmp_path, counted, monkeypatch):
    from metricspec.render.site import build_site

    first = Recorder()
    build_site([results], tmp_path / "a", "en", static_charts=True, progress=first)
    n = len(counted)
    assert n > 5 and first.counts["charts_drawn"] == n and first.counts["charts_cached"] == 0
    monkeypatch.setattr(charts, "_drawn", OrderedDict())  # a new process: only the disk remembers
    again = Recorder()
    build_site([results], tmp_path / "b", "en", static_charts=True, progress=again)
    assert len(counted) == n, "nothing drawn the second time"
    assert again.counts["charts_drawn"] == 0 and again.counts["charts_cached"] == n
    assert site_bytes(tmp_path / "a") == site_bytes(tmp_path / "b")
    assert len(list((tmp_path / "cache" / "charts").glob("*/*.svg"))) == n


def test_changed_data_draws_only_the_changed_charts(counted):
    a = charts.sparkline("a", "t", "d", [1.0, 2.0])
    b = charts.sparkline("b", "t", "d", [1.0, 3.0])
    charts.draw([a.key])
    charts._drawn.clear()
    charts.draw([a.key, b.key])
    assert counted == [a.key, b.key]


def test_a_damaged_or_disabled_cache_is_only_slower(counted, tmp_path, monkeypatch):
    a = charts.sparkline("a", "t", "d", [1.0, 2.0])
    svg = charts.draw([a.key])[a.key]
    path = next((tmp_path / "cache" / "charts").glob("*/*.svg"))
    path.write_text("<svg", encoding="utf-8")  # cut short
    charts._drawn.clear()
    assert charts.draw([a.key])[a.key] == svg and len(counted) == 2
    assert path.read_text(encoding="utf-8") == svg, "the damaged entry is replaced"
    monkeypatch.setenv(chart_cache.CACHE_VARIABLE, "off")
    charts._drawn.clear()
    charts.draw([a.key])
    assert len(counted) == 3
    assert chart_cache.cache_dir() is None


def test_a_tampered_cache_entry_is_drawn_again(counted, tmp_path):
    """The cache is outside the process: an entry that fails the SVG check (a script planted in it) is
    never used, but drawn again and replaced (issue 11's SVG check meets issue 13's cache)."""
    a = charts.sparkline("a", "t", "d", [1.0, 2.0])
    svg = charts.draw([a.key])[a.key]
    path = next((tmp_path / "cache" / "charts").glob("*/*.svg"))
    path.write_text(svg.replace("</svg>", "<script>alert(1)</script></svg>"), encoding="utf-8")
    charts._drawn.clear()
    assert charts.draw([a.key])[a.key] == svg and len(counted) == 2
    assert path.read_text(encoding="utf-8") == svg, "the tampered entry is replaced"


def test_cache_keys_change_with_the_spec_the_locale_and_vl_convert(monkeypatch):
    key = charts.sparkline("a", "t", "d", [1.0, 2.0]).key
    before = chart_cache.digest(key)
    assert before == chart_cache.digest(key) and re.fullmatch(r"[0-9a-f]{64}", before)
    assert before != chart_cache.digest((key[0], json.dumps("pl-PL")))
    assert before != chart_cache.digest((key[0].replace("2.0", "2.5"), key[1]))
    monkeypatch.setattr(chart_cache, "vl_convert_version", lambda: "0.0.0")
    assert chart_cache.digest(key) != before


def test_the_cache_keeps_the_most_recently_used(tmp_path):
    import os

    root = tmp_path
    for i in range(6):
        path = root / "charts" / "ab" / f"ab{i}.svg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<svg></svg>")
        os.utime(path, (1000 + i, 1000 + i))
    assert chart_cache.prune(root, max_entries=4) == 2
    assert sorted(p.name for p in (root / "charts" / "ab").iterdir()) == ["ab2.svg", "ab3.svg", "ab4.svg", "ab5.svg"]


def test_cache_location(monkeypatch, tmp_path):
    monkeypatch.setenv(chart_cache.CACHE_VARIABLE, str(tmp_path / "x"))
    assert chart_cache.cache_dir() == tmp_path / "x"
    monkeypatch.delenv(chart_cache.CACHE_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert chart_cache.cache_dir() == tmp_path / "xdg" / "metricspec"


# -- commands ------------------------------------------------------------------------------------------


def test_build_and_render_print_a_summary_line(tmp_path, monkeypatch):
    from test_html import write_world

    from metricspec.cli import main

    monkeypatch.setattr(charts, "_drawn", OrderedDict())
    monkeypatch.setenv(chart_cache.CACHE_VARIABLE, str(tmp_path / "cache"))
    spec = write_world(tmp_path)
    runner = CliRunner()
    res = runner.invoke(main, ["build", str(spec.parent), "-o", str(tmp_path / "site"), "--as-of", "2026-10-15"])
    assert res.exit_code == 0, res.output
    line = res.output.strip().splitlines()[-1]
    assert re.fullmatch(r"built 1 scorecard\(s\), \d+ files in \d+\.\d s \(\d+ charts drawn by the browser\); "
                        r"open .*index\.html", line), line
    res = runner.invoke(main, ["build", str(spec.parent), "-o", str(tmp_path / "static"), "--as-of", "2026-10-15",
                               "--static-charts"])
    assert res.exit_code == 0, res.output
    drawn = re.search(r"\((\d+) charts: (\d+) drawn, (\d+) from the cache\)", res.output)
    assert drawn and int(drawn[1]) == int(drawn[2]) + int(drawn[3]) and int(drawn[2]) > 0
    res = runner.invoke(main, ["render", str(spec), "-o", str(tmp_path / "card.html"), "--as-of", "2026-10-15"])
    assert res.exit_code == 0, res.output
    drawn = re.search(r"wrote .*card\.html in \d+\.\d s \((\d+) charts: (\d+) drawn, (\d+) from the cache\)",
                      res.output)
    assert drawn and int(drawn[3]) == int(drawn[1]), "the site build drew the scorecard's charts already"


def test_progress_bars_only_on_a_terminal(monkeypatch):
    from metricspec.cli.commands import render as commands
    from metricspec.progress import TerminalProgress

    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert isinstance(commands._progress(False), TerminalProgress)
    assert not isinstance(commands._progress(True), TerminalProgress)
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    assert not isinstance(commands._progress(False), TerminalProgress)


def test_terminal_progress_draws_stages():
    from io import StringIO

    from rich.console import Console

    from metricspec.progress import TerminalProgress

    out = StringIO()
    bar = TerminalProgress(Console(file=out, force_terminal=True, width=100))
    with bar:
        bar.start("charts", 3)
        bar.advance("charts", text="one")
        bar.advance("files")
        tasks = {t.description: t for t in bar._bar.tasks}
    assert tasks["drawing charts"].completed == 1 and tasks["drawing charts"].total == 3
    assert tasks["writing files"].completed == 1
    assert "drawing charts" in out.getvalue()


def test_the_index_shows_goal_statuses_and_headline_kpis_with_sparklines(live_site, results):
    from test_html import outline

    from metricspec.render.context import Builder
    from metricspec.render.i18n import Translator

    out, _, _ = live_site
    html = (out / "index.html").read_text(encoding="utf-8")
    text = outline(html).visible
    tr = Translator("en")
    for g in results.goals():
        k = results.kpi(g.kpi)
        current, target = tr.value(g.current, k.unit, k.currency), tr.value(g.target, k.unit, k.currency)
        assert f"{current} (target {target})" in text, g.id
        assert f'href="scorecards/html-demo.html#{Builder.goal_anchor(g)}"' in html, g.id
    statuses = {g.status for g in results.goals()}
    strip = re.search(r'<ul class="status-strip".*?</ul>', html, re.S).group(0)
    assert strip.count("<li") == len(statuses), "only the statuses some goal has"
    for status in statuses:
        assert f"status-{status}" in strip
    # headline KPIs: those the goals are measured on (followers, posts), each with value and sparkline
    assert html.count('class="mini-tile"') == 2
    assert html.count('<svg class="spark"') == 2  # sparklines as inline SVG: the index loads no chart script
    assert "<script" not in html
    followers = results.kpi("followers").headlines[0]
    assert tr.value(followers.value, "count") in text and "All KPIs (2)" in text
