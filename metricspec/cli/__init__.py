"""Command-line interface: thin click commands over library functions.

Exit codes: 0 ok, 1 a regression or failed check, 2 bad input (spec, data, usage).
Only this package turns :class:`MetricSpecError` into messages and exit codes. It holds the commands
(here and in ``commands/``), what they share (``clicommon``), the evaluation of spec files for ``run``,
``render`` and ``build`` (``runner``), ``validate`` (``validate_cmd``, ``datacheck``) and the guard against
writing over inputs (``outputguard``).

Start-up: ``metricspec --help`` loads no pydantic, polars, jinja2, rich or engine
(tests/test_python_api.py); the imports inside commands marked ``start-up`` load them when a command runs.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from metricspec.cli import commands
from metricspec.cli.clicommon import (
    AS_OF_HELP,
    WIDTH_HELP,
    annotate_issues,
    confinement_options,
    exit_code_if_output_closes,
    parse_as_of,
    print_issues,
    reports_errors,
    table_width,
)
from metricspec.cli.runner import explain_specs, run_specs
from metricspec.render.explain import explain_text
from metricspec.schema import generated_schema_json, schema_json
from metricspec.trust import check_output_file
from metricspec.utils import atomic_write_text
from metricspec.version import __version__

if TYPE_CHECKING:
    from metricspec.trust import Confinement


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="metricspec")
def main() -> None:
    """metricspec: metrics as code for social-media and marketing measurement.

    Write YAML specs of objectives, SMART goals, KPIs, control groups and
    attribution rules; metricspec evaluates them on your data.

    \b
    Examples:
      metricspec init my-metrics
      metricspec validate specs/ --data
      metricspec run specs/examples/x_brand_awareness.yaml --as-of 2026-11-01
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--data", is_flag=True, help="Also open every source and check that columns exist with usable types.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: every file and issue with its level, file, line, column and hint.")
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False),
              help="Write a JUnit XML report here (atomically): one test case per spec file.")
@confinement_options
@reports_errors
def validate(paths: tuple[Path, ...], data: bool, strict: bool, fmt: str, junit: Path | None,
             confinement: Confinement) -> None:
    """Check spec files (or directories of them) without running them.

    \b
    Exit codes: 0 valid, 2 errors (or warnings with --strict).
    Under GitHub Actions (GITHUB_ACTIONS=true) every problem is also printed as an
    ::error/::warning annotation with its file, line and column.

    \b
    Examples:
      metricspec validate specs/examples
      metricspec validate specs/examples/x_brand_awareness.yaml --data --strict
      metricspec validate specs --format json --junit reports/validate.xml
    """
    from metricspec.cli.validate_cmd import validate_paths  # start-up: pydantic

    report = validate_paths(list(paths), data=data, strict=strict, confinement=confinement)
    if junit is not None:
        from metricspec.check.junit import write_validation_junit  # start-up: loads the engine

        check_output_file(junit, option="--junit")  # never over a spec, an included file or a data file
        write_validation_junit(junit, report)
    exit_code_if_output_closes(report.exit_code)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print_issues(report.issues)
        for path in report.ok:
            click.echo(f"ok  {path}")
    annotate_issues(report.issues, strict=strict, err=fmt == "json")  # under GitHub Actions; stdout unless JSON
    if junit is not None:
        click.echo(f"wrote {junit}", err=True)
    summary = report.summary_line()
    if report.exit_code:
        click.secho(summary, fg="red", err=True)
        sys.exit(report.exit_code)
    click.echo(summary, err=fmt == "json")


@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
@click.option("--from-models", is_flag=True,
              help="Generate it from the spec language's models (for contributors who changed them) instead of "
                   "printing the one packaged with metricspec, which the tests keep equal.")
@reports_errors
def schema(output: Path | None, from_models: bool) -> None:
    """Print the JSON Schema of the spec language (for editor completion).

    \b
    VS Code (YAML extension), in settings.json:
      "yaml.schemas": {"metricspec.schema.json": "specs/**/*.yaml"}
    Example:
      metricspec schema -o metricspec.schema.json
    """
    text = generated_schema_json() if from_models else schema_json()
    if output is None:
        click.echo(text, nl=False)
    else:
        check_output_file(output)
        atomic_write_text(output, text)
        click.echo(f"wrote {output}")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@reports_errors
