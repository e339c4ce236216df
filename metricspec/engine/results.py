"""The typed Results document: everything a run produced, JSON-serialisable and deterministic."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer
from pydantic_core import to_json

from metricspec.engine.attribution.models import AttributionReport
from metricspec.engine.cg_results import (
    AdjustedFigures,
    Diagnostics,
    DidFigures,
    SurvivalFigures,
    Verdict,
)
from metricspec.kinds.cohort_table import CohortTable
from metricspec.utils import stable_numbers

#: 2: goal reasons and forecast methods, SMART findings and data notes carry a message ``code`` and
#: its ``params`` next to the English text (version 1 documents still load: the new fields default).
#: 3: goals carry their chance of success, forecast intervals, suggested targets and the status
#: ``target_reached``; ``achieved`` is final (version 1 and 2 documents still load).
RESULTS_SCHEMA_VERSION = 3

if TYPE_CHECKING:
    import polars as pl

GoalStatus = Literal["achieved", "target_reached", "on_track", "at_risk", "off_track", "missed", "no_data"]
STATUS_ORDER: dict[str, int] = {
    "achieved": 0, "target_reached": 1, "on_track": 2, "at_risk": 3, "off_track": 4, "missed": 5, "no_data": 6,
}


class ResultModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- engine messages ------------------------------------------------------------------------------
#
# Sentences the engine writes (why a goal has its status, how it was forecast, SMART findings, data
# notes) are stored three ways: the English text, a stable message ``code`` and its ``params``.
# The HTML scorecards translate ``code`` with ``params`` formatted for the page's locale
# (metricspec/render/locales/*.json hold the same codes; en.json has exactly the texts below).

ParamValue = str | int | float
MessageParams = dict[str, ParamValue]

#: How each message parameter is formatted: ``value`` a KPI value (6 significant digits in English),
#: ``approx`` a derived KPI quantity such as a pace (4 significant digits), ``change`` a signed
#: relative change, ``count`` a whole number, ``date`` an ISO date, ``grain`` a period grain
#: (``month``), ``chance`` a probability shown as a whole percentage (``<1%`` and ``>99%`` short of
#: certainty), ``group`` a control-group arm (``treatment`` or ``control``), ``pvalue`` a p-value
#: (3 significant digits in English), ``delta`` a signed difference of a control-group metric (percentage
#: points for proportions, money in the spec's currency on scorecards and terminals),
#: ``decimal`` a plain number with two decimals (a standardised mean difference),
#: ``share`` a probability or share such as alpha, power or the
#: expected treatment share (a percentage on scorecards), ``text`` names from the spec or the data,
#: shown as they are.
ParamKind = Literal["value", "approx", "change", "chance", "count", "date", "grain", "group", "pvalue", "share",
                    "text", "delta", "decimal"]
PARAM_KINDS: dict[str, ParamKind] = {
    "current": "value", "target": "value", "forecast": "value", "expected": "value",
    "needed": "approx", "best": "approx", "rate": "approx",
    "chance": "chance", "chance_tolerance": "chance", "target_50": "value", "target_80": "value", "model": "text",
    "seen": "chance",
    "needed_rate": "change", "best_rate": "change",
    "days": "count", "left": "count", "n": "count", "rows": "count",
    "deadline": "date", "latest": "date", "grain": "grain",
    "kpi": "text", "scope": "text", "segments": "text", "column": "text", "source": "text",
    # control groups
    "n_treatment": "count", "n_control": "count", "successes": "count", "failures": "count", "minimum": "count",
    "difference": "delta", "mde": "delta", "alpha": "share", "power": "share", "share": "share",
    "smd": "decimal", "smd_threshold": "decimal", "kind": "text", "outside": "count", "trimmed": "count", "arm": "text",
    "ess": "count", "pre_column": "text",
    "p": "pvalue", "group": "group",
    "columns": "text", "covariate": "text", "group_column": "text", "treatment_label": "text",
    "control_label": "text", "quantile": "value", "kept": "count", "threshold": "pvalue", "start": "date",
    "end": "date", "groups": "text", "shares": "text",
}

#: code -> English template; ``{placeholders}`` are parameters named in :data:`PARAM_KINDS`.
ENGINE_MESSAGES: dict[str, str] = {
    # GoalResult.status_reason
    "reason_no_data": "the KPI has no value for this goal's scope and window",
    "reason_achieved_increase": "current {current} is at least the target {target}",
    "reason_achieved_decrease": "current {current} is at most the target {target}",
    "reason_missed": "the deadline {deadline} passed with {current} against a target of {target}",
    "reason_no_deadline": "no deadline, so progress cannot be paced; add `deadline:`",
    "reason_on_track": "forecast {forecast} at the deadline meets the target {target}",
    "reason_within_tolerance": "forecast {forecast} falls just short of {target} (within tolerance)",
    "reason_on_pace": "on pace today ({current} vs {expected} expected) but the trend falls short",
    "reason_forecast_misses": "forecast {forecast} misses the target {target}",
    "reason_behind": "behind the expected path",
    "reason_achieved_final": "the deadline {deadline} passed with {current}, meeting the target {target}",
    "reason_achieved_cannot_fall": "{current} meets the target {target} and a running total cannot fall before "
                                   "the deadline",
    "reason_target_reached": "{current} meets the target {target} today; {chance} chance it still does at the "
                             "deadline",
    "reason_target_reached_no_deadline": "{current} meets the target {target}; no deadline, so not final",
    "reason_target_reached_no_forecast": "{current} meets the target {target} today; too little history to say "
                                         "whether it will at the deadline",
    "reason_reached_at_risk": "{current} meets the target {target} today, but only {chance} chance it still does at "
                              "the deadline",
    "reason_chance_on_track": "{chance} chance of meeting the target {target} by the deadline",
    "reason_chance_at_risk": "{chance} chance of meeting the target {target} by the deadline",
    "reason_chance_within_tolerance": "{chance} chance of meeting the target {target}, {chance_tolerance} of ending "
                                      "within tolerance",
    "reason_chance_off_track": "only {chance} chance of meeting the target {target} by the deadline",
    "reason_on_pace_no_forecast": "on pace today ({current} vs {expected} expected); too little history to forecast",
    "reason_behind_no_forecast": "behind the expected path; too little history to forecast",
    # GoalResult.forecast_method
    "forecast_none_no_deadline": "no deadline: no forecast",
    "forecast_none_no_data": "no data",
    "forecast_none_all_time": "no forecast: the source has no dates",
    "forecast_final_value": "deadline passed: final value",
    "forecast_run_rate": "run rate of the last {days} days ({rate}/day) × {left} days left",
    "forecast_short_history": "too little history ({n} periods): current value assumed to hold",
    "forecast_linear_trend": "linear trend (least squares) over the last {n} {grain} periods",
    "forecast_rate_holds": "rate over the window assumed to hold",
    "forecast_to_date_rate": "this period's rate so far ({rate}/day over {days} days) × the {left} days of the "
                             "deadline's period up to the deadline",
    "forecast_none_short_history": "too little history to forecast",
    "forecast_final_period": "the deadline's period is complete: final value",
    "forecast_model_run_rate": "run rate of the last 28 days ({rate}/day) × {left} days left; interval from the "
                               "rule's own errors over {days} days of history",
    "forecast_model_counts_short_history": "only {days} days of history: Poisson counts at {rate}/day × {left} days "
                                           "left, a wide interval",
    "forecast_model_days_short_history": "only {days} days of history: {rate}/day × {left} days left, the days as "
                                         "independent draws, a wide interval",
    "forecast_model_level_run_rate": "daily change of the last 28 days ({rate}/day) × {left} days left; interval "
                                     "from the rule's own errors over {days} days of history",
    "forecast_model_level_days_short_history": "only {days} days of history: daily change {rate}/day × {left} days "
                                               "left, a wide interval",
    "forecast_model_drift": "latest value plus its average change per period; interval from the rule's own "
                            "errors over {n} periods",
    "forecast_model_drift_no_statsmodels": "latest value plus its average change per period; interval from the "
                                           "rule's own errors over {n} periods (install metricspec-cli[forecast] "
                                           "for exponential smoothing)",
    "forecast_model_ets": "exponential smoothing ETS({model}, statsmodels) over {n} periods",
    "forecast_model_few_periods": "only {n} periods of history: latest value, a wide interval",
    "forecast_model_window_drift": "{seen} of the window so far, the rest at the latest value plus its average "
                                   "change per period; interval from the rule's own errors over {n} periods",
    "forecast_model_window_drift_no_statsmodels": "{seen} of the window so far, the rest at the latest value plus "
                                                  "its average change per period; interval from the rule's own "
                                                  "errors over {n} periods",
    "forecast_model_window_ets": "{seen} of the window so far, the rest by exponential smoothing ETS({model}, "
                                 "statsmodels) over {n} periods",
    "forecast_model_window_few_periods": "{seen} of the window so far, the rest at the latest value; only {n} "
                                         "periods of history, a wide interval",
    # SmartFinding.message
    "smart_specific_unscoped": "KPI '{kpi}' is broken down by {segments} but the goal has no scope; say which "
                               "segment the goal is for (`scope:`) or confirm the total",
    "smart_specific_scoped": "one KPI ({kpi}) and one scope ({scope})",
    "smart_specific_all_data": "one KPI ({kpi}) and one scope (all data)",
    "smart_measurable_no_value": "the KPI produced no value on the data for this scope; check the scope values "
                                 "and the source",
    "smart_measurable_current": "the data gives a current value of {current}",
    "smart_achievable_unknown": "cannot judge: needs a current value and a deadline",
    "smart_achievable_met_at_baseline": "the target was already met at the baseline: not ambitious",
    "smart_achievable_reached": "target already reached",
    "smart_achievable_deadline_reached": "deadline reached",
    "smart_achievable_pace_no_history": "needs {needed} per {grain}; no history to compare",
    "smart_achievable_pace": "needs {needed} per {grain} for {left} {grain}(s); best {grain} so far: {best}",
    "smart_achievable_no_growth_rate": "cannot compute a growth rate from the current value",
    "smart_achievable_growth_no_history": "needs {needed_rate} per {grain}; too little history to compare",
    "smart_achievable_growth": "needs {needed_rate} per {grain} for {left} {grain}(s); best {grain}-over-{grain} "
                               "change seen: {best_rate}",
    "smart_results_activity": "'{kpi}' measures activity (e.g. posting), not an outcome; aim the goal at what the "
                              "activity should achieve (reach, leads, sales)",
    "smart_results_outcome": "targets an outcome",
    "smart_achievable_chance": "{chance} chance by the deadline; {target_50} has a 50% chance, {target_80} 80%",
    "smart_achievable_not_ambitious": "{chance} chance already: not ambitious; {target_50} has a 50% chance",
    "smart_achievable_not_plausible": "only {chance} chance by the deadline: not plausible; {target_50} has a 50% "
                                      "chance, {target_80} 80%",
    "smart_achievable_pace_left": "needs {needed} per {grain} (periods left: {left}); best {grain} so far: {best}",
    "smart_achievable_growth_left": "needs {needed_rate} per {grain} (periods left: {left}); best "
                                    "{grain}-over-{grain} change seen: {best_rate}",
    "smart_time_no_deadline": "no deadline or period; add `deadline: YYYY-MM-DD`",
    "smart_time_deadline": "deadline {deadline}",
    # DataNote.message
    "note_null_rows": "{rows} row(s) with a null '{column}' in source '{source}' were skipped",
    "note_future_rows": "{rows} row(s) of source '{source}' are dated after today (the latest: {latest}) and do "
                        "not set the default as-of date; pass --as-of to include them",
    # control groups: warnings of a metric comparison (MetricComparison.warnings) or of the whole
    # comparison (ExperimentResult.warnings)
    "cg_dropped_missing": "dropped {n} units with missing values in {columns} ({n_treatment} treatment, "
                          "{n_control} control)",
    "cg_covariate_ratio": "covariate ignored: CUPED applies to proportion and mean metrics only",
    "cg_no_data_group": "no units with data in {group}: nothing to compare",
    "cg_no_data_both": "no units with data in treatment and control: nothing to compare",
    "cg_not_proportion": "column {column} has values other than 0/1: not a proportion",
    "cg_cuped_skipped": "covariate {covariate} has zero variance: CUPED skipped",
    "cg_too_few_units": "too small to conclude: {group} has {n} units (at least {minimum} needed)",
    "cg_too_few_outcomes": "too small to conclude: {group} has {successes} successes and {failures} failures "
                           "(at least {minimum} of each needed)",
    "cg_overflow": "numerical overflow: some values are too extreme to compute and were left empty",
    "cg_zero_control": "control value is 0 (or too close to 0): relative lift undefined",
    "cg_below_mde": "too small to conclude: the observed difference ({difference}) is smaller than the minimum "
                    "detectable effect ({mde}) at alpha={alpha}, power={power}",
    "cg_zero_variance": "zero variance: both groups have constant values, no test possible",
    "cg_small_group": "a group has fewer than 2 units: variance undefined, no test possible",
    "cg_zero_denominator_group": "zero denominator: the denominator sums to 0 in {group}",
    "cg_zero_denominator_both": "zero denominator: the denominator sums to 0 in treatment and control",
    "cg_ignored_rows": "ignored {n} rows whose {group_column} is neither {treatment_label} nor {control_label}",
    "cg_no_group_units": "no {group} units: nothing to compare",
    "cg_sample_ratio_mismatch": "sample ratio mismatch: {n_treatment} treatment vs {n_control} control is unlikely "
                                "under a {share} treatment share (p={p}, below {threshold}); check how units were "
                                "assigned before trusting results",
    "cg_sample_ratio_mismatch_arms": "sample ratio mismatch: {groups} units are unlikely under the planned shares "
                                     "{shares} (p={p}, below {threshold}); check how units were assigned before "
                                     "trusting results",
    "cg_quantile_too_few": "too small to conclude: {group} has {n} units, too few for an interval of the {quantile} "
                           "quantile",
    "cg_quantile_ties": "the {quantile} quantile of {group} sits on many tied values (its interval has zero width): "
                        "no test possible",
    "cg_no_time_column": "source {source} has no time column, so every unit counts whatever the as-of date or "
                         "window; set `time_column:` on the control group or the source",
    "cg_null_time": "ignored {n} units with no {column}: they cannot be placed in the window",
    "cg_segments_truncated": "{column} has {n} values: only the {kept} largest segments are compared",
    "cg_window_empty": "the window starts on {start}, after it ends on {end} (its end or the as-of date): no unit "
                       "can enter",
    "cg_missing_covariates": "dropped {n} units with a missing covariate from the adjustment",
    "cg_covariates_dropped": "covariates left out of the models (constant, or a combination of the others): {columns}",
    "cg_propensity_separation": "the covariates (almost) separate the groups: some units have a propensity of 0 or 1 and no comparable counterpart, so the adjusted estimate leans on extrapolation",
    "cg_poor_balance": "after adjustment {n} covariate(s) still differ by more than {smd_threshold} standard deviations (the largest: {column}, {smd}): the adjusted estimate may still carry selection",
    "cg_poor_overlap": "{outside} units ({share}) have a propensity outside the other group's range: they have no comparable counterpart",
    "cg_trimmed": "{trimmed} units with a propensity below {share} or above 1 − {share} were left out: the estimate is for the units with comparable counterparts",
    "cg_unmatched": "{trimmed} units found no match within the caliper and were left out: the estimate is for the matched units",
    "cg_low_ess": "the weights leave an effective sample of {ess} of {n} {group} units: a few units carry much of the weight",
    "cg_not_adjusted": "not adjusted ({kind} metrics cannot be): a difference between groups that chose themselves, not an effect",
    "cg_adjust_impossible": "no adjustment: too few units with every covariate ({n_treatment} treatment, {n_control} control)",
    "cg_not_randomised": "this is a comparison, not an experiment: the groups were not randomised, so their difference mixes the effect with who chose to be exposed; add `adjust:` with the covariates that explain it",
    "cg_did_pre_trends": "the groups already moved apart before exposure (from {pre_column}, p={p}): difference-in-differences assumes parallel trends",
    "cg_short_follow_up": "too small to conclude: {group} was followed for less than {days} days",
    "cg_segments_arms": "segments are not broken down when there are several treatment arms",
}


#: Codes of sentences the engine no longer writes, kept so that Results written before schema 3 (and
#: the scorecards rendered from them) still read: the old status rules and forecast methods.
LEGACY_MESSAGES = frozenset({
    "reason_achieved_increase", "reason_achieved_decrease", "reason_on_track", "reason_within_tolerance",
    "reason_on_pace", "reason_forecast_misses", "reason_behind", "forecast_run_rate", "forecast_short_history",
    "forecast_linear_trend", "forecast_rate_holds", "forecast_to_date_rate", "smart_achievable_pace",
    "smart_achievable_growth",
})


def _english_param(name: str, value: ParamValue) -> str:
    kind = PARAM_KINDS.get(name, "text")
    if isinstance(value, str) or kind in ("text", "grain", "date"):
        return str(value)
    if kind in ("value", "share", "delta"):  # the stored English text; scorecards and terminals format by kind
        return f"{value:.6g}"
    if kind == "approx":
        return f"{value:.4g}"
    if kind == "change":
        return f"{value:+.2%}"
    if kind == "pvalue":
        return f"{value:.3g}"
    if kind == "decimal":
        return f"{value:.2f}"
    if kind == "chance":
        return chance_text(float(value))
    return str(int(value))


def chance_percent(value: float) -> int:
    """A probability as the whole percentage every view shows (half up: 0.695 is 70): a goal's status
    reads its chance as shown (metricspec.engine.judgement), so a view never shows a chance on the other
    side of the threshold its status read."""
    return math.floor(value * 100 + 0.5 + 1e-9)


def chance_text(value: float, percent: str = "%") -> str:
    """A probability as a whole percentage (:func:`chance_percent`); ``<1%`` and ``>99%`` for chances that
    round to certainty without being certain."""
    if 0 < value < 0.005:
        return f"<1{percent}"
    if 0.995 <= value < 1:
        return f">99{percent}"
    return f"{chance_percent(value)}{percent}"


def english(code: str, params: Mapping[str, ParamValue] | None = None) -> str:
    """The English text of an engine message: the template of ``code`` filled with ``params``."""
    return ENGINE_MESSAGES[code].format(**{k: _english_param(k, v) for k, v in (params or {}).items()})


class EngineMessage(ResultModel):
    """An engine sentence as a message code and its params (see :data:`ENGINE_MESSAGES`)."""

    code: str
    params: MessageParams = Field(default_factory=dict)

    @property
    def english(self) -> str:
        return english(self.code, self.params)


@dataclass(frozen=True, slots=True)
class Point:
    """One period's value of a series.

    A frozen, slotted standard dataclass rather than a pydantic model: a run builds tens of thousands
    of points, and pydantic validates, serialises and parses dataclass fields exactly like models
    (same JSON, unknown keys rejected), while a dataclass instance is about four times cheaper to
    create (see :func:`metricspec.engine.goals.make_points`).
    """

    period: dt.date | dt.datetime
    """The period's first day; for the ``hour`` grain its first instant (time-zone aware, ISO 8601 with
    the offset in the JSON)."""
    label: str
    value: float | None
    partial: bool = False


class Series(ResultModel):
    """One line of a KPI: the headline, a segment value, or a benchmark."""

    grain: str
    kind: Literal["headline", "segment", "benchmark"] = "headline"
    segment: str | None = None
    segment_value: str | None = None
    benchmark: str | None = None
    points: list[Point]
    segment_columns: list[str] | None = Field(
        None, description="A breakdown by several columns (`segments: [[network, tab]]`): its columns; "
                          "`segment` and `segment_value` are then their labels joined by ' · '.")
    segment_values: list[str] | None = Field(None, description="The combination's values, one per column.")

    @model_serializer(mode="wrap")
    def _single_column_as_before(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A single-column segment (and every other series) serializes exactly as before combinations."""
        data: dict[str, Any] = handler(self)
        if self.segment_columns is None:
            data.pop("segment_columns", None)
            data.pop("segment_values", None)
        return data


