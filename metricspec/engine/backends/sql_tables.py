"""The SQL backend's side of opening sources: a connector's database table prepared, read, checked and
joined where it lives (:class:`~metricspec.sources.database.DatabaseTables`, which the sources declare
and the engine passes to :func:`metricspec.sources.open_checked`).

ibis is imported only when a database source is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from metricspec.engine.backends.relation import Relation
from metricspec.sources.dataerrors import data_errors
from metricspec.sources.prepare import PreparedFrame

if TYPE_CHECKING:
    from metricspec.errors import Location
    from metricspec.sources.database import DatabaseSource, SourceOptions

_JOIN_KEY = "__join_key"


class SqlTables:
    """Database tables, the SQL backend's way (:class:`~metricspec.sources.database.DatabaseTables`)."""

    def prepare(self, table: Any, options: SourceOptions) -> Relation:
        from metricspec.engine.backends.sql_prepare import prepare  # start-up: databases only

        backend = table._find_backend()
        return prepare(table, backend.name, f"{backend.name}:{id(backend)}", options)

    def polars_frame(self, table: Any, source: str, where: Location | None) -> pl.LazyFrame:
        from metricspec.engine.backends.sql_frames import table_frame  # start-up: databases only

        return table_frame(table, source, where)

    def check_values(self, source: DatabaseSource, columns: list[str]) -> None:
        from metricspec.engine.backends.sql_exec import run_checks  # start-up: databases only

        run_checks(_relation(source), columns)

    def repeated_key(self, source: DatabaseSource, key: str) -> tuple[object, int, int] | None:
        from metricspec.engine.backends.sql_exec import (  # start-up: databases only
            run_checks,
            to_frame,
        )

        right = _relation(source)
        run_checks(right, [key])
        t = right.table
        present = t.filter(t[key].notnull())
        groups = present.group_by(key).aggregate(n=present.count())
        groups = groups.filter(groups.n > 1)
        first = to_frame(right, groups.order_by(groups[key]).limit(1))
        if first.height == 0:
            return None
        repeated = to_frame(right, groups.aggregate(c=groups.count()))["c"][0]
        value = first[key][0]
        return value, int(first["n"][0]), int(repeated)

    def join(self, left: DatabaseSource, right: PreparedFrame | DatabaseSource, on: str, key: str,
             columns: dict[str, str]) -> Relation:
        """The LEFT JOIN in the left source's database; a joined source held elsewhere is fetched (its
        key and the columns brought only) and sent along as a temporary table."""
        from metricspec.engine.backends.sql_frames import relation_frame  # start-up: databases only

        lrel = _relation(left)
        jk = _JOIN_KEY
        rrel = None if isinstance(right, PreparedFrame) else _relation(right)
        rschema = dict(rrel.schema) if rrel is not None else dict(right.frame.collect_schema())
        widen = lrel.schema[on] != rschema[key]  # two integer widths
        if rrel is not None and rrel.connection_key == lrel.connection_key:
            rt = rrel.table
            small = rt.select(**{jk: rt[key].cast("int64") if widen else rt[key]},
                              **{new: rt[old] for old, new in columns.items()})
        else:
            small = _pulled(rrel if rrel is not None else _prepared(right), key, columns, jk)
            if widen:
                small = small.mutate(**{jk: small[jk].cast("int64")})

        def joined(lt: Any) -> Any:
            lkey = lt[on].cast("int64") if widen else lt[on]
            return lt.left_join(small, lkey == small[jk]).select(*lt.columns, *columns.values())

        schema = {**lrel.schema, **{new: rschema[old] for old, new in columns.items()}}
        instants = None if lrel.instants is None else joined(lrel.instants)
        rel = Relation(source=lrel.source, table=joined(lrel.table), dialect=lrel.dialect,
                       connection_key=lrel.connection_key, schema=schema, frame=None,  # type: ignore[arg-type]
                       where=lrel.where, checks=lrel.checks, instants=instants)
        object.__setattr__(rel, "frame", relation_frame(rel))
        return rel


def relations(opened: Mapping[str, DatabaseSource]) -> dict[str, Relation]:
    """The opened database sources as this backend's Relations (it prepared every one)."""
    return {name: _relation(source) for name, source in opened.items()}


def _relation(source: DatabaseSource) -> Relation:
    """The Relation behind a database source (this backend prepared every one)."""
    assert isinstance(source, Relation), type(source)
    return source


def _prepared(source: PreparedFrame | DatabaseSource) -> PreparedFrame:
    assert isinstance(source, PreparedFrame), type(source)
    return source


def _pulled(right: PreparedFrame | Relation, key: str, columns: dict[str, str], jk: str) -> Any:
    """The joined source's key and columns as an ibis in-memory table, in the SQL backend's conventions
    (datetimes as naive wall-clock times in the spec's time zone)."""
    import ibis  # optional and heavy: only a database source needs it

    from metricspec.engine.backends.sql_exec import run_checks, to_frame  # start-up: databases only

    if isinstance(right, Relation):
        run_checks(right, [key, *columns])
        t = right.table
        frame = to_frame(right, t.select(**{jk: t[key]}, **{new: t[old] for old, new in columns.items()}))
    else:
        with data_errors({right.source_name: right}):
            frame = right.frame.select(pl.col(key).alias(jk),
                                       *(pl.col(old).alias(new) for old, new in columns.items())).collect()
        frame = frame.with_columns(pl.col(c).dt.replace_time_zone(None)
                                   for c, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone)
    return ibis.memtable(frame.to_arrow())
