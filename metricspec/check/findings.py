"""What ``metricspec check`` reports: findings, grouped per spec, and the overall verdict.

:class:`Finding` is defined in :mod:`metricspec.hooktypes` (the ``metricspec_notify`` hook passes findings to
plugins) and re-exported here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from metricspec.errors import Location
from metricspec.hooktypes import Finding as Finding
from metricspec.hooktypes import Severity as Severity
from metricspec.hooktypes import jsonable
from metricspec.render.formatting import goal_summary

if TYPE_CHECKING:
    from metricspec.check.pacing import PacingAlert

SEVERITY_ORDER: dict[str, int] = {"failure": 0, "warning": 1, "info": 2}

# results rules
STATUS_WORSE = "status_worse"
KPI_MOVED = "kpi_moved"
EFFECT_LOST_SIGNIFICANCE = "effect_lost_significance"
EFFECT_SIGN_CHANGED = "effect_sign_changed"
EFFECT_HARMFUL = "effect_harmful"
GOAL_MISSING = "goal_missing"
KPI_MISSING = "kpi_missing"
EFFECT_MISSING = "effect_missing"
DEFINITION_CHANGED = "definition_changed"
NEW_GOAL = "new_goal"
NO_BASELINE = "no_baseline"
# spec rules (--against)
TARGET_LOWERED = "target_lowered"
DEADLINE_EXTENDED = "deadline_extended"
GOAL_REMOVED = "goal_removed"
KPI_REMOVED = "kpi_removed"
KPI_REDEFINED = "kpi_redefined"
DIRECTION_CHANGED = "direction_changed"
TOLERANCE_WIDENED = "tolerance_widened"
SPEC_REMOVED = "spec_removed"
SPEC_RENAMED = "spec_renamed"
BASELINE_CHANGED = "baseline_changed"
NEW_SPEC = "new_spec"
OLD_SPEC_UNREADABLE = "old_spec_unreadable"


@dataclass
class GoalCase:
    """A goal that was checked (one JUnit test case each)."""

    key: str  # objective/goal
    title: str
    status: str
    current: float | None
    target: float
    where: Location | None = None
    unit: str = "number"  # the KPI's unit and currency, to show current and target as on the scorecard
    currency: str | None = None


@dataclass
class SpecCheck:
    name: str
    path: str
    as_of: str | None = None
    goals: list[GoalCase] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    compared_with_baseline: bool = False
    compared_with_ref: str | None = None


@dataclass
class CheckReport:
    specs: list[SpecCheck] = field(default_factory=list)
    baseline: str | None = None
    against: str | None = None
    strict: bool = False
    baseline_path: str | None = None
    """Where the baseline was looked for (found or not), as the user can type it."""
    alerts: list[PacingAlert] = field(default_factory=list)  # goals to tell their responsible people about

    @property
    def findings(self) -> list[Finding]:
        return [f for s in self.specs for f in s.findings]

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if self.fails(f)]

    def fails(self, finding: Finding) -> bool:
        return finding.severity == "failure" or (self.strict and finding.severity == "warning")

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def summary_line(self) -> str:
        goals = sum(len(s.goals) for s in self.specs)
        f, w, i = self.count("failure"), self.count("warning"), self.count("info")
        verdict = "REGRESSED" if self.exit_code else "OK"
        strict = " (--strict: warnings fail)" if self.strict and w else ""
        return (f"{verdict}: {len(self.specs)} spec(s), {goals} goal(s); "
                f"{f} failure(s), {w} warning(s), {i} info{strict}")

    def goal_summary(self) -> str:
        """``6 specs · 31 goals: 12 achieved, 9 on track, …`` (the last line of ``metricspec check``)."""
        return goal_summary(len(self.specs), (g.status for s in self.specs for g in s.goals))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code == 0,
            "exit_code": self.exit_code,
            "baseline": self.baseline,
            "against": self.against,
            "strict": self.strict,
            "counts": {s: self.count(s) for s in ("failure", "warning", "info")},
            "specs": [
                {
                    "name": s.name, "path": s.path, "as_of": s.as_of,
                    "compared_with_baseline": s.compared_with_baseline, "compared_with_ref": s.compared_with_ref,
                    "goals": [{"goal": g.key, "title": g.title, "status": g.status, "current": jsonable(g.current),
                               "target": g.target} for g in s.goals],
                    "findings": [f.to_dict() for f in sort_findings(s.findings)],
                }
                for s in self.specs
            ],
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    def key(f: Finding) -> tuple[int, str, int, str, str]:
        w = f.where
        return (SEVERITY_ORDER[f.severity], w.file if w else "", (w.line or 0) if w else 0, f.rule, f.subject)

    return sorted(findings, key=key)
