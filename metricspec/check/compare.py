"""Results regressions: compare a spec's current snapshot with its baseline entry.

Rules (each finding names the goal, old and new values):

* **status worse** — the goal's status moved down :data:`STATUS_ORDER` (on track → at risk,
  achieved → anything else, … → missed / no data): a failure. It is only a warning when the
  target or deadline was made harder since the baseline, or when the goal has a tolerance
  and its value moved the wrong way by no more than it (noise) — except into ``missed`` or
  ``no_data``, which always fail.
* **KPI moved** — the goal's value moved the wrong way (per the goal's direction) by more
  than the goal's tolerance (``max(absolute, relative × |baseline value|)``): a failure;
  within tolerance: a warning; goals without a tolerance only get a warning. ``total``
  measures are compared only at the same as-of date (they grow with time).
* **control-group effect** — a significant effect that lost significance or changed sign: a
  failure; a non-significant effect that changed sign, or a newly significant harmful one:
  a warning.
* a goal or KPI in the baseline that is gone fails unless acknowledged (``goal_removed``
  / ``kpi_removed``); a KPI whose definition changed since the baseline is not compared
  (info when acknowledged with ``kpi_redefined``, else a warning).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from metricspec.check.baseline_schema import EffectEntry, GoalEntry, KpiEntry, SpecEntry
from metricspec.check.findings import (
    DEFINITION_CHANGED,
    EFFECT_HARMFUL,
    EFFECT_LOST_SIGNIFICANCE,
    EFFECT_MISSING,
    EFFECT_SIGN_CHANGED,
    GOAL_MISSING,
    KPI_MISSING,
    KPI_MOVED,
    NEW_GOAL,
    STATUS_WORSE,
    Finding,
    Severity,
)
from metricspec.check.specdiff import find_acknowledgement
from metricspec.engine.results import STATUS_ORDER
from metricspec.errors import Location
from metricspec.render.formatting import fmt_amount, fmt_any, fmt_pct
from metricspec.spec.models import Spec

Locate = Callable[..., Location | None]
Units = Mapping[str, tuple[str, str | None]]
"""KPI name -> (unit, currency): how the KPI's values are shown."""
TERMINAL = ("missed", "no_data")
EPSILON = 1e-9


def tolerance_band(reference: float | None, absolute: float | None, relative: float | None) -> float | None:
    """Allowed wrong-way move: the larger of the absolute and the relative tolerance; None if neither is set."""
    if absolute is None and relative is None:
        return None
    return max(absolute or 0.0, abs(reference or 0.0) * (relative or 0.0))


def wrong_way(old: float | None, new: float | None, direction: str) -> float | None:
    """How far ``new`` is worse than ``old`` (positive: worse, negative: better)."""
    if old is None or new is None:
        return None
    return (old - new) if direction != "decrease" else (new - old)


def status_rank(status: str | None) -> int:
    return STATUS_ORDER.get(status or "no_data", max(STATUS_ORDER.values()))


def _fmt(value: Any, unit: tuple[str, str | None] | None = None) -> str:
    """A value in a message: a KPI value in its unit (``12.3%``, ``€40.00``), ``none`` when missing."""
    if value is None:
        return "none"
    return fmt_any(value, *(unit or ("number", None)))


def _harder(old: GoalEntry, new: GoalEntry, unit: tuple[str, str | None] | None = None) -> str | None:
    """Why the goal got harder since the baseline (target raised / deadline earlier), if it did."""
    direction = new.direction or "increase"
    ot, nt = old.target, new.target
    if ot is not None and nt is not None and ot != nt:
        harder = nt > ot if direction != "decrease" else nt < ot
        if harder:
            return f"the target changed from {_fmt(ot, unit)} to {_fmt(nt, unit)} since the baseline"
    od, nd = old.deadline, new.deadline
    if od and nd and nd < od:
        return f"the deadline moved from {od} to {nd} since the baseline"
    return None


