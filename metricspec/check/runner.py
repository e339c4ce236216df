"""Library entry points behind ``metricspec check`` and ``metricspec baseline update``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from metricspec.check import history
from metricspec.check.baseline import (
    baseline_document,
    baseline_path,
    display_path,
    project_root,
    read_baseline,
    shown_path,
    snapshot,
    write_baseline,
)
from metricspec.check.baseline_schema import BaselineDocument, SpecEntry
from metricspec.check.compare import compare_snapshots
from metricspec.check.findings import (
    NEW_SPEC,
    NO_BASELINE,
    OLD_SPEC_UNREADABLE,
    CheckReport,
    Finding,
    GoalCase,
    SpecCheck,
)
from metricspec.check.git import dirty_paths, relative_to_root, repo_root, show_file, verify_ref
from metricspec.check.pacing import pacing_alerts
from metricspec.check.specdiff import compare_specs, load_spec_text
from metricspec.engine.run import evaluate
from metricspec.errors import Issue, Level, Location, MetricSpecError, SpecError, UsageError
from metricspec.loader import load_specs as load_all
from metricspec.loader.reading import read_yaml
from metricspec.render.formatting import kpi_unit
from metricspec.trust import DEFAULT as DEFAULT_CONFINEMENT
from metricspec.trust import Confinement, check_output_file

if TYPE_CHECKING:
    from metricspec.engine.results import Results
    from metricspec.progress import Progress
    from metricspec.spec.loaded import LoadedSpec


class BaselineRefused(MetricSpecError):
    """``baseline update`` will not overwrite the baseline (dirty tree or failing state)."""

    def __init__(self, message: str, issues: list[Issue], *, exit_code: int, hint: str | None = None):
        super().__init__(message, hint=hint)
        self._issues = issues
        self.exit_code = exit_code

    def issues(self) -> list[Issue]:
        return [*self._issues, Issue(Level.ERROR, self.message, None, self.hint)]


@dataclass
class Evaluated:
    loaded: LoadedSpec
    results: Results
    snapshot: SpecEntry


# ----------------------------------------------------------------- loading and evaluating


def load_specs(paths: list[Path], *, strict: bool = False, keep_going: bool = False,
               confinement: Confinement = DEFAULT_CONFINEMENT) -> tuple[list[LoadedSpec], list[Issue], list[Path]]:
    """:func:`metricspec.loader.load_specs`, plus unique spec names (they key the baseline)."""
    loaded, issues, broken = load_all(paths, strict=strict, keep_going=keep_going, confinement=confinement)
    names: dict[str, Path] = {}
    for spec in loaded:
        if spec.spec.name in names:
            raise UsageError(f"two specs are named '{spec.spec.name}': {names[spec.spec.name]} and {spec.path}",
                             where=spec.where("name"), hint="spec names key the baseline; make them unique")
        names[spec.spec.name] = spec.path
    return loaded, issues, broken


def evaluate_spec(loaded: LoadedSpec, as_of: dt.date | None, root: Path | None = None) -> Evaluated:
    """Evaluate one spec; its baseline entry names its file relative to ``root`` (the project root)."""
    results = evaluate(loaded, as_of=as_of)
    return Evaluated(loaded, results, snapshot(results, loaded, root))


def _evaluate_all(loaded: list[LoadedSpec], as_of: dt.date | None, progress: Progress | None,
                  root: Path | None = None) -> list[Evaluated]:
    """Every spec evaluated, ``progress`` advanced by one per spec (``check`` shows a bar on a terminal);
    ``root``: the project root the baseline entries name files from."""
    if progress is None:
        return [evaluate_spec(spec, as_of, root) for spec in loaded]
    progress.start("specs", len(loaded))
    out = []
    for spec in loaded:
        progress.advance("specs", 0, text=spec.spec.name)
        out.append(evaluate_spec(spec, as_of, root))
        progress.advance("specs", text=spec.spec.name)
    progress.count("specs", len(loaded))
    return out


def goal_cases(ev: Evaluated) -> list[GoalCase]:
    out = []
    for g in ev.results.goals():
        unit, currency = kpi_unit(ev.results, g.kpi)
        out.append(GoalCase(key=f"{g.objective}/{g.id}", title=g.title, status=g.status, current=g.current,
                            target=g.target, where=ev.loaded.where("objectives", g.objective, "goals", g.id,
                                                                   key=True), unit=unit, currency=currency))
    return out


def kpi_units(results: Results) -> dict[str, tuple[str, str | None]]:
    """How each KPI's values read in check messages (unit and currency)."""
    return {k.name: kpi_unit(results, k.name) for k in results.kpis}


