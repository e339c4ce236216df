"""``metricspec render`` (one HTML scorecard) and ``metricspec build`` (a static scorecard site)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from metricspec.cli.clicommon import (
    AS_OF_HELP,
    confinement_options,
    parse_as_of,
    print_issues,
    reports_errors,
)
from metricspec.cli.outputguard import check_site_dir
from metricspec.cli.runner import run_specs
from metricspec.progress import Progress, TerminalProgress
from metricspec.trust import check_output_file
from metricspec.utils import atomic_write_text

if TYPE_CHECKING:
    from metricspec.trust import Confinement

LANGS = ["en", "es", "pl"]
_WORKERS_DEFAULT = "[default: $METRICSPEC_CHART_WORKERS, else one per CPU]"
WORKERS_HELP = f"Processes drawing charts (1: none, draw them in this process). {_WORKERS_DEFAULT}"
BUILD_WORKERS_HELP = f"With --static-charts: processes drawing the charts (1: none, in this process). {_WORKERS_DEFAULT}"


def _progress(quiet: bool) -> Progress:
    """Progress bars on a terminal (stderr), unless ``--quiet``; in a pipe only the summary line."""
    return TerminalProgress() if not quiet and sys.stderr.isatty() else Progress()


def _charts_text(progress: Progress) -> str:
    c = progress.counts
    if c.get("charts_live"):
        return f"{c['charts_live']} charts drawn by the browser"
    total = c.get("charts_drawn", 0) + c.get("charts_cached", 0)
    return f"{total} charts: {c.get('charts_drawn', 0)} drawn, {c.get('charts_cached', 0)} from the cache"


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The file to write (atomically), e.g. scorecard.html.")
@click.option("--as-of", "as_of", metavar="DATE", help=AS_OF_HELP)
@click.option("--lang", type=click.Choice(LANGS), default=None,
              help="Language of labels, numbers and dates. Default: the spec's `language` if supported, else en.")
@click.option("--format", "fmt", type=click.Choice(["html", "markdown"]), default="html", show_default=True)
@click.option("--workers", type=click.IntRange(min=1), metavar="N", help=WORKERS_HELP)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars and no summary line.")
@confinement_options
@reports_errors
def render(spec: Path, output: Path, as_of: str | None, lang: str | None, fmt: str, workers: int | None, quiet: bool,
           confinement: Confinement) -> None:
    """Render one spec as a self-contained scorecard (inline CSS and SVG charts, no scripts, no web requests).

    Charts are drawn as static SVG (drawn charts are cached on disk, see METRICSPEC_CACHE_DIR).

    \b
    Examples:
      metricspec render specs/examples/x_brand_awareness.yaml -o scorecard.html
      metricspec render specs/examples/x_brand_awareness.yaml -o tarjeta.html --lang es --as-of 2026-11-01
    """
    check_output_file(output, [spec])  # before the run: a folder or the spec itself is refused at once
    with _progress(quiet) as progress:
        outcome = run_specs([spec], as_of=parse_as_of(as_of), confinement=confinement, progress=progress)
        check_output_file(output, outcome.inputs)
        if fmt == "markdown":
            text = outcome.render("markdown")
        else:
            from metricspec.render.chart_processes import auto_workers  # start-up: multiprocessing
            from metricspec.render.html import render_scorecard  # start-up: jinja2 and the engine

            if len(outcome.results) != 1:
                raise click.UsageError("render takes one spec file; use 'metricspec build' for a folder of specs")
            res = outcome.results[0]
            text = render_scorecard(res, lang or (res.spec.language if res.spec.language in LANGS else "en"),
                                    chart_workers=workers or auto_workers(), progress=progress)
        atomic_write_text(output, text)
    print_issues(outcome.warnings)
    if not quiet:
        charts = f" ({_charts_text(progress)})" if fmt == "html" else ""
        click.echo(f"wrote {output} in {progress.seconds:.1f} s{charts}", err=True)


@click.command()
@click.argument("specs_dir", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The site folder (replaced only once the whole site is built).")
@click.option("--as-of", "as_of", metavar="DATE", help=AS_OF_HELP)
@click.option("--lang", type=click.Choice(LANGS), default="en", show_default=True,
              help="Language of labels, numbers and dates.")
@click.option("--static-charts", is_flag=True,
              help="Draw the charts as SVG into the pages (no JavaScript; slower, cached on disk) instead of "
                   "letting the browser draw them.")
@click.option("--workers", type=click.IntRange(min=1), metavar="N",
              help=BUILD_WORKERS_HELP)
@click.option("--force", is_flag=True,
              help="Build into the output folder even if it is not an earlier site, and replace files no "
                   "metricspec build wrote where the site writes its own.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars and no summary line.")
@confinement_options
@reports_errors
def build(specs_dir: Path, output: Path, as_of: str | None, lang: str, static_charts: bool, workers: int | None,
          force: bool, quiet: bool, confinement: Confinement) -> None:
    """Build a static scorecard site: index, one page per spec, per KPI and per responsible person.

    Relative links only: open index.html from disk, a USB stick or GitHub Pages. The browser draws
    the charts with the Vega scripts written into assets/ (nothing loads from the network); every
    chart's numbers are also in a table, shown when JavaScript is off. The output folder must be
    new, empty or an earlier site unless --force; it may never hold the specs or their data. The
    build replaces the files an earlier build wrote (listed in its .metricspec-site file) and
    keeps every other file, such as a CNAME or robots.txt.

    \b
    Examples:
      metricspec build specs/examples -o site/ --as-of 2026-11-01
      metricspec build specs/examples -o site/ --static-charts
    """
    from metricspec.render.assets import prefetch_bundle  # start-up: importlib.metadata
    from metricspec.render.chart_processes import auto_workers  # start-up: multiprocessing
    from metricspec.render.site import build_site  # start-up: jinja2 and the engine

    check_site_dir(output, [specs_dir], force=force)  # before the run: refuse at once
    if not static_charts:
        prefetch_bundle()  # bundling the Vega scripts overlaps evaluating the specs
    with _progress(quiet) as progress:
        outcome = run_specs([specs_dir], as_of=parse_as_of(as_of), confinement=confinement, progress=progress)
        check_site_dir(output, outcome.inputs, force=force)
        files = build_site(outcome.results, output, lang, chart_workers=workers or auto_workers(),
                           static_charts=static_charts, progress=progress, force=force)
    print_issues(outcome.warnings)
    if not quiet:
        click.echo(f"built {len(outcome.results)} scorecard(s), {len(files)} files in {progress.seconds:.1f} s "
                   f"({_charts_text(progress)}); open {output / 'index.html'}", err=True)


COMMANDS = [render, build]
