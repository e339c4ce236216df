"""Number formatting shared by the text outputs (HTML uses Babel for locales)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

STATUS_LABELS = {
    "achieved": "achieved",
    "on_track": "on track",
    "at_risk": "at risk",
    "off_track": "off track",
    "missed": "missed",
    "no_data": "no data",
}
STATUS_STYLES = {
    "achieved": "bold green",
    "on_track": "green",
    "at_risk": "yellow",
    "off_track": "red",
    "missed": "bold red",
    "no_data": "dim",
}


def fmt_value(value: float | None, unit: str = "number", currency: str | None = None) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:.1%}"
    if unit == "ratio":
        return f"{value:,.3f}"
    if unit == "currency":
        return f"{value:,.2f} {currency or ''}".strip()
    if unit in ("count", "days") or (float(value).is_integer() and abs(value) < 1e15):
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.2f}"


def fmt_pct(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:+.1%}"


def fmt_delta(value: float | None, unit: str = "number", currency: str | None = None) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else ""
    if unit == "percent":
        return f"{value * 100:+.1f} pp"
    return sign + fmt_value(value, unit, currency)


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
