"""A small, safe expression language for filters and derived formulas.

Expressions are parsed with Python's ``ast`` module (never evaluated) and turned
into a tiny tree of our own. Only these constructs are accepted:

* names (columns in filters, KPIs in formulas), ``true``/``false``/``null``
* numbers and quoted strings, lists/tuples of them (for ``in``)
* ``+ - * /``, unary ``-``, comparisons ``== != < <= > >=``, ``in``, ``not in``
* ``and``, ``or``, ``not``
* functions: see :data:`FUNCTIONS`

Example: ``platform == 'x' and sentiment in ('negative', 'neutral') and not answered``.

Hostile input is bounded before Python's parser sees it (:data:`MAX_CHARS`), and the tree it
returns is measured before it is converted (:data:`MAX_DEPTH`, :data:`MAX_NODES`), so no
expression can exhaust the stack or run for long; numbers must be finite and at most
:data:`MAX_DIGITS` digits long.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

from metricspec.utils import suggest

FUNCTIONS: dict[str, tuple[int, int]] = {
    # name: (min args, max args)
    "lower": (1, 1),
    "upper": (1, 1),
    "contains": (2, 2),
    "starts_with": (2, 2),
    "ends_with": (2, 2),
    "length": (1, 1),
    "is_null": (1, 1),
    "is_not_null": (1, 1),
    "coalesce": (2, 8),
    "abs": (1, 1),
    "round": (1, 2),
    "year": (1, 1),
    "month": (1, 1),
    "weekday": (1, 1),
    "hour": (1, 1),
    "min": (2, 8),
    "date": (3, 3),
    "max": (2, 8),
    "days_between": (2, 2),
    "months_between": (2, 2),
}
MAX_CHARS = 4_000
"""Longest expression text accepted."""
MAX_DEPTH = 60
"""Deepest nesting of operators, calls and parentheses."""
MAX_NODES = 1_000
"""Most operators, names and literals in one expression."""
MAX_DIGITS = 30
"""Longest number literal (digits)."""
LITERAL_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}


class ExprError(ValueError):
    """An expression could not be parsed; ``offset`` is the 0-based column in the text."""

    def __init__(self, message: str, offset: int = 0, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


@dataclass(frozen=True)
class Node:
    pass


@dataclass(frozen=True)
class Name(Node):
    name: str
    offset: int = 0


@dataclass(frozen=True)
class Literal(Node):
    value: str | int | float | bool | None
    offset: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class ListLit(Node):
    values: tuple[str | int | float | bool | None, ...]
    offset: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / == != < <= > >= and or in not_in
    left: Node
    right: Node
    offset: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Unary(Node):
    op: str  # not, neg
    operand: Node
    offset: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]
    offset: int = field(default=0, compare=False, repr=False)


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
           ast.In: "in", ast.NotIn: "not_in"}


def parse(text: str) -> Node:
    """Parse ``text`` into a tree; raise :class:`ExprError` with the offending offset."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError("empty expression", 0, "write e.g. platform == 'x'")
    if len(text) > MAX_CHARS:
        raise ExprError(f"expression is too long ({len(text):,} characters; at most {MAX_CHARS:,})", 0,
                        "split it into several KPIs or derived columns")
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(stripped, mode="eval")
    except (RecursionError, MemoryError):
        raise ExprError(f"expression is nested too deeply (at most {MAX_DEPTH} levels)", 0,
                        "split it into several KPIs or derived columns") from None
    except ValueError as exc:  # e.g. an integer literal of more than 4,300 digits
        raise ExprError(f"cannot parse expression: {exc}", 0, f"numbers have at most {MAX_DIGITS} digits") from None
    except SyntaxError as exc:
        offset = lead + max((exc.offset or 1) - 1, 0)
        hint = "use == to compare, and quote strings: platform == 'x'"
        if "=" in stripped and "==" not in stripped and "!=" not in stripped and "<=" not in stripped \
                and ">=" not in stripped:
            hint = "use == (two equals signs) to compare"
        if "too many nested parentheses" in str(exc.msg):
            hint = "split it into several KPIs or derived columns"
        raise ExprError(f"cannot parse expression: {exc.msg}", offset, hint) from None
    _check_size(tree.body, lead)
    return _convert(tree.body, lead)


