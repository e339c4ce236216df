"""Library entry points behind ``metricspec run``: load, evaluate and render specs.

Imported by ``metricspec --help`` (cli/__init__.py): the engine, the loader, pydantic and rich are imported
inside the functions that need them (marked ``start-up``; tests/test_python_api.py).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING

from metricspec.cli.outputguard import input_files
from metricspec.errors import Issue
from metricspec.progress import Progress, TerminalProgress
from metricspec.render.formatting import goal_summary
from metricspec.trust import DEFAULT as DEFAULT_CONFINEMENT
from metricspec.trust import Confinement

if TYPE_CHECKING:
    from metricspec.engine.results import Results
    from metricspec.spec.loaded import LoadedSpec


@dataclass
class RunOutcome:
    results: list[Results] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)  # spec, included and data files read

    def summary_line(self) -> str:
        """``6 specs · 31 goals: 12 achieved, 9 on track, …`` (the last line of ``metricspec run``)."""
        return goal_summary(len(self.results), (g.status for r in self.results for g in r.goals()))

    def render(self, fmt: str, *, width: int | None = None) -> str:
        """The results as text: a built-in format, or one a plugin adds; ``width`` lays out tables
        (default: wide, so no cell is cut)."""
        if fmt == "json":
            if len(self.results) == 1:
                return self.results[0].to_json()
            return json.dumps([json.loads(r.to_json()) for r in self.results], indent=2) + "\n"
        if fmt == "csv":
            from metricspec.render.csv import results_csv  # start-up: the engine

            return results_csv(self.results)
        if fmt == "markdown":
            from metricspec.render.markdown import results_markdown  # start-up: the engine

            return "\n".join(results_markdown(r) for r in self.results)
        if fmt != "table":
            from metricspec.outputs import render_with_plugin  # start-up: pluggy, pydantic

            return render_with_plugin(fmt, self.results)
        from rich.console import Console  # start-up: rich only for tables

        from metricspec.render.table import (  # start-up: rich and the engine
            WIDE_LAYOUT,
            print_results,
        )

        buf = StringIO()
        console = Console(file=buf, width=width or WIDE_LAYOUT, no_color=True, highlight=False)
        for r in self.results:
            print_results(r, console)
        return buf.getvalue()


def explain_specs(paths: list[Path], *, as_of: dt.date | None = None,
                  confinement: Confinement = DEFAULT_CONFINEMENT) -> list[dict[str, object]]:
    """The query plan of each spec: one entry per fused query (source, grain, segments, aggregates), and
    the conventions of each KPI that reads rows (what an event is, the day rule, the edges of periods
    and windows; ``KPIBase.conventions``), and the statements the run sends to its databases."""
    from metricspec.engine.run import explain_run  # start-up: polars and the engine, not for --help
    from metricspec.loader import load_specs  # start-up: pydantic, not for --help

    loaded, _, _ = load_specs(list(paths), confinement=confinement)
    return [{"spec": str(spec.path), **explain_run(spec, as_of=as_of),
             "conventions": [{"kpi": name, "kind": kpi.form, "rules": rules} for name, kpi in spec.spec.kpis.items()
                             if (rules := kpi.conventions(spec.spec))]}
            for spec in loaded]


def run_specs(paths: list[Path], *, as_of: dt.date | None = None, strict: bool = False,
              progress: bool | Progress = False, confinement: Confinement = DEFAULT_CONFINEMENT) -> RunOutcome:
    """Load and evaluate every spec under ``paths``; all spec errors are raised together.

    ``progress``: ``True`` shows a progress bar on the terminal; a :class:`~metricspec.progress.Progress`
    hears of every spec evaluated (stage ``specs``).
    """
    from metricspec.loader import load_specs  # start-up: pydantic, not for --help

    loaded, issues, _ = load_specs(list(paths), strict=strict, confinement=confinement)
    outcome = RunOutcome(warnings=issues, inputs=input_files(loaded))
    if progress is True:
        with TerminalProgress() as bar:
            outcome.results = _evaluate_all(loaded, as_of, bar)
    else:
        outcome.results = _evaluate_all(loaded, as_of, progress if isinstance(progress, Progress) else None)
    return outcome


def _evaluate_all(loaded: list[LoadedSpec], as_of: dt.date | None, progress: Progress | None) -> list[Results]:
    from metricspec.engine.run import evaluate  # start-up: polars and the engine, not for --help

    if progress is None:
        return [evaluate(spec, as_of=as_of) for spec in loaded]
    out = []
    progress.start("specs", len(loaded))
    for spec in loaded:
        def report(msg: str, name: str = spec.spec.name) -> None:
            progress.advance("specs", 0, text=f"{name}: {msg}")

        out.append(evaluate(spec, as_of=as_of, progress=report))
        progress.advance("specs", text=spec.spec.name)
    progress.count("specs", len(loaded))
    return out
