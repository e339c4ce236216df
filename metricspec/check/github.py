"""GitHub Actions output: workflow-command annotations and the job summary.

Format (https://docs.github.com/actions/reference/workflow-commands-for-github-actions)::

    ::error file={name},line={line},col={col},title={title}::{message}

The message escapes ``%``, CR and LF; property values additionally escape ``:`` and ``,``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from metricspec.check.findings import sort_findings
from metricspec.envsecrets import mask

if TYPE_CHECKING:
    from metricspec.check.findings import CheckReport, Finding


def escape_data(text: str) -> str:
    """Escape a workflow-command message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow-command property value (file, title, ...)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: object) -> str:
    """``::command key=value,...::message`` with escaping; None-valued properties are left out."""
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items() if v is not None)
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def repo_relative(file: str, env: dict[str, str] | None = None) -> str:
    """``file`` (relative to the current folder, or absolute) as GitHub places annotations: relative
    to the root of the repository holding it, else to ``$GITHUB_WORKSPACE``. GitHub cannot place
    ``file=../metrics.yaml`` (a check run from a subfolder)."""
    path = Path(file)
    absolute = Path(os.path.normpath(path if path.is_absolute() else Path.cwd() / path))
    for folder in absolute.parents:
        if (folder / ".git").exists():
            return absolute.relative_to(folder).as_posix()
    workspace = (env if env is not None else os.environ).get("GITHUB_WORKSPACE", "")
    if workspace:
        base = Path(os.path.normpath(Path(workspace).absolute()))
        if base in absolute.parents:
            return absolute.relative_to(base).as_posix()
    return path.as_posix()


def annotation(level: str, message: str, *, file: str | None = None, line: int | None = None,
               col: int | None = None, title: str | None = None) -> str:
    """One workflow command; ``file`` is given relative to the current folder and written relative to the
    repository root (:func:`repo_relative`)."""
    if level not in ("error", "warning", "notice"):
        raise ValueError(f"unknown annotation level {level!r}")
    return workflow_command(level, message, file=repo_relative(file) if file else None, line=line, col=col,
                            title=title)


def finding_annotation(finding: Finding, *, fails: bool) -> str | None:
    """The annotation of a finding: error if it fails the check, warning for other warnings."""
    if fails:
        level = "error"
    elif finding.severity == "warning":
        level = "warning"
    elif finding.acknowledged:
        level = "notice"
    else:
        return None
    w = finding.where
    return annotation(level, finding.message, file=w.file if w else None, line=w.line if w else None,
                      col=w.column if w else None, title=finding.title)


def report_annotations(report: CheckReport) -> list[str]:
    out = []
    for f in sort_findings(report.findings):
        line = finding_annotation(f, fails=report.fails(f))
        if line is not None:
            out.append(line)
    return out


def in_github_actions(env: dict[str, str] | None = None) -> bool:
    return (env if env is not None else os.environ).get("GITHUB_ACTIONS") == "true"


def in_ci(env: dict[str, str] | None = None) -> bool:
    """Running in CI: ``CI`` set to true (GitHub Actions, GitLab, CircleCI, … set it) or ``GITHUB_ACTIONS=true``."""
    variables = env if env is not None else dict(os.environ)
    return variables.get("CI", "").strip().lower() in ("true", "1", "yes") or in_github_actions(variables)


def append_step_summary(markdown: str, env: dict[str, str] | None = None) -> Path | None:
    """Append to the file named by ``$GITHUB_STEP_SUMMARY`` (if set)."""
    name = (env if env is not None else os.environ).get("GITHUB_STEP_SUMMARY")
    if not name:
        return None
    path = Path(name)
    markdown = mask(markdown)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(markdown if markdown.endswith("\n") else markdown + "\n")
    return path
