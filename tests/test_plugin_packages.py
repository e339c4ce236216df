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
    lf = cls().scan(cls.Options.model_validate({"path": "exports/*.csv"}), SourceContext("x_posts", tmp_path))
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
    local = apply_source_options(lf, source_name="x_posts", rename={}, columns={}, timestamp_format=None,
                                 timezone=None, target_timezone="Europe/Madrid", time_column="posted_at",
                                 where=None).collect()
    assert local["posted_at"].dt.replace_time_zone(None).to_list() == [dt.datetime(2026, 1, 3, 15, 5),
                                                                       dt.datetime(2026, 2, 1, 0, 30)]


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
    cls = connector_registry(make_plugin_manager())["shortlinks"]
    df = cls().scan(cls.Options(path="clicks.csv"), SourceContext("clicks", tmp_path)).collect()
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
