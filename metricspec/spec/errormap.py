"""pydantic's errors as problems a user can act on: each at the ``file:line:col`` of its value or key,
with a did-you-mean for an unknown key (the keys of the KPI kind the mapping is) and a hint per type.

The loader maps the spec's errors with it, and the sources a connector's ``options:``.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from metricspec.errors import Issue, Level
from metricspec.kinds import KPIBase, all_kinds, model_for
from metricspec.spec.loaded import PathKey, Positions
from metricspec.spec.models import Spec
from metricspec.utils import suggest


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
    model is a KPI, the kind the data at ``path`` is (every kind's fields when it has no kind key)."""
    current: Any = model
    for i, part in enumerate(path):
        current = _step(_as_kind(current, raw, path[:i]), part)
        if current is None:
            return None
    models = [m for m in _members(_as_kind(current, raw, path)) if isinstance(m, type) and issubclass(m, BaseModel)]
    if not models:
        return None
    names: list[str] = []
    for m in models:
        names.extend(m.model_fields)
    return names


def _as_kind(tp: Any, raw: Any, path: PathKey) -> Any:
    """``tp``; for a KPI, the model of the kind its data at ``path`` is (every kind when it has no kind key)."""
    models = [m for m in _members(tp) if isinstance(m, type) and issubclass(m, BaseModel)]
    if not models or not all(issubclass(m, KPIBase) for m in models):
        return tp
    chosen = model_for(_value_at(raw, path))
    return chosen if chosen is not None else typing.Union[all_kinds()]  # noqa: UP007


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
