"""metricspec connector ``shortlinks``: click exports of a URL shortener.

The export has the columns ``Short link, Long URL, Title, Clicked at, Referrer,
Country, Device`` (``Clicked at`` like ``2026-05-18T09:15:03Z``). The connector
returns::

    short_link, long_url, title, clicked_at (UTC datetime), referrer, country, device,
    utm_source, utm_medium, utm_campaign, utm_content, utm_term, platform

UTM tags come from the long URL's query string (null when absent); ``platform``
comes from the referrer's host: ``t.co``/``x.com``/``twitter.com`` → ``x``,
``instagram.com`` → ``instagram``, ``linkedin.com``/``lnkd.in`` → ``linkedin``,
``facebook.com``/``fb.me`` → ``facebook``, no referrer (or ``direct``) →
``direct``, anything else → ``other``. Everything is done with polars string
expressions, no per-row Python. ``clicked_at`` is declared a datetime and converted by
metricspec's checked casts (``Connector.column_types``): a time in no ISO 8601 layout stops
the run naming its row instead of dropping it; times without an offset are read in the
source's ``timezone`` (default UTC).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from metricspec.plugin_api import (
    Connector,
    ConnectorOptions,
    SourceContext,
    hookimpl,
    scan_text_export,
)

if TYPE_CHECKING:
    import polars as pl

__version__ = "0.1.0"
__all__ = ["COLUMNS", "PLATFORMS", "UTM_TAGS", "ShortlinksConnector", "ShortlinksOptions", "metricspec_connectors"]

COLUMNS: dict[str, str] = {
    "Short link": "short_link",
    "Long URL": "long_url",
    "Title": "title",
    "Clicked at": "clicked_at",
    "Referrer": "referrer",
    "Country": "country",
    "Device": "device",
}
"""Export header -> normalised column name."""

UTM_TAGS: tuple[str, ...] = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")

PLATFORMS: dict[str, tuple[str, ...]] = {
    "x": ("t.co", "x.com", "twitter.com"),
    "instagram": ("instagram.com",),
    "linkedin": ("linkedin.com", "lnkd.in"),
    "facebook": ("facebook.com", "fb.me", "fb.com"),
}
"""Platform -> referrer hosts (subdomains such as l.facebook.com match too)."""

DIRECT = ("", "direct", "(direct)", "none", "(none)", "-")

# percent-escapes common in UTM values; others are left as they are
_ESCAPES = {"+": " ", "%20": " ", "%2B": "+", "%2b": "+", "%2C": ",", "%2c": ",", "%2F": "/", "%2f": "/",
            "%3A": ":", "%3a": ":", "%26": "&", "%3D": "=", "%3d": "=", "%7C": "|", "%7c": "|", "%25": "%"}


class ShortlinksOptions(ConnectorOptions):
    """Options of the ``shortlinks`` connector."""

    path: str = Field(description="The click export CSV; globs read several exports together.")


def utm_expr(url: pl.Expr, tag: str) -> pl.Expr:
    """The value of UTM tag ``tag`` in the query string of ``url`` (null if absent or empty)."""
    import polars as pl

    raw = url.str.extract(rf"[?&]{tag}=([^&#]*)", 1)
    decoded = raw.str.replace_many(list(_ESCAPES), list(_ESCAPES.values()))
    return pl.when(decoded.str.len_chars() > 0).then(decoded).otherwise(None)


def platform_expr(referrer: pl.Expr) -> pl.Expr:
    """The social platform a referrer (a host or a URL) belongs to."""
    import polars as pl

    ref = referrer.str.strip_chars().str.to_lowercase()
    host = ref.str.replace(r"^[a-z][a-z0-9+.\-]*://", "").str.replace(r"^www\.", "").str.extract(r"^([^/:?#]*)", 1)
    expr: Any = pl.when(ref.is_null() | ref.is_in(list(DIRECT))).then(pl.lit("direct"))
    for platform, domains in PLATFORMS.items():
        cond = pl.lit(False)
        for domain in domains:
            cond = cond | (host == domain) | host.str.ends_with("." + domain)
        expr = expr.when(cond).then(pl.lit(platform))
    result: pl.Expr = expr.otherwise(pl.lit("other"))
    return result


class ShortlinksConnector(Connector):
    """URL-shortener click export with UTC ``clicked_at``, UTM tags and ``platform``."""

    name = "shortlinks"
    Options = ShortlinksOptions
    description = "URL-shortener click export: UTM tags and referrer platform"

    def scan(self, options: ShortlinksOptions, context: SourceContext) -> pl.LazyFrame:
        """Scan the export(s) as text and derive the columns (lazily)."""
        import polars as pl

        lf, headers = scan_text_export(
            options.path, context, required=["Long URL", "Clicked at"], what="a short-link click export",
            missing_hint="expected columns: " + ", ".join(COLUMNS),
        )
        exprs: list[pl.Expr] = []
        for header, name in COLUMNS.items():
            if header not in headers:
                exprs.append(pl.lit(None, dtype=pl.String).alias(name))
            else:
                exprs.append(pl.col(header).alias(name))
        url = pl.col("Long URL")
        exprs += [utm_expr(url, tag).alias(tag) for tag in UTM_TAGS]
        exprs.append(platform_expr(pl.col("Referrer") if "Referrer" in headers else pl.lit(None, pl.String))
                     .alias("platform"))
        return lf.select(exprs)

    def column_types(self, options: ShortlinksOptions, context: SourceContext, columns: list[str]) -> dict[str, str]:
        """``clicked_at`` is a datetime (ISO 8601, with or without an offset); the rest is text."""
        return {"clicked_at": "datetime"} if "clicked_at" in columns else {}


@hookimpl
def metricspec_connectors() -> list[type[Connector]]:
    """The connectors of this plugin."""
    return [ShortlinksConnector]
