"""What ``metricspec validate`` found: every spec file given or found, and its problems.

The report is the validation's (the CLI prints it, ``check`` writes it as JUnit XML): it sits with
the rules, below both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from metricspec.errors import Issue, Level


@dataclass
class FileValidation:
    """One path given or found: a spec file (or a path that does not exist) and its problems."""

    path: str
    issues: list[Issue] = field(default_factory=list)
    spec: bool = True  # False for a path that is missing or holds no spec files

    @property
    def ok(self) -> bool:
        return not any(i.level is Level.ERROR for i in self.issues)


@dataclass
class ValidationReport:
    files: list[FileValidation] = field(default_factory=list)
    strict: bool = False

    @property
    def issues(self) -> list[Issue]:
        return [i for f in self.files for i in f.issues]

    @property
    def ok(self) -> list[str]:
        """Spec files without an issue that fails (errors; warnings too with ``--strict``)."""
        return [f.path for f in self.files if f.spec and not any(self.fails(i) for i in f.issues)]

    @property
    def total(self) -> int:
        return sum(1 for f in self.files if f.spec)

    def count(self, level: Level) -> int:
        return sum(1 for i in self.issues if i.level is level)

    def fails(self, issue: Issue) -> bool:
        return issue.level is Level.ERROR or (self.strict and issue.level is Level.WARNING)

    @property
    def exit_code(self) -> int:
        return 2 if any(self.fails(i) for i in self.issues) else 0

    def summary_line(self) -> str:
        errors, warnings = self.count(Level.ERROR), self.count(Level.WARNING)
        text = f"{len(self.ok)} of {self.total} spec(s) valid; {errors} error(s), {warnings} warning(s)"
        return text + (" (--strict: warnings fail)" if self.strict and warnings else "")

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` document."""
        return {
            "ok": self.exit_code == 0, "exit_code": self.exit_code, "strict": self.strict,
            "counts": {"error": self.count(Level.ERROR), "warning": self.count(Level.WARNING),
                       "specs": self.total, "valid": len(self.ok)},
            "files": [{"path": f.path, "spec": f.spec, "ok": f.ok,
                       "issues": [issue_dict(i) for i in f.issues]} for f in self.files],
        }


def issue_dict(issue: Issue) -> dict[str, Any]:
    w = issue.where
    return {"level": issue.level.value, "message": issue.message, "hint": issue.hint, "code": issue.code,
            "file": w.file if w else None, "line": w.line if w else None, "column": w.column if w else None}
