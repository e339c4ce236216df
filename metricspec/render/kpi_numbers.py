"""A KPI's numbers as a reader sees them: one precision per KPI, compact where a reader scans.

* **One precision per KPI**: every value of a KPI (tile, chart, table, goal card) has the same
  decimals, chosen from the size of its values (:func:`kpi_digits`): a ratio of 9.189 and 14.82 on one
  tile reads 9.19 and 14.82. Counts are whole numbers.
* **Compact where a reader scans** (tiles, the index): ``11.3k``, ``€306k``; the full value is on hover
  and in the tables (:meth:`KpiFormat.compact`).
* **Rate changes in percentage points**: a percentage's change is ``+2.0 pp``, never a relative
  change of a rate (``−44.0 %`` for 30.8 % → 17.3 %), wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from metricspec.render.formatting import kpi_unit

if TYPE_CHECKING:
    from metricspec.engine.results import KpiResult, Results
    from metricspec.render.i18n import Translator


def _values(k: KpiResult) -> Iterable[float]:
    for s in k.series:
        for p in s.points:
            if p.value is not None:
                yield p.value
    for h in k.headlines:
        if h.value is not None:
            yield h.value


def kpi_digits(k: KpiResult) -> int | None:
    """The decimals of every value of ``k``, from its largest value (None: the unit's own, as for money
    below a thousand: its currency's cents)."""
    values = [abs(v) for v in _values(k)]
    largest = max(values, default=0.0)
    if k.unit == "count":
        return 0
    if k.unit == "percent":
        return 2 if 0 < largest < 0.01 else 1
    if k.unit == "currency":
        return 0 if largest >= 1000 else None
    if values and all(float(v).is_integer() for v in values):
        return 0
    if k.unit == "days":
        return 0 if largest >= 100 else 1
    if largest >= 1000:
        return 0
    if largest >= 100:
        return 1
    return 2 if largest >= 1 else 3


@dataclass(frozen=True)
class KpiFormat:
    """Formats the values of one KPI in one language."""

    tr: Translator
    unit: str
    currency: str | None
    digits: int | None

    def full(self, value: float | None) -> str:
        """The whole value, for tables, hover texts and goal cards: ``11,303``, ``€306,409``."""
        return self.tr.value(value, self.unit, self.currency, self.digits)

    def compact(self, value: float | None) -> str:
        """The value to scan: ``11.3k`` (all digits below ten thousand)."""
        return self.tr.compact(value, self.unit, self.currency, self.digits)

    def delta(self, value: float | None) -> str:
        """A signed change in the KPI's unit: ``+462``, ``+2.0 pp``."""
        return self.tr.delta(value, self.unit, self.currency, self.digits if self.unit != "percent" else None)

    def compact_delta(self, value: float | None) -> str:
        """A signed change to scan, beside a compact value: ``-€31.5k`` (all digits below ten thousand)."""
        return self.tr.delta(value, self.unit, self.currency, self.digits if self.unit != "percent" else None,
                             compact=True)

    def relative(self, value: float | None) -> str:
        """A signed relative change (``+4.3%``); empty for percentages, whose change is in points."""
        if value is None or self.unit == "percent":
            return ""
        return self.tr.percent(value, 1, signed=True)

    def __call__(self, value: float | None) -> str:
        return self.full(value)


def kpi_format(results: Results, name: str, tr: Translator) -> KpiFormat:
    """The formatter of the KPI ``name`` of ``results`` (its unit, currency and precision)."""
    unit, currency = kpi_unit(results, name)
    k = next((k for k in results.kpis if k.name == name), None)
    return KpiFormat(tr, unit, currency, kpi_digits(k) if k is not None else None)
