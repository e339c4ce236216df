"""Every number metricspec writes goes through one rounding step (metricspec.utils.stable_numbers):
Results JSON, baselines and check reports are byte-identical whatever numpy, scipy or polars
computed the last bits of a statistic (issue 25: a p-value's 17th digit moved with numpy 2.4)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from metricspec.engine.results import Results
from metricspec.utils import SIGNIFICANT_DIGITS, stable_float, stable_numbers

GOLDEN = Path(__file__).parent / "golden"


def floats_in(data: object) -> list[float]:
    if isinstance(data, float):
        return [data]
    if isinstance(data, dict):
        return [x for v in data.values() for x in floats_in(v)]
    if isinstance(data, list):
        return [x for v in data for x in floats_in(v)]
    return []


def significant_digits(x: float) -> int:
    """Digits of the shortest decimal that reads back as ``x`` (Python's repr), an independent count."""
    digits = Decimal(repr(x)).normalize().as_tuple().digits
    return len(digits)


def test_stable_float_examples() -> None:
    assert stable_float(0.019610998303937678) == stable_float(0.019610998303937675) == 0.0196109983039
    assert stable_float(-0.0) == 0.0 and math.copysign(1, stable_float(-0.0) or 0.0) == 1
    assert stable_float(float("nan")) is None and stable_float(float("inf")) is None
    assert stable_float(123456789012345.0) == 123456789012345.0  # a whole number keeps every digit
    assert stable_float(2113.1000000000004) == 2113.1
    assert stable_numbers({"a": [1.0000000000001, 2, True, None, "x"], "b": (0.1 + 0.2,)}) == \
        {"a": [1.0, 2, True, None, "x"], "b": [0.3]}


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_stable_float_rounds_to_12_significant_digits(x: float) -> None:
    y = stable_float(x)
    assert y is not None
    if x == round(x) and abs(x) < 2**53:
        assert y == x
        return
    assert significant_digits(y) <= SIGNIFICANT_DIGITS
    assert stable_float(y) == y  # idempotent: a written number reads back and writes the same
    assert abs(y - x) <= abs(x) * 5.01e-12  # half a unit in the 12th digit


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).filter(lambda v: v != round(v)))
def test_stable_float_agrees_with_the_engines_rounding(x: float) -> None:
    """KPI values are rounded by polars in the engine; writing them rounds them the same way, give or take
    a tie or an ulp, and what is written is stable."""
    engine = pl.Series([x]).round_sig_figs(SIGNIFICANT_DIGITS)[0]
    written = stable_float(engine)
    assert written is not None and stable_float(written) == written
    # both round to 12 significant digits; they may differ on an exact tie (polars rounds half away from
    # zero, Python half to even: 100000000000.5) and by an ulp where polars scales (1.52290194656e-153)
    assert abs(written - x) <= abs(x) * 1.01e-11 and abs(engine - written) <= abs(x) * 1.01e-11


def test_golden_results_hold_only_stable_numbers() -> None:
    for path in sorted(GOLDEN.glob("*.json")):
        for x in floats_in(json.loads(path.read_text(encoding="utf-8"))):
            assert stable_float(x) == x, f"{path.name}: {x!r} is not written with 12 significant digits"


def test_results_json_ignores_the_last_bits_of_every_number() -> None:
    """The Results of an example, every float moved by one unit in the last place (what another
    numpy/scipy/polars build may compute), serialize to the same bytes."""
    text = (GOLDEN / "customer_value.json").read_text(encoding="utf-8")
    original = Results.model_validate_json(text)
    assert original.to_json() == text

    def nudge(data: object) -> object:
        if isinstance(data, float) and data != round(data):
            return math.nextafter(data, math.inf)
        if isinstance(data, dict):
            return {k: nudge(v) for k, v in data.items()}
        if isinstance(data, list):
            return [nudge(v) for v in data]
        return data

    nudged = Results.model_validate(nudge(json.loads(text)))
    assert nudged != original
    assert nudged.to_json() == text
