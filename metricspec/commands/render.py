"""``metricspec render`` (one HTML scorecard) and ``metricspec build`` (a static scorecard site)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from metricspec.clicommon import (
    AS_OF_HELP,
    confinement_options,
    parse_as_of,
    print_issues,
    reports_errors,
)

if TYPE_CHECKING:
    from metricspec.trust import Confinement

LANGS = ["en", "es", "pl"]
WORKERS_HELP = ("Processes drawing charts (1: none, draw them in this process). "
                "[default: $METRICSPEC_CHART_WORKERS, else one per CPU]")


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The file to write (atomically), e.g. scorecard.html.")
@click.option("--as-of", "as_of", metavar="DATE", help=AS_OF_HELP)
@click.option("--lang", type=click.Choice(LANGS), default=None,
              help="Language of labels, numbers and dates. Default: the spec's `language` if supported, else en.")
@click.option("--format", "fmt", type=click.Choice(["html", "markdown"]), default="html", show_default=True)
@click.option("--workers", type=click.IntRange(min=1), metavar="N", help=WORKERS_HELP)
@confinement_options
@reports_errors
def render(spec: Path, output: Path, as_of: str | None, lang: str | None, fmt: str, workers: int | None,
           confinement: Confinement) -> None:
    """Render one spec as a self-contained scorecard (inline CSS and SVG charts, no web requests).

    \b
    Examples:
      metricspec render specs/examples/x_brand_awareness.yaml -o scorecard.html
      metricspec render specs/examples/x_brand_awareness.yaml -o tarjeta.html --lang es --as-of 2026-11-01
    """
    from metricspec.outputguard import check_output_file
    from metricspec.runner import run_specs
    from metricspec.utils import atomic_write_text

    check_output_file(output, [spec])  # before the run: a folder or the spec itself is refused at once
    outcome = run_specs([spec], as_of=parse_as_of(as_of), confinement=confinement)
    check_output_file(output, outcome.inputs)
    print_issues(outcome.warnings)
    if fmt == "markdown":
        text = outcome.render("markdown")
    else:
        from metricspec.render.charts import auto_workers
        from metricspec.render.html import render_scorecard

        if len(outcome.results) != 1:
            raise click.UsageError("render takes one spec file; use 'metricspec build' for a folder of specs")
        res = outcome.results[0]
        text = render_scorecard(res, lang or (res.spec.language if res.spec.language in LANGS else "en"),
                                chart_workers=workers or auto_workers())
    atomic_write_text(output, text)
    click.echo(f"wrote {output}", err=True)


@click.command()
@click.argument("specs_dir", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The site folder (replaced only once the whole site is built).")
@click.option("--as-of", "as_of", metavar="DATE", help=AS_OF_HELP)
@click.option("--lang", type=click.Choice(LANGS), default="en", show_default=True,
              help="Language of labels, numbers and dates.")
@click.option("--workers", type=click.IntRange(min=1), metavar="N", help=WORKERS_HELP)
@click.option("--force", is_flag=True,
              help="Replace the output folder even if it holds files that no metricspec build wrote.")
@confinement_options
@reports_errors
def build(specs_dir: Path, output: Path, as_of: str | None, lang: str, workers: int | None, force: bool,
          confinement: Confinement) -> None:
    """Build a static scorecard site: index, one page per spec, per KPI and per responsible person.

    Relative links only: open index.html from disk, a USB stick or GitHub Pages. The output
    folder is replaced whole, so it must be new, empty or an earlier site (which holds a
    .metricspec-site marker file) unless --force; it may never hold the specs or their data.

    \b
    Example:
      metricspec build specs/examples -o site/ --as-of 2026-11-01
    """
    from metricspec.outputguard import check_site_dir
    from metricspec.render.charts import auto_workers
    from metricspec.render.site import build_site
    from metricspec.runner import run_specs

    check_site_dir(output, [specs_dir], force=force)  # before the run: refuse at once
    outcome = run_specs([specs_dir], as_of=parse_as_of(as_of), confinement=confinement)
    check_site_dir(output, outcome.inputs, force=force)
    print_issues(outcome.warnings)
    files = build_site(outcome.results, output, lang, chart_workers=workers or auto_workers())
    click.echo(f"wrote {len(files)} files to {output}/ (open {output / 'index.html'})", err=True)


COMMANDS = [render, build]
