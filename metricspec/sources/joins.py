"""Many-to-one joins between sources (``joins:`` on a source), applied when the sources are opened.

A source with ``joins`` is opened as its own rows left-joined with each joined source's columns, so
everything downstream (KPIs, segments, filters, scopes, funnels) reads the joined columns as the
source's own and no backend needs to know about joins. Where the join runs:

* both sides read by polars (files, in-memory frames): a polars left join;
* the left side in a database, the joined source in the same database (one connection): an ibis
  ``LEFT JOIN``, pushed down with every query of the source;
* the left side read by polars, the joined source in a database: the joined source's key and the
  columns brought are fetched (only those) and joined in polars;
* the left side in a database, the joined source elsewhere: refused, with the fix (``engine: polars``
  on the left source, or both tables in one database).

Before joining, the joined source's key must be unique (fan-out would multiply the left rows and
every sum): a repeated key is refused naming the source, the key and an example value. Key types
must match, and a column the joined source would bring that the left source already has is refused
with the fix (``prefix:`` or ``columns:``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeAlias

import polars as pl

from metricspec.connectors.files import first_line
from metricspec.errors import DataError, Issue, Level, Location, MetricSpecError, SpecError
from metricspec.sources.dataerrors import data_errors, is_data_error
from metricspec.sources.prepare import PreparedFrame, did_you_mean, type_name

if TYPE_CHECKING:
    from metricspec.sources.database import DatabaseSource, DatabaseTables
    from metricspec.spec.joins import Join
    from metricspec.spec.loaded import LoadedSpec
    from metricspec.spec.models import Spec

    Opened: TypeAlias = PreparedFrame | DatabaseSource


@dataclass(frozen=True)
class JoinInfo:
    """One applied join, as ``run --explain`` shows it."""

    source: str
    joined: str
    on: str
    key: str
    columns: dict[str, str]
    """Column of the joined source -> its name in ``source``."""
    runs_in: str

    def describe(self) -> dict[str, object]:
        return {"source": self.source, "joined": self.joined, "on": self.on, "key": self.key,
                "how": "left, many-to-one", "columns": dict(self.columns), "runs_in": self.runs_in}


def join_graph(spec: Spec) -> dict[str, list[str]]:
    """source -> the sources it joins (declared sources only)."""
    return {name: [j.source for j in src.joins if j.source in spec.sources] for name, src in spec.sources.items()}


def with_joined(spec: Spec, names: list[str]) -> list[str]:
    """``names`` plus every source they join, directly or through other joins (right sides first)."""
    graph = join_graph(spec)
    out: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*chain[chain.index(name):], name])
            raise SpecError([Issue(Level.ERROR, f"sources join each other in a cycle: {cycle}", None,
                                   "remove one of the joins")])
        state[name] = 1
        for right in graph.get(name, []):
            visit(right, (*chain, name))
        state[name] = 2
        out.append(name)

    for name in names:
        visit(name, ())
    return out


def apply_joins(loaded: LoadedSpec, opened: dict[str, Opened],
                tables: DatabaseTables | None = None) -> tuple[dict[str, list[JoinInfo]], list[Issue]]:
    """Replace, in ``opened`` (opened by :func:`with_joined`, right sides first), every source that
    has ``joins`` with its joined rows. Returns the joins applied per source, and the problems: a
    source whose join is refused is left out of ``opened`` (its columns would be missing). ``tables``
    (the SQL backend) joins and checks the sources that live in a database."""
    spec = loaded.spec
    applied: dict[str, list[JoinInfo]] = {}
    issues: list[Issue] = []
    for name in list(opened):
        src = spec.sources.get(name)
        if src is None or not src.joins:
            continue
        if any(j.source not in opened for j in src.joins):  # it did not open: its error is reported
            del opened[name]
            continue
        current = opened[name]
        infos = []
        try:
            for i, join in enumerate(src.joins):
                current, info = _join_one(loaded, name, i, join, current, opened[join.source], tables)
                infos.append(info)
        except MetricSpecError as exc:
            issues.extend(exc.issues())
            del opened[name]
            continue
        except Exception as exc:  # a source polars cannot read (its schema, or its keys)
            if not is_data_error(exc):
                raise
            issues.append(Issue(Level.ERROR, f"source '{name}' cannot be joined: {first_line(exc)}",
                                loaded.where("sources", name, "joins"), "check the joined source's file and options"))
            del opened[name]
            continue
        opened[name] = current
        applied[name] = infos
    return applied, issues


def _join_one(loaded: LoadedSpec, name: str, i: int, join: Join, left: Opened,
              right: Opened, tables: DatabaseTables | None) -> tuple[Opened, JoinInfo]:
    spec = loaded.spec
    at = ("sources", name, "joins", i)
    key = join.right_key(spec.sources[join.source].entities)
    lschema, rschema = _schema(left), _schema(right)
    _check_key(loaded, name, i, join, key, lschema, rschema)
    columns = _brought(loaded, name, i, join, key, lschema, rschema)
    _check_fan_out(loaded, join.source, key, right, loaded.where(*at), tables)
    if not isinstance(left, PreparedFrame):
        assert tables is not None  # a database source was opened by them
        same = not isinstance(right, PreparedFrame) and right.connection_key == left.connection_key
        joined_rel = tables.join(left, right, join.on, key, columns)
        runs_in = (f"{left.dialect} (LEFT JOIN)" if same else
                   f"{left.dialect} (LEFT JOIN; the key and columns of {join.source} sent to it as a temporary table)")
        return joined_rel, JoinInfo(name, join.source, join.on, key, columns, runs_in)
    rframe = right.frame
    runs_in = ("polars" if isinstance(right, PreparedFrame)
               else f"polars (the key and columns of {join.source} fetched from {right.dialect})")
    return (replace(left, frame=_join_polars(left.frame, rframe, join.on, key, columns, lschema, rschema)),
            JoinInfo(name, join.source, join.on, key, columns, runs_in))


def _schema(opened: Opened) -> dict[str, pl.DataType]:
    if isinstance(opened, PreparedFrame):
        return dict(opened.frame.collect_schema())
    return dict(opened.schema)


def _check_key(loaded: LoadedSpec, name: str, i: int, join: Join, key: str, lschema: Mapping[str, pl.DataType],
               rschema: Mapping[str, pl.DataType]) -> None:
    at = ("sources", name, "joins", i)
    if join.on not in lschema:
        raise DataError(f"source '{name}' has no column '{join.on}' to join '{join.source}' on"
                        f"{did_you_mean(join.on, list(lschema))}", where=loaded.where(*at, "on"),
                        hint="`on:` names the column of this source holding the key")
    if key not in rschema:
        raise DataError(f"source '{join.source}' (joined by '{name}') has no key column '{key}'"
                        f"{did_you_mean(key, list(rschema))}", where=loaded.where(*at, "key") or loaded.where(*at),
                        hint=f"name the key column of '{join.source}' with `key:` on the join, or declare it under "
                        f"`entities:` of source '{join.source}'")
    lt, rt = lschema[join.on], rschema[key]
    if not _same_kind(lt, rt):
        typ = "int" if lt.is_integer() or rt.is_integer() else "str"
        raise DataError(
            f"source '{name}' joins '{join.source}' on {join.on} = {key}, but they have different types "
            f"({type_name(lt)} and {type_name(rt)})", where=loaded.where(*at, "on"),
            hint=f"declare the same type for both under the sources' `columns:`, e.g. columns: {{{join.on}: {typ}}} "
            f"on '{name}' and columns: {{{key}: {typ}}} on '{join.source}'")


def _same_kind(a: pl.DataType, b: pl.DataType) -> bool:
    if a == b:
        return True
    return bool(a.is_integer() and b.is_integer())


def _brought(loaded: LoadedSpec, name: str, i: int, join: Join, key: str, lschema: Mapping[str, pl.DataType],
             rschema: Mapping[str, pl.DataType]) -> dict[str, str]:
    """Columns of the joined source -> their names in the left source; clashes refused."""
    at = ("sources", name, "joins", i)
    if join.columns is None:
        picked = [c for c in rschema if c != key]
    else:
        picked = list(join.columns)
        for j, col in enumerate(picked):
            if col not in rschema:
                raise DataError(f"source '{join.source}' (joined by '{name}') has no column '{col}'"
                                f"{did_you_mean(col, list(rschema))}", where=loaded.where(*at, "columns", j),
                                hint=f"list columns of '{join.source}' under the join's `columns:`")
    out = {col: f"{join.prefix or ''}{col}" for col in picked}
    clashes = sorted(new for new in out.values() if new in lschema)
    if clashes:
        first = clashes[0]
        prefix = join.source.replace("-", "_") + "_"
        others = f" (and {len(clashes) - 1} more: {', '.join(clashes[1:4])})" if len(clashes) > 1 else ""
        raise DataError(
            f"source '{name}' and the source it joins, '{join.source}', both have a column '{first}'{others}",
            where=loaded.where(*at),
            hint=f"add `prefix: {prefix}` to the join (the joined column becomes {prefix}{first}), or "
            f"list the columns to bring with `columns: [...]` leaving '{first}' out")
    return out


def _check_fan_out(loaded: LoadedSpec, source: str, key: str, right: Opened, where: Location | None,
                   tables: DatabaseTables | None) -> None:
    """Refuse a joined source whose key repeats (the join would multiply rows)."""
    if isinstance(right, PreparedFrame):
        found = _polars_duplicates(right, key)
    else:
        assert tables is not None  # a database source was opened by them
        found = tables.repeated_key(right, key)
    if found is None:
        return
    example, times, repeated = found
    shown = repr(example) if isinstance(example, str) else str(example)
    more = f"; {repeated} key values repeat" if repeated > 1 else ""
    raise DataError(
        f"source '{source}' has more than one row per '{key}' (e.g. {shown} appears {times} times{more}): "
        "a join to it would count rows several times", where=where,
        hint=f"a joined source needs one row per key: deduplicate '{source}' (e.g. a view with one row per "
        f"{key}), or join on a column that is unique")


def _polars_duplicates(right: PreparedFrame, key: str) -> tuple[object, int, int] | None:
    with data_errors({right.source_name: right}):
        dup = (right.frame.select(pl.col(key)).filter(pl.col(key).is_not_null())
               .group_by(key).agg(pl.len().alias("n")).filter(pl.col("n") > 1)
               .select(pl.col(key).sort().first().alias("example"),
                       pl.col("n").sort_by(pl.col(key)).first().alias("times"),
                       pl.len().alias("repeated"))
               .collect())
    if dup.height == 0 or dup["repeated"][0] == 0:
        return None
    return dup["example"][0], int(dup["times"][0]), int(dup["repeated"][0])


def _join_polars(left: pl.LazyFrame, right: pl.LazyFrame, on: str, key: str, columns: dict[str, str],
                 lschema: Mapping[str, pl.DataType], rschema: Mapping[str, pl.DataType]) -> pl.LazyFrame:
    jk = "__join_key"
    cast = pl.Int64 if lschema[on] != rschema[key] else None  # two integer widths
    rkey = pl.col(key) if cast is None else pl.col(key).cast(cast)
    lkey = pl.col(on) if cast is None else pl.col(on).cast(cast)
    small = right.select(rkey.alias(jk), *(pl.col(old).alias(new) for old, new in columns.items()))
    return (left.with_columns(lkey.alias(jk)).join(small, on=jk, how="left", nulls_equal=False,
                                                     maintain_order="left")
            .drop(jk))


def joined_columns(applied: Mapping[str, list[JoinInfo]], source: str, column: str) -> tuple[str, str] | None:
    """Where a column of ``source`` comes from through its joins: (joined source, column there)."""
    for info in applied.get(source, []):
        for old, new in info.columns.items():
            if new == column:
                deeper = joined_columns(applied, info.joined, old)
                return deeper or (info.joined, old)
    return None
