"""``metricspec query``: a declared KPI by any column, grain, filter and dates, without editing the spec."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from metricspec.cli.clicommon import (
    WIDTH_HELP,
    confinement_options,
    print_issues,
    reports_errors,
    table_width,
)
from metricspec.cli.outputguard import emit_text
from metricspec.render.explain import explain_text

if TYPE_CHECKING:
    from metricspec.trust import Confinement

GRAINS = ("hour", "day", "week", "month", "quarter", "year")


def _names(values: tuple[str, ...]) -> tuple[str, ...]:
    """Repeated options and comma-separated lists alike: ``--kpi a --kpi b`` or ``--kpi a,b``."""
    return tuple(n.strip() for v in values for n in v.split(",") if n.strip())


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD", param_hint=option) from None


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--kpi", "kpis", multiple=True, required=True, metavar="NAME",
              help="A KPI of the spec (repeat, or separate with commas).")
@click.option("--by", "by", multiple=True, metavar="COLUMN",
              help="Break down by a column of the KPIs' rows (their sources and the sources joined to them).")
@click.option("--grain", type=click.Choice(GRAINS), help="Period of each row. [default: the first KPI's first grain]")
@click.option("--where", metavar="EXPR", help="Keep the rows where this holds, e.g. \"country == 'PL'\".")
@click.option("--from", "start", metavar="DATE", help="First date (YYYY-MM-DD). [default: the spec's period, else "
              "the first date in the data]")
@click.option("--to", "end", metavar="DATE", help="Last date (YYYY-MM-DD). [default: the latest date in the data "
              "up to today]")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default="table",
              show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file (atomically).")
@click.option("--width", type=click.IntRange(min=20), metavar="N", help=WIDTH_HELP)
@click.option("--explain", is_flag=True, help="Print the compiled plan instead of running it: per query, where it "
              "runs and the SQL it sends (JSON with --format json).")
@confinement_options
@reports_errors
def query(spec: Path, kpis: tuple[str, ...], by: tuple[str, ...], grain: str | None, where: str | None,
          start: str | None, end: str | None, fmt: str, output: Path | None, width: int | None, explain: bool,
          confinement: Confinement) -> None:
    """Ask a spec's KPIs anything: by any column, per any grain, over any rows and dates.

    Derived KPIs (ratios, formulas, growth, rolling windows, to-date totals) are recomputed for the
    breakdown (a ratio of sums, not a sum of ratios); KPIs from different sources line up on period
    and breakdown. The queries run where the data lives, as `run` does. Exit codes: 0 ok, 2 bad input
    (an unknown KPI or column, a grain a KPI cannot have, a malformed --where).

    \b
    Examples:
      metricspec query specs/examples/multi_network.yaml --kpi engagement_rate --kpi posts --by network --grain week
      metricspec query specs/examples/multi_network.yaml --kpi posts --by network,content_type \\
          --where "network == 'x'" --from 2026-09-01 --to 2026-10-31 --format csv
      metricspec query specs/examples/multi_network.yaml --kpi ctr --by campaign --explain
    """
    from metricspec.engine.query import (  # start-up: polars, the engine
        Question,
        explain_query,
        run_query,
    )
    from metricspec.loader import load_specs  # start-up: pydantic, not for --help

    question = Question(kpis=_names(kpis), by=_names(by), grain=grain, where=where,
                        start=_date(start, "--from"), end=_date(end, "--to"))
    loaded, issues, _ = load_specs([spec], confinement=confinement)
    if len(loaded) != 1:
        raise click.UsageError("query takes one spec file")
    print_issues(issues)
    if explain:
        plan = explain_query(loaded[0], question)
        if fmt == "json":
            text = json.dumps(plan, indent=2, default=str) + "\n"
        else:
            text = explain_text([{"spec": str(loaded[0].path), "queries": plan}])
    else:
        from metricspec.render.query import answer_text  # start-up: polars, rich

        result = run_query(loaded[0], question)
        text = answer_text(result, fmt, width=width if output else table_width(width))
    emit_text(text, output, loaded)


COMMANDS = [query]
