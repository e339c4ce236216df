"""Every number a spec or a connector option holds is finite (issue 11): systematic, not per field."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import metricspec.spec.models as models
from metricspec.connectors.base import ConnectorOptions
from metricspec.plugins import make_plugin_manager
from metricspec.sources.registry import connector_registry
from metricspec.spec.base import StrictModel


def _subclasses(cls: type[BaseModel]) -> list[type[BaseModel]]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_every_spec_and_option_model_rejects_inf_and_nan():
    connector_registry(make_plugin_manager())  # import the plugins' option models too
    found = _subclasses(StrictModel) + _subclasses(ConnectorOptions)
    assert len(found) > 30
    for model in found:
        assert model.model_config.get("allow_inf_nan") is False, model


@given(st.sampled_from([math.nan, math.inf, -math.inf, 10**400]))
def test_goal_numbers_must_be_finite(bad: float) -> None:
    for field in ("target", "baseline", "tolerance"):
        data = {"kpi": "k", "target": 1.0, field: bad}
        with pytest.raises(ValidationError):
            models.Goal.model_validate(data)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=-1e-300))
def test_negative_tolerance_is_refused(value: float) -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        models.Goal.model_validate({"kpi": "k", "target": 1.0, "tolerance": value})


def test_calendar_entry_dates_in_order():
    with pytest.raises(ValidationError, match="is before start"):
        models.CalendarEntry.model_validate({"network": "x", "posts": 1, "start": "2026-03-01", "end": "2026-01-01"})
    ok = models.CalendarEntry.model_validate({"network": "x", "posts": 1, "start": "2026-01-01", "end": "2026-01-01"})
    assert ok.start == ok.end


@pytest.mark.parametrize("field", ["lookback_days"])
def test_day_spans_are_bounded(field: str) -> None:
    base = {"touchpoints": {"source": "t", "person": "p", "time": "t", "channel": "c"},
            "conversions": {"source": "c", "person": "p", "time": "t"}}
    with pytest.raises(ValidationError, match="less than or equal to 36525"):
        models.AttributionSpec.model_validate({**base, field: 1e30})
    assert models.AttributionSpec.model_validate({**base, field: 36525}).lookback_days == 36525
