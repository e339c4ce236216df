"""A query's row filters in SQL, before its rows are grouped: a query's ``--where`` (``QueryKey.where``)
and an entity condition (``QueryKey.entities``, kinds/entity_filter.py): the qualifying (period, entity)
pairs as a subquery of per-entity aggregates, and the query's rows kept by a semi-join with them, all in
the source's database (DuckDB writes it ``SEMI JOIN``, PostgreSQL ``WHERE EXISTS``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from metricspec.engine.backends.ibis_expr import UntranslatableError, to_ibis
from metricspec.errors import DataError
from metricspec.plan.nodes import (
    NO_TIME,
    EntityFilter,
    QueryKey,
    RunRange,
    scope_as_value,
    scope_text,
)

if TYPE_CHECKING:
    from metricspec.engine.backends.relation import Relation

QueryExpr = Callable[..., Any]
"""``sql.query_expr``: (relation, query, run range, relations) -> ibis expression."""


def entity_pairs(ef: EntityFilter, rng: RunRange, relations: Mapping[str, Relation], query_expr: QueryExpr,
                 timed: bool) -> Any:
    """``__p, __e``: the periods and entities whose condition KPIs (full-joined: an entity missing from
    one has no value there) satisfy the condition."""
    import ibis  # optional and heavy: ibis, for database sources

    joined: Any = None
    for i, inp in enumerate(ef.inputs):
        q = inp.query()
        expr = query_expr(relations[q.key.source], q, rng, relations)
        part = expr.select(**{f"__p{i}": expr["period"], f"__e{i}": expr[ef.column].cast("string"),
                              f"__k{i}": expr[inp.aggregate.output]})
        if joined is None:
            joined = part.rename(__p="__p0", __e="__e0")
            continue
        preds = [joined["__e"] == part[f"__e{i}"]] + ([joined["__p"] == part[f"__p{i}"]] if timed else [])
        both = joined.outer_join(part, preds)
        joined = both.select(
            __p=ibis.coalesce(both["__p"], both[f"__p{i}"]), __e=ibis.coalesce(both["__e"], both[f"__e{i}"]),
            **{f"__k{j}": both[f"__k{j}"] for j in range(i + 1)})
    values = {inp.name: f"__k{i}" for i, inp in enumerate(ef.inputs)}
    cond = to_ibis(ef.condition, lambda n: joined[values[n]])
    return joined.filter(cond, joined["__e"].notnull()).select("__p", "__e")


def semi_join(t: Any, key: QueryKey, period: Any, rng: RunRange, relations: Mapping[str, Relation],
              query_expr: QueryExpr) -> Any:
    """The rows of ``t`` whose (period, entity) satisfies the query's entity condition."""
    ef = key.entities
    assert ef is not None
    timed = key.time_column != NO_TIME
    pairs = entity_pairs(ef, rng, relations, query_expr, timed)
    marked = t.mutate(__qp=period, __qe=t[ef.column].cast("string"))
    preds = [marked["__qe"] == pairs["__e"]] + ([marked["__qp"] == pairs["__p"]] if timed else [])
    return marked.semi_join(pairs, preds).drop("__qp", "__qe")


def filtered(rel: Relation, t: Any, key: QueryKey, period: Callable[[Any], Any], rng: RunRange,
             relations: Mapping[str, Relation] | None, query_expr: QueryExpr) -> Any:
    """The rows of ``t`` that pass the query's ``where`` and entity condition (``period``: the period
    of each row of a table)."""
    if key.where is not None:  # rows outside it take no part at all
        try:
            t = t.filter(to_ibis(key.where.node, t.__getitem__))
        except UntranslatableError as exc:
            raise DataError(f"source '{rel.source}': --where: {exc.message}", where=rel.where, hint=exc.hint) from None
    if key.entities is not None:
        t = semi_join(t, key, period(t), rng, relations or {rel.source: rel}, query_expr)
    return t


def scope_predicate(col: Any, value: object) -> Any:
    """A scope column equals its value: as a value when the column has the value's type (numbers,
    booleans), else as text, as the polars backend compares (plan.scope_as_value); validation refuses
    values that cannot match (validation/scopes.py)."""
    import ibis  # ibis: the SQL backend's optional dependency, loaded when a source lives in a database

    dtype = col.type()
    if scope_as_value(value, dtype.is_numeric(), dtype.is_boolean()):
        return col == ibis.literal(value)
    return col.cast("string") == scope_text(value)
