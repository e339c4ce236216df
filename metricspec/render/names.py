"""Names for readers: identifiers such as ``engaged_users`` or ``paid_search`` are never shown raw.

A KPI without a title is called by its name, and segment columns and values come from the data; a
snake_case identifier among them reads ``Engaged users``, ``Paid search`` on pages, in legends and in
hover texts. Any other text (``instagram``, ``Rival A``, ``LinkedIn``) is left as written.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from metricspec.engine.results import Results

_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


def readable(text: str) -> str:
    """``engaged_users`` -> ``Engaged users``; anything that is not a snake_case identifier as it is."""
    if not _IDENTIFIER.fullmatch(text):
        return text
    words = text.replace("_", " ")
    return words[0].upper() + words[1:]


def readable_results(results: Results) -> Results:
    """``results`` with every KPI titled for readers (KPIs whose title is their identifier get a readable one)."""
    kpis = [k.model_copy(update={"title": readable(k.title)}) if k.title != readable(k.title) else k
            for k in results.kpis]
    if all(a is b for a, b in zip(kpis, results.kpis, strict=True)):
        return results
    return results.model_copy(update={"kpis": kpis})
