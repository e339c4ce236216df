"""``include:``: the sections of other files merged into a spec, with their positions.

Mappings (``sources``, ``kpis``, …) are merged key by key, a key defined twice is an error; lists
(``calendar``, ``acknowledged``) are concatenated; other sections come from the first file that has
them. Included files must lie inside the project root; chains and the number of files are bounded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from metricspec.errors import Issue, Level, Location, SpecError
from metricspec.loader.reading import display_name, read_yaml
from metricspec.spec.loaded import Positions
from metricspec.trust import ROOT_HINT, Confinement

MERGEABLE = ("sources", "kpis", "objectives", "control_groups", "campaigns", "benchmarks")
LISTS = ("calendar", "acknowledged")
MAX_INCLUDE_DEPTH = 32
"""Most files one chain of ``include:`` may hold below the spec (a includes b includes c …)."""
MAX_INCLUDED_FILES = 500
"""Most distinct files one spec may include, directly or not."""


def merge_includes(
    path: Path, raw: dict[str, Any], positions: Positions, issues: list[Issue], seen: tuple[Path, ...],
    trust: tuple[Confinement, Path], done: set[Path] | None = None,
) -> dict[str, Any]:
    """Merge the files ``raw`` includes into it. ``seen`` is the chain of files down to ``path`` (a
    cycle); ``done`` the files already merged: a file two includes reach (a diamond) is merged once,
    so that loading stays linear in the number of files."""
    includes = raw.get("include") or []
    if not isinstance(includes, list):
        return raw  # pydantic reports the type
    done = set() if done is None else done
    merged = dict(raw)
    for i, inc in enumerate(includes):
        if not isinstance(inc, str):
            continue
        where = positions.where(("include", i))
        target = (path.parent / inc).resolve()
        if target in seen:
            issues.append(Issue(Level.ERROR, f"include cycle: '{inc}' includes itself", where, "remove one include"))
            continue
        if target in done:
            continue
        if len(seen) > MAX_INCLUDE_DEPTH or len(done) >= MAX_INCLUDED_FILES:
            what = (f"includes are nested more than {MAX_INCLUDE_DEPTH} files deep" if len(seen) > MAX_INCLUDE_DEPTH
                    else f"the spec includes more than {MAX_INCLUDED_FILES} files")
            issues.append(Issue(Level.ERROR, f"{what} (at '{inc}')", where,
                                "include the shared files from the spec itself rather than through chains of files"))
            return merged
        done.add(target)
        included = _read_included(inc, target, path, where, positions, issues, trust)
        if included is None:
            continue
        sub, sub_pos = included
        sub = merge_includes(target, sub, sub_pos, issues, (*seen, target), trust, done)
        positions.files |= sub_pos.files
        _merge_sections(merged, sub, sub_pos, positions, issues, (inc, target))
    return merged


def _read_included(inc: str, target: Path, path: Path, where: Location | None, positions: Positions,
                   issues: list[Issue], trust: tuple[Confinement, Path]) -> tuple[dict[str, Any], Positions] | None:
    """The mapping and positions of the file ``inc`` names (``target``, resolved), or None with the
    problem added to ``issues`` (outside the project root, unreadable, not a mapping) or if it is empty."""
    outside = trust[0].outside(target, trust[1])
    if outside is not None:
        issues.append(Issue(Level.ERROR, f"included file '{inc}' is outside the project root {outside}", where,
                            ROOT_HINT))
        return None
    try:
        sub, sub_pos = read_yaml(target)
    except SpecError as exc:
        first = exc.issues()[0]
        if first.message == "file not found":
            issues.append(Issue(Level.ERROR, f"included file '{inc}' not found", where,
                                f"the path is relative to {display_name(path.parent) or '.'}"))
        else:
            issues.extend(exc.issues())
        return None
    positions.files.add(target)
    if sub is None:
        return None
    if not isinstance(sub, dict):
        issues.append(Issue(Level.ERROR, f"included file '{inc}' must be a mapping", where))
        return None
    return sub, sub_pos


def _merge_sections(merged: dict[str, Any], sub: dict[str, Any], sub_pos: Positions, positions: Positions,
                    issues: list[Issue], source: tuple[str, Path]) -> None:
    """Merge the sections of one included file (``source``: as the spec names it, resolved) into ``merged``."""
    for section, value in sub.items():
        if section in MERGEABLE and isinstance(value, dict):
            into = merged.setdefault(section, {})
            if not isinstance(into, dict):
                continue
            _merge_mapping(section, value, into, sub_pos, positions, issues, source)
        elif section in LISTS and isinstance(value, list):
            into_list = merged.setdefault(section, [])
            offset = len(into_list)
            into_list.extend(value)
            for pk, loc in sub_pos.values.items():
                if pk and pk[0] == section and len(pk) > 1 and isinstance(pk[1], int):
                    positions.values[(section, pk[1] + offset, *pk[2:])] = loc
            for pk, loc in sub_pos.keys.items():
                if pk and pk[0] == section and len(pk) > 1 and isinstance(pk[1], int):
                    positions.keys[(section, pk[1] + offset, *pk[2:])] = loc
        elif section in ("include", "name", "version"):
            continue
        elif section not in merged:
            merged[section] = value
            for pk, loc in sub_pos.values.items():
                if pk and pk[0] == section:
                    positions.values[pk] = loc
            for pk, loc in sub_pos.keys.items():
                if pk and pk[0] == section:
                    positions.keys[pk] = loc


def _merge_mapping(section: str, value: dict[str, Any], into: dict[str, Any], sub_pos: Positions,
                   positions: Positions, issues: list[Issue], source: tuple[str, Path]) -> None:
    """Add the entries of one mapping section (``sources``, ``kpis``, …) of an included file; an entry
    the spec already has is an error."""
    inc, target = source
    for k, v in value.items():
        if k in into:
            issues.append(Issue(
                Level.ERROR,
                f"{section} '{k}' is defined twice (here and in {inc})",
                positions.where((section, k), key=True),
                "rename one of them or remove the duplicate",
            ))
            continue
        into[k] = v
        positions.origins[(section, k)] = sub_pos.origins.get((section, k), target.parent)
        sub_prefix = Positions()
        for pk, loc in sub_pos.values.items():
            if pk[:2] == (section, k):
                sub_prefix.values[pk] = loc
        for pk, loc in sub_pos.keys.items():
            if pk[:2] == (section, k):
                sub_prefix.keys[pk] = loc
        positions.merge(sub_prefix)
