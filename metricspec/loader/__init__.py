"""Load spec files: YAML with positions, includes, pydantic validation.

Every mapping key and value keeps its file, line and column, so that problems
found by pydantic or by the validation rules point at ``spec.yaml:12:3``.
"""

from __future__ import annotations

import contextlib
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from metricspec.errors import Issue, Level, Location, SpecError
from metricspec.loader.limits import Budget, check_expansion, check_nesting, decode
from metricspec.spec.models import Spec
from metricspec.trust import DEFAULT as DEFAULT_CONFINEMENT
from metricspec.trust import Confinement, record_read
from metricspec.utils import suggest

PathKey = tuple[str | int, ...]
MERGEABLE = ("sources", "kpis", "objectives", "control_groups", "campaigns", "benchmarks")
LISTS = ("calendar", "acknowledged")
SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass
class Positions:
    """File/line/column of each value (and each mapping key) by path."""

    values: dict[PathKey, Location] = field(default_factory=dict)
    keys: dict[PathKey, Location] = field(default_factory=dict)
    quoted: set[PathKey] = field(default_factory=set)
    origins: dict[PathKey, Path] = field(default_factory=dict)
    files: set[Path] = field(default_factory=set)  # included files, resolved

    def where(self, path: PathKey, *, key: bool = False) -> Location | None:
        """The closest known location of ``path`` (walking up to parents)."""
        p = tuple(path)
        table = self.keys if key else self.values
        while True:
            if p in table:
                return table[p]
            if p in self.keys:
                return self.keys[p]
            if p in self.values:
                return self.values[p]
            if not p:
                return None
            p = p[:-1]

    def merge(self, other: Positions, prefix: PathKey = ()) -> None:
        for k, v in other.values.items():
            self.values[prefix + k] = v
        for k, v in other.keys.items():
            self.keys[prefix + k] = v
        self.quoted |= {prefix + k for k in other.quoted}
        self.origins.update({prefix + k: v for k, v in other.origins.items()})


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec with where it came from."""

    spec: Spec
    path: Path
    positions: Positions
    raw: dict[str, Any]
    confinement: Confinement = DEFAULT_CONFINEMENT

    @property
    def root(self) -> Path | None:
        """The folder every path of this spec must stay inside (None: anywhere)."""
        return None if self.confinement.allow_outside else self.confinement.root_for(self.path)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def dir_of(self, *path: str) -> Path:
        """Folder that relative paths in this part of the spec are relative to (its own file's)."""
        return self.positions.origins.get(tuple(path), self.base_dir)

    def where(self, *path: str | int, key: bool = False) -> Location | None:
        return self.positions.where(path, key=key)


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_IMPLICIT = {f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "str", "timestamp")}