class BenchmarkValue(ResultModel):
    name: str
    title: str
    value: float | None
    difference: float | None
    relative: float | None


class OffsetComparison(ResultModel):
    """The headline period against the period ``offset`` earlier (a KPI's ``vs:``)."""

    offset: str
    title: str
    period: dt.date | dt.datetime | None
    label: str | None
    value: float | None
    change: float | None
    change_pct: float | None


class Headline(ResultModel):
    """Latest complete period of a grain, with comparisons."""

    grain: str
    period: dt.date | dt.datetime | None
    label: str | None
    value: float | None
    previous: float | None
    change: float | None
    change_pct: float | None
    previous_year: float | None
    yoy_change: float | None
    yoy_change_pct: float | None
    benchmarks: list[BenchmarkValue] = Field(default_factory=list)
    vs: OffsetComparison | None = None
    """The KPI's ``vs:`` comparison (absent from the JSON of KPIs without one, and of grains it does
    not apply to)."""

    @model_serializer(mode="wrap")
    def _without_absent_vs(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        out: dict[str, Any] = handler(self)
        if self.vs is None:
            out.pop("vs", None)
        return out


class KpiResult(ResultModel):
    name: str
    title: str
    description: str | None
    unit: str
    currency: str | None
    axis_from_zero: bool | None = None  # the spec's choice; None: charts decide by unit (count, currency: yes)
    direction: str
    kind: str
    form: str
    scope: dict[str, Any]
    headlines: list[Headline]
    series: list[Series]
    owner: str | None = None  # responsible for the KPI's results; in the JSON only when set
    measured_by: str | None = None  # who measures it; in the JSON only when set
    cohorts: CohortTable | None = None
    """cohort_retention KPIs: the cohort × age table (left out of the JSON for other kinds)."""
    complete_after_days: float | None = None
    """The spec's ``complete_after_days``: values still arrive this long after a period ends (in the JSON only
    when set)."""

    @model_serializer(mode="wrap")
    def _optional_fields_when_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``owner``, ``measured_by`` and ``cohorts`` appear only when set, so the Results of specs
        without them stay byte-identical to those written before the keys existed."""
        out: dict[str, Any] = handler(self)
        for key in ("owner", "measured_by", "cohorts", "complete_after_days"):
            if out.get(key, 0) is None:
                out.pop(key, None)
        return out

    def __repr__(self) -> str:
        """A one-line summary (:meth:`to_polars` has the values)."""
        head = next((h for h in self.headlines if h.value is not None), None)
        value = f", {head.grain} {head.label}: {head.value:g}" if head and head.value is not None else ""
        return f"<KpiResult {self.name!r} ({self.form}, {len(self.series)} series{value})>"

    __str__ = __repr__

    def to_polars(self) -> pl.DataFrame:
        """Every value of this KPI, tidy: one row per point of each series (headline, segment values,
        benchmarks) with ``kpi, grain, period, label, kind, segment, segment_value, benchmark, value,
        partial, unit, currency``."""
        from metricspec.engine.frames import kpi_frame

        return kpi_frame([self])

    def all_time_values(self) -> list[tuple[str, str | None, str | None, float | None]]:
        """An all-time KPI's values (source without a time column: no series, no period): (kind,
        benchmark, label, value) of its headline and its benchmarks; empty for other KPIs."""
        out: list[tuple[str, str | None, str | None, float | None]] = []
        for h in self.headlines:
            if h.grain == "all" and h.period is None:
                out.append(("headline", None, h.label, h.value))
                out += [("benchmark", b.name, h.label, b.value) for b in h.benchmarks]
        return out


SmartCriterion = Literal["specific", "measurable", "achievable", "results_focused", "time_bound"]


class SmartFinding(ResultModel):
    criterion: SmartCriterion
    ok: bool
    message: str
    where: str | None = None
    code: str | None = None  # the message's code in ENGINE_MESSAGES (None in version 1 documents)
    params: MessageParams = Field(default_factory=dict)


class ForecastInterval(ResultModel):
    """The range the value at the deadline falls in with probability ``level`` (central: as much
    chance of ending below ``low`` as above ``high``)."""

    level: float
    low: float
    high: float


class SuggestedTarget(ResultModel):
    """A target that history makes ``chance`` likely by the deadline (rounded to three significant
    digits on the safe side: its chance is at least ``chance``)."""

    chance: float
    target: float


class GoalResult(ResultModel):
    id: str
    objective: str
    title: str
    kpi: str
    scope: dict[str, Any]
    grain: str
    measure: str
    direction: str
    start: dt.date | None
    deadline: dt.date | None
    baseline: float | None
    baseline_source: Literal["spec", "data", "none"]
    target: float
    current: float | None
    progress: float | None
    expected: float | None
    expected_progress: float | None
    forecast: float | None
    forecast_method: str
    forecast_method_code: str | None = None  # the message's code in ENGINE_MESSAGES (None in version 1)
    forecast_method_params: MessageParams = Field(default_factory=dict)
    status: GoalStatus
    status_reason: str
    status_reason_code: str | None = None
    status_reason_params: MessageParams = Field(default_factory=dict)
    tolerance_absolute: float | None
    tolerance_relative: float | None
    measured_by: str | None
    responsible: str | None
    campaign: str | None
    where: str | None
    smart: list[SmartFinding]
    trend: list[Point]
    final: bool = False  # the status cannot change any more (deadline passed, or a total that cannot fall)
    attainment: float | None = None  # current against target: 1 (or more) when met, below 1 when not
    chance: float | None = None  # probability of meeting the target at the deadline
    forecast_model: str | None = None  # the model that made the forecast (docs/goals.md#models)
    forecast_intervals: list[ForecastInterval] = Field(default_factory=list)  # 80 % and 95 %
    suggested_targets: list[SuggestedTarget] = Field(default_factory=list)  # 50 % and 80 % likely
    ambition: Literal["not_ambitious", "not_plausible"] | None = None  # chance above 95 % / below 5 %
    periods_left: int | None = None  # periods of the goal's grain that end after the as-of date, to the deadline
    needed_per_period: float | None = None  # the change per period left that would just meet the target
    on_track_threshold: float = 0.7  # the chances the status reads (the spec's `thresholds`)
    at_risk_threshold: float = 0.3
    so_far: list[Point] = Field(default_factory=list)
    """A ``total`` goal's value from its start to the end of each complete period (a running total, or a
    rate over the window so far): what its chart draws. Empty for ``latest`` goals."""
    so_far_kind: Literal["running_total", "window"] | None = None

    def to_polars(self) -> pl.DataFrame:
        """The goal's trend (its KPI over the goal window): ``period, label, value, partial``."""
        from metricspec.engine.frames import goal_trend_frame

        return goal_trend_frame(self)


