"""What the CI gate compares with when specs or the baseline themselves change in the commit range.

A gate that compares a spec only with the file of the same path, and results only with the
baseline of the same name, is passed by moving things: renaming the file (then lowering its
target), renaming the spec (``name:``), deleting it or moving it under ``shared/``, or
regenerating the baseline in the same change as a data regression. This module closes those:

* :func:`gone_specs` — spec files under the checked folders at the ref that are no longer checked;
* :func:`match_moved` — the old spec a new file continues (same name, else shared goal ids, else
  shared KPI names), so it is compared with it; what is not matched was removed
  (:func:`removal_findings`: ``spec_removed``);
* :func:`rename_finding` — a spec whose ``name:`` changed (``spec_renamed``): its baseline entry
  is found by its old name, and the change needs acknowledging;
* :func:`baseline_at` — the baseline as the ref has it: when the change edits or deletes the
  baseline, results are also compared with that one (``baseline_changed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from metricspec.check.baseline import display_path
from metricspec.check.baseline_schema import BaselineDocument, parse_baseline
from metricspec.check.findings import BASELINE_CHANGED, SPEC_REMOVED, SPEC_RENAMED, Finding
from metricspec.check.git import list_files, relative_to_root, show_file
from metricspec.check.specdiff import load_spec_text
from metricspec.errors import Location, SpecError, UsageError
from metricspec.loader import SPEC_SUFFIXES, _is_partial

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from metricspec.spec.models import Acknowledgement, Spec


@dataclass(frozen=True)
class OldSpec:
    """A spec file as the ref has it."""

    rel: PurePosixPath
    spec: Spec
    line_of: Callable[..., str | None]


def gone_specs(paths: Sequence[Path], root: Path, commit: str, ref: str, present: set[Path]) -> list[OldSpec]:
    """Spec files under the checked folders at ``commit`` that are not checked now (deleted,
    renamed, or moved where the check skips them, e.g. under ``shared/``)."""
    out: list[OldSpec] = []
    seen: set[PurePosixPath] = set()
    for p in paths:
        rel_dir = relative_to_root(root, p) if p.is_dir() else None
        if rel_dir is None:
            continue
        for rel in list_files(root, commit, rel_dir):
            full = (root / rel).resolve()
            if rel in seen or rel.suffix not in SPEC_SUFFIXES or _is_partial(Path(rel)) or full in present:
                continue
            seen.add(rel)
            text = show_file(root, commit, rel) or ""
            try:
                old, line_of = load_spec_text(text, f"{ref}:{rel}", rel_path=PurePosixPath(rel),
                                              read_include=lambda q: show_file(root, commit, q))
            except SpecError:
                continue
            out.append(OldSpec(PurePosixPath(rel), old, line_of))
    return out


def _goal_ids(spec: Spec) -> set[str]:
    return {g for _o, g, _goal in spec.goals()}


def match_moved(new: Spec, gone: Sequence[OldSpec]) -> OldSpec | None:
    """The old spec ``new`` continues: the same ``name``, else the most shared goal ids, else the
    most shared KPI names (at least half of the old spec's KPIs)."""
    same = [o for o in gone if o.spec.name == new.name]
    if same:
        return same[0]
    goals = _goal_ids(new)
    best = max(gone, key=lambda o: (len(_goal_ids(o.spec) & goals), str(o.rel)), default=None)
    if best is not None and _goal_ids(best.spec) & goals:
        return best
    kpis = set(new.kpis)
    best = max(gone, key=lambda o: (len(set(o.spec.kpis) & kpis), str(o.rel)), default=None)
    if best is not None and best.spec.kpis and 2 * len(set(best.spec.kpis) & kpis) >= len(best.spec.kpis):
        return best
    return None


def _acknowledged(specs: Sequence[Spec], change: str, spec_name: str | None = None) -> Acknowledgement | None:
    for spec in specs:
        for ack in spec.acknowledged:
            if ack.change in (change, "any") and ack.spec in (None, spec_name):
                return ack
    return None


def _finding(rule: str, spec: str, subject: str, message: str, hint: str, ack: Acknowledgement | None,
             old: Any, new: Any, where: Location | None) -> Finding:
    if ack is not None:
        return Finding("info", rule, "spec", spec, subject, f"{message} — acknowledged: {ack.reason}", old, new,
                       where, acknowledged=ack.reason)
    return Finding("failure", rule, "spec", spec, subject, f"{message}; {hint}", old, new, where)


def removal_findings(gone: Sequence[OldSpec], checked: Sequence[Spec], ref: str,
                     root: Path | None = None) -> list[Finding]:
    """``spec_removed`` for each old spec nothing continues, unless a checked spec acknowledges it
    (``acknowledged: [{change: spec_removed, spec: NAME, reason: ...}]`` at the top of any spec).
    Located at the removed file, relative to the current folder like every finding (``root``: the
    repository's top level)."""
    out = []
    for old in gone:
        name = old.spec.name
        message = (f"spec file {old.rel} (spec '{name}', {len(old.spec.goals())} goal(s), {len(old.spec.kpis)} "
                   f"KPI(s)) is no longer checked since {ref} (deleted, or moved where the check skips it)")
        hint = ("if intended, add to one of the checked specs: `acknowledged: [{change: spec_removed, "
                f"spec: {name}, reason: ...}}]`")
        out.append(_finding(SPEC_REMOVED, name, f"spec {name}", message, hint,
                            _acknowledged(checked, SPEC_REMOVED, name), old.rel.as_posix(), None,
                            Location(display_path(root / old.rel) if root is not None else old.rel.as_posix())))
    return out


def rename_finding(old_name: str, new: Spec, ref: str, where: Location | None, moved_from: str | None) -> Finding:
    """``spec_renamed``: the spec's name (which keys the baseline) changed since ``ref``."""
    how = f" (its file moved from {moved_from})" if moved_from else ""
    message = f"spec '{old_name}' was renamed to '{new.name}' since {ref}{how}; it is compared under its old name"
    hint = "if intended, add to the spec: `acknowledged: [{change: spec_renamed, reason: ...}]`"
    return _finding(SPEC_RENAMED, new.name, f"spec {new.name}", message, hint,
                    _acknowledged([new], SPEC_RENAMED), old_name, new.name, where)


def baseline_at(root: Path, commit: str, baseline: Path) -> BaselineDocument | None:
    """The baseline document at ``commit`` (None: it did not exist there, or is not a baseline this
    metricspec reads)."""
    rel = relative_to_root(root, baseline)
    text = show_file(root, commit, rel) if rel is not None else None
    if text is None:
        return None
    try:
        return parse_baseline(text, f"{commit}:{rel}")
    except UsageError:
        return None


def baseline_findings(found: Sequence[Finding], spec: Spec, ref: str) -> list[Finding]:
    """Regressions against the baseline the ref has, when this change edited or deleted it:
    each needs ``acknowledged: [{change: baseline_changed, ...}]`` on the spec."""
    ack = _acknowledged([spec], BASELINE_CHANGED)
    out = []
    for f in found:
        if f.severity != "failure":
            continue
        message = f"{f.message} (against the baseline at {ref}; this change rewrote the baseline)"
        hint = "if intended, add to the spec: `acknowledged: [{change: baseline_changed, reason: ...}]`"
        out.append(_finding(BASELINE_CHANGED, f.spec, f.subject, message, hint, ack, f.old, f.new, f.where))
    return out


def baseline_deleted_finding(specs: Sequence[Spec], ref: str, path: str) -> Finding:
    message = f"the baseline {path} was deleted since {ref}; results are compared with the baseline at {ref}"
    hint = "if intended, add to a checked spec: `acknowledged: [{change: baseline_changed, reason: ...}]`"
    return _finding(BASELINE_CHANGED, "(baseline)", f"baseline {path}", message, hint,
                    _acknowledged(specs, BASELINE_CHANGED), path, None, Location(path))
