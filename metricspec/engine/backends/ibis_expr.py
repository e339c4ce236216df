"""Compile the spec's expression trees to ibis expressions (beside :func:`~metricspec.plan.expressions.to_polars`).

The translation keeps polars' semantics wherever SQL differs: a zero denominator gives null (never an
error or infinity), ``weekday`` is 1 (Monday) to 7, ``min``/``max`` skip nulls, text functions take a
literal pattern. An expression a backend cannot run raises :class:`UntranslatableError`, which the SQL
backend reports with the KPI's place in the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from metricspec.spec import expr as ex


class UntranslatableError(ValueError):
    """Something a spec asks that has no SQL translation on a backend (the message says what)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint or "compute it in the database (a view or the source's `query:`), or read the source with " \
                            "`engine: polars`"


def to_ibis(node: ex.Node, name: Callable[[str], Any]) -> Any:
    """Translate an expression tree; ``name`` resolves identifiers (a table's columns)."""
    import ibis  # optional and heavy: ibis, for database sources

    if isinstance(node, ex.Name):
        return name(node.name)
    if isinstance(node, ex.Literal):
        return ibis.null() if node.value is None else ibis.literal(node.value)
    if isinstance(node, ex.ListLit):
        raise UntranslatableError("a list is only allowed on the right of 'in'")
    if isinstance(node, ex.Unary):
        inner = to_ibis(node.operand, name)
        return ~inner if node.op == "not" else -inner
    if isinstance(node, ex.Binary):
        return _binary(node, name)
    if isinstance(node, ex.Call):
        return _call(node, name)
    raise UntranslatableError(f"cannot compile {node!r}")


def _binary(node: ex.Binary, name: Callable[[str], Any]) -> Any:
    import ibis  # optional and heavy: ibis, for database sources

    left = to_ibis(node.left, name)
    if node.op in ("in", "not_in"):
        assert isinstance(node.right, ex.ListLit)
        values = [v for v in node.right.values if v is not None]
        expr = left.isin(values) if values else ibis.literal(False)
        return ~expr if node.op == "not_in" else expr
    right = to_ibis(node.right, name)
    op = node.op
    if op == "/":
        # a zero denominator gives null, never an error or infinity. Both sides are cast explicitly:
        # division is always true division (as in polars), and sqlglot's own cast for PostgreSQL is
        # lost when ibis shares the expression between two places of a statement
        num, den = left.cast("float64"), right.cast("float64")
        return ibis.cases(((den == 0), ibis.null("float64")), else_=num / den)
    if op in _COMPARISONS and (_is_null(node.left) or _is_null(node.right)):
        return ibis.null("boolean")  # as in polars, comparing with null is null (SQL engines may fold it)
    if op == "and":
        return left & right
    if op == "or":
        return left | right
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
        "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    }
    return ops[op](left, right)


_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})


def _is_null(node: ex.Node) -> bool:
    return isinstance(node, ex.Literal) and node.value is None


def _pattern(node: ex.Call) -> str:
    pattern = node.args[1]
    if not isinstance(pattern, ex.Literal) or not isinstance(pattern.value, str):
        raise UntranslatableError(f"{node.func}() needs a quoted string as its second argument")
    return pattern.value


def _call(node: ex.Call, name: Callable[[str], Any]) -> Any:
    import ibis  # optional and heavy: ibis, for database sources

    args = [to_ibis(a, name) for a in node.args]
    f = node.func
    simple: dict[str, Callable[[Any], Any]] = {
        "lower": lambda a: a.lower(), "upper": lambda a: a.upper(), "length": lambda a: a.length(),
        "is_null": lambda a: a.isnull(), "is_not_null": lambda a: a.notnull(), "abs": lambda a: a.abs(),
        "year": lambda a: a.year(), "month": lambda a: a.month(), "hour": lambda a: a.hour(),
        "weekday": lambda a: a.day_of_week.index() + 1,
    }
    if f in simple:
        return simple[f](args[0])
    if f == "contains":
        return args[0].contains(_pattern(node))
    if f == "starts_with":
        return args[0].startswith(_pattern(node))
    if f == "ends_with":
        return args[0].endswith(_pattern(node))
    if f == "coalesce":
        return ibis.coalesce(*args)
    if f == "round":
        digits = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ex.Literal) else 0
        return args[0].round(int(digits or 0))
    if f == "date":
        return ibis.date(args[0], args[1], args[2])
    if f in ("days_between", "months_between"):
        a, b = (x.date() if x.type().is_timestamp() else x.cast("date") for x in args)
        if f == "days_between":
            return b.epoch_days() - a.epoch_days()
        n = (b.year() - a.year()) * 12 + (b.month() - a.month())
        day = ibis.least(a.day(), _days_in_month(b.year(), b.month()))  # a's day, moved to b's month
        return ibis.cases(((n > 0) & (b.day() < day), n - 1), ((n < 0) & (b.day() > day), n + 1), else_=n)
    if f == "min":
        return ibis.least(*args)
    if f == "max":
        return ibis.greatest(*args)
    raise UntranslatableError(f"function {f}() has no SQL translation")


def _days_in_month(year: Any, month: Any) -> Any:
    """Days in a month, by arithmetic (portable: no interval types)."""
    import ibis  # optional and heavy: ibis, for database sources

    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return ibis.cases((month == 2, ibis.cases((leap, 29), else_=28)), (month.isin([4, 6, 9, 11]), 30), else_=31)
