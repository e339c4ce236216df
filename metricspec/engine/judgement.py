"""One judgement per goal: its status, the reason, how much of the target is reached, the ambition.

Every view (terminal, Markdown, HTML, ``check``, notifications) reads these fields and nothing else,
so a status and a progress bar cannot disagree. The rules (docs/goals.md#status), first that applies:

1. ``no_data`` — no current value.
2. The deadline has passed: ``achieved`` when the value meets the target, else ``missed``. But while
   values of periods up to the deadline still arrive (``complete_after_days``), nothing is final yet:
   ``achieved`` only when a running total already meets the target (late values only add to it), else
   ``target_reached`` when the value meets the target and ``at_risk`` when it does not, saying which
   periods are still arriving.
3. The value meets the target and cannot fall before the deadline (a running total of non-negative
   values, for ``direction: increase``): ``achieved``.
4. No deadline: ``target_reached`` when the value meets the target, else ``at_risk`` (no pace).
5. No forecast (too little history, a source without dates): ``target_reached`` when the value
   meets the target; else ``at_risk`` when it is at or ahead of the value expected today on the
   straight path to the target, else ``off_track``.
6. The value meets the target today: ``target_reached`` when the chance that it still does at the
   deadline is at least the ``on_track`` threshold, else ``at_risk``.
7. Otherwise by the chance of meeting the target at the deadline: ``on_track`` from the ``on_track``
   threshold (0.7 by default), ``at_risk`` from the ``at_risk`` threshold (0.3) — or when a
   ``tolerance`` is set and the chance of ending within it reaches that threshold — else
   ``off_track``.

Chances are read as every view shows them, whole percentages (:func:`reaches`): a chance of 69.6 %
reads 70 % and is on track at a 70 % threshold, so no view shows "70 %" beside "at risk".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from metricspec.engine.results import GoalStatus, MessageParams, chance_percent

NOT_AMBITIOUS = 0.95
NOT_PLAUSIBLE = 0.05
Ambition = Literal["not_ambitious", "not_plausible"]


@dataclass(frozen=True)
class Verdict:
    status: GoalStatus
    reason_code: str
    reason: MessageParams
    final: bool = False


@dataclass(frozen=True)
class Situation:
    """What the judgement reads (the chances come from the goal's forecast, when it has one)."""

    current: float | None
    target: float
    direction: str
    passed: bool
    deadline: str | None
    cannot_fall: bool
    expected: float | None
    chance: float | None
    chance_within_tolerance: float | None
    on_track: float
    at_risk: float
    pending: str | None = None  # the periods up to a passed deadline whose values still arrive ("Oct 2026")


def reaches(chance: float, threshold: float) -> bool:
    """Whether ``chance`` reaches ``threshold``, both as the whole percentages the views show."""
    return chance_percent(chance) >= chance_percent(threshold)


def met(value: float, target: float, direction: str) -> bool:
    return value >= target if direction == "increase" else value <= target


def judge(s: Situation) -> Verdict:
    if s.current is None:
        return Verdict("no_data", "reason_no_data", {})
    values: MessageParams = {"current": s.current, "target": s.target}
    reached = met(s.current, s.target, s.direction)
    if s.passed and s.pending:
        return _pending(s, reached, values)
    if s.passed:
        if reached:
            return Verdict("achieved", "reason_achieved_final", {**values, "deadline": str(s.deadline)}, True)
        return Verdict("missed", "reason_missed", {"deadline": str(s.deadline), **values}, True)
    if reached and s.cannot_fall:
        return Verdict("achieved", "reason_achieved_cannot_fall", values, True)
    if s.deadline is None:
        return Verdict("target_reached", "reason_target_reached_no_deadline", values) if reached \
            else Verdict("at_risk", "reason_no_deadline", {})
    if s.chance is None:
        return _without_forecast(s, reached, values)
    chance: MessageParams = {**values, "chance": s.chance}
    if reached:
        if reaches(s.chance, s.on_track):
            return Verdict("target_reached", "reason_target_reached", chance)
        return Verdict("at_risk", "reason_reached_at_risk", chance)
    if reaches(s.chance, s.on_track):
        return Verdict("on_track", "reason_chance_on_track", chance)
    if reaches(s.chance, s.at_risk):
        return Verdict("at_risk", "reason_chance_at_risk", chance)
    if s.chance_within_tolerance is not None and reaches(s.chance_within_tolerance, s.at_risk):
        return Verdict("at_risk", "reason_chance_within_tolerance",
                       {**chance, "chance_tolerance": s.chance_within_tolerance})
    return Verdict("off_track", "reason_chance_off_track", chance)


def _pending(s: Situation, reached: bool, values: MessageParams) -> Verdict:
    """The deadline has passed but values of its last periods still arrive: final only for a running total
    that already meets the target."""
    if reached and s.cannot_fall:
        return Verdict("achieved", "reason_achieved_cannot_fall", values, True)
    params: MessageParams = {"deadline": str(s.deadline), **values, "periods": s.pending or ""}
    if reached:
        return Verdict("target_reached", "reason_reached_pending", params)
    return Verdict("at_risk", "reason_pending", params)


def _without_forecast(s: Situation, reached: bool, values: MessageParams) -> Verdict:
    if reached:
        return Verdict("target_reached", "reason_target_reached_no_forecast", values)
    assert s.current is not None
    if s.expected is not None and met(s.current, s.expected, s.direction):
        return Verdict("at_risk", "reason_on_pace_no_forecast", {"current": s.current, "expected": s.expected})
    return Verdict("off_track", "reason_behind_no_forecast", {})


def attainment(current: float | None, target: float, direction: str, progress: float | None) -> float | None:
    """How much of the target the current value reaches, the length of a goal's bar: 1 (or more) when
    it meets the target, below 1 when it does not.

    ``increase``: current ÷ target; ``decrease``: target ÷ current. When signs make that meaningless
    (a target of 0, a negative value), the progress from the baseline, clamped below 1 — or 1 when the
    target is met.
    """
    if current is None:
        return None
    reached = met(current, target, direction)
    ratio: float | None = None
    if direction == "increase" and target > 0 and current >= 0:
        ratio = current / target
    elif direction == "decrease" and current > 0 and target >= 0:
        ratio = target / current
    if ratio is not None and math.isfinite(ratio) and (ratio >= 1) == reached:
        return ratio
    if reached:
        return 1.0
    if progress is None or not math.isfinite(progress):
        return 0.0
    return min(max(progress, 0.0), math.nextafter(1.0, 0.0))


def ambition(chance: float | None, final: bool) -> Ambition | None:
    """``not_ambitious`` above a 95 % chance, ``not_plausible`` below 5 % (goals still open), read as shown:
    96 % is above 95 %, a chance shown as 95 % is not."""
    if chance is None or final:
        return None
    if chance_percent(chance) > chance_percent(NOT_AMBITIOUS):
        return "not_ambitious"
    if chance_percent(chance) < chance_percent(NOT_PLAUSIBLE):
        return "not_plausible"
    return None
