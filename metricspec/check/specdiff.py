"""Spec regressions: compare a spec with an older version of itself.

A change fails the check unless an ``acknowledged:`` entry (on the goal or on the spec)
covers it:

* ``target_lowered`` — a goal's target was made easier (lowered for ``increase``, raised
  for ``decrease``, using the goal's direction, else its KPI's);
* ``deadline_extended`` — a goal's effective deadline (``deadline``, else ``period.end``,
  else its campaign's end) moved later or was dropped;
* ``goal_removed`` / ``kpi_removed`` — a goal or KPI was deleted;
* ``direction_changed`` — a goal's own ``direction`` changed which way is good (an increase
  goal made a decrease goal is trivially achieved);
* ``tolerance_widened`` — a goal's tolerance grew (absolute or relative), so a larger
  wrong-way move passes;
* ``kpi_redefined`` — a KPI's definition changed so its history is no longer comparable:
  any of :data:`COMPARABLE_KPI_FIELDS`, or the definition of the source it reads
  (:data:`COMPARABLE_SOURCE_FIELDS`); also a goal re-pointed to another KPI, scope or
  measure; and any other goal field that changes how its status is reached (its grain, baseline,
  start, period or campaign: :data:`COMPARABLE_GOAL_FIELDS`). Titles, descriptions, units,
  segments, grains and benchmarks of KPIs do not count.
* ``kpi_removed`` also when a KPI is taken off an objective's ``kpis:`` list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from metricspec.check.findings import (
    DEADLINE_EXTENDED,
    DIRECTION_CHANGED,
    GOAL_REMOVED,
    KPI_REDEFINED,
    KPI_REMOVED,
    TARGET_LOWERED,
    TOLERANCE_WIDENED,
    Finding,
)
from metricspec.engine.goals import tolerance_of
from metricspec.errors import Location
from metricspec.kinds import KPI, KPIBase
from metricspec.loader import build_spec
from metricspec.loader.reading import read_yaml
from metricspec.render.formatting import fmt_any
from metricspec.spec.models import Acknowledgement, Goal, Spec
from metricspec.spec.source import Source
from metricspec.trust import Confinement

COMPARABLE_KPI_FIELDS = KPIBase.LEGACY_FIELDS
"""Fields of every KPI's definition; a kind's own further fields join it when set (:meth:`KPIBase.definition`)."""
COMPARABLE_SOURCE_FIELDS = (
    "connector", "options", "time_column", "rename", "columns", "timestamp_format", "timezone", "derive",
)
GOAL_NOTE_FIELDS = ("title", "description", "measured_by", "responsible", "acknowledged")
"""Goal fields that do not change how its status is reached."""
GOAL_RULED_FIELDS = ("target", "direction", "deadline", "tolerance")
"""Goal fields with a rule of their own (only the easier way fails: a later deadline, a lower target …)."""
COMPARABLE_GOAL_FIELDS = tuple(f for f in Goal.model_fields if f not in GOAL_NOTE_FIELDS + GOAL_RULED_FIELDS)
"""Every other goal field (kpi, scope, measure, grain, baseline, start, period, campaign …): a change
needs acknowledging, as the goal is then measured another way. Derived from the model, so a new
field is compared unless it is named above."""

Locate = Callable[..., Location | None]


# ----------------------------------------------------------------- definitions


def _dump(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_defaults=False)
    return value


def kpi_definition(spec: Spec, name: str) -> dict[str, Any]:
    """The fields of a KPI (and of the source it reads) that make its values what they are."""
    kpi = spec.kpis[name]
    out = kpi.definition()
    source = kpi.segment_source(spec)
    if source and source in spec.sources:
        src = spec.sources[source]
        out["source_definition"] = {f: _dump(getattr(src, f)) for f in COMPARABLE_SOURCE_FIELDS}
        if src.joins:  # only then: the fingerprints of sources without joins stay what they were
            out["source_definition"]["joins"] = _joins_definition(spec, src)
    return out


def _joins_definition(spec: Spec, src: Source) -> list[dict[str, Any]]:
    """A source's joins with each joined source's definition (a new path or key changes the values)."""
    out = []
    for join in src.joins:
        right = spec.sources.get(join.source)
        entities = right.entities if right else {}
        item: dict[str, Any] = {"source": join.source, "on": join.on, "key": join.right_key(entities),
                                "columns": join.columns, "prefix": join.prefix}
        if right is not None:
            item["definition"] = {f: _dump(getattr(right, f)) for f in COMPARABLE_SOURCE_FIELDS}
        out.append(item)
    return out


def kpi_references(kpi: KPI) -> list[str]:
    """KPIs a derived KPI reads."""
    return [ref.name for ref in kpi.inputs()]


def kpi_fingerprint(spec: Spec, name: str) -> str:
    """A short hash of a KPI's definition including every KPI it reads (recursively).

    Equal fingerprints mean the KPI's history is comparable.
    """

    def collect(n: str, seen: set[str]) -> dict[str, Any]:
        if n in seen or n not in spec.kpis:
            return {}
        seen.add(n)
        tree = {n: kpi_definition(spec, n)}
        for ref in kpi_references(spec.kpis[n]):
            tree.update(collect(ref, seen))
        return tree

    text = json.dumps(collect(name, set()), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def effective_direction(spec: Spec, goal: Goal) -> str:
    if goal.direction:
        return goal.direction
    kpi = spec.kpis.get(goal.kpi)
    return kpi.direction if kpi else "increase"


def effective_deadline(spec: Spec, goal: Goal) -> dt.date | None:
    if goal.deadline:
        return goal.deadline
    if goal.period:
        return goal.period.end
    if goal.campaign and goal.campaign in spec.campaigns:
        return spec.campaigns[goal.campaign].end
    return None


def tolerance_parts(goal: Goal) -> tuple[float, float]:
    """(absolute, relative) tolerance of a goal, as the engine reads it (a plain number is relative)."""
    absolute, relative = tolerance_of(goal)
    return absolute or 0.0, relative or 0.0


def target_easier(old_target: float, new_target: float, direction: str) -> bool:
    return new_target < old_target if direction == "increase" else new_target > old_target


# ----------------------------------------------------------------- acknowledgements


def find_acknowledgement(spec: Spec, change: str, *, goal: tuple[str, str] | None = None,
                         kpi: str | None = None) -> Acknowledgement | None:
    """The ``acknowledged:`` entry covering a change, on the goal or on the spec.

    A goal's own entries cover changes to that goal (and, for ``kpi_redefined``, to the KPI
    it tracks). Spec-level entries cover any change of their kind, narrowed by their
    optional ``goal:`` (goal id) and ``kpi:`` fields. ``change: any`` matches every kind.
    """
    kinds = (change, "any")
    if goal is not None:
        obj, gid = goal
        g = spec.objectives.get(obj, None)
        goal_obj = g.goals.get(gid) if g else None
        if goal_obj is not None:
            for ack in goal_obj.acknowledged:
                if ack.change in kinds and ack.goal in (None, gid) and ack.kpi in (None, kpi, goal_obj.kpi):
                    return ack
    if kpi is not None and goal is None and change == KPI_REDEFINED:
        for _o, _g, goal_obj in spec.goals():
            if goal_obj.kpi != kpi:
                continue
            for ack in goal_obj.acknowledged:
                if ack.change in kinds and ack.kpi in (None, kpi) and ack.goal in (None, _g):
                    return ack
    goal_id = goal[1] if goal else None
    for ack in spec.acknowledged:
        if ack.change not in kinds or ack.spec not in (None, spec.name):  # `spec:` names a removed spec
            continue
        if ack.goal is not None and ack.goal != goal_id:
            continue
        if ack.kpi is not None and ack.kpi != kpi:
            continue
        return ack
    return None


# ----------------------------------------------------------------- comparison


def _fmt(value: Any, spec: Spec | None = None, kpi: str | None = None) -> str:
    """A value in a message; a goal's target in its KPI's unit (``12.0%``, ``€40.00``) when the spec says it."""
    k = spec.kpis.get(kpi) if spec is not None and kpi else None
    if k is None:
        return fmt_any(value)
    return fmt_any(value, k.unit, (k.currency or spec.currency) if k.unit == "currency" and spec else k.currency)


def _changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if key == "source_definition" and isinstance(a, dict) and isinstance(b, dict):
            out += [f"source.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif a != b:
            out.append(key)
    return out


def compare_specs(old: Spec, new: Spec, *, spec_name: str | None = None, ref: str = "the old version",
                  locate: Locate | None = None, old_locate: Callable[..., str | None] | None = None,
                  file: str | None = None) -> list[Finding]:
    """Findings for every regression from ``old`` to ``new`` (acknowledged ones as info).

    ``locate(*path, key=...)`` gives positions in the new spec (``LoadedSpec.where``);
    ``old_locate(*path)`` describes positions in the old one (for deleted items).
    """
    name = spec_name or new.name
    diff = _Diff(old, new, name, Location(file or name, 1, 1), ref, locate, old_locate)
    _compare_goals(diff)
    _compare_objective_kpis(diff)
    _compare_kpis(diff)
    return diff.findings


@dataclass
class _Diff:
    """Two versions of one spec, where findings point, and the findings so far."""

    old: Spec
    new: Spec
    name: str
    fallback: Location
    ref: str
    locate: Locate | None
    old_locate: Callable[..., str | None] | None
    findings: list[Finding] = field(default_factory=list)

    def where(self, *path: str | int, key: bool = False) -> Location:
        loc = self.locate(*path, key=key) if self.locate else None
        return loc or self.fallback

    def was(self, *path: str | int) -> str:
        text = self.old_locate(*path) if self.old_locate else None
        return f" (was {text})" if text else f" (compared with {self.ref})"

    def add(self, rule: str, subject: str, message: str, old_v: Any, new_v: Any, loc: Location, *,
            goal: tuple[str, str] | None = None, kpi: str | None = None) -> None:
        """A finding: info when the new spec acknowledges the change, else a failure with how to."""
        name, findings = self.name, self.findings
        ack = find_acknowledgement(self.new, rule, goal=goal, kpi=kpi)
        if ack is not None:
            findings.append(Finding("info", rule, "spec", name, subject,
                                    f"{message} — acknowledged: {ack.reason}", old_v, new_v, loc,
                                    goal="/".join(goal) if goal else None, acknowledged=ack.reason))
        else:
            hint = (f"; if intended, add to the {'goal' if goal and rule != GOAL_REMOVED else 'spec'}: "
                    f"`acknowledged: [{{change: {rule}, reason: ...}}]`")
            findings.append(Finding("failure", rule, "spec", name, subject, message + hint, old_v, new_v, loc,
                                    goal="/".join(goal) if goal else None))


def _compare_goals(diff: _Diff) -> None:
    old, new, where, was, add, fallback = diff.old, diff.new, diff.where, diff.was, diff.add, diff.fallback
    # goals: match by objective/goal, then by goal id alone (a goal moved to another objective)
    new_goals = {(o, g): goal for o, g, goal in new.goals()}
    old_goals = {(o, g): goal for o, g, goal in old.goals()}
    unmatched_new = {k: v for k, v in new_goals.items() if k not in old_goals}
    for (o, g), og in old_goals.items():
        key = (o, g)
        ng = new_goals.get(key)
        if ng is None:
            moved = [k for k in unmatched_new if k[1] == g]
            if len(moved) == 1:
                key = moved.pop()
                ng = unmatched_new.pop(key)
        if ng is None:
            loc = where("objectives", o, key=True) if o in new.objectives else fallback
            add(GOAL_REMOVED, f"goal {o}/{g}",
                f"goal '{g}' (objective '{o}', target {_fmt(og.target, old, og.kpi)} on {og.kpi}) was removed{was('objectives', o, 'goals', g)}",
                og.target, None, loc, goal=(o, g))
            continue
        _compare_goal(diff, key, og, ng)


def _compare_goal(diff: _Diff, key: tuple[str, str], og: Goal, ng: Goal) -> None:
    """A goal in both versions (``key`` its place in the new one): easier target, other direction, wider
    tolerance, later deadline, another measure."""
    old, new, where, was, add = diff.old, diff.new, diff.where, diff.was, diff.add
    subject = f"goal {key[0]}/{key[1]}"
    gpath = ("objectives", key[0], "goals", key[1])
    direction = effective_direction(new, ng)
    if target_easier(og.target, ng.target, direction):
        word = "lowered" if direction == "increase" else "raised"
        add(TARGET_LOWERED, subject,
            f"goal '{key[1]}': target {word} from {_fmt(og.target, old, og.kpi)} to {_fmt(ng.target, new, ng.kpi)} "
            f"(direction {direction}){was(*gpath, 'target')}",
            og.target, ng.target, where(*gpath, "target"), goal=key, kpi=ng.kpi)
    old_direction = effective_direction(old, og)
    if og.direction != ng.direction and old_direction != direction:
        add(DIRECTION_CHANGED, subject,
            f"goal '{key[1]}': direction changed from {old_direction} to {direction}, so another result now "
            f"counts as success{was(*gpath, 'direction')}",
            old_direction, direction, where(*gpath, "direction") if ng.direction else where(*gpath, key=True),
            goal=key, kpi=ng.kpi)
    (old_abs, old_rel), (new_abs, new_rel) = tolerance_parts(og), tolerance_parts(ng)
    if new_abs > old_abs or new_rel > old_rel:
        add(TOLERANCE_WIDENED, subject,
            f"goal '{key[1]}': tolerance widened from {_tol(old_abs, old_rel)} to {_tol(new_abs, new_rel)}, so "
            f"larger wrong-way moves pass{was(*gpath, 'tolerance')}",
            _dump(og.tolerance), _dump(ng.tolerance), where(*gpath, "tolerance"), goal=key, kpi=ng.kpi)
    od, nd = effective_deadline(old, og), effective_deadline(new, ng)
    if od is not None and (nd is None or nd > od):
        loc = where(*gpath, "deadline") if ng.deadline else where(*gpath, key=True)
        add(DEADLINE_EXTENDED, subject,
            f"goal '{key[1]}': deadline {'removed (was ' + od.isoformat() + ')' if nd is None else 'pushed out from ' + od.isoformat() + ' to ' + nd.isoformat()}"
            f"{was(*gpath, 'deadline')}",
            od.isoformat(), nd.isoformat() if nd else None, loc, goal=key, kpi=ng.kpi)
    changed = [f for f in COMPARABLE_GOAL_FIELDS if _goal_field(og, f) != _goal_field(ng, f)]
    if changed:
        add(KPI_REDEFINED, subject,
            f"goal '{key[1]}' now measures something else ({', '.join(changed)} changed: "
            + "; ".join(f"{f} {_goal_field(og, f)!r} → {_goal_field(ng, f)!r}" for f in changed)
            + "), so its history is not comparable",
            {f: _dump(_goal_field(og, f)) for f in changed}, {f: _dump(_goal_field(ng, f)) for f in changed},
            where(*gpath, changed[0], key=True) if changed[0] in ng.model_fields_set else where(*gpath, key=True),
            goal=key, kpi=ng.kpi)


def _compare_objective_kpis(diff: _Diff) -> None:
    old, new, where, was, add, fallback = diff.old, diff.new, diff.where, diff.was, diff.add, diff.fallback
    # objectives' KPI lists: a KPI taken off an objective no longer reports on it
    for oname, obj in old.objectives.items():
        kept = new.objectives[oname].kpis if oname in new.objectives else []
        for kname in obj.kpis:
            if kname in kept:
                continue
            loc = where("objectives", oname, "kpis", key=True) if oname in new.objectives else fallback
            add(KPI_REMOVED, f"objective {oname}: kpi {kname}",
                f"KPI '{kname}' was taken off objective '{oname}' (its `kpis:`){was('objectives', oname, 'kpis')}, "
                "so the objective no longer reports it", kname, None, loc, kpi=kname)



def _compare_kpis(diff: _Diff) -> None:
    old, new, where, was, add, fallback = diff.old, diff.new, diff.where, diff.was, diff.add, diff.fallback
    # KPIs
    for kname in old.kpis:
        if kname not in new.kpis:
            add(KPI_REMOVED, f"kpi {kname}", f"KPI '{kname}' was removed{was('kpis', kname)}",
                kname, None, where("kpis", key=True) if new.kpis else fallback, kpi=kname)
            continue
        od_def, nd_def = kpi_definition(old, kname), kpi_definition(new, kname)
        fields = _changed_fields(od_def, nd_def)
        if fields:
            loc_field = fields[0] if not fields[0].startswith("source.") else None
            if loc_field is not None:
                loc = where("kpis", kname, loc_field, key=True) if loc_field in (
                    new.kpis[kname].model_fields_set) else where("kpis", kname, key=True)
            else:
                src = new.kpis[kname].segment_source(new)
                part = fields[0].split(".", 1)[1]
                loc = where("sources", src, part, key=True) if src else where("kpis", kname, key=True)
            olds = {f: _get(od_def, f) for f in fields}
            news = {f: _get(nd_def, f) for f in fields}
            detail = "; ".join(f"{f}: {_short(olds[f])} → {_short(news[f])}" for f in fields)
            add(KPI_REDEFINED, f"kpi {kname}",
                f"KPI '{kname}' was redefined ({detail}), so its history is no longer comparable",
                olds, news, loc, kpi=kname)


def _goal_field(goal: Goal, name: str) -> Any:
    """A goal field as compared: a period by its start (its end is the deadline, with a rule of its own)."""
    value = getattr(goal, name)
    if name == "period" and value is not None:
        return value.start
    return value


def _tol(absolute: float, relative: float) -> str:
    parts = ([f"absolute {_fmt(absolute)}"] if absolute else []) + ([f"relative {relative:.4g}"] if relative else [])
    return " or ".join(parts) if parts else "none"


def _get(d: dict[str, Any], dotted: str) -> Any:
    if dotted.startswith("source."):
        return (d.get("source_definition") or {}).get(dotted.split(".", 1)[1])
    return d.get(dotted)


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ----------------------------------------------------------------- loading old versions


def load_spec_text(text: str, name: str = "<spec>", *,
                   read_include: Callable[[PurePosixPath], str | None] | None = None,
                   rel_path: PurePosixPath | None = None) -> tuple[Spec, Callable[..., str | None]]:
    """Parse and validate spec text (e.g. from ``git show``) without cross-file checks.

    Includes are read through ``read_include(repo-relative path)`` (paths resolved against
    ``rel_path``'s folder). Returns the :class:`Spec` and a function giving ``"line N"`` for
    a path in it. Raises :class:`SpecError` if the text is not a valid spec.
    """
    rel = rel_path or PurePosixPath(Path(name).name)
    with tempfile.TemporaryDirectory(prefix="metricspec-old-") as tmp:
        root = Path(tmp)
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        if read_include is not None:
            _materialise_includes(root, rel, text, read_include, depth=0)
        raw, positions = read_yaml(target)
        spec, _ = build_spec(target, raw, positions, Confinement(root=root))

    def line_of(*path: str | int) -> str | None:
        loc = positions.where(tuple(path), key=True)
        return f"{name}:{loc.line}" if loc and loc.line else None

    return spec, line_of


def _materialise_includes(root: Path, rel: PurePosixPath, text: str,
                          read_include: Callable[[PurePosixPath], str | None], depth: int) -> None:
    if depth > 10:
        return
    from ruamel.yaml import YAML  # start-up: ruamel.yaml only for an old spec's includes

    try:
        doc = YAML(typ="safe").load(text)
    except Exception:  # the real parse reports it
        return
    includes = doc.get("include") if isinstance(doc, dict) else None
    if not isinstance(includes, list):
        return
    for inc in includes:
        if not isinstance(inc, str):
            continue
        inc_rel = _normalise(rel.parent / inc)
        if inc_rel is None:
            continue
        body = read_include(inc_rel)
        if body is None:
            continue
        dest = root / inc_rel
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(body, encoding="utf-8")
        _materialise_includes(root, inc_rel, body, read_include, depth + 1)


def _normalise(p: PurePosixPath) -> PurePosixPath | None:
    parts: list[str] = []
    for part in p.parts:
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None  # outside the repository
            parts.pop()
        else:
            parts.append(part)
    return PurePosixPath(*parts) if parts else None
