"""Library entry points behind ``metricspec run``: load, evaluate and render specs."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from metricspec.errors import Issue
from metricspec.trust import DEFAULT as DEFAULT_CONFINEMENT
from metricspec.trust import Confinement

if TYPE_CHECKING:
    from metricspec.engine.results import Results


@dataclass
class RunOutcome:
    results: list[Results] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)  # spec, included and data files read

    def summary_line(self) -> str:
        """``6 specs · 31 goals: 12 achieved, 9 on track, …`` (the last line of ``metricspec run``)."""
        from metricspec.render.formatting import goal_summary

        return goal_summary(len(self.results), (g.status for r in self.results for g in r.goals()))

    def render(self, fmt: str, *, width: int | None = None) -> str:
        """The results as text: a built-in format, or one a plugin adds; ``width`` lays out tables
        (default: wide, so no cell is cut)."""
        if fmt == "json":
            if len(self.results) == 1:
                return self.results[0].to_json()
            return json.dumps([json.loads(r.to_json()) for r in self.results], indent=2) + "\n"
        if fmt == "csv":
            from metricspec.render.csv import results_csv

            parts = [results_csv(r) for r in self.results]
            return parts[0] + "".join(p.split("\n", 1)[1] for p in parts[1:]) if parts else ""
        if fmt == "markdown":
            from metricspec.render.markdown import results_markdown

            return "\n".join(results_markdown(r) for r in self.results)
        if fmt != "table":
            from metricspec.outputs import render_with_plugin

            return render_with_plugin(fmt, self.results)
        from io import StringIO

        from rich.console import Console

        from metricspec.render.table import WIDE_LAYOUT, print_results

        buf = StringIO()
        console = Console(file=buf, width=width or WIDE_LAYOUT, no_color=True, highlight=False)
        for r in self.results:
            print_results(r, console)
        return buf.getvalue()


def explain_specs(paths: list[Path], *, as_of: dt.date | None = None,
                  confinement: Confinement = DEFAULT_CONFINEMENT) -> list[dict[str, object]]:
    """The query plan of each spec: one entry per fused query (source, grain, segments, aggregates)."""
    from metricspec.engine.run import explain
    from metricspec.loader import load_specs

    loaded, _, _ = load_specs(list(paths), confinement=confinement)
    return [{"spec": str(spec.path), "queries": explain(spec, as_of=as_of)} for spec in loaded]


def run_specs(paths: list[Path], *, as_of: dt.date | None = None, strict: bool = False,
              progress: bool = False, confinement: Confinement = DEFAULT_CONFINEMENT) -> RunOutcome:
    """Load and evaluate every spec under ``paths``; all spec errors are raised together."""
    from metricspec.engine.run import evaluate
    from metricspec.loader import load_specs
    from metricspec.outputguard import input_files

    loaded, issues, _ = load_specs(list(paths), strict=strict, confinement=confinement)
    outcome = RunOutcome(warnings=issues, inputs=input_files(loaded))
    if progress:
        from rich.progress import Progress, SpinnerColumn, TextColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as bar:
            task = bar.add_task("starting", total=None)
            for spec in loaded:
                def step(msg: str, spec=spec) -> None:  # type: ignore[no-untyped-def]
                    bar.update(task, description=f"{spec.spec.name}: {msg}")

                outcome.results.append(evaluate(spec, as_of=as_of, progress=step))
    else:
        for spec in loaded:
            outcome.results.append(evaluate(spec, as_of=as_of))
    return outcome