def _yaml() -> Any:
    """PyYAML with its C (libyaml) loader when available: ``(module, Loader)``."""
    import yaml  # type: ignore[import-untyped]

    return yaml, getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_yaml(path: Path) -> tuple[Any, Positions]:
    """Parse a YAML file into plain Python values plus their positions.

    Scalars resolve as in YAML 1.1 safe loading, except timestamps, which stay text
    (pydantic parses dates with clear errors). Duplicate keys are an error.
    """
    yaml, loader = _yaml()
    name = _display(path)
    record_read(path)
    try:
        text = decode(path.read_bytes(), name)
    except FileNotFoundError:
        raise SpecError([Issue(Level.ERROR, "file not found", Location(name), "check the path")]) from None
    except IsADirectoryError:
        raise SpecError([Issue(Level.ERROR, "is a folder, not a spec file", Location(name),
                               "pass a .yaml file")]) from None
    except OSError as exc:
        raise SpecError([Issue(Level.ERROR, f"cannot read file: {exc.strerror or exc}", Location(name),
                               "check the path and its permissions")]) from None
    try:
        try:
            check_nesting(yaml, loader, text, name)
            doc = yaml.compose(text, Loader=loader)
        except yaml.MarkedYAMLError:
            if loader is yaml.SafeLoader:
                raise
            # libyaml 0.2.6 (PyYAML 6.0.4's wheels) refuses deep flow nesting while scanning ahead, with
            # its own words ("exceeded maximum nesting depth"): the pure-Python event parser streams, so
            # metricspec's limit and message stand whichever libyaml is installed
            check_nesting(yaml, yaml.SafeLoader, text, name)
            # libyaml's messages are terser ("found character that cannot start any token");
            # re-read with the pure-Python parser for its wording (the error path only; its
            # recursive composer may give up on deep nesting, then libyaml's error stands)
            with contextlib.suppress(RecursionError):
                doc = yaml.compose(text, Loader=yaml.SafeLoader)
            raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        hint = _yaml_hint(problem)
        raise SpecError([Issue(Level.ERROR, f"YAML syntax error: {problem}", where, hint)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Issue(Level.ERROR, f"YAML error: {exc}", Location(name))]) from None
    positions = Positions()
    positions.values[()] = Location(name, 1, 1)
    if doc is None:
        return None, positions
    check_expansion(doc, name)  # on the node graph, before anything is expanded
    value = _plain(doc, (), _Walk(name, positions, _scalar_constructors(yaml), Budget(name)))
    return value, positions


def _yaml_hint(problem: str) -> str:
    if "duplicate key" in problem:
        return "each key may appear once in a mapping; remove or rename one"
    if "tab" in problem:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return "a value containing ': ' must be quoted"
    if "could not find expected ':'" in problem:
        return "check the indentation and that each key is followed by ':'"
    return "check indentation, colons and quotes around this line"


def _scalar_constructors(yaml: Any) -> dict[str, Any]:
    """Scalar tag -> function(node) building its value, as YAML 1.1 safe loading does."""
    c = yaml.SafeLoader("")  # a pure constructor; only its scalar methods are used
    return {
        "tag:yaml.org,2002:null": c.construct_yaml_null,
        "tag:yaml.org,2002:bool": c.construct_yaml_bool,
        "tag:yaml.org,2002:int": c.construct_yaml_int,
        "tag:yaml.org,2002:float": c.construct_yaml_float,
        "tag:yaml.org,2002:binary": c.construct_yaml_binary,
    }


@dataclass
class _Walk:
    name: str
    positions: Positions
    scalars: dict[str, Any]
    budget: Budget
    active: set[int] = field(default_factory=set)
    built: set[int] = field(default_factory=set)
    replaying: int = 0  # > 0 while an alias's value is being copied again

    def count(self, node: Any, depth: int) -> bool:
        """Charge one value to the budget; True if it starts an alias use (a node built before,
        not inside another alias being copied). Its copied values count as values, not as aliases."""
        alias = id(node) in self.built and not self.replaying
        self.budget.value(node, depth, alias=alias)
        self.built.add(id(node))
        return alias

    def at(self, node: Any) -> Location:
        mark = node.start_mark
        return Location(self.name, mark.line + 1, mark.column + 1)

    def error(self, problem: str, node: Any) -> SpecError:
        return SpecError([Issue(Level.ERROR, f"YAML syntax error: {problem}", self.at(node), _yaml_hint(problem))])


def _plain(node: Any, path: PathKey, walk: _Walk) -> Any:
    """Plain Python value of a composed PyYAML node, recording positions under ``path``."""
    kind = node.id
    alias = walk.count(node, len(path))
    if kind == "scalar":
        if node.style in ("'", '"'):
            walk.positions.quoted.add(path)
        return _scalar(node, walk)
    if id(node) in walk.active:
        raise walk.error("recursive alias (a value that contains itself)", node)
    walk.active.add(id(node))
    walk.replaying += alias
    try:
        if kind == "sequence":
            items = []
            values = walk.positions.values
            for i, item in enumerate(node.value):
                child = (*path, i)
                values[child] = walk.at(item)
                items.append(_plain(item, child, walk))
            return items
        return _mapping(node, path, walk)
    finally:
        walk.active.discard(id(node))
        walk.replaying -= alias