# ----------------------------------------------------------------- check


class MissingBaseline(UsageError):
    """No baseline where the check looks, in CI (exit 2): the gate would pass without comparing results."""


def check_paths(paths: list[Path], *, baseline: Path | None = None, against: str | None = None,
                as_of: dt.date | None = None, strict: bool = False,
                confinement: Confinement = DEFAULT_CONFINEMENT,
                progress: Progress | None = None,
                missing_baseline: Literal["warn", "error"] = "warn") -> tuple[CheckReport, list[Issue]]:
    """Evaluate specs and compare them with the baseline and/or a git ref.

    ``baseline=None`` uses ``.metricspec/baseline.json`` in the project root (``--root``, else the git
    top level of the specs, else the current folder) if it exists; an explicit path must exist.
    When there is none (neither here nor at ``against``), each spec gets a ``no_baseline`` warning,
    or with ``missing_baseline="error"`` (CI) :class:`MissingBaseline` is raised before any spec is
    evaluated. With ``against``, specs are matched across renames and moves, removed specs and a
    baseline rewritten in the range need acknowledging (:mod:`metricspec.check.history`).
    Returns the report and spec warnings. Raises :class:`SpecError`, :class:`DataError` or
    :class:`UsageError` for bad input (exit 2).
    """
    paths = [Path(p) for p in paths]
    top = project_root(paths, confinement.root)
    root, commit = _git_ref(paths, against)
    where = baseline_path(paths, baseline, confinement.root)
    doc = read_baseline(where) if baseline is not None or where.exists() else None
    old_doc = history.baseline_at(root, commit, where) if root is not None and commit is not None else None
    if doc is None and old_doc is None and missing_baseline == "error":
        raise MissingBaseline(
            f"no baseline at {shown_path(where)} (project root {top}): in CI the check would pass without comparing "
            "any result", hint="create it with `metricspec baseline update SPECS` and commit it; pass --baseline FILE "
            "if it lives elsewhere, or --allow-missing-baseline to check the specs alone")
    loaded, warnings, _broken = load_specs(paths, strict=strict, confinement=confinement)
    evaluated = _evaluate_all(loaded, as_of, progress, top)
    gone: list[history.OldSpec] = []
    extra: list[Finding] = []
    if against and root is not None and commit is not None:
        gone = history.gone_specs(paths, root, commit, against, {ev.loaded.path.resolve() for ev in evaluated})
        doc, old_doc = _baselines_in_range(doc, old_doc, evaluated, against, where, extra)
    report = CheckReport(baseline=display_path(where) if doc is not None else None, against=against,
                         strict=strict, baseline_path=shown_path(where))
    for ev in evaluated:
        report.specs.append(_check_one(ev, doc, old_doc, where, against, root, commit, gone))
    if against:
        extra += history.removal_findings(gone, [ev.loaded.spec for ev in evaluated], against, root)
    if extra:
        report.specs.append(SpecCheck(name="(removed specs and baseline)", path="", findings=extra,
                                      compared_with_ref=against))
    report.alerts = pacing_alerts(((ev.loaded.spec, ev.results) for ev in evaluated), doc)
    return report, [w for w in warnings if w.level is Level.WARNING]


def _git_ref(paths: list[Path], against: str | None) -> tuple[Path | None, str | None]:
    """The git repository holding the specs and the commit ``--against`` names (both None without it);
    :class:`UsageError` when the specs are not in a repository or the ref does not exist."""
    if not against:
        return None, None
    root = repo_root(paths[0].resolve() if paths else Path.cwd())
    if root is None:
        raise UsageError(f"--against {against}: {paths[0] if paths else '.'} is not inside a git repository",
                         hint="run from a git checkout, or drop --against")
    return root, verify_ref(root, against)


