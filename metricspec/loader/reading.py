"""YAML with positions: a spec file parsed to plain data (YAML 1.2 core schema), every key and value
with its file, line and column (:class:`~metricspec.spec.loaded.Positions`), within the limits of
:mod:`metricspec.loader.limits`; a malformed file is a :class:`SpecError` at its line.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from metricspec.errors import Issue, Level, Location, SpecError
from metricspec.loader.limits import Budget, check_expansion, check_nesting, decode
from metricspec.spec.loaded import PathKey, Positions
from metricspec.trust import record_read

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_IMPLICIT = {f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "str", "timestamp")}


def _yaml() -> Any:
    """PyYAML with its C (libyaml) loader when available: ``(module, Loader)``."""
    return yaml, getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


def display_name(path: Path) -> str:
    """``path`` as problems show it: relative to the working folder when inside it."""
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
    name = display_name(path)
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