_CORE_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_CORE_NULL = {"", "~", "null", "Null", "NULL"}
_CORE_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_CORE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


def _core_schema(text: str) -> Any:
    """Resolve a plain scalar with the YAML 1.2 core schema (so `no`, `on`, `012` stay text)."""
    if text in _CORE_NULL:
        return None
    if text in _CORE_BOOL:
        return _CORE_BOOL[text]
    if _CORE_INT.fullmatch(text):
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)
    if _CORE_FLOAT.fullmatch(text):
        lowered = text.lower()
        if lowered.endswith("inf"):
            return float("-inf") if lowered.startswith("-") else float("inf")
        if lowered.endswith("nan"):
            return float("nan")
        return float(text)
    return text


def _scalar(node: Any, walk: _Walk) -> Any:
    tag = node.tag
    if not node.style and tag in _IMPLICIT:
        if _CORE_INT.fullmatch(node.value):
            walk.budget.integer(node.value, node)
        return _core_schema(node.value)  # plain scalars: YAML 1.2 rules, dates stay text
    if tag in (_STR, _TIMESTAMP):
        return node.value
    build = walk.scalars.get(tag)
    if build is None:
        return node.value  # unknown/custom tags keep their text
    try:
        return build(node)
    except Exception as exc:  # e.g. `!!int abc`, bad base64
        raise walk.error(f"cannot read {node.value!r} as {tag.rsplit(':', 1)[-1]}: {exc}", node) from None


def _key(node: Any, walk: _Walk) -> str:
    if node.id == "scalar":
        return str(_scalar(node, walk))
    if node.id == "sequence":
        return str(tuple(_plain(n, (), _Walk(walk.name, Positions(), walk.scalars, walk.budget)) for n in node.value))
    raise walk.error("a mapping cannot be used as a key", node)


def _merged(node: Any, walk: _Walk, seen: set[int]) -> list[tuple[str, Any]]:
    """(key, value node) pairs of a mapping including its own merges, highest precedence first."""
    if node.id != "mapping":
        raise walk.error("a merge key (<<) needs a mapping or a list of mappings", node)
    if id(node) in seen:
        return []
    walk.count(node, len(seen))
    seen = seen | {id(node)}
    own: list[tuple[str, Any]] = []
    merges: list[tuple[str, Any]] = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            sources = value_node.value if value_node.id == "sequence" else [value_node]
            for source in sources:
                merges.extend(_merged(source, walk, seen))
        else:
            own.append((_key(key_node, walk), value_node))
    return own + merges


def _mapping(node: Any, path: PathKey, walk: _Walk) -> dict[str, Any]:
    out: dict[str, Any] = {}
    keys = walk.positions.keys
    values = walk.positions.values
    merges: list[Any] = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            merges.append(value_node)
            continue
        key = _key(key_node, walk)
        if key in out:
            raise walk.error(f"found duplicate key {key!r}", key_node)
        child = (*path, key)
        keys[child] = walk.at(key_node)
        values[child] = walk.at(value_node)
        out[key] = _plain(value_node, child, walk)
    # merged keys (`<<: *base`) come after the mapping's own keys, which override them;
    # like before, they get no key/value position of their own (where() falls back to the parent)
    for value_node in merges:
        sources = value_node.value if value_node.id == "sequence" else [value_node]
        for source in sources:
            pairs = _merged(source, walk, {id(node)})  # charges each merged mapping as an alias use
            walk.replaying += 1  # its values are copies: values, not further alias uses
            try:
                for key, merged_value in pairs:
                    if key not in out:
                        out[key] = _plain(merged_value, (*path, key), walk)
            finally:
                walk.replaying -= 1
    return out


