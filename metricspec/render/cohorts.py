"""The cohort table of a ``cohort_retention`` KPI for people: a heat-table view (HTML) and
Markdown rows. The shares are written in every cell; the shade only repeats them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from metricspec.render.views import CohortCell, CohortRowView, CohortView

if TYPE_CHECKING:
    from metricspec.engine.results import KpiResult
    from metricspec.kinds.cohort_table import CohortTable
    from metricspec.render.i18n import Translator

HEAT_LEVELS = 10


def heat_level(share: float | None) -> int | None:
    """The shade of a share: 0 (0%) to :data:`HEAT_LEVELS` (100%)."""
    if share is None:
        return None
    return max(0, min(HEAT_LEVELS, round(share * HEAT_LEVELS)))


def _noun(tr: Translator, grain: str) -> str:
    noun = tr.grain_noun(grain)
    return noun[:1].upper() + noun[1:]


def age_headers(tr: Translator, table: CohortTable) -> list[str]:
    noun = _noun(tr, table.period)
    return [tr.gettext("cohort_age", grain=noun, age=str(age)) for age in table.ages]


def cohort_view(tr: Translator, k: KpiResult) -> CohortView | None:
    """The KPI's cohort table as a view (None for KPIs of other kinds)."""
    table = k.cohorts
    if table is None:
        return None
    noun = tr.grain_noun(table.period)
    rows = [CohortRowView(
        label=tr.period(r.cohort, table.period, r.label), size=tr.number(r.size),
        cells=[CohortCell(text=tr.percent(share), level=heat_level(share)) for share in r.shares],
    ) for r in table.rows]
    return CohortView(heading=tr.gettext("cohorts_heading", title=k.title),
                      caption=tr.gettext("cohort_caption", title=k.title, grain=noun),
                      note=tr.gettext("cohort_note", grain=noun), cohort_header=tr.gettext("col_cohort"),
                      size_header=tr.gettext("col_cohort_size"), age_headers=age_headers(tr, table), rows=rows)


def cohort_markdown(tr: Translator, k: KpiResult, esc: Callable[[object], str]) -> list[str]:
    """The KPI's cohort table as Markdown lines (none for KPIs of other kinds); ``esc`` escapes text
    from the spec."""
    table = k.cohorts
    if table is None:
        return []
    headers = [tr.gettext("col_cohort"), tr.gettext("col_cohort_size"), *age_headers(tr, table)]
    lines = [f"### {esc(tr.gettext('cohorts_heading', title=k.title))}", "",
             "| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1)]
    for r in table.rows:
        cells = [r.label, str(r.size), *(tr.percent(s) if s is not None else "—" for s in r.shares)]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, "", tr.gettext("cohort_note", grain=tr.grain_noun(table.period)), ""]