def compare_snapshots(old: SpecEntry, new: SpecEntry, *, spec: Spec | None = None,
                      locate: Locate | None = None, file: str | None = None,
                      units: Units | None = None) -> list[Finding]:
    """Findings of one spec: ``old`` is its baseline entry, ``new`` its current snapshot.

    ``units`` (KPI name -> unit and currency) says how values read in the messages; without it
    they are plain numbers.
    """
    name = new.name or old.name or "spec"
    ctx = _Context(name, Location(file or new.path or name, 1, 1), spec, locate, units or {})
    findings: list[Finding] = []
    redefined = _compare_kpis(ctx, old.kpis, new.kpis, findings)
    same_as_of = old.as_of == new.as_of
    pairs, unmatched_new = _pair_goals(old.goals, new.goals)
    findings.extend(_new_goal(ctx, key, unmatched_new[key]) for key in sorted(unmatched_new))
    for key, og, now in pairs:
        obj, gid = key.split("/", 1) if "/" in key else ("", key)
        if now is None:
            findings.append(_removed_goal(ctx, key, og))
            continue
        findings.extend(compare_goal(og, now, spec_name=name, key=key, where=ctx.where("objectives", obj, "goals", gid),
                                     same_as_of=same_as_of, redefined=redefined,
                                     unit=ctx.units.get(now.kpi)))
    findings.extend(_compare_control_groups(ctx, old.control_groups, new.control_groups))
    return findings


@dataclass(frozen=True)
class _Context:
    """What every comparison of one spec needs: its name, where its findings point, its acknowledgements."""

    name: str
    fallback: Location
    spec: Spec | None
    locate: Locate | None
    units: Units

    def where(self, *path: str | int, key: bool = True) -> Location:
        loc = self.locate(*path, key=key) if self.locate else None
        return loc or self.fallback

    def ack(self, change: str, *, goal: tuple[str, str] | None = None, kpi: str | None = None) -> str | None:
        if self.spec is None:
            return None
        found = find_acknowledgement(self.spec, change, goal=goal, kpi=kpi)
        return found.reason if found else None


def _compare_kpis(ctx: _Context, old_kpis: Mapping[str, KpiEntry], new_kpis: Mapping[str, KpiEntry],
                  findings: list[Finding]) -> dict[str, str | None]:
    """Add the findings of KPIs gone or redefined; return the redefined ones (kpi -> acknowledgement
    reason, None if not acknowledged)."""
    name, where = ctx.name, ctx.where
    redefined: dict[str, str | None] = {}
    for kname, ok in sorted(old_kpis.items()):
        nk = new_kpis.get(kname)
        if nk is None:
            reason = ctx.ack("kpi_removed", kpi=kname)
            msg = f"KPI '{kname}' is in the baseline but no longer in the spec"
            if reason:
                findings.append(Finding("info", KPI_MISSING, "results", name, f"kpi {kname}",
                                        f"{msg} — acknowledged: {reason}", kname, None, where("kpis"),
                                        acknowledged=reason))
            else:
                findings.append(Finding("failure", KPI_MISSING, "results", name, f"kpi {kname}",
                                        msg + "; if intended, add `acknowledged: [{change: kpi_removed, kpi: "
                                        f"{kname}, reason: ...}}]` to the spec and update the baseline",
                                        kname, None, where("kpis")))
            continue
        od, nd = ok.definition, nk.definition
        if od and nd and od != nd:
            reason = ctx.ack("kpi_redefined", kpi=kname)
            redefined[kname] = reason
            msg = f"KPI '{kname}' was redefined since the baseline; its values are not compared"
            if reason:
                findings.append(Finding("info", DEFINITION_CHANGED, "results", name, f"kpi {kname}",
                                        f"{msg} — acknowledged: {reason}", od, nd, where("kpis", kname),
                                        acknowledged=reason))
            else:
                findings.append(Finding("warning", DEFINITION_CHANGED, "results", name, f"kpi {kname}",
                                        msg + " (check the change with `--against REF`, then "
                                        "`metricspec baseline update`)", od, nd, where("kpis", kname)))
    return redefined


def _pair_goals(old_goals: Mapping[str, GoalEntry], new_goals: Mapping[str, GoalEntry],
                ) -> tuple[list[tuple[str, GoalEntry, GoalEntry | None]], dict[str, GoalEntry]]:
    """Each baseline goal with its current self (None: gone), and the current goals the baseline lacks.

    A goal is found under its key (``objective/goal``), or under another objective when exactly one
    new goal has its id (it moved)."""
    pairs: list[tuple[str, GoalEntry, GoalEntry | None]] = []
    unmatched_new = {k: v for k, v in new_goals.items() if k not in old_goals}
    for key, og in sorted(old_goals.items()):
        ng = new_goals.get(key)
        new_key = key
        if ng is None:
            gid = key.split("/", 1)[-1]
            moved = [k for k in unmatched_new if k.split("/", 1)[-1] == gid]
            if len(moved) == 1:
                new_key = moved[0]
                ng = unmatched_new.pop(new_key)
        pairs.append((new_key, og, ng))
    return pairs, unmatched_new


