"""Compile the spec's expression trees to polars expressions."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from metricspec.spec import expr as ex


def to_polars(node: ex.Node, name: Callable[[str], pl.Expr] = pl.col) -> pl.Expr:
    """Translate an expression tree; ``name`` resolves identifiers (columns by default)."""
    if isinstance(node, ex.Name):
        return name(node.name)
    if isinstance(node, ex.Literal):
        return pl.lit(node.value)
    if isinstance(node, ex.ListLit):
        raise ValueError("a list is only allowed on the right of 'in'")
    if isinstance(node, ex.Unary):
        inner = to_polars(node.operand, name)
        return ~inner if node.op == "not" else -inner
    if isinstance(node, ex.Binary):
        return _binary(node, name)
    if isinstance(node, ex.Call):
        return _call(node, name)
    raise ValueError(f"cannot compile {node!r}")


def _binary(node: ex.Binary, name: Callable[[str], pl.Expr]) -> pl.Expr:
    if node.op in ("in", "not_in"):
        assert isinstance(node.right, ex.ListLit)
        left = to_polars(node.left, name)
        values = list(node.right.values)
        expr = left.is_in(values) if values else pl.lit(False)
        return ~expr if node.op == "not_in" else expr
    left = to_polars(node.left, name)
    right = to_polars(node.right, name)
    op = node.op
    if op == "/":
        # a zero denominator gives null, never inf
        return pl.when(right == 0).then(None).otherwise(left / right)
    ops: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "and": lambda a, b: a & b,
        "or": lambda a, b: a | b,
    }
    return ops[op](left, right)


def _call(node: ex.Call, name: Callable[[str], pl.Expr]) -> pl.Expr:
    args = [to_polars(a, name) for a in node.args]
    f = node.func
    if f == "lower":
        return args[0].str.to_lowercase()
    if f == "upper":
        return args[0].str.to_uppercase()
    if f in ("contains", "starts_with", "ends_with"):
        pattern = node.args[1]
        if not isinstance(pattern, ex.Literal) or not isinstance(pattern.value, str):
            raise ValueError(f"{f}() needs a quoted string as its second argument")
        if f == "contains":
            return args[0].str.contains(pattern.value, literal=True)
        if f == "starts_with":
            return args[0].str.starts_with(pattern.value)
        return args[0].str.ends_with(pattern.value)
    if f == "length":
        return args[0].str.len_chars()
    if f == "is_null":
        return args[0].is_null()
    if f == "is_not_null":
        return args[0].is_not_null()
    if f == "coalesce":
        return pl.coalesce(args)
    if f == "abs":
        return args[0].abs()
    if f == "round":
        digits = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ex.Literal) else 0
        return args[0].round(int(digits or 0))
    if f == "year":
        return args[0].dt.year()
    if f == "month":
        return args[0].dt.month()
    if f == "weekday":
        return args[0].dt.weekday()
    if f == "hour":
        return args[0].dt.hour()
    if f == "date":
        return pl.date(args[0], args[1], args[2])
    if f == "days_between":
        return (args[1].dt.date() - args[0].dt.date()).dt.total_days()
    if f == "months_between":
        return months_between(args[0].dt.date(), args[1].dt.date())
    if f == "min":
        return pl.min_horizontal(args)
    if f == "max":
        return pl.max_horizontal(args)
    raise ValueError(f"cannot compile {node!r}")


def months_between(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """Whole months from date ``a`` to date ``b`` (negative when ``b`` is earlier), as dateutil's
    ``relativedelta``: the month count, less one while ``b`` is before ``a`` moved that many months on
    (a day past the end of the month is the month's last day: 31 January to 28 February is 1)."""
    n = (b.dt.year() - a.dt.year()) * 12 + (b.dt.month() - a.dt.month())
    day = pl.min_horizontal(a.dt.day(), b.dt.month_end().dt.day())  # a's day, moved to b's month
    return (pl.when((n > 0) & (b.dt.day() < day)).then(n - 1)
            .when((n < 0) & (b.dt.day() > day)).then(n + 1).otherwise(n))


def filter_expr(text: str | None) -> pl.Expr | None:
    """A boolean row filter (nulls count as false)."""
    if not text:
        return None
    return to_polars(ex.parse(text)).fill_null(False)