def load_spec(path: str | Path, confinement: Confinement = DEFAULT_CONFINEMENT) -> LoadedSpec:
    """Read, merge includes and validate one spec file; raise :class:`SpecError`."""
    p = Path(path)
    raw, positions = read_yaml(p)
    spec, raw = build_spec(p, raw, positions, confinement)
    loaded = LoadedSpec(spec=spec, path=p, positions=positions, raw=raw, confinement=confinement)
    from metricspec.validation import validate

    found = validate(loaded)
    errors = [i for i in found if i.level is Level.ERROR]
    if errors:
        raise SpecError(found)
    object.__setattr__(loaded, "_warnings", [i for i in found if i.level is Level.WARNING])
    return loaded


def build_spec(p: Path, raw: Any, positions: Positions, confinement: Confinement = DEFAULT_CONFINEMENT,
               ) -> tuple[Spec, dict[str, Any]]:
    """The :class:`Spec` of parsed YAML: includes merged, pydantic errors mapped to file:line:col.

    No cross-reference rules run here (see :func:`load_spec`), so an earlier version of a spec
    read from git can be parsed the same way.
    """
    name = _display(p)
    if raw is None:
        raise SpecError([Issue(Level.ERROR, "the file is empty", Location(name, 1, 1), "start with `name: my-spec`")])
    if not isinstance(raw, dict):
        raise SpecError(
            [Issue(Level.ERROR, f"a spec must be a mapping of keys, got a {type(raw).__name__}", Location(name, 1, 1),
                   "start with `name: my-spec` and sections such as `kpis:`")]
        )
    issues: list[Issue] = []
    raw = _merge_includes(p, raw, positions, issues, seen=(p.resolve(),), trust=(confinement, p))
    if issues:
        raise SpecError(issues)
    try:
        return Spec.model_validate(raw), raw
    except ValidationError as exc:
        raise SpecError(pydantic_issues(exc, raw, positions, Spec)) from None


def load_specs(paths: list[Path] | list[str | Path], *, strict: bool = False, keep_going: bool = False,
               confinement: Confinement = DEFAULT_CONFINEMENT) -> tuple[list[LoadedSpec], list[Issue], list[Path]]:
    """Load every spec under ``paths``: (loaded, issues, files that failed).

    Raises :class:`SpecError` with every problem unless ``keep_going``.
    """
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise SpecError([Issue(Level.ERROR, "no such file or directory", Location(str(p)), "check the path")
                         for p in missing])
    files = find_spec_files(list(paths))
    if not files:
        raise SpecError([Issue(Level.ERROR, "no spec files (*.yaml, *.yml) found",
                               Location(", ".join(str(p) for p in paths)), "pass a spec file or a folder of them")])
    loaded: list[LoadedSpec] = []
    issues: list[Issue] = []
    broken: list[Path] = []
    for f in files:
        try:
            spec = load_spec(f, confinement)
        except SpecError as exc:
            issues.extend(exc.issues())
            broken.append(f)
            continue
        loaded.append(spec)
        issues.extend(spec_warnings(spec))
    errors = [i for i in issues if i.level is Level.ERROR or (strict and i.level is Level.WARNING)]
    if errors and not keep_going:
        raise SpecError(issues)
    return loaded, issues, broken


def spec_warnings(loaded: LoadedSpec) -> list[Issue]:
    return list(getattr(loaded, "_warnings", []))


MAX_INCLUDE_DEPTH = 32
"""Most files one chain of ``include:`` may hold below the spec (a includes b includes c …)."""
MAX_INCLUDED_FILES = 500
"""Most distinct files one spec may include, directly or not."""