def _new_goal(ctx: _Context, key: str, ng: GoalEntry) -> Finding:
    obj, gid = key.split("/", 1) if "/" in key else ("", key)
    unit = ctx.units.get(ng.kpi)
    return Finding("info", NEW_GOAL, "results", ctx.name, f"goal {key}",
                   f"goal '{gid}' is new since the baseline (status {ng.status}, current "
                   f"{_fmt(ng.current, unit)}, target {_fmt(ng.target, unit)})",
                   None, ng.status, ctx.where("objectives", obj, "goals", gid), goal=key)


def _removed_goal(ctx: _Context, key: str, og: GoalEntry) -> Finding:
    obj, gid = key.split("/", 1) if "/" in key else ("", key)
    subject = f"goal {key}"
    reason = ctx.ack("goal_removed", goal=(obj, gid))
    target = _fmt(og.target, ctx.units.get(og.kpi))
    msg = (f"goal '{gid}' (objective '{obj}', status {og.status}, target {target}) "
           "is in the baseline but no longer in the spec")
    loc = ctx.where("objectives", obj) if ctx.spec is not None and obj in ctx.spec.objectives else ctx.fallback
    if reason:
        return Finding("info", GOAL_MISSING, "results", ctx.name, subject,
                       f"{msg} — acknowledged: {reason}", og.status, None, loc,
                       goal=key, acknowledged=reason)
    return Finding("failure", GOAL_MISSING, "results", ctx.name, subject,
                   msg + "; if intended, add `acknowledged: [{change: goal_removed, goal: "
                   f"{gid}, reason: ...}}]` to the spec and update the baseline",
                   og.status, None, loc, goal=key)


def _compare_control_groups(ctx: _Context, old_cgs: Mapping[str, Mapping[str, EffectEntry]],
                            new_cgs: Mapping[str, Mapping[str, EffectEntry]]) -> list[Finding]:
    findings: list[Finding] = []
    for cg, metrics in sorted(old_cgs.items()):
        for metric, oe in sorted(metrics.items()):
            ne = new_cgs.get(cg, {}).get(metric)
            findings.extend(compare_effect(oe, ne, spec_name=ctx.name, group=cg, metric=metric,
                                           where=ctx.where("control_groups", cg, "metrics", metric)
                                           if ctx.spec is not None and cg in ctx.spec.control_groups
                                           else ctx.where("control_groups", cg)))
    return findings


