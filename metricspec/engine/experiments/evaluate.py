"""Evaluate a control group: split the units, check the sample ratio, compare every metric (overall and
per segment), adjust the p-values for multiple comparisons and give each metric its verdict."""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl

from metricspec.engine.experiments.compare import (
    Analysis,
    Method,
    MetricDefinition,
    compare,
    metric_columns,
    warning_fields,
)
from metricspec.engine.experiments.dist import chi2_sf
from metricspec.engine.experiments.fixed import Levels, warning
from metricspec.engine.experiments.multitest import Correction, adjust
from metricspec.engine.results import (
    EngineMessage,
    ExperimentResult,
    MetricComparison,
    SampleRatioCheck,
    SegmentResult,
)

SRM_THRESHOLD = 0.001
MAX_SEGMENT_VALUES = 50
METHODS = ("frequentist", "sequential", "bayesian")
CORRECTIONS = ("holm", "bh", "none")


def sample_ratio_check(control_n: int, treatment_n: int, expected_treatment_share: float,
                       threshold: float = SRM_THRESHOLD) -> SampleRatioCheck:
    """Chi-square goodness of fit (1 df) of the observed split vs the expected share."""
    total = control_n + treatment_n
    chi2 = p = None
    if total > 0:
        exp_t = total * expected_treatment_share
        exp_c = total - exp_t
        chi2 = (treatment_n - exp_t) ** 2 / exp_t + (control_n - exp_c) ** 2 / exp_c
        p = chi2_sf(chi2, 1)
    return SampleRatioCheck(expected_treatment_share=expected_treatment_share, control_n=control_n,
                            treatment_n=treatment_n, chi2=chi2, p_value=p,
                            mismatch=p is not None and p < threshold, threshold=threshold)


def _verdict(m: MetricComparison, an: Analysis, p: float | None) -> dict[str, bool | None]:
    """``significant`` and ``better`` from the method's decision figure."""
    if an.method == "bayesian":
        chance = m.bayesian.chance_to_beat_control if m.bayesian else None
        if chance is None:
            return {"significant": None, "better": None}
        threshold = 1.0 - an.levels.alpha
        return {"significant": chance >= threshold or chance <= 1.0 - threshold, "better": chance >= threshold}
    if p is None:
        return {"significant": None, "better": None}
    significant = p < an.levels.alpha
    if m.difference is None:
        return {"significant": significant, "better": None}
    good = m.difference > 0 if m.direction == "increase" else m.difference < 0
    return {"significant": significant, "better": significant and good}


def decide(metrics: Sequence[MetricComparison], an: Analysis) -> list[MetricComparison]:
    """Adjust the family's p-values (``an.correction``) and set every metric's verdict from them."""
    fixed_p = adjust([m.p_value for m in metrics], an.correction)
    relative_p = adjust([m.relative_p_value for m in metrics], an.correction)
    seq = [m.sequential for m in metrics]
    seq_p = adjust([s.p_value if s else None for s in seq], an.correction)
    seq_rel_p = adjust([s.relative_p_value if s else None for s in seq], an.correction)
    out = []
    for i, m in enumerate(metrics):
        update: dict[str, object] = {"p_value_adjusted": fixed_p[i], "relative_p_value_adjusted": relative_p[i]}
        decision = m.p_value if fixed_p[i] is None else fixed_p[i]
        s = seq[i]
        if s is not None:
            update["sequential"] = s.model_copy(update={"p_value_adjusted": seq_p[i],
                                                        "relative_p_value_adjusted": seq_rel_p[i]})
            decision = s.p_value if seq_p[i] is None else seq_p[i]
        update.update(_verdict(m, an, decision))
        out.append(m.model_copy(update=update))
    return out


def _group_mask(series: pl.Series, label: object) -> pl.Expr:
    """Rows whose group equals ``label`` by Python ``==`` (so 1 matches True, "1" does not)."""
    uniques = series.drop_nulls().unique(maintain_order=True).to_list()
    matches = [pl.col(series.name) == pl.lit(u, dtype=series.dtype) for u in uniques if u == label]
    return pl.any_horizontal(matches).fill_null(False) if matches else pl.lit(False)


def _check_settings(frame: pl.DataFrame, group_column: str, metrics: Sequence[MetricDefinition],
                    treatment_label: object, control_label: object, probabilities: dict[str, float],
                    segments: Sequence[str]) -> None:
    for key, value in probabilities.items():
        if not 0.0 < value < 1.0:
            raise ValueError(f"{key} must be strictly between 0 and 1, got {value}")
    if treatment_label == control_label:
        raise ValueError("treatment_label and control_label must differ")
    values = {c for m in metrics for c in metric_columns(m)}
    missing = sorted(({group_column} | values | set(segments)) - set(frame.columns))
    if missing:
        raise ValueError(f"columns not in the data: {', '.join(missing)}")
    for col in sorted(values - {group_column}):
        dtype = frame.schema[col]
        if not (dtype.is_numeric() or dtype == pl.Boolean or dtype == pl.Null):
            raise ValueError(f"column {col} must be numeric or boolean, got {dtype}")


def _check_method(method: str, correction: str, sequential_tuning: float, prior: tuple[float, float] | None) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
    if not (math.isfinite(sequential_tuning) and sequential_tuning > 0.0):
        raise ValueError(f"sequential_tuning must be a positive number, got {sequential_tuning}")
    if prior is not None and not (math.isfinite(prior[0]) and math.isfinite(prior[1]) and prior[1] > 0.0):
        raise ValueError(f"prior needs a finite mean and a positive standard deviation, got {prior}")


