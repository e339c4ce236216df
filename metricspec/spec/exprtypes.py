"""Type-check an expression tree before anything runs it.

Validation rejects what the engine cannot evaluate, or would evaluate to a wrong number:
arithmetic on text or on dates (``churned_at - signup_date`` would give microseconds),
division by a literal zero, a formula naming no KPI, a filter that is not a condition,
``contains(col, col)``. Types are coarse: ``number``, ``string``, ``bool``, ``temporal``,
``duration``, ``null`` and ``unknown`` (a column whose type is not known yet: the check is
repeated with the data's own types when sources are opened).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal as Lit

from metricspec.spec import expr as ex

Type = Lit["number", "string", "bool", "temporal", "duration", "null", "unknown"]
Kind = Lit["filter", "formula", "value", "number"]

DATE_HINT = ("subtracting dates would give microseconds, not days: write days_between(a, b) (days from a to b) "
             "or months_between(a, b) (whole months)")
_ARITH = ("+", "-", "*", "/")
_COMPARE = ("==", "!=", "<", "<=", ">", ">=")
_TEXT_FUNCS = ("lower", "upper", "contains", "starts_with", "ends_with", "length")
_DATE_PARTS = ("year", "month", "weekday", "hour")
_DATE_DIFFS = ("days_between", "months_between")
_NOT_CONDITIONS = ("number", "string", "temporal", "duration")
_NOUN = {"number": "a number", "string": "text", "bool": "true/false", "temporal": "a date",
         "duration": "a duration", "null": "null", "unknown": "a value"}


@dataclass(frozen=True)
class Problem:
    """Something an expression cannot do; ``offset`` is the 0-based column in its text."""

    message: str
    offset: int
    hint: str | None = None


def _literal_type(value: object) -> Type:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string"


def constant(node: ex.Node) -> float | None:
    """The value of a numeric subtree without names (``1 - 1``), or None."""
    if isinstance(node, ex.Literal):
        v = node.value
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
    if isinstance(node, ex.Unary) and node.op == "neg":
        inner = constant(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ex.Binary) and node.op in _ARITH:
        a, b = constant(node.left), constant(node.right)
        if a is None or b is None or (node.op == "/" and b == 0):
            return None
        try:
            value = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else math.nan}[node.op]
        except OverflowError:
            return math.inf
        return value
    return None


@dataclass
class _Checker:
    column_type: Callable[[str], Type]
    problems: list[Problem]

    def add(self, message: str, offset: int, hint: str | None = None) -> None:
        if not any(p.message == message and p.offset == offset for p in self.problems):
            self.problems.append(Problem(message, offset, hint))

    def infer(self, node: ex.Node) -> Type:
        if isinstance(node, ex.Name):
            return self.column_type(node.name)
        if isinstance(node, ex.Literal):
            return _literal_type(node.value)
        if isinstance(node, ex.ListLit):
            return "unknown"
        if isinstance(node, ex.Unary):
            inner = self.infer(node.operand)
            if node.op == "neg":
                self._arith_operand(inner, node.offset, "-")
                return "number" if inner != "duration" else "duration"
            if inner in _NOT_CONDITIONS:
                self.add(f"'not' needs a condition, not {_NOUN[inner]}", node.offset, "write e.g. not answered")
            return "bool"
        if isinstance(node, ex.Binary):
            return self._binary(node)
        if isinstance(node, ex.Call):
            return self._call(node)
        return "unknown"

    def _arith_operand(self, t: Type, offset: int, op: str) -> None:
        if t == "string":
            self.add(f"'{op}' cannot be applied to text", offset,
                     "arithmetic needs numbers; compare text with == or use contains()")
        elif t == "bool":
            self.add(f"'{op}' cannot be applied to true/false", offset, "arithmetic needs numbers")
        elif t == "temporal":
            self.add(f"'{op}' cannot be applied to a date or timestamp", offset, DATE_HINT)

    def _binary(self, node: ex.Binary) -> Type:
        left, right = self.infer(node.left), self.infer(node.right)
        op = node.op
        if op in _ARITH:
            self._arith_operand(left, node.offset, op)
            self._arith_operand(right, node.offset, op)
            if op == "/":
                divisor = constant(node.right)
                if divisor == 0:
                    self.add("division by zero", node.offset, "divide by a KPI or a column, not by 0")
            folded = constant(node)
            if folded is not None and not math.isfinite(folded):
                self.add("the constant part of this expression is not a finite number", node.offset,
                         "use smaller numbers")
            return "duration" if left == right == "duration" and op in ("+", "-") else "number"
        if op in _COMPARE:
            pair = {left, right}
            if "string" in pair and pair & {"number", "bool"}:
                self.add(f"'{op}' compares text with a number", node.offset,
                         "quote the number ('10') or compare a numeric column")
            elif "temporal" in pair and pair & {"number", "bool", "string"}:
                self.add(f"'{op}' compares a date or timestamp with {_NOUN[next(iter(pair - {'temporal'}))]}",
                         node.offset, "compare with a date: posted_at >= date(2026, 1, 15)")
            return "bool"
        if op in ("and", "or"):
            if left in _NOT_CONDITIONS or right in _NOT_CONDITIONS:
                self.add(f"'{op}' needs conditions on both sides", node.offset, "write e.g. a > 1 and b == 'x'")
            return "bool"
        return "bool"  # in, not_in

    def _call(self, node: ex.Call) -> Type:
        types = [self.infer(a) for a in node.args]
        f = node.func
        if f in _TEXT_FUNCS:
            if types[0] in ("number", "bool", "temporal", "duration"):
                self.add(f"{f}() needs text as its first argument", node.offset, "pass a text column")
            if f in ("contains", "starts_with", "ends_with"):
                pattern = node.args[1]
                if not (isinstance(pattern, ex.Literal) and isinstance(pattern.value, str)):
                    self.add(f"{f}() needs a quoted string as its second argument", node.offset,
                             f"write e.g. {f}(title, 'sale')")
                return "bool"
            return "number" if f == "length" else "string"
        if f in _DATE_PARTS:
            if types[0] in ("number", "string", "bool", "duration"):
                self.add(f"{f}() needs a date or timestamp, not {_NOUN[types[0]]}", node.offset,
                         "pass a date or datetime column (declare it in the source's `columns:`)")
            return "number"
        if f in _DATE_DIFFS:
            for t in types:
                if t in ("number", "string", "bool", "duration"):
                    self.add(f"{f}() needs two dates or timestamps, not {_NOUN[t]}", node.offset,
                             "pass date or datetime columns (declare them in the source's `columns:`), or "
                             "date(2026, 1, 15)")
            return "number"
        if f == "round" and len(node.args) > 1:
            digits = node.args[1]
            if not (isinstance(digits, ex.Literal) and isinstance(digits.value, int)
                    and not isinstance(digits.value, bool) and 0 <= digits.value <= 15):
                self.add("round() takes a whole number of digits from 0 to 15 as its second argument",
                         node.offset, "write e.g. round(x, 2)")
        if f in ("abs", "round", "date", "min", "max"):
            for t in types:
                self._arith_operand(t, node.offset, f"{f}()")
            return "temporal" if f == "date" else "number"
        if f in ("is_null", "is_not_null"):
            return "bool"
        return next((t for t in types if t not in ("null", "unknown")), "unknown")  # coalesce


def check(node: ex.Node, kind: Kind, column_type: Callable[[str], Type] | None = None) -> list[Problem]:
    """Problems of ``node`` used as ``kind``: a row ``filter``, a KPI ``formula`` or a row ``value``.

    ``column_type`` gives a name's type (default: unknown; in formulas every name is a KPI: a number).
    """
    if kind == "formula":
        def column_type(_name: str) -> Type:
            return "number"
    checker = _Checker(column_type or (lambda _name: "unknown"), [])
    result = checker.infer(node)
    if kind == "formula":
        if not ex.names(node):
            checker.add("a formula must use at least one KPI", 0, "write e.g. revenue / orders")
        elif result in ("bool", "string"):
            checker.add("a formula must compute a number", 0, "use arithmetic on KPIs, e.g. revenue / orders")
    elif kind == "filter" and result in ("number", "string", "temporal", "duration"):
        checker.add("a filter must be a condition (true or false)", 0, "write e.g. platform == 'x'")
    elif kind == "number" and result in ("string", "temporal", "duration"):
        checker.add(f"this aggregation needs a number, but the expression gives {_NOUN[result]}", 0,
                    "a date is not a number to add up or average: measure a delay with days_between(a, b)"
                    if result == "temporal" else "aggregate a numeric column or expression")
    return sorted(checker.problems, key=lambda p: (p.offset, p.message))


# ------------------------------------------------------------------------------ column types of row values

_NUMBER_TYPES = ("int", "float")
_INT_FUNCS = ("length", "year", "month", "weekday", "hour", "days_between", "months_between")
_BOOL_FUNCS = ("contains", "starts_with", "ends_with", "is_null", "is_not_null")


def derive_types(derive: Mapping[str, str], column_types: Callable[[str], str | None]) -> dict[str, str | None]:
    """:func:`column_type` of each ``derive:`` expression of a source."""
    return {col: column_type(ex.parse(text), column_types) for col, text in derive.items()}


def column_type(node: ex.Node, column_types: Callable[[str], str | None]) -> str | None:
    """The ``columns:`` type (str, int, float, bool, date, datetime, duration) of a row-level expression,
    given its columns' types; None when it cannot be told (an unknown column, a null literal).

    One answer for every backend: a derived column is cast to it on polars and in SQL alike (DuckDB
    once gave ``round(x / 2)`` as an integer where polars gave a float, so a scope ``1`` matched on
    one and not on the other). Integer arithmetic stays integer, ``/`` and ``round()`` give floats,
    date parts and day counts give integers.
    """
    if isinstance(node, ex.Name):
        return column_types(node.name)
    if isinstance(node, ex.Literal):
        v = node.value
        if v is None:
            return None
        return "bool" if isinstance(v, bool) else "int" if isinstance(v, int) else \
            "float" if isinstance(v, float) else "str"
    if isinstance(node, ex.Unary):
        return "bool" if node.op == "not" else column_type(node.operand, column_types)
    if isinstance(node, ex.Binary):
        if node.op not in _ARITH:
            return "bool"
        if node.op == "/":
            return "float"
        types = {column_type(node.left, column_types), column_type(node.right, column_types)}
        if types == {"duration"}:
            return "duration"
        return "int" if types <= {"int", "bool"} else "float"
    if isinstance(node, ex.Call):
        return _call_type(node, column_types)
    return None


def _call_type(node: ex.Call, column_types: Callable[[str], str | None]) -> str | None:
    f = node.func
    if f in _INT_FUNCS:
        return "int"
    if f in _BOOL_FUNCS:
        return "bool"
    if f in ("lower", "upper"):
        return "str"
    if f == "round":
        return "float"
    if f == "date":
        return "date"
    types = [column_type(a, column_types) for a in node.args]
    known = [t for t in types if t is not None]
    if f == "abs":
        return types[0]
    if known and set(known) <= {"int", "float"}:  # min, max, coalesce of numbers
        return "float" if "float" in known else "int"
    return known[0] if known and len(set(known)) == 1 else None