def compare_goal(old: GoalEntry, new: GoalEntry, *, spec_name: str = "spec", key: str = "goal",
                 where: Location | None = None, same_as_of: bool = True,
                 redefined: dict[str, str | None] | None = None,
                 unit: tuple[str, str | None] | None = None) -> list[Finding]:
    """Status and value rules for one goal (baseline entry ``old``, current ``new``; values in ``unit``)."""
    redefined = redefined or {}
    findings: list[Finding] = []
    gid = key.split("/", 1)[-1]
    subject = f"goal {key}"
    direction = new.direction or old.direction or "increase"
    kpi = new.kpi
    band = tolerance_band(old.current, new.tolerance.absolute, new.tolerance.relative)
    move = wrong_way(old.current, new.current, direction)
    kpi_changed = kpi in redefined or old.kpi != kpi
    acked = redefined.get(kpi) if kpi in redefined else None
    values = f"current {_fmt(old.current, unit)} → {_fmt(new.current, unit)}, target {_fmt(new.target, unit)}"
    shown_unit, currency = unit if unit else (None, None)

    os_, ns = old.status, new.status
    if status_rank(ns) > status_rank(os_):
        msg = f"goal '{gid}' status got worse: {os_} → {ns} ({values})"
        severity: Severity = "failure"
        harder = _harder(old, new, unit)
        if acked:
            severity, msg = "info", f"{msg} — KPI '{kpi}' redefined, acknowledged: {acked}"
        elif harder:
            severity, msg = "warning", f"{msg}; not a regression of the data: {harder}"
        elif (ns not in TERMINAL and band is not None and move is not None and move <= band + EPSILON
              and not kpi_changed):
            severity = "warning"
            msg = (f"{msg}; the value moved within the goal's tolerance ({fmt_amount(band, shown_unit or 'number', currency)}),"
                   " so this is treated as noise")
        findings.append(Finding(severity, STATUS_WORSE, "results", spec_name, subject, msg, os_, ns, where,
                                goal=key, acknowledged=acked if severity == "info" else None))

    comparable = not kpi_changed and (same_as_of or new.measure != "total")
    if comparable and move is not None and move > EPSILON * max(1.0, abs(old.current or 0.0)):
        amount = functools.partial(fmt_amount, unit=shown_unit or "number", currency=currency)
        by = amount(move) + (f" ({fmt_any(move / abs(old.current), 'percent')})" if old.current else "")
        msg = f"goal '{gid}': KPI '{kpi}' moved the wrong way (direction {direction}) by {by}: {values}"
        if band is None:
            findings.append(Finding("warning", KPI_MOVED, "results", spec_name, subject,
                                    msg + "; the goal sets no `tolerance:`, so this does not fail",
                                    old.current, new.current, where, goal=key,
                                    unit=shown_unit, currency=currency))
        elif move > band + EPSILON:
            findings.append(Finding("failure", KPI_MOVED, "results", spec_name, subject,
                                    msg + f", more than the tolerance {amount(band)}",
                                    old.current, new.current, where, goal=key,
                                    unit=shown_unit, currency=currency))
        else:
            findings.append(Finding("warning", KPI_MOVED, "results", spec_name, subject,
                                    msg + f", within the tolerance {amount(band)}",
                                    old.current, new.current, where, goal=key,
                                    unit=shown_unit, currency=currency))
    return findings


def compare_effect(old: EffectEntry, new: EffectEntry | None, *, spec_name: str = "spec", group: str = "",
                   metric: str = "", where: Location | None = None) -> list[Finding]:
    """Control-group rules for one metric of one control group."""
    subject = f"control group {group}/{metric}"

    def show(e: EffectEntry | None) -> str:
        if e is None:
            return "no result"
        lift, (low, high) = e.lift, e.ci
        sig = "significant" if e.significant else "not significant"
        if lift is None:
            return f"difference {_fmt(e.difference)} ({sig})"
        ci_text = f", CI {fmt_pct(low)}…{fmt_pct(high)}" if low is not None and high is not None else ""
        return f"lift {fmt_pct(lift)}{ci_text} ({sig})"

    old_sig = bool(old.significant)
    sev: Severity
    if new is None:
        sev = "failure" if old_sig else "warning"
        return [Finding(sev, EFFECT_MISSING, "results", spec_name, subject,
                        f"control group '{group}' metric '{metric}' has no result any more (was {show(old)})",
                        show(old), None, where)]
    new_sig = bool(new.significant)
    os_, ns = old.sign, new.sign
    flipped = bool(os_) and bool(ns) and os_ != ns
    change = f"{show(old)} → {show(new)}"
    if old_sig and not new_sig:
        extra = " and changed sign" if flipped else ""
        return [Finding("failure", EFFECT_LOST_SIGNIFICANCE, "results", spec_name, subject,
                        f"control group '{group}' metric '{metric}': the effect lost its significance{extra}: {change}",
                        show(old), show(new), where)]
    if flipped:
        sev = "failure" if old_sig else "warning"
        note = "" if old_sig else " (not significant, so treated as noise)"
        return [Finding(sev, EFFECT_SIGN_CHANGED, "results", spec_name, subject,
                        f"control group '{group}' metric '{metric}': the effect changed sign: {change}{note}",
                        show(old), show(new), where)]
    if new_sig and not old_sig:
        direction = new.direction or "increase"
        good = (ns or 0) > 0 if direction != "decrease" else (ns or 0) < 0
        if not good:
            return [Finding("warning", EFFECT_HARMFUL, "results", spec_name, subject,
                            f"control group '{group}' metric '{metric}': the effect became significantly harmful "
                            f"(direction {direction}): {change}", show(old), show(new), where)]
    return []
