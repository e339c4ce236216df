"""HTML scorecards and the static site: content, escaping, locales, determinism, atomic builds."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from metricspec.engine.attribution.models import AttributionReport
from metricspec.engine.results import ExperimentResult, Results
from metricspec.render import charts
from metricspec.render.i18n import Translator, available_languages, load_messages, placeholders
from metricspec.render.svg import UnsafeSvgError, svg_markup

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
AS_OF = dt.date(2026, 10, 15)
START = dt.date(2026, 1, 1)

SPEC = """
name: html-demo
title: Brand awareness demo
description: Followers and posts for the brand and a rival.
owner: Lucía Fernández
measured_by: Paweł Kowalski
grains: [month]
sources:
  followers: {connector: csv, options: {path: followers.csv}, time_column: date, columns: {date: date}}
  posts: {connector: csv, options: {path: posts.csv}, time_column: date, columns: {date: date}}
benchmarks:
  rival: {title: Rival A, kind: competitor, scope: {account: rival}}
kpis:
  followers:
    title: Followers
    source: followers
    agg: last
    column: followers
    unit: count
    segments: [account]
    scope: {account: brand}
    benchmarks: [rival]
  posts: {title: Posts, source: posts, agg: count, segments: [account], kind: activity}
objectives:
  awareness:
    title: Grow the audience
    owner: Lucía Fernández
    kpis: [followers, posts]
    goals:
      reach_4000:
        title: "Reach 4,000 followers <script>alert(1)</script>"
        kpi: followers
        target: 4000
        start: 2026-01-01
        deadline: 2026-12-31
        responsible: Ana <script>alert(1)</script>
      reach_9000: {title: "Reach 9,000 followers", kpi: followers, target: 9000, start: 2026-01-01, deadline: 2026-12-31}
      early: {title: "Reach 3,000 by May", kpi: followers, target: 3000, start: 2026-01-01, deadline: 2026-05-31}
  activity:
    title: Keep posting
    goals:
      posts_total: {title: 500 posts this year, kpi: posts, target: 500, start: 2026-01-01, deadline: 2026-12-31,
                    responsible: Piotr Nowak}
