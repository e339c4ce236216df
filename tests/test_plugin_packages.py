"""The first-party plugin packages under plugins/: installed, found by entry point only, read end to end."""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    # distribution: (directory under plugins/, entry-point name, module)
    "metricspec-x-analytics": ("metricspec-x-analytics", "x_analytics", "metricspec_x_analytics"),
    "metricspec-shortlinks": ("metricspec-shortlinks", "shortlinks", "metricspec_shortlinks"),
}


def _installed(dist: str, ep_name: str, module: str) -> bool:
    eps = {ep.name for ep in metadata.entry_points(group="metricspec")}
    return ep_name in eps and importlib.util.find_spec(module) is not None


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def plugin_packages() -> None:
    """Install each plugin package (editable, no dependencies) unless it is already installed."""
    missing = [d for d, (_dir, ep, mod) in PACKAGES.items() if not _installed(d, ep, mod)]
    if not missing:
        return
    if _pip("--version").returncode != 0:
        pytest.skip("pip is not available, so the plugin packages under plugins/ cannot be installed")
    for dist in missing:
        path = str(ROOT / "plugins" / PACKAGES[dist][0])
        result = _pip("install", "--no-deps", "--no-build-isolation", "-e", path)
        if result.returncode != 0:  # e.g. no `wheel` for old setuptools: let pip build in isolation
            result = _pip("install", "--no-deps", "-e", path)
        assert result.returncode == 0, f"pip install -e {path} failed:\n{result.stdout}\n{result.stderr}"
    importlib.invalidate_caches()
    for dist, (_dir, ep, mod) in PACKAGES.items():
        assert _installed(dist, ep, mod), f"{dist} is still not discoverable after installing it"


@pytest.mark.parametrize("dist", sorted(PACKAGES))
def test_entry_point_declared(plugin_packages: None, dist: str) -> None:
    _dir, ep_name, module = PACKAGES[dist]
    eps = [ep for ep in metadata.entry_points(group="metricspec") if ep.name == ep_name]
    assert len(eps) == 1
    assert eps[0].value == module
    assert eps[0].dist is not None and eps[0].dist.metadata["Name"] == dist
    assert metadata.version(dist) == "0.1.0"


def test_found_only_through_entry_points(plugin_packages: None) -> None:
    modules = [mod for (_d, _e, mod) in PACKAGES.values()]
    code = (
        "import sys\n"
        "import metricspec, metricspec.plugins, metricspec.sources, metricspec.connectors.builtin, metricspec.cli\n"
        f"mods = {modules!r}\n"
        "print(any(m in sys.modules for m in mods))\n"
        "from metricspec.plugins import make_plugin_manager\nfrom metricspec.sources.registry import connector_registry\n"
        "print(sorted(connector_registry(make_plugin_manager(load_entry_points=False, builtins=False))))\n"
        "reg = connector_registry(make_plugin_manager())\n"
        "print(all(m in sys.modules for m in mods), 'x_analytics' in reg, 'shortlinks' in reg)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    lines = out.stdout.strip().splitlines()
    assert lines == ["False", "[]", "True True True"]
    # and no metricspec module imports the plugins
    for path in (ROOT / "metricspec").rglob("*.py"):
        text = path.read_text(encoding="utf8")
        for mod in modules:
            assert f"import {mod}" not in text and f"from {mod}" not in text, f"{path} imports {mod}"


X_EXPORT = (
    "Tweet id,Tweet permalink,Tweet text,time,impressions,engagements,engagement rate,retweets,replies,likes,"
    "user profile clicks,url clicks,hashtag clicks,detail expands,permalink clicks,app opens,app installs,follows,"
    "email tweet,dial phone,media views,media engagements\n"
    "2006662153065172945,https://x.com/acme/status/2006662153065172945,\"Hello, world\",2026-01-03 14:05 +0000,"
    "1516,43,0.02836411609498681,0,5,15,5,2,0,17,0,0,0,1,0,0,-,-\n"
    "2006787112686142568,https://x.com/acme/status/2006787112686142568,Second,2026-01-31 23:30 +0000,"
    "200,10,0.05,1,0,9,0,0,0,0,0,0,0,0,0,0,846,29\n"
)


def test_x_analytics_end_to_end(plugin_packages: None, tmp_path: Path) -> None:
    import polars as pl

    from metricspec.connectors.base import SourceContext
    from metricspec.plugins import make_plugin_manager
    from metricspec.sources.prepare import apply_source_options
    from metricspec.sources.registry import connector_registry

    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "2026-01.csv").write_text(X_EXPORT, encoding="utf8")
    cls = connector_registry(make_plugin_manager())["x_analytics"]
    options, context = cls.Options.model_validate({"path": "exports/*.csv"}), SourceContext("x_posts", tmp_path)
    text = cls().scan(options, context)
    types = cls().column_types(options, context, text.collect_schema().names())
    assert types["impressions"] == "int" and types["engagement_rate"] == "float" and types["posted_at"] == "datetime"
    assert "tweet_id" not in types and "text" not in types
    lf = apply_source_options(text, source_name="x_posts", rename={}, columns=types, timestamp_format=None,
                              timezone=None, target_timezone="UTC", time_column="posted_at", where=None)
    df = lf.collect()
    assert df.columns[:8] == ["tweet_id", "permalink", "text", "posted_at", "impressions", "engagements",
                              "engagement_rate", "retweets"]
    assert {"profile_clicks", "url_clicks", "media_views", "media_engagements"} <= set(df.columns)
    assert df.schema["tweet_id"] == pl.String and df["tweet_id"][0] == "2006662153065172945"
    assert df.schema["posted_at"] == pl.Datetime("us", "UTC")
    assert df["posted_at"].to_list() == [dt.datetime(2026, 1, 3, 14, 5, tzinfo=dt.UTC),
                                         dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC)]
    assert df["text"][0] == "Hello, world"
    assert df["impressions"].to_list() == [1516, 200] and df.schema["impressions"] == pl.Int64
    assert df["engagement_rate"][0] == pytest.approx(43 / 1516)
    assert df["url_clicks"].to_list() == [2, 0]
    assert df["media_views"].to_list() == [None, 846]  # "-" is "not applicable"
    # through the shared source options into the spec's time zone: 23:30 UTC is already February in Madrid
    local = apply_source_options(text, source_name="x_posts", rename={}, columns=types, timestamp_format=None,
                                 timezone=None, target_timezone="Europe/Madrid", time_column="posted_at",
                                 where=None).collect()
    assert local["posted_at"].dt.replace_time_zone(None).to_list() == [dt.datetime(2026, 1, 3, 15, 5),
                                                                       dt.datetime(2026, 2, 1, 0, 30)]