def _baselines_in_range(doc: BaselineDocument | None, old_doc: BaselineDocument | None, evaluated: list[Evaluated],
                        against: str, where: Path, extra: list[Finding],
                        ) -> tuple[BaselineDocument | None, BaselineDocument | None]:
    """The baseline to compare with and the ref's, when the range changed it (else None). A baseline
    deleted in the range is compared with as the ref has it, and a finding (added to ``extra``) says so."""
    if old_doc is not None and doc is None:
        extra.append(history.baseline_deleted_finding([ev.loaded.spec for ev in evaluated], against,
                                                      display_path(where)))
        return old_doc, None  # compare with the deleted baseline
    if old_doc is not None and doc is not None and old_doc.specs == doc.specs:
        return doc, None  # unchanged in the range
    return doc, old_doc


def _check_one(ev: Evaluated, doc: BaselineDocument | None, old_doc: BaselineDocument | None, baseline_file: Path,
               against: str | None, root: Path | None, commit: str | None, gone: list[Any]) -> SpecCheck:
    """One spec's findings: against its old version (possibly under another path or name), then
    against the baseline entry of its old name, then against the ref's baseline if the range rewrote it."""
    snap = ev.snapshot
    sc = SpecCheck(name=snap.name, path=snap.path, as_of=snap.as_of.isoformat(), goals=goal_cases(ev))
    spec_file = display_path(ev.loaded.path)
    old_name = snap.name
    if against and root is not None and commit is not None:
        sc.compared_with_ref = against
        found, old_name = spec_regressions(ev.loaded, root, commit, against, gone)
        sc.findings.extend(found)
    if doc is not None:
        key = snap.name if snap.name in doc.specs else old_name
        old = doc.specs.get(key)
        if old is None:
            old, key = _entry_by_path(doc, snap.path)
            if old is not None:
                sc.findings.append(history.rename_finding(key, ev.loaded.spec, "the baseline", ev.loaded.where("name"), None))
        if old is None:
            sc.findings.append(Finding(
                "info", NO_BASELINE, "results", sc.name, f"spec {sc.name}",
                f"spec '{sc.name}' is not in the baseline {shown_path(baseline_file)}; results not compared "
                "(add it with `metricspec baseline update`)", None, None, Location(spec_file, 1, 1)))
        else:
            sc.compared_with_baseline = True
            units = kpi_units(ev.results)
            current = compare_snapshots(old, snap, spec=ev.loaded.spec, locate=ev.loaded.where, file=spec_file,
                                        units=units)
            sc.findings.extend(current)
            earlier = old_doc.specs.get(key) if old_doc is not None else None
            if earlier is not None and against:
                failing = {f.subject for f in current if f.severity == "failure"}
                then = compare_snapshots(earlier, snap, spec=ev.loaded.spec, locate=ev.loaded.where, file=spec_file,
                                         units=units)
                sc.findings.extend(f for f in history.baseline_findings(then, ev.loaded.spec, against)
                                   if f.subject not in failing)
    else:
        sc.findings.append(Finding(
            "warning", NO_BASELINE, "results", sc.name, f"spec {sc.name}",
            f"no baseline at {shown_path(baseline_file)}: results were NOT compared, so a regression would pass "
            "(create one with `metricspec baseline update` and commit it, or pass --baseline)", None, None,
            Location(spec_file, 1, 1)))
    return sc


def _entry_by_path(doc: BaselineDocument, path: str) -> tuple[SpecEntry | None, str]:
    """The baseline entry recorded for a spec file (when its ``name:`` changed)."""
    for name in sorted(doc.specs):
        if doc.specs[name].path == path:
            return doc.specs[name], name
    return None, ""