class ObjectiveResult(ResultModel):
    id: str
    title: str
    description: str | None
    type: str
    stage: str | None
    owner: str | None
    kpis: list[str]
    goals: list[GoalResult]


class SourceFreshness(ResultModel):
    name: str
    connector: str
    time_column: str | None
    rows: int | None
    first: str | None
    latest: str | None


class DataNote(ResultModel):
    level: Literal["warning", "info"]
    message: str
    where: str | None = None
    code: str | None = None
    params: MessageParams = Field(default_factory=dict)


# -- control groups ---------------------------------------------------------------------------------


class SequentialFigures(ResultModel):
    """Always-valid p-values and intervals (gbstats' sequential test), safe to look at after every new unit."""

    tuning: float
    p_value: float | None
    p_value_adjusted: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None
    relative_p_value: float | None
    relative_p_value_adjusted: float | None
    relative_lift_ci_low: float | None
    relative_lift_ci_high: float | None


class BayesianFigures(ResultModel):
    """Posterior of the relative lift (gbstats' effect model; a flat prior unless one is given)."""

    prior_mean: float | None  # None: gbstats' default flat (improper) prior
    prior_stddev: float | None
    relative_lift: float | None  # posterior mean
    relative_lift_stddev: float | None
    credible_interval_low: float | None
    credible_interval_high: float | None
    chance_to_beat_control: float | None  # P(treatment is better), in the metric's good direction
    expected_loss: float | None  # relative lift given up, on average, by shipping the treatment
    expected_loss_control: float | None  # ... by keeping the control


