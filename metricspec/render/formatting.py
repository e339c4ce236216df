"""Numbers and engine sentences for the plain-text outputs (terminal tables, Markdown, ``check``).

They are formatted exactly as on an English scorecard, by the same :class:`~metricspec.render.i18n.Translator`
(Babel's ``en_GB`` locale): ``12,345``, ``1.66%``, ``€1,234.50``, ``31 Dec 2026``, and engine
sentences from their message code (``forecast 1.66% misses the target 2.0%``, not
``forecast 0.0166173 misses the target 0.02``).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from metricspec.engine.attribution.models import ChannelCredit
    from metricspec.engine.results import GoalResult, Headline, KpiResult, ParamValue, Results
    from metricspec.render.i18n import Translator

STATUS_LABELS = {
    "achieved": "achieved",
    "target_reached": "met so far",  # short: terminal tables keep the status whole at 60 columns
    "on_track": "on track",
    "at_risk": "at risk",
    "off_track": "off track",
    "missed": "missed",
    "no_data": "no data",
}
STATUS_STYLES = {
    "achieved": "bold green",
    "target_reached": "green",
    "on_track": "green",
    "at_risk": "yellow",
    "off_track": "red",
    "missed": "bold red",
    "no_data": "dim",
}


@functools.cache
def english() -> Translator:
    """The English translator shared by the text outputs (Babel is imported on first use)."""
    from metricspec.render.i18n import Translator  # start-up: babel and the engine, not for --help

    return Translator("en")


def credit_key(credit: ChannelCredit) -> str:
    """Channel, or 'channel / campaign' at campaign level."""
    return f"{credit.channel} / {credit.campaign}" if credit.campaign else credit.channel


def fmt_value(value: float | None, unit: str = "number", currency: str | None = None) -> str:
    """A KPI value in its unit: ``1,234``, ``12.3%``, ``€1,234.50``, ``0.017``."""
    return english().value(value, unit, currency)


def fmt_pct(value: float | None) -> str:
    """A signed relative change: ``+12.3%``."""
    return english().percent(value, signed=True)


def has_offsets(kpis: Iterable[KpiResult]) -> bool:
    """Whether any of these KPIs' first headline has a ``vs:`` comparison (text tables add a column)."""
    return any(k.headlines and k.headlines[0].vs is not None for k in kpis)


def offset_text(h: Headline) -> str:
    """A headline's ``vs:`` comparison for text tables: ``+12.3% vs 2026-W12`` (— when it has none)."""
    if h.vs is None:
        return "—"
    return f"{fmt_pct(h.vs.change_pct)} vs {h.vs.label or h.vs.title}"


def fmt_delta(value: float | None, unit: str = "number", currency: str | None = None) -> str:
    """A signed difference in the KPI's unit (percentage points for percentages): ``+1,234``, ``+2.5 pp``."""
    return english().delta(value, unit, currency)


def fmt_chance(g: GoalResult) -> str:
    """A goal's chance of meeting its target at the deadline: ``75%``, ``<1%``, ``—``."""
    return english().chance(g.chance)


def fmt_forecast(g: GoalResult, unit: str = "number", currency: str | None = None) -> str:
    """The point forecast with its 80 % range: ``12,203 (11,738–12,725)``."""
    text = fmt_value(g.forecast, unit, currency)
    band = next((i for i in g.forecast_intervals if i.level == 0.8), None)
    if band is None or g.forecast is None:
        return text
    return f"{text} ({fmt_value(band.low, unit, currency)}–{fmt_value(band.high, unit, currency)})"


def suggestion_text(g: GoalResult, unit: str = "number", currency: str | None = None) -> str | None:
    """``12,200 is 50% likely, 11,900 80% (the target 12,000: 75%); not ambitious`` — None without a forecast."""
    if not g.suggested_targets or g.chance is None:
        return None
    parts = [f"{fmt_value(s.target, unit, currency)} is {english().chance(s.chance)} likely"
             for s in g.suggested_targets]
    text = f"{', '.join(parts)} (the target {fmt_value(g.target, unit, currency)}: {fmt_chance(g)})"
    if g.ambition:
        text += f"; {g.ambition.replace('_', ' ')}"
    return text


def fmt_message(code: str | None, params: Mapping[str, ParamValue], text: str, unit: str = "number",
                currency: str | None = None) -> str:
    """An engine sentence from its code and params, numbers in the KPI's unit (``text`` if it has no code)."""
    return english().message(code, params, text, unit, currency)


def kpi_unit(results: Results, kpi: str) -> tuple[str, str | None]:
    """The unit and currency a KPI's values are shown in (currency KPIs default to the spec's currency)."""
    k = next((k for k in results.kpis if k.name == kpi), None)
    if k is None:
        return "number", None
    return k.unit, (k.currency or results.spec.currency) if k.unit == "currency" else k.currency


def fmt_any(value: object, unit: str | None = None, currency: str | None = None) -> str:
    """A value of a check finding: a number in ``unit`` (or as a plain number), a status or text as it is."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return fmt_value(value, unit or "number", currency)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {fmt_any(v, unit, currency)}" for k, v in value.items())
    return str(value)


def fmt_amount(value: float, unit: str = "number", currency: str | None = None) -> str:
    """An unsigned size of a change: ``1,234``, ``2.5 pp`` for percentages, ``€12.00``."""
    return english().delta(abs(value), unit, currency).removeprefix(english().plus_sign)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def goal_summary(specs: int, statuses: Iterable[str]) -> str:
    """One line for the end of ``run`` and ``check`` (like dbt's ``PASS=… WARN=…``):
    ``6 specs · 31 goals: 12 achieved, 9 on track, 4 at risk, 3 off track, 2 missed, 1 no data``.

    Statuses are counted in order from best to worst; statuses no goal has are left out.
    """
    counts = Counter(statuses)
    unknown = sorted(set(counts) - set(STATUS_LABELS))
    if unknown:
        raise ValueError(f"unknown goal status(es): {', '.join(unknown)}")
    total = sum(counts.values())
    parts = [f"{counts[s]} {label}" for s, label in STATUS_LABELS.items() if counts[s]]
    head = f"{_plural(specs, 'spec')} · {_plural(total, 'goal')}"
    return f"{head}: {', '.join(parts)}" if parts else head
