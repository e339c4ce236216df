"""``metricspec check`` (the CI gate) and ``metricspec baseline update``.

Only click and metricspec's light modules are imported at module level (``metricspec --help`` imports this
module); the check package, which loads the engine, and the loader are imported inside the commands.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from metricspec.cli.clicommon import (
    AS_OF_HELP,
    confinement_options,
    exit_code_if_output_closes,
    parse_as_of,
    print_issues,
    reports_errors,
)
from metricspec.progress import Progress, TerminalProgress
from metricspec.trust import check_output_file

if TYPE_CHECKING:
    from metricspec.check.findings import CheckReport
    from metricspec.trust import Confinement

BASELINE_HELP = "Baseline file. [default: .metricspec/baseline.json in the project root: --root, else the git top level of " \
                "the specs, else the current folder]"


def _progress(stream: object) -> Progress:
    """A progress bar on a terminal (evaluating a folder of specs takes a while); none in CI logs or pipes."""
    isatty = getattr(stream, "isatty", None)
    return TerminalProgress() if isatty and isatty() else Progress()


def _colour(stream: object) -> bool:
    """Colours on a terminal, unless NO_COLOR is set (https://no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def ansi_style(text: str, color: str, bold: bool) -> str:
    """The terminal report's colours (:data:`metricspec.check.render.Style`) as ANSI codes."""
    return click.style(text, fg=color, bold=bold or None)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False), help=BASELINE_HELP)
@click.option("--against", metavar="GIT_REF",
              help="Also compare each spec with its version at this git revision (e.g. origin/main).")
@click.option("--as-of", "as_of", metavar="DATE", help=AS_OF_HELP)
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False),
              help="Write a JUnit XML report here (atomically).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True)
@click.option("--strict", is_flag=True, help="Warnings fail too (and spec warnings are errors).")
@click.option("--notify", is_flag=True,
              help="Call the notifiers when the check fails (the built-in one posts to $METRICSPEC_WEBHOOK_URL, "
                   "Slack-compatible JSON), and send each person responsible for a goal that fell behind one "
                   "message in the spec's language (to their URL in the spec's `notify: {people: …}`, else "
                   "$METRICSPEC_WEBHOOK_URL). Plugins may add notifiers.")
@click.option("--allow-missing-baseline", is_flag=True,
              help="In CI (CI=true or GITHUB_ACTIONS=true), run without a baseline instead of failing with exit 2.")
@confinement_options
@reports_errors
def check(paths: tuple[Path, ...], baseline: Path | None, against: str | None, as_of: str | None,
          junit: Path | None, fmt: str, strict: bool, notify: bool, allow_missing_baseline: bool,
          confinement: Confinement) -> None:
    """Fail CI when a goal regresses: compare results with the committed baseline and specs
    with a git revision.

    \b
    Results regress when a goal's status gets worse, its KPI moves the wrong way by more than
    the goal's tolerance, or a significant control-group effect loses significance or flips
    sign. Specs regress when a target is lowered, a deadline pushed out, a goal or KPI removed
    or a KPI redefined, unless the spec acknowledges it (`acknowledged:` with a reason).
    Changes within tolerance or not significant are warnings.

    \b
    The baseline is .metricspec/baseline.json in the project root, wherever the check runs from;
    its path is printed. Without one, results are not compared: a loud warning locally, exit 2
    in CI (CI=true or GITHUB_ACTIONS=true) unless --allow-missing-baseline.

    \b
    Exit codes: 0 nothing regressed, 1 a regression, 2 a usage, spec or data error.
    Under GitHub Actions it also prints ::error/::warning annotations and appends a
    summary to $GITHUB_STEP_SUMMARY. Ends with a summary line on stderr:
      6 specs · 31 goals: 12 achieved, 9 on track, 4 at risk, 3 off track, 2 missed, 1 no data

    \b
    Examples:
      metricspec check specs/
      metricspec check specs/ --against origin/main --junit reports/metricspec.xml
      metricspec check specs/x.yaml --as-of 2026-06-30 --format markdown
      METRICSPEC_WEBHOOK_URL=https://hooks.slack.com/services/... metricspec check specs/ --notify
    """
    from metricspec.check import render  # start-up: loads the engine

    report = _evaluate(paths, baseline=baseline, against=against, as_of=as_of, junit=junit, strict=strict,
                       allow_missing_baseline=allow_missing_baseline, confinement=confinement)
    if junit is not None:
        _write_junit(junit, report)
    exit_code_if_output_closes(report.exit_code)
    click.echo(render(report, fmt, style=ansi_style if fmt == "table" and _colour(sys.stdout) else None), nl=False)
    _report_to_github(report, fmt)
    if junit is not None:
        click.echo(f"wrote {junit}", err=True)
    if notify:
        _notify(report)
    _say_baseline(report)
    click.echo(report.goal_summary(), err=True)
    if report.exit_code:
        sys.exit(report.exit_code)