def _check_size(root: ast.AST, lead: int) -> None:
    """Refuse trees too deep or too large to convert and evaluate (iteratively: no recursion)."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        off = lead + getattr(node, "col_offset", 0)
        if depth > MAX_DEPTH:
            raise ExprError(f"expression is nested too deeply (more than {MAX_DEPTH} levels)", off,
                            "split it into several KPIs or derived columns")
        if count > MAX_NODES:
            raise ExprError(f"expression is too large (more than {MAX_NODES:,} terms)", 0,
                            "split it into several KPIs or derived columns")
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            _check_number(node.value, off)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node)
                     if not isinstance(child, ast.expr_context | ast.operator | ast.unaryop | ast.cmpop | ast.boolop))


def _check_number(value: int | float, offset: int) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ExprError("number is too large (not a finite number)", offset, "write a plain number such as 1200 or 0.05")
    if isinstance(value, int) and abs(value) >= 10**MAX_DIGITS:
        raise ExprError(f"number has more than {MAX_DIGITS} digits", offset, "write a smaller number")


def _convert(node: ast.AST, lead: int) -> Node:
    off = lead + getattr(node, "col_offset", 0)
    if isinstance(node, ast.Name):
        if node.id in LITERAL_NAMES:
            return Literal(LITERAL_NAMES[node.id])
        return Name(node.id, off)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str | int | float | bool) or node.value is None:
            return Literal(node.value, off)
        raise ExprError(f"unsupported literal {node.value!r}", off)
    if isinstance(node, ast.List | ast.Tuple):
        return _list(node, lead, off)
    if isinstance(node, ast.BinOp):
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise ExprError(f"operator '{type(node.op).__name__}' is not supported", off,
                            "use + - * / only")
        return Binary(op, _convert(node.left, lead), _convert(node.right, lead), off)
    if isinstance(node, ast.UnaryOp):
        return _unary(node, lead, off)
    if isinstance(node, ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        operands = [_convert(v, lead) for v in node.values]
        combined = operands[0]
        for v in operands[1:]:
            combined = Binary(op, combined, v, off)
        return combined
    if isinstance(node, ast.Compare):
        return _compare(node, lead, off)
    if isinstance(node, ast.Call):
        return _call(node, lead, off)
    raise ExprError(f"'{type(node).__name__}' is not allowed in expressions", off,
                    "use names, literals, arithmetic, comparisons, and/or/not and the listed functions")


def _list(node: ast.List | ast.Tuple, lead: int, off: int) -> Node:
    items = []
    for elt in node.elts:
        conv = _convert(elt, lead)
        if isinstance(conv, Literal):
            items.append(conv.value)
        elif isinstance(conv, Unary) and conv.op == "neg" and isinstance(conv.operand, Literal) \
                and isinstance(conv.operand.value, int | float):
            items.append(-conv.operand.value)
        else:
            raise ExprError("lists may only hold literal values", lead + elt.col_offset)
    return ListLit(tuple(items), off)


def _unary(node: ast.UnaryOp, lead: int, off: int) -> Node:
    if isinstance(node.op, ast.Not):
        return Unary("not", _convert(node.operand, lead), off)
    if isinstance(node.op, ast.USub):
        operand = _convert(node.operand, lead)
        if isinstance(operand, Literal) and isinstance(operand.value, int | float) \
                and not isinstance(operand.value, bool):
            return Literal(-operand.value, off)
        return Unary("neg", operand, off)
    if isinstance(node.op, ast.UAdd):
        return _convert(node.operand, lead)
    raise ExprError("unsupported unary operator", off)


def _compare(node: ast.Compare, lead: int, off: int) -> Node:
    left = _convert(node.left, lead)
    parts: list[Node] = []
    for op_node, comp in zip(node.ops, node.comparators, strict=True):
        op = _CMPOPS.get(type(op_node))
        if op is None:
            raise ExprError(f"comparison '{type(op_node).__name__}' is not supported", off,
                            "use == != < <= > >= in, not in")
        right = _convert(comp, lead)
        if op in ("in", "not_in") and not isinstance(right, ListLit):
            raise ExprError("'in' needs a list of values, e.g. x in ('a', 'b')", lead + comp.col_offset)
        parts.append(Binary(op, left, right, lead + comp.col_offset))
        left = right
    chained = parts[0]
    for p in parts[1:]:
        chained = Binary("and", chained, p, off)
    return chained


def _call(node: ast.Call, lead: int, off: int) -> Node:
    if not isinstance(node.func, ast.Name):
        raise ExprError("only plain function calls are allowed", off)
    fname = node.func.id
    if fname not in FUNCTIONS:
        guess = suggest(fname, list(FUNCTIONS))
        raise ExprError(f"unknown function '{fname}'", off,
                        f"did you mean '{guess}'?" if guess else f"available: {', '.join(sorted(FUNCTIONS))}")
    lo, hi = FUNCTIONS[fname]
    if node.keywords or not lo <= len(node.args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise ExprError(f"{fname}() takes {want} argument(s)", off)
    return Call(fname, tuple(_convert(a, lead) for a in node.args), off)


def names(node: Node) -> list[str]:
    """Referenced names, in order of first appearance."""
    out: list[str] = []

    def walk(n: Node) -> None:
        if isinstance(n, Name):
            if n.name not in out:
                out.append(n.name)
        elif isinstance(n, Binary):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, Unary):
            walk(n.operand)
        elif isinstance(n, Call):
            for a in n.args:
                walk(a)

    walk(node)
    return out


def columns_of(text: str | None) -> list[str]:
    """Names an expression text reads (none when it is empty or does not parse: validation reports that)."""
    if not text:
        return []
    try:
        return names(parse(text))
    except ExprError:
        return []
