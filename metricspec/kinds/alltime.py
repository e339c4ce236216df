"""All-time KPIs: KPIs over sources without a time column (``time_column: null``).

A one-off export (an ad-set report) has no dates: its KPIs have one value over all its rows and no
periods. A source is *timeless* when it says ``time_column: null`` explicitly (a source that omits
the key still gets the "no time column" error with its fix). A KPI is *all-time* when it aggregates
a timeless source without a ``time_column`` of its own, or when every KPI it reads is all-time.

Read from the kinds (the sources and KPIs each one reads), no I/O, no polars: the kinds, validation
(:mod:`metricspec.validation.alltime`), the engine and goals read it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from metricspec.spec.source import timeless_source

if TYPE_CHECKING:
    from metricspec.kinds.context import SpecView

ALL_TIME = "all"
"""The grain name of an all-time KPI's headline in the Results (no period, no points)."""

Timing = Literal["periods", "all", "mixed"]


def timing(spec: SpecView, name: str, _seen: frozenset[str] = frozenset()) -> Timing:
    """Whether KPI ``name`` has periods, is all-time, or reads both kinds of KPIs."""
    kpi = spec.kpis.get(name)
    if kpi is None or name in _seen:
        return "periods"
    own_time = getattr(kpi, "time_column", None)
    reads = kpi.sources_read()
    if reads and not kpi.inputs():
        return "all" if all(timeless_source(spec, r.source) for r in reads) and not own_time else "periods"
    found = {timing(spec, r.name, _seen | {name}) for r in kpi.inputs() if r.name in spec.kpis}
    if not found:
        return "periods"
    if found == {"all"}:
        return "all"
    return "mixed" if "all" in found or "mixed" in found else "periods"


def is_all_time(spec: SpecView, name: str) -> bool:
    return timing(spec, name) == "all"