X_HEADER = X_EXPORT.splitlines()[0]
X_ROW = X_EXPORT.splitlines()[2]


def _x_run(tmp_path: Path, rows: list[str]) -> tuple[int, str, dict[str, float | None]]:
    """`metricspec run` of impressions and likes per month over an export with ``rows``."""
    from click.testing import CliRunner

    from metricspec.cli import main

    (tmp_path / "x.csv").write_text("\n".join([X_HEADER, *rows]) + "\n", encoding="utf8")
    (tmp_path / "s.yaml").write_text(
        "name: s\ngrains: [month]\nsources:\n  x: {connector: x_analytics, options: {path: x.csv}, "
        "time_column: posted_at}\nkpis:\n  impressions: {source: x, agg: sum, column: impressions}\n"
        "  likes: {source: x, agg: sum, column: likes}\n", encoding="utf8")
    result = CliRunner().invoke(main, ["run", str(tmp_path / "s.yaml"), "--as-of", "2026-03-01", "--format", "csv"])
    assert "Traceback" not in result.output
    values = {f"{ln.split(',')[1]} {ln.split(',')[3]}": float(ln.split(",")[9]) for ln in result.output.splitlines()
              if ln.count(",") >= 9 and ln.split(",")[5] == "headline"}  # spec,kpi,grain,period,label,kind,…,value
    return result.exit_code, result.output, values


def _row(time: str = "2026-01-31 23:30 +0000", impressions: str = "200", likes: str = "9") -> str:
    cells = X_ROW.split(",")
    cells[3], cells[4], cells[9] = time, impressions, likes
    return ",".join(cells)


@pytest.mark.parametrize(("cell", "value", "expect"), [
    ("impressions", '"1,234"', "column 'impressions' has values that are not int (e.g. '1,234' at row 2)"),
    ("likes", "2.5", "column 'likes' has values that are not int (e.g. '2.5' at row 2)"),
    ("impressions", "abc", "column 'impressions' has values that are not int (e.g. 'abc' at row 2)"),
    ("time", "03/01/2026 14:05", "column 'posted_at' has values that are not datetime (e.g. '03/01/2026 14:05' at "
                                 "row 2)"),
])
def test_x_analytics_refuses_values_the_csv_connector_refuses(plugin_packages: None, tmp_path: Path, cell: str,
                                                              value: str, expect: str) -> None:
    """Issue 21: "1,234" impressions were dropped (a month's 5,215,109 became 207,492), 2.5 likes became 2,
    'abc' null, a time in another layout dropped its row: each now stops the run naming the row."""
    kwargs = {"impressions": value} if cell == "impressions" else {"likes": value} if cell == "likes" else \
        {"time": value}
    code, out, _ = _x_run(tmp_path, [_row(), _row(**kwargs)])
    assert code == 2, out
    assert "source 'x'" in out and expect in out and "s.yaml:4" in out