def _merge_includes(
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
        outside = trust[0].outside(target, trust[1])
        if outside is not None:
            from metricspec.trust import ROOT_HINT

            issues.append(Issue(Level.ERROR, f"included file '{inc}' is outside the project root {outside}", where,
                                ROOT_HINT))
            continue
        try:
            sub, sub_pos = read_yaml(target)
        except SpecError as exc:
            first = exc.issues()[0]
            if first.message == "file not found":
                issues.append(Issue(Level.ERROR, f"included file '{inc}' not found", where,
                                    f"the path is relative to {_display(path.parent) or '.'}"))
            else:
                issues.extend(exc.issues())
            continue
        positions.files.add(target)
        if sub is None:
            continue
        if not isinstance(sub, dict):
            issues.append(Issue(Level.ERROR, f"included file '{inc}' must be a mapping", where))
            continue
        sub = _merge_includes(target, sub, sub_pos, issues, (*seen, target), trust, done)
        positions.files |= sub_pos.files
        for section, value in sub.items():
            if section in MERGEABLE and isinstance(value, dict):
                into = merged.setdefault(section, {})
                if not isinstance(into, dict):
                    continue
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
    return merged


# ---------------------------------------------------------------- pydantic errors


def _data_path(loc: tuple[Any, ...], raw: Any, missing: bool = False) -> PathKey:
    """Drop union-branch tags from a pydantic loc, keeping only real data keys."""
    out: list[str | int] = []
    cur = raw
    for i, part in enumerate(loc):
        if missing and i == len(loc) - 1 and isinstance(cur, dict) and isinstance(part, str):
            out.append(part)
            break
        if isinstance(cur, dict) and isinstance(part, str) and part in cur:  # noqa: SIM114 (two branches narrow types)
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str) and not out and part not in cur:
            out.append(part)  # a missing top-level key
            cur = None
        else:
            continue
    return tuple(out)


def _model_fields_at(model: type[BaseModel], path: PathKey, raw: Any = None) -> list[str] | None:
    """Field names of the model found at ``path`` inside ``model`` (for did-you-mean); where the
    model is a union told apart by its data (a KPI's kind), the member the data at ``path`` is."""
    current: Any = model
    for part in path:
        current = _step(current, part)
        if current is None:
            return None
    models = [m for m in _members(current) if isinstance(m, type) and issubclass(m, BaseModel)]
    if len(models) > 1:
        from metricspec.kinds import KPIBase, model_for

        chosen = model_for(_value_at(raw, path)) if all(issubclass(m, KPIBase) for m in models) else None
        models = [chosen] if chosen is not None else models
    if not models:
        return None
    names: list[str] = []
    for m in models:
        names.extend(m.model_fields)
    return names