def plugins(fmt: str) -> None:
    """List installed plugins, their distributions and versions, and what each provides.

    \b
    Example:
      metricspec plugins
    """
    from metricspec.plugins import broken_plugins, plugin_infos  # start-up: pluggy, pydantic

    infos = plugin_infos()
    if fmt == "json":
        click.echo(json.dumps([dataclasses.asdict(i) for i in infos], indent=2, sort_keys=True))
        return
    for info in infos:
        version = f" {info.version}" if info.version else ""
        click.echo(f"{info.name}  ({info.distribution}{version})")
        for label, values in (("connectors", info.connectors), ("output formats", info.output_formats),
                              ("templates", info.templates), ("hooks", info.hooks)):
            if values:
                click.echo(f"    {label}: {', '.join(values)}")
    for broken in broken_plugins():
        click.echo(f"{broken.name}  ({broken.value}: not loaded, {broken.problem})")


@main.command()
@click.argument("directory", type=click.Path(path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@reports_errors
def init(directory: Path, force: bool) -> None:
    """Scaffold a working project in DIRECTORY.

    Inside an existing git repository, the pre-commit config and the workflow are written at the
    repository's root (where pre-commit and GitHub read them), unless it has them already.

    \b
    Writes:
      metrics.yaml                      a starter spec (first line: its JSON Schema, for editors)
      data/posts.csv                    sample data for January-June 2026
      metricspec.schema.json            the JSON Schema (refresh: metricspec schema -o ...)
      .vscode/settings.json             maps the schema to the spec files (YAML extension)
      .pre-commit-config.yaml           validates specs on commit (pre-commit)
      .github/workflows/metricspec.yml  the CI gate, with metricspec's GitHub Action

    \b
    Example:
      metricspec init my-metrics && metricspec run my-metrics/metrics.yaml
    """
    from metricspec.scaffold import scaffold  # start-up: subprocess, not for --help

    done = scaffold(directory, force=force)
    for path in done.written:
        click.echo(f"created {path}")
    for note in done.notes:
        click.secho(f"note: {note}", fg="yellow", err=True)
    click.echo(f"next: metricspec validate {directory} --data")


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--as-of", "as_of", metavar="DATE", help=AS_OF_HELP)
@click.option("--format", "fmt", default="table", show_default=True, metavar="FORMAT",
              help="table, json, csv, markdown, or a format a plugin adds (see `metricspec plugins`).")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file (atomically).")
@click.option("--width", type=click.IntRange(min=20), metavar="N", help=WIDTH_HELP)
@click.option("--strict", is_flag=True, help="Treat spec warnings as errors.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary line.")
@click.option("--explain", is_flag=True,
              help="Print the compiled query plan instead of running it: per query, where it runs and the SQL it "
                   "sends, and per KPI what an event is, how days are counted and what happens at the edges of "
                   "periods and windows (JSON with --format json).")
@confinement_options
@reports_errors
def run(specs: tuple[Path, ...], as_of: str | None, fmt: str, output: Path | None, width: int | None,
        strict: bool, quiet: bool, explain: bool, confinement: Confinement) -> None:
    """Evaluate specs on their data and print KPIs, goals, control groups and attribution.

    \b
    Ends with a summary line on stderr (unless --quiet):
      6 specs · 31 goals: 12 achieved, 9 on track, 4 at risk, 3 off track, 2 missed, 1 no data

    \b
    Examples:
      metricspec run specs/examples/x_brand_awareness.yaml
      metricspec run specs/examples --as-of 2026-11-01 --format json -o results.json
      metricspec run specs/examples/trade_fair_campaign.yaml --format markdown
    """
    from metricspec.outputs import BUILTIN_FORMATS, find_renderer  # start-up: pydantic

    date = parse_as_of(as_of)
    if fmt not in BUILTIN_FORMATS:
        find_renderer(fmt)  # an unknown format is a usage error before any data is read
    if explain:
        plans = explain_specs(list(specs), as_of=date, confinement=confinement)
        if fmt == "json":
            click.echo(json.dumps(plans, indent=2, default=str))
        else:
            click.echo(explain_text(plans), nl=False)
        return
    show_progress = not quiet and fmt == "table" and output is None and sys.stderr.isatty()
    outcome = run_specs(list(specs), as_of=date, strict=strict, progress=show_progress, confinement=confinement)
    print_issues(outcome.warnings)
    if output is not None:
        check_output_file(output, outcome.inputs)
        atomic_write_text(output, outcome.render(fmt, width=width))
        if not quiet:
            click.echo(f"wrote {output}", err=True)
    elif fmt == "table":
        from metricspec.render.table import print_results, terminal_console  # start-up: rich

        console = terminal_console(table_width(width))
        for res in outcome.results:
            print_results(res, console)
    else:
        click.echo(outcome.render(fmt), nl=False)
    if not quiet:
        click.echo(outcome.summary_line(), err=True)


def _register_extra_commands() -> None:
    """Commands in metricspec/cli/commands/ (render/build, check/baseline) join the main group."""
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"metricspec.cli.commands.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            main.add_command(command)


_register_extra_commands()
