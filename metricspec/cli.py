"""Command-line interface: thin click commands over library functions.

Exit codes: 0 ok, 1 a regression or failed check, 2 bad input (spec, data, usage).
Only this module turns :class:`MetricSpecError` into messages and exit codes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from metricspec import __version__
from metricspec.clicommon import (
    AS_OF_HELP,
    confinement_options,
    parse_as_of,
    print_issues,
    reports_errors,
)
from metricspec.errors import Level

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
@confinement_options
@reports_errors
def validate(paths: tuple[Path, ...], data: bool, strict: bool, confinement: Confinement) -> None:
    """Check spec files (or directories of them) without running them.

    \b
    Examples:
      metricspec validate specs/examples
      metricspec validate specs/examples/x_brand_awareness.yaml --data --strict
    """
    from metricspec.validate_cmd import validate_paths

    report = validate_paths(list(paths), data=data, confinement=confinement)
    print_issues(report.issues)
    errors = [i for i in report.issues if i.level is Level.ERROR]
    warnings = [i for i in report.issues if i.level is Level.WARNING]
    for path in report.ok:
        click.echo(f"ok  {path}")
    summary = f"{len(report.ok)} of {report.total} spec(s) valid; {len(errors)} error(s), {len(warnings)} warning(s)"
    if errors or (strict and warnings):
        click.secho(summary + (" (--strict)" if strict and not errors else ""), fg="red", err=True)
        sys.exit(2)
    click.echo(summary)


@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
@reports_errors
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the spec language (for editor completion).

    \b
    VS Code (YAML extension), in settings.json:
      "yaml.schemas": {"metricspec.schema.json": "specs/**/*.yaml"}
    Example:
      metricspec schema -o metricspec.schema.json
    """
    from metricspec.schema import schema_json
    from metricspec.utils import atomic_write_text

    text = schema_json()
    if output is None:
        click.echo(text, nl=False)
    else:
        from metricspec.outputguard import check_output_file

        check_output_file(output)
        atomic_write_text(output, text)
        click.echo(f"wrote {output}")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@reports_errors
def plugins(fmt: str) -> None:
    """List installed plugins, their versions and the connectors they provide.

    \b
    Example:
      metricspec plugins
    """
    from metricspec.plugins import make_plugin_manager, plugin_infos

    infos = plugin_infos(make_plugin_manager())
    if fmt == "json":
        click.echo(json.dumps([i.__dict__ for i in infos], indent=2, sort_keys=True, default=list))
        return
    for info in infos:
        version = f" {info.version}" if info.version else ""
        click.echo(f"{info.name}  ({info.distribution}{version})")
        if info.connectors:
            click.echo(f"    connectors: {', '.join(info.connectors)}")
        if info.templates:
            click.echo(f"    templates: {', '.join(info.templates)}")


@main.command()
@click.argument("directory", type=click.Path(path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@reports_errors
def init(directory: Path, force: bool) -> None:
    """Scaffold a working spec with sample data in DIRECTORY.

    \b
    Example:
      metricspec init my-metrics && metricspec run my-metrics/metrics.yaml
    """
    from metricspec.scaffold import scaffold

    written = scaffold(directory, force=force)
    for path in written:
        click.echo(f"created {path}")
    click.echo(f"next: metricspec validate {directory} --data")


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--as-of", "as_of", metavar="DATE", help=AS_OF_HELP)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default="table",
              show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file (atomically).")
@click.option("--strict", is_flag=True, help="Treat spec warnings as errors.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--explain", is_flag=True, help="Print the compiled query plan (as JSON) instead of running it.")
@confinement_options
@reports_errors
def run(specs: tuple[Path, ...], as_of: str | None, fmt: str, output: Path | None, strict: bool,
        quiet: bool, explain: bool, confinement: Confinement) -> None:
    """Evaluate specs on their data and print KPIs, goals, control groups and attribution.

    \b
    Examples:
      metricspec run specs/examples/x_brand_awareness.yaml
      metricspec run specs/examples --as-of 2026-11-01 --format json -o results.json
      metricspec run specs/examples/trade_fair_campaign.yaml --format markdown
    """
    from metricspec.runner import run_specs

    date = parse_as_of(as_of)
    if explain:
        from metricspec.runner import explain_specs

        click.echo(json.dumps(explain_specs(list(specs), as_of=date, confinement=confinement), indent=2,
                              default=str))
        return
    show_progress = not quiet and fmt == "table" and output is None and sys.stderr.isatty()
    outcome = run_specs(list(specs), as_of=date, strict=strict, progress=show_progress, confinement=confinement)
    print_issues(outcome.warnings)
    text = outcome.render(fmt)
    if output is not None:
        from metricspec.outputguard import check_output_file
        from metricspec.utils import atomic_write_text

        check_output_file(output, outcome.inputs)
        atomic_write_text(output, text)
        click.echo(f"wrote {output}", err=True)
    elif fmt == "table":
        from rich.console import Console

        from metricspec.render.table import print_results

        console = Console(highlight=False)
        for res in outcome.results:
            print_results(res, console)
    else:
        click.echo(text, nl=False)


def _register_extra_commands() -> None:
    """Commands in metricspec/commands/ (render/build, check/baseline) join the main group."""
    import importlib
    import pkgutil

    import metricspec.commands as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"metricspec.commands.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            main.add_command(command)


_register_extra_commands()
