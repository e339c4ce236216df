"""A ``survival`` metric of a control group: tenure and retention of the treatment and control groups.

The headline figures (the ones the table, the correction and the verdict use) are retention at the
first of ``at_days``: each group's Kaplan–Meier ``S(k)``, their difference with its Wald interval and
z-test, and the lift. The curves, medians, log-rank test, hazard ratio and the other days are in
``survival`` (:mod:`.survival_compare`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from metricspec.engine.experiments.dist import norm_isf
from metricspec.engine.experiments.fixed import warning
from metricspec.engine.experiments.survival_compare import Arm, compare_survival
from metricspec.engine.results import EngineMessage, MetricComparison

if TYPE_CHECKING:
    from metricspec.engine.experiments.compare import Analysis, MetricDefinition

MIN_UNITS = 30


def _arm(data: pl.DataFrame, duration: str, event: str) -> tuple[Arm, int]:
    d = data.get_column(duration).cast(pl.Float64).to_numpy().astype(np.float64)
    e = data.get_column(event).cast(pl.Float64).to_numpy().astype(np.float64)
    keep = np.isfinite(d) & np.isfinite(e) & (d >= 0.0)
    return Arm(d[keep], e[keep] != 0.0), int(keep.size - keep.sum())


def compare_survival_metric(data_t: pl.DataFrame, data_c: pl.DataFrame, metric: MetricDefinition,
                            an: Analysis) -> MetricComparison:
    assert metric.duration and metric.event
    (arm_t, drop_t), (arm_c, drop_c) = (_arm(d, metric.duration, metric.event) for d in (data_t, data_c))
    warnings: list[EngineMessage] = []
    if drop_t + drop_c:
        warnings.append(warning("cg_dropped_missing", n=drop_t + drop_c, columns=f"{metric.duration}, {metric.event}",
                                n_treatment=drop_t, n_control=drop_c))
    days = list(metric.at_days)
    base = {"name": metric.name, "title": metric.title or metric.name, "kind": "survival",
            "test": f"retention at {days[0]} days (Kaplan–Meier, Greenwood z-test)", "control_n": arm_c.durations.size,
            "treatment_n": arm_t.durations.size, "direction": metric.direction, "unit": metric.shown_unit,
            "cuped": False, "variance_reduction": None, "mde": None, "significant": None, "better": None}
    empty = [g for g, a in (("treatment", arm_t), ("control", arm_c)) if a.durations.size == 0]
    if empty:
        warnings.append(warning("cg_no_data_both") if len(empty) == 2 else warning("cg_no_data_group", group=empty[0]))
        return _result(base, None, warnings)
    for label, a in (("treatment", arm_t), ("control", arm_c)):
        if a.durations.size < MIN_UNITS:
            warnings.append(warning("cg_too_few_units", group=label, n=int(a.durations.size), minimum=MIN_UNITS))
        if float(a.durations.max()) < days[0]:
            warnings.append(warning("cg_short_follow_up", group=label, days=days[0]))
    figures = compare_survival(arm_c, arm_t, days, an.levels.confidence_level)
    head = figures.lifts[0]
    values: dict[str, object] = {"control_value": figures.control.retention[0], "treatment_value": figures.treatment.retention[0],
              "difference": head.difference, "difference_ci_low": head.difference_ci_low,
              "difference_ci_high": head.difference_ci_high, "relative_lift": head.relative_lift,
              "relative_lift_ci_low": None, "relative_lift_ci_high": None, "p_value": head.p_value,
              "statistic": _z(head.difference, head.difference_ci_high, an.levels.confidence_level),
              "survival": figures}
    return _result(base, values, warnings)


def _z(difference: float | None, high: float | None, level: float) -> float | None:
    """The z statistic of the difference, from its Wald interval's half-width."""
    if difference is None or high is None or high == difference:
        return None
    return difference / ((high - difference) / norm_isf((1.0 - level) / 2.0))


def _result(base: dict[str, object], values: dict[str, object] | None, warnings: list[EngineMessage]) -> MetricComparison:
    blank = dict.fromkeys(("control_value", "treatment_value", "difference", "difference_ci_low", "difference_ci_high",
                           "relative_lift", "relative_lift_ci_low", "relative_lift_ci_high", "statistic", "p_value"))
    return MetricComparison.model_validate({**base, **blank, **(values or {}),
                                            "warnings": [w.english for w in warnings], "warning_codes": warnings})
