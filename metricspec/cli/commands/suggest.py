"""``metricspec suggest``: targets history makes 50 % and 80 % likely, as YAML to paste."""

from __future__ import annotations

import datetime as dt
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
from metricspec.cli.outputguard import emit_text

if TYPE_CHECKING:
    from metricspec.trust import Confinement


@click.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--as-of", "as_of", metavar="DATE", help=AS_OF_HELP)
@click.option("--deadline", metavar="DATE",
              help="Deadline of the goals drafted for KPIs without one. [default: 90 days after the as-of date]")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file (atomically).")
@confinement_options
@reports_errors
def suggest(specs: tuple[Path, ...], as_of: str | None, deadline: str | None, output: Path | None,
            confinement: Confinement) -> None:
    """Suggest targets from history: for each goal, and for each KPI without one, the target that is
    50 % likely by the deadline (and the safer 80 % one), printed as YAML to paste into the spec.

    \b
    The declared target's own chance is in the comment beside each suggestion, flagged "not
    ambitious" above 95 % and "not plausible" below 5 %. See docs/goals.md.

    \b
    Examples:
      metricspec suggest specs/examples/x_brand_awareness.yaml --as-of 2026-11-01
      metricspec suggest specs/ --deadline 2026-12-31 -o suggested.yaml
    """
    # when the command runs, as every command does, so that `metricspec --help` and the others start fast
    from metricspec.engine import suggest as engine  # heavy: the engine (polars, numpy)
    from metricspec.loader import load_specs  # heavy: pydantic models of every kind, YAML
    from metricspec.render.suggest_yaml import suggestions_yaml  # heavy: render (babel, jinja2)

    date = parse_as_of(as_of)
    end = _date(deadline) if deadline else None
    loaded, issues, _ = load_specs(list(specs), confinement=confinement)
    print_issues(issues)
    text = suggestions_yaml(engine.suggest(spec, as_of=date, deadline=end) for spec in loaded)
    emit_text(text, output, loaded)


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD", param_hint="--deadline") from None


COMMANDS = [suggest]