def spec_regressions(loaded: LoadedSpec, root: Path, commit: str, ref: str, gone: list[Any] | None = None,
                     ) -> tuple[list[Finding], str]:
    """Compare one spec with its version at ``commit`` (``ref`` is the name shown): the file at the
    same path, else the removed file it continues (taken out of ``gone``). Returns the findings and
    the spec's name at ``ref``."""
    name = loaded.spec.name
    spec_file = display_path(loaded.path)
    rel = relative_to_root(root, loaded.path)
    if rel is None:
        return [Finding("warning", OLD_SPEC_UNREADABLE, "spec", name, f"spec {name}",
                        f"{spec_file} is outside the repository {root}; not compared with {ref}",
                        None, None, Location(spec_file, 1, 1))], name
    text = show_file(root, commit, rel)
    findings: list[Finding] = []
    moved_from: str | None = None
    if text is None:
        match = history.match_moved(loaded.spec, gone or [])
        if match is None:
            return [Finding("info", NEW_SPEC, "spec", name, f"spec {name}", f"{rel} is new since {ref}",
                            None, None, Location(spec_file, 1, 1))], name
        assert gone is not None
        gone.remove(match)
        old, old_line = match.spec, match.line_of
        moved_from = match.rel.as_posix()
        findings.append(Finding("info", "spec_moved", "spec", name, f"spec {name}",
                                f"{rel} continues {moved_from} (moved since {ref}); compared with it",
                                moved_from, rel.as_posix(), Location(spec_file, 1, 1)))
    else:
        try:
            old, old_line = load_spec_text(text, f"{ref}:{rel}", rel_path=rel,
                                           read_include=lambda p: show_file(root, commit, p))
        except SpecError as exc:
            first = exc.issues()[0].format() if exc.issues() else "invalid"
            return [Finding("warning", OLD_SPEC_UNREADABLE, "spec", name, f"spec {name}",
                            f"the version at {ref} is not a valid spec ({first}); not compared",
                            None, None, Location(spec_file, 1, 1))], name
    if old.name != name:
        findings.append(history.rename_finding(old.name, loaded.spec, ref, loaded.where("name"), moved_from))
    findings += compare_specs(old, loaded.spec, spec_name=name, ref=ref, locate=loaded.where, old_locate=old_line,
                              file=spec_file)
    return findings, old.name


# ----------------------------------------------------------------- baseline update


@dataclass
class BaselineUpdate:
    path: Path
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[Issue] = field(default_factory=list)
    overridden: list[Finding] = field(default_factory=list)


def tracked_inputs(loaded: LoadedSpec) -> list[Path]:
    """The spec file, the files it includes and the data files its sources read."""
    files: list[Path] = [loaded.path]
    todo = [loaded.path]
    seen: set[Path] = set()
    while todo:
        current = todo.pop()
        if current.resolve() in seen:
            continue
        seen.add(current.resolve())
        try:
            raw, _ = read_yaml(current)
        except SpecError:
            continue
        includes = raw.get("include") if isinstance(raw, dict) else None
        for inc in includes if isinstance(includes, list) else []:
            if isinstance(inc, str):
                target = current.parent / inc
                files.append(target)
                todo.append(target)
    for name, source in loaded.spec.sources.items():
        base = loaded.dir_of("sources", name)
        for key in ("path", "paths", "file", "files", "database"):
            value = source.options.get(key)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and "://" not in item:
                    path = Path(item).expanduser()
                    path = path if path.is_absolute() else base / path
                    if any(ch in item for ch in "*?["):
                        path = path.parent
                    files.append(path)
    return files