def test_x_analytics_reads_every_iso_time_and_refuses_an_extra_field(plugin_packages: None, tmp_path: Path) -> None:
    rows = [_row("2026-01-31 23:30 +0000", "1"), _row("2026-02-01 01:30 +0200", "10"),  # = 31 Jan 23:30 UTC
            _row("2026-02-01 00:30", "100"), _row("2026-02-01T00:45:00Z", "1000")]  # naive: UTC, ISO with T
    code, out, values = _x_run(tmp_path, rows)
    assert code == 0, out
    assert values["impressions 2026-01-01"] == 11.0 and values["impressions 2026-02-01"] == 1100.0
    code, out, _ = _x_run(tmp_path, [_row(), _row() + ",7"])
    assert code == 2 and "line 3 of" in out and "has 23 fields, but the header has 22" in out, out


def test_x_analytics_rejects_other_csv(plugin_packages: None, tmp_path: Path) -> None:
    from metricspec.connectors.base import SourceContext
    from metricspec.errors import DataError
    from metricspec.plugins import make_plugin_manager
    from metricspec.sources.registry import connector_registry

    (tmp_path / "posts.csv").write_text("id,likes\n1,2\n")
    cls = connector_registry(make_plugin_manager())["x_analytics"]
    with pytest.raises(DataError, match="does not look like an X analytics export"):
        cls().scan(cls.Options(path="posts.csv"), SourceContext("x", tmp_path))
    with pytest.raises(DataError, match="file not found"):
        cls().scan(cls.Options(path="nope.csv"), SourceContext("x", tmp_path))


SHORTLINKS = (
    "Short link,Long URL,Title,Clicked at,Referrer,Country,Device\n"
    "https://sho.rt/a,https://shop.example/sale?utm_source=x&utm_medium=social&utm_campaign=spring-sale,"
    "Sale,2026-05-18T09:15:03Z,t.co,ES,mobile\n"
    "https://sho.rt/b,https://shop.example/fair?utm_campaign=trade+fair&utm_source=linkedin&utm_term=demo%20day"
    "&utm_content=banner#top,Fair,2026-05-18T23:59:59.250Z,https://lnkd.in/abc,PL,desktop\n"
    "https://sho.rt/c,https://shop.example/,Home,2026-05-19T00:00:00Z,,US,tablet\n"
    "https://sho.rt/d,https://shop.example/?ref=1,Home,2026-05-19T08:00:00Z,https://www.instagram.com/,MX,mobile\n"
    "https://sho.rt/e,https://shop.example/?utm_source=facebook,Home,2026-05-19T08:00:01Z,l.facebook.com,AR,mobile\n"
    "https://sho.rt/f,https://shop.example/?utm_source=,Home,2026-05-19T08:00:02Z,news.example.com,DE,mobile\n"
    "https://sho.rt/g,https://shop.example/,Home,2026-05-19T08:00:03Z,direct,DE,mobile\n"
)


def test_shortlinks_end_to_end(plugin_packages: None, tmp_path: Path) -> None:
    import polars as pl

    from metricspec.connectors.base import SourceContext
    from metricspec.plugins import make_plugin_manager
    from metricspec.sources.registry import connector_registry

    (tmp_path / "clicks.csv").write_text(SHORTLINKS, encoding="utf8")
    from metricspec.sources.prepare import apply_source_options

    cls = connector_registry(make_plugin_manager())["shortlinks"]
    options, context = cls.Options(path="clicks.csv"), SourceContext("clicks", tmp_path)
    text = cls().scan(options, context)
    types = cls().column_types(options, context, text.collect_schema().names())
    assert types == {"clicked_at": "datetime"}
    df = apply_source_options(text, source_name="clicks", rename={}, columns=types, timestamp_format=None,
                              timezone=None, target_timezone="UTC", time_column="clicked_at", where=None).collect()
    assert df.columns == ["short_link", "long_url", "title", "clicked_at", "referrer", "country", "device",
                          "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "platform"]
    assert df.schema["clicked_at"] == pl.Datetime("us", "UTC")
    assert df["clicked_at"][:2].to_list() == [dt.datetime(2026, 5, 18, 9, 15, 3, tzinfo=dt.UTC),
                                              dt.datetime(2026, 5, 18, 23, 59, 59, 250000, tzinfo=dt.UTC)]
    assert df["utm_source"].to_list() == ["x", "linkedin", None, None, "facebook", None, None]
    assert df["utm_medium"].to_list() == ["social", None, None, None, None, None, None]
    assert df["utm_campaign"].to_list()[:2] == ["spring-sale", "trade fair"]
    assert df["utm_content"].to_list()[1] == "banner"
    assert df["utm_term"].to_list()[1] == "demo day"
    assert df["platform"].to_list() == ["x", "linkedin", "direct", "instagram", "facebook", "other", "direct"]
