"""The typed Results document: everything a run produced, JSON-serialisable and deterministic.

The document's parts live in sibling modules, all re-exported here (code and plugins import them from
this module): :mod:`metricspec.engine.result_base` (the base model, engine messages, points, data notes),
:mod:`metricspec.engine.kpi_results` (KPIs, their series and headlines), :mod:`metricspec.engine.goal_results`
(objectives and goals) and :mod:`metricspec.engine.cg_results` (control groups). The message catalogue
(:mod:`metricspec.engine.messages`) is re-exported too: results carry its codes, and code written before it
moved out imports it from here.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field
from pydantic_core import to_json

from metricspec.engine.frames import goal_frame, kpi_frame
from metricspec.engine.goal_results import (
    STATUS_ORDER,
    ForecastInterval,
    GoalResult,
    GoalStatus,
    ObjectiveResult,
    SmartCriterion,
    SmartFinding,
    SuggestedTarget,
)
from metricspec.engine.kpi_results import (
    BenchmarkValue,
    Headline,
    KpiResult,
    OffsetComparison,
    Series,
)
from metricspec.engine.messages import (
    ENGINE_MESSAGES,
    LEGACY_MESSAGES,
    PARAM_KINDS,
    MessageParams,
    ParamKind,
    ParamValue,
    chance_percent,
    chance_text,
    english,
)
from metricspec.engine.result_base import DataNote, EngineMessage, Point, ResultModel
from metricspec.spec.base import BUILT_ON_USE, OnUse
from metricspec.utils import stable_numbers

#: 2: goal reasons and forecast methods, SMART findings and data notes carry a message ``code`` and
#: its ``params`` next to the English text (version 1 documents still load: the new fields default).
#: 3: goals carry their chance of success, forecast intervals, suggested targets and the status
#: ``target_reached``; ``achieved`` is final (version 1 and 2 documents still load).
RESULTS_SCHEMA_VERSION = 3

if TYPE_CHECKING:
    import polars as pl

    from metricspec.engine.attribution.models import AttributionReport
    from metricspec.engine.cg_results import (
        AdjustedFigures,
        BayesianFigures,
        Diagnostics,
        DidFigures,
        ExperimentResult,
        MetricComparison,
        SampleRatioCheck,
        SegmentResult,
        SequentialFigures,
        SurvivalFigures,
        Verdict,
    )

_ON_USE: dict[str, str] = {
    **dict.fromkeys(("AdjustedFigures", "BayesianFigures", "Diagnostics", "DidFigures", "ExperimentResult",
                     "MetricComparison", "SampleRatioCheck", "SegmentResult", "SequentialFigures", "SurvivalFigures",
                     "Verdict"), "metricspec.engine.cg_results"),
    "AttributionReport": "metricspec.engine.attribution.models",
}
"""The control-group and attribution parts: imported the first time a document or code asks for one (a run
without control groups or attribution never does; start-up, tests/test_startup.py)."""


if TYPE_CHECKING:
    _ControlGroups = list[ExperimentResult]
    _Attribution = AttributionReport | None
else:  # the modules imported when a document first has control groups or attribution (start-up)
    _ControlGroups = OnUse(lambda: list[__getattr__("ExperimentResult")], shape=list[Any])
    _Attribution = OnUse(lambda: __getattr__("AttributionReport") | None, shape=Any | None)


def __getattr__(name: str) -> Any:
    """The control-group and attribution parts (:data:`_ON_USE`), imported on first use (PEP 562)."""
    module = _ON_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

__all__ = [
    "ENGINE_MESSAGES",
    "HTML_VIEWS",
    "LEGACY_MESSAGES",
    "PARAM_KINDS",
    "RESULTS_SCHEMA_VERSION",
    "STATUS_ORDER",
    "AdjustedFigures",
    "BayesianFigures",
    "BenchmarkValue",
    "DataNote",
    "Diagnostics",
    "DidFigures",
    "EngineMessage",
    "ExperimentResult",
    "ForecastInterval",
    "GoalResult",
    "GoalStatus",
    "Headline",
    "KpiResult",
    "MessageParams",
    "MetricComparison",
    "ObjectiveResult",
    "OffsetComparison",
    "ParamKind",
    "ParamValue",
    "Point",
    "ResultModel",
    "Results",
    "SampleRatioCheck",
    "SegmentResult",
    "SequentialFigures",
    "Series",
    "SmartCriterion",
    "SmartFinding",
    "SourceFreshness",
    "SpecInfo",
    "SuggestedTarget",
    "SurvivalFigures",
    "Verdict",
    "chance_percent",
    "chance_text",
    "english",
]


class SourceFreshness(ResultModel):
    name: str
    connector: str
    time_column: str | None
    rows: int | None
    first: str | None
    latest: str | None


class SpecInfo(ResultModel):
    name: str
    title: str
    description: str | None
    path: str
    owner: str | None
    measured_by: str | None
    timezone: str
    week_start: str
    language: str
    currency: str
    grains: list[str]


class Results(ResultModel):
    schema_version: int = RESULTS_SCHEMA_VERSION
    metricspec_version: str
    spec: SpecInfo
    as_of: dt.date
    sources: list[SourceFreshness]
    kpis: list[KpiResult]
    objectives: Annotated[list[ObjectiveResult], BUILT_ON_USE]
    control_groups: Annotated[_ControlGroups, BUILT_ON_USE] = Field(default_factory=list)
    attribution: Annotated[_Attribution, BUILT_ON_USE] = None
    notes: list[DataNote] = Field(default_factory=list)

    def goals(self) -> list[GoalResult]:
        return [g for o in self.objectives for g in o.goals]

    def kpi(self, name: str) -> KpiResult:
        for k in self.kpis:
            if k.name == name:
                return k
        raise KeyError(name)

    def to_json(self) -> str:
        """Byte-stable JSON: fixed key order, no timestamps, and every number as
        :func:`metricspec.utils.stable_numbers` writes it (12 significant digits), so that the
        document is the same whatever numpy, scipy or polars computed the last digits."""
        return to_json(stable_numbers(self.model_dump(mode="json")), indent=2).decode("utf-8") + "\n"

    def to_polars(self) -> pl.DataFrame:
        """Every KPI value of the run, tidy: :meth:`KpiResult.to_polars` of each KPI after a ``spec``
        column, so frames of several specs concatenate."""
        return kpi_frame(self.kpis, spec=self.spec.name)

    def goals_to_polars(self) -> pl.DataFrame:
        """One row per goal: ``spec, objective, goal, title, kpi, status, current, target, baseline,
        progress, expected, forecast, start, deadline, …``."""
        return goal_frame(self)

    def __repr__(self) -> str:
        """A one-line summary (the whole document is ``to_json()``; Jupyter shows the scorecard): the
        full pydantic repr of a run is megabytes, which notebooks store next to the HTML."""
        counts: dict[str, int] = {}
        for g in self.goals():
            counts[g.status] = counts.get(g.status, 0) + 1
        statuses = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items(),
                                                                             key=lambda i: STATUS_ORDER[i[0]]))
        goals = f"{sum(counts.values())} goal{'s' if sum(counts.values()) != 1 else ''}"
        parts = [f"{len(self.kpis)} KPI{'s' if len(self.kpis) != 1 else ''}",
                 f"{goals} ({statuses})" if statuses else goals]
        if self.control_groups:
            parts.append(f"{len(self.control_groups)} control group{'s' if len(self.control_groups) != 1 else ''}")
        if self.attribution:
            parts.append("attribution")
        return f"<Results of {self.spec.name!r} as of {self.as_of.isoformat()}: {', '.join(parts)}>"

    __str__ = __repr__

    def _repr_html_(self) -> str | None:
        """Jupyter shows the HTML scorecard (in an isolated frame, so its styles stay inside): the view
        :data:`HTML_VIEWS` holds, which the render layer provides; None (Jupyter shows the repr) while
        nothing has."""
        return HTML_VIEWS[-1](self) if HTML_VIEWS else None


HTML_VIEWS: list[Callable[[Results], str]] = []
"""How Jupyter shows Results: :mod:`metricspec.render.notebook` adds the scorecard when it is imported
(``metricspec.evaluate`` imports it). The engine sits below render in the layers: it never imports it."""
