"""Number formatting shared by the text outputs (HTML uses Babel for locales)."""

from __future__ import annotations

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