def update_baseline(paths: list[Path], *, baseline: Path | None = None, as_of: dt.date | None = None,
                    force: bool = False, confinement: Confinement = DEFAULT_CONFINEMENT) -> BaselineUpdate:
    """Evaluate specs and write their entries into the baseline (atomically).

    Entries of specs not evaluated now are kept. Refuses (raises :class:`BaselineRefused`)
    when the specs or their data have uncommitted changes (exit 2) or a goal regressed
    against the existing baseline (exit 1), and raises :class:`SpecError` for invalid
    specs — unless ``force``, which skips broken specs and overrides both refusals.
    """
    paths = [Path(p) for p in paths]
    top = project_root(paths, confinement.root)
    target = baseline_path(paths, baseline, confinement.root)
    outcome = BaselineUpdate(path=target)
    loaded, issues, broken = load_specs(paths, keep_going=force, confinement=confinement)
    for issue in issues:
        if issue.level is Level.ERROR:
            outcome.notes.append(Issue(Level.WARNING, f"skipped (--force): {issue.message}", issue.where, issue.hint))
    # a dirty working tree means the baseline would describe uncommitted specs or data
    inputs = [p for spec in loaded for p in tracked_inputs(spec)] + list(broken)
    check_output_file(target, inputs)
    _refuse_uncommitted(paths, inputs, force, outcome)
    doc = _current_baseline(target, force, outcome)
    entries: dict[str, SpecEntry] = dict(doc.specs)
    failures = _evaluate_into(entries, loaded, as_of, top, force, outcome)
    if failures and not force:
        raise BaselineRefused(
            f"refusing to update the baseline: {len(failures)} regression(s) against the current baseline",
            [Issue(Level.ERROR, f.message, f.where) for f in failures], exit_code=1,
            hint="fix them, acknowledge intended spec changes, or pass --force to accept the new state",
        )
    outcome.overridden = failures
    outcome.kept = sorted(set(entries) - set(outcome.written))
    write_baseline(target, baseline_document(entries))
    return outcome


def _refuse_uncommitted(paths: list[Path], inputs: list[Path], force: bool, outcome: BaselineUpdate) -> None:
    """Refuse (:class:`BaselineRefused`, exit 2) when ``inputs`` have uncommitted changes, unless ``force``
    (then each is a note); outside a git repository the check is skipped, with a note."""
    root = repo_root(paths[0].resolve()) if paths else None
    if root is None:
        outcome.notes.append(Issue(Level.WARNING, "not a git repository: the uncommitted-changes check was skipped",
                                   Location(str(paths[0]) if paths else ".")))
    else:
        dirty = dirty_paths(root, inputs)
        if dirty and not force:
            raise BaselineRefused(
                f"refusing to update the baseline: {len(dirty)} spec/data file(s) have uncommitted changes",
                [Issue(Level.ERROR, f"uncommitted: {line.strip()}", None) for line in dirty],
                exit_code=2, hint="commit (or discard) them first, so the baseline matches a commit; or pass --force",
            )
        for line in dirty:
            outcome.notes.append(Issue(Level.WARNING, f"uncommitted (--force): {line.strip()}", None))


def _current_baseline(target: Path, force: bool, outcome: BaselineUpdate) -> BaselineDocument:
    """The baseline document at ``target`` (an empty one if there is none); with ``force``, an unreadable
    one is replaced (a note says so)."""
    doc = baseline_document({})
    if target.exists():
        try:
            doc = read_baseline(target)
        except UsageError as exc:
            if not force:
                raise
            outcome.notes.append(Issue(Level.WARNING, f"replacing (--force): {exc.message}", exc.where))
    return doc


def _evaluate_into(entries: dict[str, SpecEntry], loaded: list[LoadedSpec], as_of: dt.date | None, top: Path | None,
                   force: bool, outcome: BaselineUpdate) -> list[Finding]:
    """Evaluate every spec into ``entries`` (by name); return the failures against the entry it replaces.
    With ``force``, a spec that cannot be evaluated is skipped (a note says why)."""
    failures: list[Finding] = []
    for spec in loaded:
        try:
            ev = evaluate_spec(spec, as_of, top)
        except MetricSpecError as exc:
            if not force:
                raise
            outcome.notes.extend(Issue(Level.WARNING, f"skipped (--force): {i.message}", i.where, i.hint)
                                 for i in exc.issues())
            continue
        name = ev.snapshot.name
        old = entries.get(name)
        if old is not None:
            found = compare_snapshots(old, ev.snapshot, spec=spec.spec, locate=spec.where,
                                      file=display_path(spec.path), units=kpi_units(ev.results))
            failures += [f for f in found if f.severity == "failure"]
        entries[name] = ev.snapshot
        outcome.written.append(name)
    return failures