"""

def _metric(**fields: object) -> dict[str, object]:
    empty = dict.fromkeys(("statistic", "better", "variance_reduction", "mde"))
    return {"test": "two-proportion z-test", "cuped": False, "warnings": [], **empty, **fields}


CONTROL_GROUP = ExperimentResult.model_validate({
    "name": "promo", "title": f"Promo test {XSS}", "description": None, "alpha": 0.05, "power": 0.8,
    "confidence_level": 0.95, "control_label": "False", "treatment_label": "True",
    "srm": {"mismatch": True, "p_value": 0.0004, "expected_treatment_share": 0.5, "control_n": 5000,
            "treatment_n": 5100, "chi2": 12.5},
    "warnings": [],
    "metrics": [
        _metric(name="conversion", title="Conversion rate", kind="proportion", control_value=0.10,
                treatment_value=0.12, difference=0.02, difference_ci_low=0.005, difference_ci_high=0.035,
                relative_lift=0.20, relative_lift_ci_low=0.05, relative_lift_ci_high=0.35, p_value=0.0123,
                significant=True, control_n=5000, treatment_n=5100),
        _metric(name="revenue", title=f"Revenue {XSS}", kind="mean", control_value=20.0, treatment_value=20.5,
                difference=0.5, difference_ci_low=-0.4, difference_ci_high=1.4, relative_lift=0.025,
                relative_lift_ci_low=-0.02, relative_lift_ci_high=0.07, p_value=0.3, significant=False,
                control_n=5000, treatment_n=5100, warnings=["heavily skewed"]),
    ],
})


def _credits(conversions: list[float]) -> list[dict]:
    channels = ["email", "social", f"search {XSS}"]
    return [{"channel": ch, "conversions": c, "value": c * 50.0, "spend": 1000.0, "cac": 1000.0 / c,
             "roas": c * 50.0 / 1000.0, "roi": c * 50.0 / 1000.0 - 1} for ch, c in zip(channels, conversions, strict=True)]


ATTRIBUTION = AttributionReport.model_validate({
    "title": "Attribution of sign-ups", "level": "channel", "lookback_days": 30, "drop_direct": False,
    "models": [{"name": "last_touch", "kind": "last_touch", "credits": _credits([40, 30, 25])},
               {"name": "first_touch", "kind": "first_touch", "credits": _credits([20, 50, 25])},
               {"name": "markov", "kind": "markov", "credits": _credits([30, 38, 27])}],
    "total_conversions": 100, "attributed_conversions": 95, "unattributed_conversions": 5, "total_value": 5000.0,
    "attributed_value": 4750.0, "unattributed_value": 250.0, "non_converting_paths": 0, "journeys": [],
    "journeys_total": 0, "removal_effects": {},
})


def write_world(d: Path) -> Path:
    days = [START + dt.timedelta(days=i) for i in range(300)]
    accounts = ["brand", "rival", XSS]
    pl.DataFrame({
        "date": [x for x in days for _ in accounts],
        "account": accounts * len(days),
        "followers": [base + step * i for i in range(len(days)) for base, step in ((1000, 10), (1200, 8), (5, 1))],
    }).write_csv(d / "followers.csv")
    pl.DataFrame({"date": [x for x in days for _ in range(2)], "account": ["brand", XSS] * len(days)}
                 ).write_csv(d / "posts.csv")
    (d / "spec.yaml").write_text(textwrap.dedent(SPEC), encoding="utf-8")
    return d / "spec.yaml"


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory) -> Path:
    return write_world(tmp_path_factory.mktemp("html"))


@pytest.fixture(scope="module")
def results(spec_path) -> Results:
    from metricspec.engine.run import evaluate
    from metricspec.loader import load_spec

    res = evaluate(load_spec(spec_path), as_of=AS_OF)
    return res.model_copy(update={"control_groups": [CONTROL_GROUP], "attribution": ATTRIBUTION})


@pytest.fixture(scope="module")
def html_en(results) -> str:
    from metricspec.render.html import render_scorecard

    return render_scorecard(results, "en")


class Outline(HTMLParser):
    """Collect elements, attributes and visible text (to check structure, not strings)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "link", "br", "path", "line", "rect", "circle"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if not any(t in ("style", "svg") for t in self.stack):
            self.text.append(data)

    @property
    def visible(self) -> str:
        return re.sub(r"[ \t\r\n\f]+", " ", " ".join(self.text))  # keep no-break spaces


def outline(html: str) -> Outline:
    p = Outline()
    p.feed(html)
    return p


# -- content ----------------------------------------------------------------------------------


def test_scorecard_shows_goals_kpis_and_freshness(results, html_en):
    statuses = {g.id: g.status for g in results.goals()}
    assert statuses["early"] == "missed"
    text = outline(html_en).visible
    assert "Brand awareness demo" in text
    assert "As of 15 Oct 2026" in text
    for g in results.goals():
        label = Translator("en").status(g.status)
        assert label in text
    # the summary counts every status
    counts = {s: list(statuses.values()).count(s) for s in set(statuses.values())}
    assert f"{counts['missed']} ✖ Missed" in text
    # values: target and current of the 4,000 goal, with thousands separators
    g = next(g for g in results.goals() if g.id == "reach_4000")
    assert "4,000" in text
    assert Translator("en").value(g.current, "count") in text
    # the bar (current against target) with an expected-by-today marker and a text equivalent
    assert 'class="progress-expected"' in html_en
    assert "of the target" in text and "expected by today" in text
    # forecast with its range and the chance, deadline, responsible and measured-by
    assert "Forecast at deadline" in text and "31 Dec 2026" in text
    assert "Chance by the deadline" in text and "(80%)" in text
    assert "Paweł Kowalski" in text and "Piotr Nowak" in text
    # KPI tiles compare with the benchmark
    assert "vs Rival A" in text
    # freshness per source
    assert "Latest timestamp per source" in text and "followers" in text and "27 Oct 2026" in text