class MetricComparison(ResultModel):
    """Result of comparing one metric; ``None`` where a value cannot be computed."""

    name: str
    title: str
    kind: str
    test: str
    control_n: int
    treatment_n: int
    control_value: float | None
    treatment_value: float | None
    difference: float | None
    difference_ci_low: float | None
    difference_ci_high: float | None
    relative_lift: float | None
    relative_lift_ci_low: float | None
    relative_lift_ci_high: float | None
    statistic: float | None
    p_value: float | None  # the test of the difference (``test``), before any correction
    significant: bool | None  # the method's verdict (after the correction, if any)
    better: bool | None
    cuped: bool
    variance_reduction: float | None
    mde: float | None
    warnings: list[str]
    warning_codes: list[EngineMessage] = Field(default_factory=list)  # the same warnings as message codes
    direction: str = "increase"
    quantile: float | None = None  # kind quantile: 0.5 = median
    relative_p_value: float | None = None  # delta-method test of the relative lift (gbstats' default)
    p_value_adjusted: float | None = None  # after the control group's correction; None when it is "none"
    relative_p_value_adjusted: float | None = None
    control_ci_low: float | None = None  # kind quantile: order-statistic interval of each group's quantile
    control_ci_high: float | None = None
    treatment_ci_low: float | None = None
    treatment_ci_high: float | None = None
    sequential: SequentialFigures | None = None
    bayesian: BayesianFigures | None = None
    verdict: Verdict | None = None  # the one conclusion shown for the metric
    unit: str | None = None  # how values are shown: number, count, percent, currency (the group's), days
    arm: str | None = None  # several treatment arms: the arm this row compares with the control
    adjusted: AdjustedFigures | None = None  # randomised: false with adjust: the effect after adjustment
    did: DidFigures | None = None  # pre_period: difference-in-differences
    survival: SurvivalFigures | None = None  # kind survival