def _evaluate(paths: tuple[Path, ...], *, baseline: Path | None, against: str | None, as_of: str | None,
              junit: Path | None, strict: bool, allow_missing_baseline: bool, confinement: Confinement) -> CheckReport:
    """Run the check (with a progress bar on a terminal) and print the specs' warnings. A --junit file that
    would overwrite a spec is refused at once, before the run."""
    from metricspec.check import check_paths, github  # start-up: loads the engine

    if junit is not None:
        from metricspec.loader import find_spec_files  # start-up: pydantic

        check_output_file(junit, find_spec_files(list(paths)), option="--junit")  # at once, before the run
    with _progress(sys.stderr) as progress:
        report, warnings = check_paths(list(paths), baseline=baseline, against=against, as_of=parse_as_of(as_of),
                                       strict=strict, confinement=confinement, progress=progress,
                                       missing_baseline="warn" if allow_missing_baseline or not github.in_ci() else "error")
    print_issues(warnings)
    return report


def _write_junit(junit: Path, report: CheckReport) -> None:
    """The JUnit XML report, written atomically."""
    from metricspec.check.junit import write_junit  # start-up: loads the engine

    check_output_file(junit, option="--junit")  # nor over an included file, a data file or the baseline
    write_junit(junit, report)


def _report_to_github(report: CheckReport, fmt: str) -> None:
    """Under GitHub Actions: ::error/::warning annotations (on stderr with --format json) and the job summary."""
    from metricspec.check import (  # start-up: loads the engine
        append_step_summary,
        in_github_actions,
        render_markdown,
        report_annotations,
    )
    from metricspec.streams import write_command  # start-up: secrets (hashlib), not for --help

    if not in_github_actions():
        return
    for line in report_annotations(report):
        write_command(line, err=fmt == "json")
    try:
        append_step_summary(render_markdown(report))
    except OSError as exc:
        click.secho(f"warning: cannot write the job summary: {exc}", fg="yellow", err=True)


def _say_baseline(report: object) -> None:
    """Which baseline the results were compared with; without one, a warning no one can miss."""
    from metricspec.check.findings import CheckReport  # start-up: loads the engine

    assert isinstance(report, CheckReport)
    if report.baseline is not None:
        click.echo(f"baseline: {report.baseline_path}", err=True)
        return
    click.secho(f"warning: no baseline at {report.baseline_path}: results were NOT compared, so a regression "
                "would pass; create it with `metricspec baseline update` and commit it", fg="yellow", bold=True,
                err=True)


def _notify(report: object) -> None:
    """Call the notifiers for a failing check and for each person with pacing alerts; a notifier that
    fails is a warning, not a new exit code."""
    from metricspec.check.findings import CheckReport  # start-up: loads the engine
    from metricspec.check.notify import notify  # start-up: loads the engine
    from metricspec.notifiers.webhook import URL_VARIABLE  # start-up: pluggy, pydantic

    assert isinstance(report, CheckReport)
    if not report.exit_code and not report.alerts:
        return
    outcomes = notify(report)
    for outcome in outcomes:
        if outcome.error is not None:
            for issue in outcome.error.issues():
                click.secho(f"warning: --notify: {issue.format().removeprefix('error: ')}", fg="yellow", err=True)
        elif outcome.sent_to is not None:
            click.echo(f"notified {outcome.sent_to}", err=True)
    if not any(o.sent_to or o.error for o in outcomes):
        click.secho(f"warning: --notify: no notifier is configured; set {URL_VARIABLE} to a Slack-compatible "
                    "webhook URL, or install a notifier plugin", fg="yellow", err=True)


@click.group()
def baseline() -> None:
    """Manage the committed results baseline that `metricspec check` compares with.

    \b
    Example:
      metricspec baseline update specs/ && git add .metricspec/baseline.json
    """


@baseline.command("update")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--baseline", "baseline_file", type=click.Path(path_type=Path, dir_okay=False), help=BASELINE_HELP)
@click.option("--as-of", "as_of", metavar="DATE", help=AS_OF_HELP)
@click.option("--force", is_flag=True,
              help="Write even with uncommitted spec/data changes, regressions or broken specs (skipped).")
@confinement_options
@reports_errors
def update(paths: tuple[Path, ...], baseline_file: Path | None, as_of: str | None, force: bool,
           confinement: Confinement) -> None:
    """Evaluate specs and write their results to the baseline (atomically, sorted keys).

    The baseline is .metricspec/baseline.json in the project root (--root, else the git top
    level of the specs), wherever the command runs from.

    \b
    Refuses when the specs or their data have uncommitted changes (exit 2) or a goal
    regressed against the existing baseline (exit 1), unless --force. Entries of specs
    not given are kept.

    \b
    Examples:
      metricspec baseline update specs/
      metricspec baseline update specs/x.yaml --as-of 2026-06-30 --baseline ci/baseline.json
    """
    from metricspec.check import update_baseline  # start-up: loads the engine

    outcome = update_baseline(list(paths), baseline=baseline_file, as_of=parse_as_of(as_of), force=force,
                              confinement=confinement)
    print_issues(outcome.notes)
    for f in outcome.overridden:
        click.secho(f"accepted (--force): {f.location_text()}: {f.message}", fg="yellow", err=True)
    from metricspec.check.baseline import shown_path  # start-up: loads the engine

    names = ", ".join(outcome.written) or "no specs"
    click.echo(f"wrote {shown_path(outcome.path)} ({names})")


COMMANDS = [check, baseline]