def test_control_groups_and_attribution_rendered(html_en):
    text = outline(html_en).visible
    assert "Control groups" in text and "Conversion rate" in text
    assert "+20.0%" in text and "+5.0% to +35.0%" in text
    assert "Sample ratio mismatch" in text
    assert "heavily skewed" in text
    assert "Lift with confidence intervals" in text
    assert "Attribution of sign-ups" in text and "Markov chain" in text  # model kinds are translated
    assert "Cost per acquisition and return by channel" in text
    assert "€25.00" in text  # CAC of last-touch email: 1000 / 40 in the spec currency (EUR default)


def test_smart_findings_listed(results, html_en):
    findings = [f for g in results.goals() for f in g.smart]
    assert findings, "the spec should produce SMART findings"
    assert "SMART check" in html_en
    bad = [f for f in findings if not f.ok]
    for f in bad[:3]:
        assert Translator("en").gettext(f"smart_{f.criterion}") in html_en


def test_untrusted_text_is_escaped_everywhere(html_en):
    assert XSS not in html_en
    assert "<script" not in html_en.lower()
    assert ESCAPED in html_en  # shown as text, not dropped
    p = outline(html_en)
    assert not [t for t, _ in p.tags if t in ("script", "iframe", "object", "embed")]
    assert not [a for _, attrs in p.tags for a in attrs if a.startswith("on")]
    # the goal title, the responsible person, the segment value and the channel all appear as text
    assert f"Reach 4,000 followers {XSS}" in p.visible
    assert f"Ana {XSS}" in p.visible
    assert f"search {XSS}" in p.visible
    # inside SVG: the attribution chart has the malicious channel as an escaped axis label
    svgs = re.findall(r"<svg.*?</svg>", html_en, flags=re.S)
    assert any(ESCAPED in s for s in svgs)


