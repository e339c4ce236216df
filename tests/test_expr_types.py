"""Type checks of expressions (metricspec/spec/exprtypes.py) against what polars would do."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metricspec.plan.expressions import to_polars
from metricspec.spec.expr import ExprError, parse
from metricspec.spec.exprtypes import check

FRAME = pl.DataFrame({"n": [1, 2], "x": [0.5, 1.5], "s": ["a", "b"], "b": [True, False],
                      "t": [dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1)], "d": [dt.date(2026, 1, 1)] * 2})
TYPES = {"n": "number", "x": "number", "s": "string", "b": "bool", "t": "temporal", "d": "temporal"}


def problems(text: str, kind: str = "filter") -> list[str]:
    return [p.message for p in check(parse(text), kind, lambda name: TYPES.get(name, "unknown"))]  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "kind", "fragment"), [
    ("t - d", "value", "cannot be applied to a date"),
    ("t + 1", "value", "cannot be applied to a date"),
    ("s + 1", "value", "cannot be applied to text"),
    ("-s", "value", "cannot be applied to text"),
    ("b * 2", "value", "true/false"),
    ("n / 0", "value", "division by zero"),
    ("n / (3 - 3)", "value", "division by zero"),
    ("s == 1", "filter", "compares text with a number"),
    ("t > 5", "filter", "compares a date or timestamp with a number"),
    ("t >= '2026-01-15'", "filter", "compares a date or timestamp with text"),
    ("n and b", "filter", "needs conditions on both sides"),
    ("not n", "filter", "'not' needs a condition"),
    ("year(s) == 2026", "filter", "year() needs a date"),
    ("contains(s, s)", "filter", "quoted string"),
    ("lower(n) == 'a'", "filter", "needs text"),
    ("round(x, 2.5)", "value", "whole number of digits"),
    ("n + 1", "filter", "must be a condition"),
    ("1 / 0", "formula", "at least one KPI"),
    ("a > b", "formula", "must compute a number"),
])
def test_refused(text: str, kind: str, fragment: str) -> None:
    found = problems(text, kind)
    assert any(fragment in m for m in found), found


@pytest.mark.parametrize("text", [
    "n + x > 1 and s == 'a'", "not b", "t >= date(2026, 1, 15)", "year(t) == 2026 or month(d) > 1",
    "contains(lower(s), 'a')", "coalesce(n, 0) / n > 0.5", "s in ('a', 'b')", "is_null(t)", "abs(-n) >= 1",
    "round(x, 2) == 0.5", "length(s) > 0", "unknown_column + 1 > 2",
])
def test_accepted_and_polars_agrees(text: str) -> None:
    assert problems(text) == []
    if "unknown_column" not in text:
        FRAME.select(to_polars(parse(text)).alias("v"))  # polars evaluates what validation accepts


@given(st.sampled_from(["n", "x", "s", "b", "t", "d"]), st.sampled_from(["n", "x", "s", "b", "t", "d", "1", "'a'"]),
       st.sampled_from(["+", "-", "*", "/", "==", "<", "and", "or"]))
def test_what_validation_accepts_polars_evaluates(left: str, right: str, op: str) -> None:
    """Soundness: a filter or value that passes the type check never makes polars raise."""
    text = f"{left} {op} {right}"
    try:
        tree = parse(text)
    except ExprError:
        return
    kind = "filter" if op in ("==", "<", "and", "or") else "value"
    if check(tree, kind, lambda name: TYPES.get(name, "unknown")):  # type: ignore[arg-type]
        return
    out = FRAME.select(to_polars(tree).alias("v"))
    if kind == "filter":
        assert out["v"].dtype == pl.Boolean, text


@pytest.mark.parametrize(("text", "expected"), [
    ("round(userid / 2500000)", "float"), ("userid / 2", "float"), ("userid * 2 + 1", "int"),
    ("userid + score", "float"), ("-userid", "int"), ("abs(score)", "float"), ("round(userid)", "float"),
    ("year(at) * 100 + month(at)", "int"), ("days_between(at, at)", "int"), ("lower(name)", "str"),
    ("userid > 3", "bool"), ("contains(name, 'x')", "bool"), ("date(2026, 1, 1)", "date"),
    ("coalesce(userid, 0)", "int"), ("coalesce(userid, 0.5)", "float"), ("max(userid, score)", "float"),
    ("coalesce(at, at)", "datetime"), ("coalesce(name, 1)", None), ("unknown_column + 1", "float"),
])
def test_a_derived_column_has_one_type(text: str, expected: str | None) -> None:
    """The type every backend casts a `derive:` column to (round() was a float on polars and an integer
    on DuckDB); it is what polars computes, except round() of an integer, which stays an integer there."""
    from metricspec.spec.exprtypes import column_type

    types = {"userid": "int", "score": "float", "at": "datetime", "name": "str"}
    assert column_type(parse(text), types.get) == expected
    if expected in ("int", "float", "bool", "str") and "unknown" not in text and text != "round(userid)":
        frame = pl.DataFrame({"userid": [5000000], "score": [2.5], "at": [dt.datetime(2026, 1, 1)], "name": ["x"]})
        dtype = frame.select(to_polars(parse(text)).alias("v")).schema["v"]
        kind = "int" if dtype.is_integer() else "float" if dtype.is_float() else \
            "bool" if dtype == pl.Boolean else "str"
        assert kind == expected, (text, dtype)
