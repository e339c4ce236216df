"""Shared pieces of the click commands: error reporting and option parsing.

Imports only click and metricspec's lightest modules at module level (``metricspec --help`` stays fast);
library errors become messages on stderr and exit codes here, nowhere else.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from metricspec.errors import Level, MetricSpecError
from metricspec.trust import Confinement, recording_reads

F = TypeVar("F", bound=Callable[..., Any])

AS_OF_HELP = ("Evaluate as of this date (YYYY-MM-DD or 'today'). Default: the latest date in the data "
              "up to today.")


def print_issues(issues: list[Any]) -> None:
    for issue in issues:
        click.secho(issue.format(), fg="red" if issue.level is Level.ERROR else "yellow", err=True)


def annotate_issues(issues: list[Any], *, strict: bool = False, err: bool = True) -> None:
    """Under GitHub Actions, spec/data/usage problems also become ::error (``--strict``: warnings
    too) and ::warning annotations."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    from metricspec.check.github import annotation  # start-up: the check package loads the engine
    from metricspec.streams import write_command  # start-up: secrets (hashlib), not for --help

    for issue in issues:
        w = issue.where
        level = "error" if issue.level.value == "error" or strict else "warning"
        message = issue.message + (f" — {issue.hint}" if issue.hint else "")
        write_command(annotation(level, message, file=w.file if w else None, line=w.line if w else None,
                                 col=w.column if w else None, title=f"metricspec: {issue.level.value}"), err=err)


EXIT_CODE_KEY = "metricspec.exit_code"
WIDTH_HELP = "Lay tables out for N columns. [default: the terminal's width; else $COLUMNS; else wide, never cut]"


def table_width(width: int | None = None, *, stream: Any = None) -> int | None:
    """Columns for rich tables: ``--width``; on a terminal its width (None: rich asks it); else
    ``$COLUMNS``; else :data:`WIDE_LAYOUT`, so CI logs and pipes get whole headers and dates."""
    from metricspec.render.table import WIDE_LAYOUT  # start-up: rich and the engine

    if width is not None:
        return width
    stream = sys.stdout if stream is None else stream
    if stream.isatty():
        return None
    columns = os.environ.get("COLUMNS", "").strip()
    return int(columns) if columns.isdigit() and int(columns) > 0 else WIDE_LAYOUT


def exit_code_if_output_closes(code: int) -> None:
    """The exit code to use if the reader of stdout goes away from now on (``check … | head``
    still fails on a regression; a closed pipe itself is not an error)."""
    click.get_current_context().meta[EXIT_CODE_KEY] = code


def _silence_closed_pipe() -> None:
    """After a BrokenPipeError, point stdout (and stderr, when it is the same pipe) at devnull, as the
    Python docs recommend, so that nothing else fails writing or flushing on the way out."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        out = os.fstat(sys.stdout.fileno())
        fds = [sys.stdout.fileno()]
        try:
            err = os.fstat(sys.stderr.fileno())
            if (err.st_ino, err.st_dev) == (out.st_ino, out.st_dev):
                fds.append(sys.stderr.fileno())
        except (OSError, ValueError):
            pass
        for fd in fds:
            os.dup2(devnull, fd)
    except (OSError, ValueError):  # no real file descriptor (a test runner's buffer): nothing to redirect
        pass
    finally:
        os.close(devnull)


def reports_errors(func: F) -> F:
    """Turn library errors into messages on stderr and their exit code (2): never a traceback.

    The command runs inside :func:`metricspec.trust.recording_reads`, so its output options can
    refuse every file it read (:func:`metricspec.trust.check_output_file`).

    A closed stdout (``metricspec run … | head``) ends the command quietly with exit code 0, or the
    code set by :func:`exit_code_if_output_closes`.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from metricspec.streams import guarded_output  # start-up: secrets (hashlib), not for --help

        with guarded_output():  # secrets masked; under GitHub Actions, no smuggled workflow command
            try:
                return _report_errors(func, *args, **kwargs)
            finally:
                warn_broken_plugins()

    return wrapper  # type: ignore[return-value]


def warn_broken_plugins() -> None:
    """A warning on stderr for each installed plugin that could not be loaded (if the command loaded
    the plugins at all): the command went on without it."""
    from metricspec.plugins import HINT_BROKEN, loaded_broken_plugins  # start-up: pluggy, pydantic

    for broken in loaded_broken_plugins():
        click.secho(f"warning: {broken.message()}; {HINT_BROKEN}", fg="yellow", err=True)


def _report_errors(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        with recording_reads():  # no output option may overwrite what the command reads
            return func(*args, **kwargs)
    except BrokenPipeError:
        _silence_closed_pipe()
        sys.exit(click.get_current_context().meta.get(EXIT_CODE_KEY, 0))
    except MetricSpecError as exc:
        print_issues(exc.issues())
        annotate_issues(exc.issues())
        n = len([i for i in exc.issues() if i.level is Level.ERROR])
        click.secho(f"{n} error{'s' if n != 1 else ''}; nothing was written.", fg="red", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.secho("interrupted; nothing was written.", fg="red", err=True)
        sys.exit(130)


def confinement_options(func: F) -> F:
    """``--root DIR`` and ``--allow-outside-root``, passed on as one ``confinement`` argument
    (a :class:`metricspec.trust.Confinement`): where a spec's includes and data may be."""
    @functools.wraps(func)
    def wrapper(*args: Any, root: Path | None = None, allow_outside_root: bool = False, **kwargs: Any) -> Any:
        return func(*args, confinement=Confinement(root=root, allow_outside=allow_outside_root), **kwargs)

    wrapper = click.option(
        "--allow-outside-root", is_flag=True,
        help="Let specs read includes and data outside the project root (only for specs you trust).")(wrapper)
    return click.option(  # type: ignore[return-value]
        "--root", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None, metavar="DIR",
        help="Project root: includes and data paths must stay inside it. Default: the git top level of each "
             "spec, else its folder.")(wrapper)


def parse_as_of(value: str | None) -> Any:
    """``--as-of``: a date, 'today', or None (the latest date in the data)."""
    if value is None:
        return None
    if value == "today":
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD or 'today'",
                                 param_hint="--as-of") from None