def test_chart_svg_escapes_text():
    c = charts.trend_chart("t", f"Title {XSS}", f"desc {XSS}",
                           [charts.Line(f'seg "{XSS}" & <b>', [("Jan", 1.0), ("Feb", 2.0)])])
    assert "<script" not in c.svg and "<b>" not in c.svg
    assert "&lt;script&gt;" in c.svg
    with pytest.raises(UnsafeSvgError):
        svg_markup('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x")
    with pytest.raises(UnsafeSvgError):
        svg_markup('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>', "x")


def test_chart_ids_are_namespaced():
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><clipPath id="clip1"></clipPath><g clip-path="url(#clip1)"/></svg>'
    out = svg_markup(svg, "c7")
    assert 'id="c7-clip1"' in out and "url(#c7-clip1)" in out and 'id="clip1"' not in out


def test_lang_attribute_and_semantics(results):
    from metricspec.render.html import render_scorecard

    for lang in available_languages():
        html = render_scorecard(results, lang)
        assert f'<html lang="{lang}">' in html
    p = outline(render_scorecard(results, "en"))
    levels = [int(t[1]) for t, _ in p.tags if re.fullmatch(r"h[1-6]", t)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), "heading levels never skip"
    ths = [attrs for t, attrs in p.tags if t == "th"]
    assert ths and all(a.get("scope") in ("col", "row") for a in ths)
    assert any(t == "main" for t, _ in p.tags)


def test_no_external_references(html_en):
    urls = re.findall(r"https?://[^\s\"'<>)]+", html_en)
    assert set(urls) <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert not re.search(r"""(src|href)\s*=\s*["']?//""", html_en)
    assert "@import" not in html_en and "url(http" not in html_en


def test_every_chart_has_title_and_description(html_en):
    figures = re.findall(r"<figure\b(.*?)>(.*?)</figure>", html_en, flags=re.S)
    assert len(figures) >= 5  # goal trends, KPI trends, CI chart, attribution chart
    for _attrs, body in figures:
        # the drawing is an image named by title and description; the figure's caption says the same
        box = re.search(r'<div class="chart-svg"([^>]*)>', body)
        assert box and 'role="img"' in box.group(1)
        label = re.search(r'aria-label="([^"]+)"', box.group(1))
        assert label and len(label.group(1)) > 10
        assert "<svg" in body and "<figcaption" in body
        caption = re.search(r"<figcaption[^>]*>(.*?)</figcaption>", body, flags=re.S)
        assert caption and re.sub(r"<[^>]+>", "", caption.group(1)).strip()
    assert "Conversions by channel and attribution model" in html_en
    sparklines = re.findall(r'<div class="sparkline" role="img" aria-label="([^"]+)"[^>]*><svg class="spark"', html_en)
    assert sparklines and all("recent trend" in s for s in sparklines)  # the tiles' trends, named too


def test_render_is_deterministic(results, html_en):
    from metricspec.render.html import render_scorecard

    assert render_scorecard(results, "en") == html_en
    assert render_scorecard(results, "pl") == render_scorecard(results, "pl")


def test_spanish_and_polish_formats(results):
    from metricspec.render.html import render_scorecard

    es = outline(render_scorecard(results, "es")).visible
    pl_ = outline(render_scorecard(results, "pl")).visible
    assert "4.000" in es and "Fecha de corte 15 oct 2026" in es
    assert "4\u00a0000" in pl_ and "Stan na 15 paź 2026" in pl_
    assert "+20,0" in es and "%" in es
    assert "No alcanzada" in es and "Nieosiągnięty" in pl_
    tr_es, tr_pl = Translator("es"), Translator("pl")
    assert tr_es.number(12345.678, 2) == "12.345,68"
    assert tr_pl.number(12345.678, 2) == "12\u00a0345,68"
    assert tr_es.percent(0.123) == "12,3\u00a0%"
    assert tr_pl.percent(0.123) == "12,3%"
    assert tr_es.value(1234.5, "currency", "EUR") == "1.234,50\u00a0€"
    assert tr_pl.value(1234.5, "currency", "PLN") == "1\u00a0234,50\u00a0zł"
    assert tr_es.date(dt.date(2026, 3, 1)) == "1 mar 2026"
    assert tr_pl.delta(0.025, "percent") == "+2,5\u00a0p.p."


def test_locale_catalogues_match():
    en = load_messages("en")
    for lang in available_languages():
        msgs = load_messages(lang)
        assert set(msgs) == set(en), f"{lang}.json keys differ from en.json"
        for key, text in en.items():
            assert placeholders(msgs[key]) == placeholders(text), f"{lang}:{key} placeholders differ"


def test_templates_use_only_known_messages():
    en = load_messages("en")
    root = Path(__file__).resolve().parents[1] / "metricspec" / "render"
    used = set()
    for f in (root / "templates").glob("*.html"):
        used |= set(re.findall(r"""_\(\s*["']([a-z_]+)["']\s*[,)]""", f.read_text()))
    for f in (root / "context.py", root / "site.py"):
        used |= set(re.findall(r"""tr\(\s*["']([a-z_]+)["']""", f.read_text()))
    assert used and used <= set(en), sorted(used - set(en))


# -- templates from plugins -------------------------------------------------------------------


def test_plugin_templates_override_builtins(results, tmp_path):
    from metricspec.hookspecs import hookspec  # noqa: F401  (the hook exists)
    from metricspec.plugins import make_plugin_manager
    from metricspec.render.html import make_environment, render_scorecard

    low, high = tmp_path / "low", tmp_path / "high"
    low.mkdir()
    high.mkdir()
    (low / "style.css").write_text("body { color: #111; } /* low */\n")
    (high / "style.css").write_text("body { color: #000; } /* high */\n")
    (low / "scorecard.html").write_text('{% extends "base.html" %}{% block main %}<h1>{{ page.title }}</h1>'
                                        "<p>custom page</p><p>{{ page.objectives[0].goals[0].title }}</p>{% endblock %}")

    import pluggy

    impl = pluggy.HookimplMarker("metricspec")

    class Low:
        @impl
        def metricspec_template_paths(self):
            return [str(low)]

    class High:
        @impl
        def metricspec_template_paths(self):
            return [str(high)]

    pm = make_plugin_manager(load_entry_points=False, plugins=(Low(), High()))
    env = make_environment(plugin_manager=pm)
    html = render_scorecard(results, "en", env=env)
    assert "/* high */" in html and "/* low */" not in html  # later-registered plugin wins
    assert "custom page" in html
    assert ESCAPED in html and XSS not in html  # plugin templates are autoescaped too


# -- site ---------------------------------------------------------------------------------------


def site_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_site_pages_and_links(results, tmp_path):
    from metricspec.render.site import build_site

    other = results.model_copy(update={"spec": results.spec.model_copy(update={"name": "second", "title": "Second"}),
                                       "control_groups": [], "attribution": None})
    out = tmp_path / "site"
    build_site([results, other], out, "en")
    files = site_files(out)
    assert "index.html" in files and "assets/style.css" in files
    assert "scorecards/html-demo.html" in files and "scorecards/second.html" in files
    assert "kpi/html-demo--followers.html" in files and "kpi/second--posts.html" in files
    assert "people/lucia-fernandez.html" in files and "people/piotr-nowak.html" in files
    assert any(f.startswith("people/ana-script") for f in files)
    assert (out / "index.html").stat().st_mode & 0o044, "published files are readable by others (web servers)"
    index = files["index.html"].decode()
    assert "Brand awareness demo" in index and "Second" in index
    for rel, data in files.items():
        if not rel.endswith(".html"):
            continue
        html = data.decode()
        assert XSS not in html
        assert not re.search(r"https?://(?!www\.w3\.org/)", html), rel
        for href in re.findall(r'(?:href|src)="([^"]+)"', html):
            assert not href.startswith(("/", "http:", "https:", "file:")), (rel, href)
            target = href.split("#")[0]
            if target:
                assert (out / rel).parent.joinpath(target).resolve().is_file(), (rel, href)
    person = files["people/piotr-nowak.html"].decode()
    assert "500 posts this year" in person and "Reach 9,000" not in person


def test_site_build_is_deterministic(results, tmp_path):
    from metricspec.render.site import build_site

    build_site([results], tmp_path / "a", "es")
    build_site([results], tmp_path / "b", "es")
    assert site_files(tmp_path / "a") == site_files(tmp_path / "b")


def test_failed_build_leaves_previous_site_untouched(results, tmp_path, monkeypatch):
    import metricspec.render.site as site

    out = tmp_path / "site"
    site.build_site([results], out, "en")
    before = site_files(out)

    def broken_render(env, pages, tr, **options):
        if any(template == "person.html" for template, _ in pages):
            raise RuntimeError("template blew up")
        return real_render(env, pages, tr, **options)

    real_render = site.render_pages
    monkeypatch.setattr(site, "render_pages", broken_render)
    with pytest.raises(RuntimeError):
        site.build_site([results], out, "pl")
    assert site_files(out) == before
    monkeypatch.setattr(site, "render_pages", real_render)

    calls = []
    real_write = site.atomic_write_text

    def failing_write(path, text):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk full")
        real_write(path, text)

    monkeypatch.setattr(site, "atomic_write_text", failing_write)
    with pytest.raises(OSError):
        site.build_site([results], out, "pl")
    assert site_files(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["site"], "no staging folder is left behind"


# -- commands -----------------------------------------------------------------------------------


def test_render_and_build_commands(spec_path, tmp_path):
    from metricspec.cli import main

    runner = CliRunner()
    out = tmp_path / "card.html"
    res = runner.invoke(main, ["render", str(spec_path), "-o", str(out), "--as-of", "2026-10-15", "--lang", "es"])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert '<html lang="es">' in html and "Brand awareness demo" in html
    md = tmp_path / "card.md"
    res = runner.invoke(main, ["render", str(spec_path), "-o", str(md), "--format", "markdown", "--as-of", "2026-10-15"])
    assert res.exit_code == 0, res.output
    assert md.read_text().startswith("## Brand awareness demo")
    site = tmp_path / "site"
    res = runner.invoke(main, ["build", str(spec_path.parent), "-o", str(site), "--as-of", "2026-10-15"])
    assert res.exit_code == 0, res.output
    assert (site / "index.html").is_file() and (site / "scorecards" / "html-demo.html").is_file()
    res = runner.invoke(main, ["render", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "x.html")])
    assert res.exit_code == 2 and not (tmp_path / "x.html").exists()


def test_results_json_round_trip_renders_the_same(results):
    from metricspec.render.html import render_scorecard

    again = Results.model_validate(json.loads(results.to_json()))
    assert render_scorecard(again, "en") == render_scorecard(results, "en")