class SampleRatioCheck(ResultModel):
    """Chi-square goodness of fit of the group sizes against the expected split."""

    expected_treatment_share: float
    control_n: int
    treatment_n: int
    chi2: float | None
    p_value: float | None
    mismatch: bool
    threshold: float = 0.001
    group_counts: dict[str, int] | None = None  # several arms: units of each group by label, the control last
    planned_shares: dict[str, float] | None = None  # several arms: the planned share of each group


class SegmentResult(ResultModel):
    """The comparison within one value of a segment column."""

    column: str
    value: str | None  # None: units with no value in the column
    srm: SampleRatioCheck
    metrics: list[MetricComparison]


class ExperimentResult(ResultModel):
    """All comparisons of one control group."""

    name: str
    alpha: float
    power: float
    confidence_level: float
    control_label: str
    treatment_label: str
    srm: SampleRatioCheck
    metrics: list[MetricComparison]
    warnings: list[str]
    warning_codes: list[EngineMessage] = Field(default_factory=list)
    title: str | None = None
    description: str | None = None
    method: Literal["frequentist", "sequential", "bayesian"] = "frequentist"
    correction: Literal["holm", "bh", "dunnett", "none"] = "none"
    time_column: str | None = None  # units entered when this column fell in [window_start, window_end]
    window_start: dt.date | None = None
    window_end: dt.date | None = None  # the window's end or the as-of date, whichever is earlier
    campaign: str | None = None
    segments: list[SegmentResult] = Field(default_factory=list)
    randomised: bool = True  # false: a comparison of groups that chose themselves, not an experiment
    arms: list[str] = Field(default_factory=list)  # several treatment arms: their labels (else empty)
    currency: str | None = None  # the spec's, for metrics in currency
    diagnostics: list[Diagnostics] = Field(default_factory=list)  # adjust: one per treatment arm


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
    objectives: list[ObjectiveResult]
    control_groups: list[ExperimentResult] = Field(default_factory=list)
    attribution: AttributionReport | None = None
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
        from metricspec.engine.frames import kpi_frame

        return kpi_frame(self.kpis, spec=self.spec.name)

    def goals_to_polars(self) -> pl.DataFrame:
        """One row per goal: ``spec, objective, goal, title, kpi, status, current, target, baseline,
        progress, expected, forecast, start, deadline, …``."""
        from metricspec.engine.frames import goal_frame

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