def _members(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        out = []
        for a in typing.get_args(tp):
            out.extend(_members(a))
        return out
    if origin is typing.Annotated:
        return _members(typing.get_args(tp)[0])
    return [tp]


def _step(tp: Any, part: str | int) -> Any:
    for member in _members(tp):
        if isinstance(member, type) and issubclass(member, BaseModel):
            if isinstance(part, str) and part in member.model_fields:
                return member.model_fields[part].annotation
            continue
        origin = typing.get_origin(member)
        args = typing.get_args(member)
        if origin is dict and isinstance(part, str) and args:
            return args[1]
        if origin is list and isinstance(part, int) and args:
            return args[0]
    return None


def pydantic_issues(
    exc: ValidationError, raw: Any, positions: Positions, model: type[BaseModel] = Spec, prefix: PathKey = ()
) -> list[Issue]:
    """Turn pydantic errors into issues with file:line:col, one per place."""
    grouped: dict[tuple[PathKey, str], list[dict[str, Any]]] = {}
    for err in exc.errors(include_url=False):
        path = _data_path(tuple(err["loc"]), raw, missing=err["type"] == "missing")
        grouped.setdefault((path, err["type"]), []).append(dict(err))
    by_path: dict[PathKey, list[tuple[str, list[dict[str, Any]]]]] = {}
    for (path, etype), errs in grouped.items():
        by_path.setdefault(path, []).append((etype, errs))
    issues: list[Issue] = []
    for path, entries in by_path.items():
        full = prefix + path
        types_here = {t for t, _ in entries}
        if "kpi_unknown_key" in types_here:  # a KPI of no known kind, with a key no kind takes
            detail = next(d for t, errs in entries if t == "kpi_unknown_key" for d in errs)
            ctx = detail.get("ctx") or {}
            unknown, close = str(ctx.get("key", "")), str(ctx.get("guess", ""))
            issues.append(Issue(Level.ERROR, f"unknown key '{unknown}'", positions.where((*full, unknown), key=True),
                                f"did you mean '{close}'?" if close else "a KPI needs one of: agg (with source), "
                                "ratio, formula, share, growth, …; see docs/spec-reference.md#kpis"))
            continue
        if "extra_forbidden" in types_here:
            key = str(path[-1]) if path else ""
            fields = _model_fields_at(model, path[:-1], raw) or []
            guess = suggest(key, fields)
            unknown_hint = f"did you mean '{guess}'?" if guess else (
                f"allowed keys: {', '.join(fields)}" if fields else "remove it")
            issues.append(Issue(Level.ERROR, f"unknown key '{key}'", positions.where(full, key=True), unknown_hint))
            continue
        if "missing" in types_here and len(entries) == 1:
            key = str(path[-1]) if path else ""
            parent = full[:-1]
            owner = "/".join(str(p) for p in parent) or "the spec"
            issues.append(Issue(Level.ERROR, f"missing required key '{key}' in {owner}",
                                positions.where(parent, key=True), f"add `{key}: ...`"))
            continue
        messages = []
        for etype, details in entries:
            for detail in details:
                msg = str(detail["msg"])
                if msg.startswith("Value error, "):
                    msg = msg[len("Value error, "):]
                elif etype == "missing":
                    continue
                if msg not in messages:
                    messages.append(msg)
        value = _value_at(raw, path)
        hint: str | None = _type_hint(entries)
        if hint is None and len(messages) == 1 and "; " in messages[0]:
            messages[0], hint = messages[0].split("; ", 1)
        text = " or ".join(messages) if messages else "invalid value"
        where_txt = "/".join(str(p) for p in path) or "spec"
        shown = "" if isinstance(value, dict | list) or value is _MISSING else f" (got {value!r})"
        issues.append(Issue(Level.ERROR, f"{where_txt}: {text}{shown}", positions.where(full),
                            hint or "see docs/spec-reference.md for the allowed values"))
    return issues


_MISSING = object()


def _value_at(raw: Any, path: PathKey) -> Any:
    cur = raw
    for part in path:
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return cur


def _type_hint(entries: list[tuple[str, list[dict[str, Any]]]]) -> str | None:
    kinds = {t for t, _ in entries}
    if "percent_parsing" in kinds:  # a goal's number (metricspec/spec/percent.py)
        return "write a number such as 0.08, or a percent such as 8% (= 0.08)"
    if kinds & {"float_parsing", "float_type", "int_parsing", "int_type"}:
        return "write a plain number such as 1200 or 0.05 (no units or % signs)"
    if kinds & {"date_from_datetime_parsing", "date_parsing", "date_type"}:
        return "write dates as YYYY-MM-DD"
    if "literal_error" in kinds or "enum" in kinds:
        return "use one of the listed values"
    if kinds & {"dict_type", "model_type"}:
        return "this must be a mapping of `key: value` lines"
    if "list_type" in kinds:
        return "this must be a list (`- item` lines or [a, b])"
    return None


def find_spec_files(paths: list[str | Path]) -> list[Path]:
    """Expand directories into the spec files they hold (sorted), skipping included-only files.

    Files whose first key is not ``name`` but that only hold shared sections (used via
    ``include:``) are skipped when they live under a directory named ``shared`` or
    start with an underscore. Hidden files and folders inside a directory (``.github/``
    workflows, ``.pre-commit-config.yaml``, ``.metricspec/``) are not specs either.
    """
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in f.relative_to(path).parts)
                if f.suffix in SPEC_SUFFIXES and f.is_file() and not hidden and not _is_partial(f):
                    out.append(f)
        else:
            out.append(path)
    return out


def _is_partial(path: Path) -> bool:
    return path.name.startswith("_") or "shared" in path.parts or ".metricspec" in path.parts
