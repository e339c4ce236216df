"""metricspec connector ``x_analytics``: the official X (Twitter) analytics CSV export.

The export (one file per month from analytics.x.com, "Export data" → "By Tweet")
has the columns::

    Tweet id, Tweet permalink, Tweet text, time, impressions, engagements,
    engagement rate, retweets, replies, likes, user profile clicks, url clicks,
    hashtag clicks, detail expands, permalink clicks, app opens, app installs,
    follows, email tweet, dial phone, media views, media engagements

(plus ``promoted ...`` columns for promoted tweets). The connector renames them to
snake_case (``tweet_id, permalink, text, posted_at, impressions, engagements,
engagement_rate, ..., profile_clicks, url_clicks, ...``), keeps ``tweet_id`` as a
string (ids exceed float precision), reads counts as integers (X writes ``-`` for
"not applicable", read as null) and parses ``time`` (``2026-01-03 14:05 +0000``)
into a time-zone-aware UTC datetime ``posted_at``.

The plugin is found through its entry point only::

    [project.entry-points.metricspec]
    x_analytics = "metricspec_x_analytics"
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import Field

import metricspec
from metricspec.connectors.base import Connector, ConnectorOptions, SourceContext
from metricspec.connectors.files import scan_text_export

if TYPE_CHECKING:
    import polars as pl

__version__ = "0.1.0"
__all__ = ["COLUMNS", "XAnalyticsConnector", "XAnalyticsOptions", "metricspec_connectors", "snake_case"]

COLUMNS: dict[str, str] = {
    "Tweet id": "tweet_id",
    "Tweet permalink": "permalink",
    "Tweet text": "text",
    "time": "posted_at",
    "impressions": "impressions",
    "engagements": "engagements",
    "engagement rate": "engagement_rate",
    "retweets": "retweets",
    "replies": "replies",
    "likes": "likes",
    "user profile clicks": "profile_clicks",
    "url clicks": "url_clicks",
    "hashtag clicks": "hashtag_clicks",
    "detail expands": "detail_expands",
    "permalink clicks": "permalink_clicks",
    "app opens": "app_opens",
    "app installs": "app_installs",
    "follows": "follows",
    "email tweet": "email_tweet",
    "dial phone": "dial_phone",
    "media views": "media_views",
    "media engagements": "media_engagements",
}
"""Export header -> normalised column name."""

TEXT_COLUMNS = frozenset({"tweet_id", "permalink", "text"})
RATE_SUFFIX = "_rate"
TIME_FORMATS = ("%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%.f%#z")


def snake_case(header: str) -> str:
    """Normalise an export header: known ones by :data:`COLUMNS`, others to snake_case."""
    if header in COLUMNS:
        return COLUMNS[header]
    return re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_") or "column"


class XAnalyticsOptions(ConnectorOptions):
    """Options of the ``x_analytics`` connector."""

    path: str = Field(description="The export CSV; a glob such as data/x/*.csv reads monthly exports together.")


class XAnalyticsConnector(Connector):
    """The X analytics "by Tweet" export, with normalised names and a UTC ``posted_at``."""

    name = "x_analytics"
    Options = XAnalyticsOptions
    description = "X (Twitter) analytics CSV export, normalised"

    def scan(self, options: XAnalyticsOptions, context: SourceContext) -> pl.LazyFrame:
        """Scan the export(s) as text and convert the columns (lazily, vectorised)."""
        import polars as pl

        lf, headers = scan_text_export(
            options.path, context, required=["Tweet id", "time", "impressions"], what="an X analytics export",
            read_hint="export the data again from analytics.x.com (Export data → By Tweet)",
            missing_hint="use the 'By Tweet' export, or read the file with the csv connector",
        )
        names = {h: snake_case(h) for h in headers}
        exprs: list[pl.Expr] = []
        for header, name in names.items():
            col = pl.col(header).str.strip_chars()
            if name == "posted_at":
                parsed = [col.str.to_datetime(fmt, strict=False, time_unit="us") for fmt in TIME_FORMATS]
                exprs.append(pl.coalesce(parsed).dt.convert_time_zone("UTC").alias(name))
            elif name in TEXT_COLUMNS:
                exprs.append(pl.col(header).alias(name))
            else:
                value = pl.when(col.is_in(["-", ""])).then(None).otherwise(col)
                if name.endswith(RATE_SUFFIX) or name.startswith("promoted_engagement_rate"):
                    exprs.append(value.cast(pl.Float64, strict=False).alias(name))
                else:
                    # counts; tolerate "12.0" by going through float
                    exprs.append(value.cast(pl.Float64, strict=False).round(0).cast(pl.Int64).alias(name))
        return lf.select(exprs)


@metricspec.hookimpl
def metricspec_connectors() -> list[type[Connector]]:
    """The connectors of this plugin."""
    return [XAnalyticsConnector]
