"""The committed baseline: a deterministic, diff-friendly snapshot of results.

Its typed document (:mod:`metricspec.check.baseline_schema`, docs/ci.md#the-baseline-file), as JSON
with sorted keys, two-space indent and a trailing newline::

    {"metricspec_baseline": 1, "schema_version": 1,
     "specs": {"<spec name>": {
        "name": ..., "path": "specs/x.yaml", "as_of": "2026-06-30",
        "goals": {"<objective>/<goal>": {status, current, target, baseline, deadline, direction,
                                          kpi, measure, grain, tolerance, kpi_headlines, ...}},
        "kpis": {"<kpi>": {direction, definition, headlines: {"<grain>": {period, value}}}},
        "control_groups": {"<group>": {"<metric>": {lift, ci, difference, significant, sign,
                                                     direction, ...}}}}}}

Numbers are rounded to 12 significant digits (:func:`metricspec.utils.stable_numbers`, as in the
Results) so that the file is byte-identical across
runs and platforms; nothing time-dependent (no timestamps, no versions of metricspec) is written.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from metricspec.check.baseline_schema import (
    BaselineDocument,
    EffectEntry,
    GoalEntry,
    Headline,
    KpiEntry,
    SpecEntry,
    Tolerance,
    parse_baseline,
)
from metricspec.check.git import repo_root
from metricspec.check.specdiff import kpi_fingerprint
from metricspec.errors import Location, MetricSpecError, UsageError
from metricspec.trust import record_read
from metricspec.utils import atomic_write_text, stable_float, stable_numbers

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from metricspec.engine.results import ExperimentResult, Results
    from metricspec.spec.loaded import LoadedSpec

DEFAULT_BASELINE = Path(".metricspec") / "baseline.json"


def num(value: Any) -> float | None:
    """A JSON-safe, rounded number (None for missing, NaN or infinite)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        return None
    return stable_float(x)


def _sign(value: float | None) -> Literal[-1, 0, 1] | None:
    if value is None:
        return None
    return 1 if value > 0 else -1 if value < 0 else 0


def display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def shown_path(path: Path) -> str:
    """``path`` as the user can type it from here: relative to the current folder (``../x`` when
    above it), absolute when that is shorter."""
    absolute = path.resolve()
    relative = Path(os.path.relpath(absolute, Path.cwd().resolve()))
    return (relative if len(str(relative)) <= len(str(absolute)) else absolute).as_posix()


def project_root(paths: Sequence[Path], root: Path | None = None) -> Path:
    """The folder the default baseline lives in: ``--root``, else the git top level holding the
    specs, else the current folder. A check run from a subfolder (``check ../metrics.yaml``) once
    looked under the current folder, found nothing and passed without comparing."""
    if root is not None:
        return root.resolve()
    tops = {repo_root(Path(p).resolve()) for p in paths}
    found = sorted(str(t) for t in tops if t is not None)
    if len(found) > 1:
        raise UsageError(f"the specs are in {len(found)} git repositories ({', '.join(found)}), so there is no one "
                         "baseline for them", hint="check each repository on its own, or pass --root DIR or --baseline FILE")
    return Path(found[0]) if found else Path.cwd().resolve()


def baseline_path(paths: Sequence[Path], baseline: Path | None = None, root: Path | None = None) -> Path:
    """The baseline file: ``--baseline`` (relative to the current folder), else
    ``.metricspec/baseline.json`` in :func:`project_root`."""
    return Path(baseline) if baseline is not None else project_root(paths, root) / DEFAULT_BASELINE


def spec_key_path(path: Path, root: Path | None) -> str:
    """How the baseline records a spec's file: relative to the project root, wherever the command ran."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return display_path(path)


def snapshot(results: Results, loaded: LoadedSpec | None = None, root: Path | None = None) -> SpecEntry:
    """The baseline entry of one evaluated spec (its file relative to ``root``, the project root)."""
    kpis: dict[str, KpiEntry] = {}
    for k in results.kpis:
        per_grain = {h.grain: Headline(period=h.period.isoformat() if h.period else None, value=num(h.value))
                     for h in k.headlines}
        definition = kpi_fingerprint(loaded.spec, k.name) if loaded is not None and k.name in loaded.spec.kpis else None
        kpis[k.name] = KpiEntry(direction=k.direction, headlines=per_grain, definition=definition)
    goals: dict[str, GoalEntry] = {}
    for g in results.goals():
        goals[f"{g.objective}/{g.id}"] = GoalEntry(
            objective=g.objective, goal=g.id, title=g.title, kpi=g.kpi, status=g.status, current=num(g.current),
            target=num(g.target), baseline=num(g.baseline), deadline=g.deadline, direction=g.direction,
            measure=g.measure, grain=g.grain,
            tolerance=Tolerance(absolute=num(g.tolerance_absolute), relative=num(g.tolerance_relative)),
            kpi_headlines={grain: h.value for grain, h in kpis[g.kpi].headlines.items()} if g.kpi in kpis else {},
        )
    return SpecEntry(
        name=results.spec.name,
        path=spec_key_path(loaded.path, root) if loaded is not None else Path(results.spec.path).as_posix(),
        as_of=results.as_of, goals=goals, kpis=kpis,
        control_groups={cg.name: _effects(cg) for cg in results.control_groups},
    )


def _effects(cg: ExperimentResult) -> dict[str, EffectEntry]:
    """A control group's metrics (each arm of a several-arm group its own entry)."""
    metrics: dict[str, EffectEntry] = {}
    for m in cg.metrics:
        # a comparison that was not randomised is judged on its adjusted effect, not on the selection
        e = m.adjusted if m.adjusted is not None else m
        diff = num(e.difference)
        metrics[m.name if m.arm is None else f"{m.name} · {m.arm}"] = EffectEntry(
            lift=num(e.relative_lift), ci=(num(e.relative_lift_ci_low), num(e.relative_lift_ci_high)),
            difference=diff, difference_ci=(num(e.difference_ci_low), num(e.difference_ci_high)),
            p_value=num(e.p_value), significant=m.significant, sign=_sign(diff), direction=m.direction)
    return metrics


def baseline_document(entries: Mapping[str, SpecEntry]) -> BaselineDocument:
    return BaselineDocument(specs=dict(entries))


def dumps(document: BaselineDocument) -> str:
    """Byte-stable JSON text of a baseline document (every number as :func:`stable_numbers` writes it)."""
    return json.dumps(stable_numbers(document.to_json_data()), indent=2, sort_keys=True, ensure_ascii=False,
                      allow_nan=False) + "\n"


def read_baseline(path: str | Path) -> BaselineDocument:
    """Read a baseline file; raise :class:`UsageError` (exit 2) if it is missing, unreadable or not a
    baseline this metricspec reads (:func:`~metricspec.check.baseline_schema.parse_baseline`)."""
    p = Path(path)
    record_read(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"baseline '{p}' not found", where=Location(str(p)),
                         hint="create it with `metricspec baseline update SPECS` and commit it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read baseline '{p}': {exc}", where=Location(str(p))) from None
    return parse_baseline(text, str(p))


def write_baseline(path: str | Path, document: BaselineDocument) -> None:
    """Write atomically (temporary file + rename)."""
    try:
        atomic_write_text(path, dumps(document))
    except OSError as exc:
        raise MetricSpecError(f"cannot write baseline '{path}': {exc}") from None
