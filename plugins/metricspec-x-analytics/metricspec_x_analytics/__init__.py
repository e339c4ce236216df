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
string (ids exceed float precision), and declares counts integers, rates floats and
``time`` (``2026-01-03 14:05 +0000``) a datetime ``posted_at``. X writes ``-`` for "not
applicable": read as missing.

The values are converted by metricspec's own checked casts, exactly as a ``csv`` source
with ``columns:`` would be (``Connector.column_types``): a count written ``1,234`` or
``2.5``, a word where a number belongs, a time in no ISO 8601 layout or a line with an extra
field stops the run naming the source, column, value and row; nothing is dropped or
truncated. Times with another UTC offset are converted; times without one are read in the
source's ``timezone`` (default UTC, as X writes them).

The plugin is found through its entry point only::

    [project.entry-points.metricspec]
    x_analytics = "metricspec_x_analytics"
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

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
NOT_APPLICABLE = "-"


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
        """The export(s) as text, with normalised names; "-" (not applicable) is missing."""
        import polars as pl

        lf, headers = scan_text_export(
            options.path, context, required=["Tweet id", "time", "impressions"], what="an X analytics export",
            read_hint="export the data again from analytics.x.com (Export data → By Tweet)",
            missing_hint="use the 'By Tweet' export, or read the file with the csv connector",
        )
        names = [snake_case(h) for h in headers]
        clash = sorted({n for n in names if names.count(n) > 1})
        if clash:
            raise context.error(f"the export has two columns named {clash[0]!r} once normalised",
                                hint="remove the duplicate column from the export")
        exprs = [pl.col(h).alias(n) if n in TEXT_COLUMNS
                 else pl.when(pl.col(h).str.strip_chars() == NOT_APPLICABLE).then(None).otherwise(pl.col(h)).alias(n)
                 for h, n in zip(headers, names, strict=True)]
        return lf.select(exprs)

    def column_types(self, options: XAnalyticsOptions, context: SourceContext, columns: list[str]) -> dict[str, str]:
        """Counts are integers, rates floats, ``posted_at`` a datetime; ids and text stay text."""
        return {name: _type(name) for name in columns if name not in TEXT_COLUMNS}


def _type(name: str) -> str:
    if name == "posted_at":
        return "datetime"
    return "float" if name.endswith(RATE_SUFFIX) or name.startswith("promoted_engagement_rate") else "int"


@hookimpl
def metricspec_connectors() -> list[type[Connector]]:
    """The connectors of this plugin."""
    return [XAnalyticsConnector]