def _segment_values(data_t: pl.DataFrame, data_c: pl.DataFrame, column: str,
                    warnings: list[EngineMessage]) -> list[object]:
    """The column's values, the largest segments kept when there are too many; in the column's order, nulls last."""
    sizes = (pl.concat([data_t.select(column), data_c.select(column)]).group_by(column).len()
             .sort(["len", column], descending=[True, False], nulls_last=True))
    values = sizes.get_column(column).to_list()
    if len(values) > MAX_SEGMENT_VALUES:
        warnings.append(warning("cg_segments_truncated", column=column, n=len(values), kept=MAX_SEGMENT_VALUES))
        values = values[:MAX_SEGMENT_VALUES]
    present = sorted(v for v in values if v is not None)
    return [*present, *(None for v in values if v is None)]


def _in_segment(data: pl.DataFrame, column: str, value: object) -> pl.DataFrame:
    if value is None:
        return data.filter(pl.col(column).is_null())
    return data.filter(pl.col(column) == pl.lit(value, dtype=data.schema[column]))


def _segments(data_t: pl.DataFrame, data_c: pl.DataFrame, columns: Sequence[str], metrics: Sequence[MetricDefinition],
              an: Analysis, share: float, threshold: float,
              warnings: list[EngineMessage]) -> list[SegmentResult]:
    """Every metric within every value of every segment column; one correction over all of those tests."""
    cells: list[tuple[str, object, SampleRatioCheck, int]] = []
    compared: list[MetricComparison] = []
    for column in columns:
        for value in _segment_values(data_t, data_c, column, warnings):
            seg_t, seg_c = _in_segment(data_t, column, value), _in_segment(data_c, column, value)
            cells.append((column, value, sample_ratio_check(seg_c.height, seg_t.height, share, threshold),
                          len(compared)))
            compared += [compare(seg_t, seg_c, m, an) for m in metrics]
    decided = decide(compared, an)
    return [SegmentResult(column=column, value=None if value is None else str(value), srm=srm,
                          metrics=decided[start:start + len(metrics)])
            for column, value, srm, start in cells]


def evaluate_experiment(frame: pl.DataFrame, *, name: str, group_column: str,
                        treatment_label: object, control_label: object,
                        metrics: Sequence[MetricDefinition], alpha: float = 0.05, power: float = 0.8,
                        expected_treatment_share: float = 0.5,
                        confidence_level: float | None = None, method: Method = "frequentist",
                        correction: Correction = "holm", sequential_tuning: float = 5000.0,
                        prior: tuple[float, float] | None = None, srm_threshold: float = SRM_THRESHOLD,
                        segments: Sequence[str] = ()) -> ExperimentResult:
    """Compare treatment and control on each metric (one row per unit in ``frame``).

    Rows whose group is neither label are ignored. ``confidence_level`` defaults to
    ``1 - alpha`` and sets the intervals; ``alpha`` and ``power`` set significance and the minimum
    detectable effect. ``method`` chooses the verdict (fixed-horizon p-values, always-valid sequential
    p-values, or the Bayesian chance to beat control); ``correction`` adjusts the p-values across the
    metrics (and, separately, across all per-segment tests). Raises ``ValueError`` only for bad
    settings or columns missing from / of the wrong type in ``frame``.
    """
    level = 1.0 - alpha if confidence_level is None else confidence_level
    _check_settings(frame, group_column, metrics, treatment_label, control_label,
                    {"alpha": alpha, "power": power, "expected_treatment_share": expected_treatment_share,
                     "confidence_level": level, "srm_threshold": srm_threshold}, segments)
    _check_method(method, correction, sequential_tuning, prior)
    an = Analysis(Levels(alpha, power, level), method, correction, sequential_tuning, prior)
    series = frame.get_column(group_column)
    data_t = frame.filter(_group_mask(series, treatment_label))
    data_c = frame.filter(_group_mask(series, control_label))
    warnings: list[EngineMessage] = []
    ignored = frame.height - data_t.height - data_c.height
    if ignored:
        warnings.append(warning("cg_ignored_rows", n=ignored, group_column=group_column,
                                treatment_label=repr(treatment_label), control_label=repr(control_label)))
    for label, data in (("treatment", data_t), ("control", data_c)):
        if data.height == 0:
            warnings.append(warning("cg_no_group_units", group=label))
    srm = sample_ratio_check(data_c.height, data_t.height, expected_treatment_share, srm_threshold)
    if srm.mismatch:
        assert srm.p_value is not None
        warnings.append(warning("cg_sample_ratio_mismatch", n_treatment=data_t.height, n_control=data_c.height,
                                share=expected_treatment_share, p=srm.p_value, threshold=srm_threshold))
    results = decide([compare(data_t, data_c, m, an) for m in metrics], an)
    by_segment = _segments(data_t, data_c, segments, metrics, an, expected_treatment_share, srm_threshold,
                           warnings)
    return ExperimentResult(name=name, alpha=alpha, power=power, confidence_level=level,
                            control_label=str(control_label), treatment_label=str(treatment_label),
                            srm=srm, metrics=results, **warning_fields(warnings), method=method,
                            correction=correction, segments=by_segment)
