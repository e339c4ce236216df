"""The view models of a control group's tables (shared by :mod:`.control_groups` and :mod:`.cg_details`)."""

from __future__ import annotations

from pydantic import Field

from metricspec.render.views import View


class CgCell(View):
    text: str
    numeric: bool = False
    strong: bool = False
    notes: list[str] = Field(default_factory=list)  # small lines under the text: an interval, warnings


class CgRow(View):
    head: CgCell  # the row header (metric, or segment)
    cells: list[CgCell]
    warnings: list[str] = Field(default_factory=list)  # shown in a full-width row below
    flagged: bool = False  # a segment whose sample ratio mismatches (or a covariate out of balance)
    muted: bool = False  # no conclusion (not significant, too small, not adjusted): its figures de-emphasised


class CgTable(View):
    caption: str
    headers: list[str]
    numeric: list[bool]  # per column, the row header's included
    rows: list[CgRow]
    note: str | None = None  # what the p-values / figures mean


class CgFact(View):
    label: str
    value: str


class SrmAlert(View):
    title: str
    detail: str
