"""The engine's sentences: why a goal has its status, how it was forecast, SMART findings, data notes and
control-group warnings, each as a message code, its params and the English text (the message catalogue of
:mod:`metricspec.engine.results`, which re-exports it)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

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
    "kpi": "text", "scope": "text", "periods": "text", "segments": "text", "column": "text", "source": "text",
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
    "reason_reached_pending": "the deadline {deadline} passed with {current}, meeting the target {target}; not "
                              "final: values for {periods} are still arriving",
    "reason_pending": "the deadline {deadline} passed with {current} against a target of {target}; not final: "
                      "values for {periods} are still arriving",
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
    # DataNote.message (GoalResult.notes too)
    "note_goal_left_out": "{periods} left out: values still arriving (complete after {days} days)",
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
