"""Evaluate a control group: split the units, check the sample ratio, compare every metric (overall and
per segment), adjust the p-values for multiple comparisons and give each metric its verdict."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from metricspec.engine.experiments.adjusted import Settings
from metricspec.engine.experiments.compare import (
    Analysis,
    Method,
    MetricDefinition,
    all_columns,
    compare,
    warning_fields,
)
from metricspec.engine.experiments.dist import chi2_sf
from metricspec.engine.experiments.fixed import Levels, warning
from metricspec.engine.experiments.multitest import Correction
from metricspec.engine.experiments.observational import adjust_arm
from metricspec.engine.experiments.verdict import correct, verdict
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
CORRECTIONS = ("holm", "bh", "dunnett", "none")


def sample_ratio_check(control_n: int, treatment_n: int, expected_treatment_share: float,
                       threshold: float = SRM_THRESHOLD, *, arm_counts: Sequence[int] = (),
                       randomised: bool = True, planned: Sequence[float] = (),
                       labels: Sequence[str] = ()) -> SampleRatioCheck:
    """Chi-square goodness of fit of the observed split vs the planned shares (k - 1 df for k groups).

    Two groups: ``expected_treatment_share``. Several arms (``arm_counts``, named by ``labels``, the control
    last): ``planned`` gives each arm's share then the control's, else every group is expected to hold an
    equal share. A comparison that was not randomised has no planned split: no check."""
    arms = len(arm_counts) > 1
    counts = [*arm_counts, control_n] if arms else [treatment_n, control_n]
    if arms:
        expected = list(planned) if planned else [1.0 / len(counts)] * len(counts)
        share = 1.0 - expected[-1] if planned else (len(counts) - 1) / len(counts)
    else:
        share = expected_treatment_share
        expected = [share, 1.0 - share]
    total = sum(counts)
    chi2 = p = None
    if total > 0 and randomised:
        chi2 = sum((n - total * e) ** 2 / (total * e) for n, e in zip(counts, expected, strict=True))
        p = chi2_sf(chi2, len(counts) - 1)
    named = arms and len(labels) == len(counts)
    return SampleRatioCheck(expected_treatment_share=share, control_n=control_n,
                            treatment_n=treatment_n, chi2=chi2, p_value=p,
                            mismatch=p is not None and p < threshold, threshold=threshold,
                            group_counts=dict(zip(labels, counts, strict=True)) if named else None,
                            planned_shares=dict(zip(labels, expected, strict=True)) if named else None)


def _srm_warning(srm: SampleRatioCheck, threshold: float) -> EngineMessage:
    assert srm.p_value is not None
    if srm.group_counts is not None and srm.planned_shares is not None:
        return warning("cg_sample_ratio_mismatch_arms", p=srm.p_value, threshold=threshold,
                       groups=", ".join(f"{k} {v}" for k, v in srm.group_counts.items()),
                       shares=", ".join(f"{k} {v:.4g}" for k, v in srm.planned_shares.items()))
    return warning("cg_sample_ratio_mismatch", n_treatment=srm.treatment_n, n_control=srm.control_n,
                   share=srm.expected_treatment_share, p=srm.p_value, threshold=threshold)


def _verdict(m: MetricComparison, an: Analysis, p: float | None) -> dict[str, bool | None]:
    """``significant`` and ``better`` from the method's decision figure."""
    if an.method == "bayesian" and m.adjusted is None:
        chance = m.bayesian.chance_to_beat_control if m.bayesian else None
        if chance is None:
            return {"significant": None, "better": None}
        threshold = 1.0 - an.levels.alpha
        return {"significant": chance >= threshold or chance <= 1.0 - threshold, "better": chance >= threshold}
    if p is None:
        return {"significant": None, "better": None}
    significant = p < an.levels.alpha
    difference = m.adjusted.difference if m.adjusted is not None else m.difference
    if difference is None:
        return {"significant": significant, "better": None}
    good = difference > 0 if m.direction == "increase" else difference < 0
    return {"significant": significant, "better": significant and good}


def decide(metrics: Sequence[MetricComparison], an: Analysis, randomised: bool = True) -> list[MetricComparison]:
    """Correct the family's p-values (``an.correction``; every arm × metric) and give every metric its verdict."""
    fam = list(metrics)
    fixed_p = correct([m.p_value for m in fam], fam, an.correction)
    relative_p = correct([m.relative_p_value for m in fam], fam, an.correction)
    seq = [m.sequential for m in fam]
    seq_p = correct([s.p_value if s else None for s in seq], fam, an.correction)
    seq_rel_p = correct([s.relative_p_value if s else None for s in seq], fam, an.correction)
    adj = [m.adjusted for m in fam]
    adj_p = correct([a.p_value if a else None for a in adj], fam, an.correction,
                    [(a.treatment_n, a.control_n) if a else (m.treatment_n, m.control_n) for a, m in zip(adj, fam, strict=True)])
    out = []
    for i, m in enumerate(fam):
        update: dict[str, object] = {"p_value_adjusted": fixed_p[i], "relative_p_value_adjusted": relative_p[i]}
        decision = m.p_value if fixed_p[i] is None else fixed_p[i]
        s, a = seq[i], adj[i]
        if s is not None:
            update["sequential"] = s.model_copy(update={"p_value_adjusted": seq_p[i],
                                                        "relative_p_value_adjusted": seq_rel_p[i]})
            decision = s.p_value if seq_p[i] is None else seq_p[i]
        if a is not None:
            update["adjusted"] = a.model_copy(update={"p_value_adjusted": adj_p[i]})
            decision = a.p_value if adj_p[i] is None else adj_p[i]
        decided = m.model_copy(update={**update, **_verdict(m, an, decision)})
        out.append(decided.model_copy(update={"verdict": verdict(decided, randomised)}))
    return out


def _group_mask(series: pl.Series, label: object) -> pl.Expr:
    """Rows whose group equals ``label`` by Python ``==`` (so 1 matches True, "1" does not)."""
    uniques = series.drop_nulls().unique(maintain_order=True).to_list()
    matches = [pl.col(series.name) == pl.lit(u, dtype=series.dtype) for u in uniques if u == label]
    return pl.any_horizontal(matches).fill_null(False) if matches else pl.lit(False)


def _check_settings(frame: pl.DataFrame, group_column: str, metrics: Sequence[MetricDefinition],
                    labels: Sequence[object], control_label: object, probabilities: dict[str, float],
                    segments: Sequence[str], covariates: Sequence[str]) -> None:
    for key, value in probabilities.items():
        if not 0.0 < value < 1.0:
            raise ValueError(f"{key} must be strictly between 0 and 1, got {value}")
    if any(label == control_label for label in labels):
        raise ValueError("treatment_label and control_label must differ")
    values = {c for m in metrics for c in all_columns(m)}
    missing = sorted(({group_column} | values | set(segments) | set(covariates)) - set(frame.columns))
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
              warnings: list[EngineMessage], randomised: bool = True) -> list[SegmentResult]:
    """Every metric within every value of every segment column; one correction over all of those tests."""
    cells: list[tuple[str, object, SampleRatioCheck, int]] = []
    compared: list[MetricComparison] = []
    for column in columns:
        for value in _segment_values(data_t, data_c, column, warnings):
            seg_t, seg_c = _in_segment(data_t, column, value), _in_segment(data_c, column, value)
            cells.append((column, value, sample_ratio_check(seg_c.height, seg_t.height, share, threshold,
                                                            randomised=randomised), len(compared)))
            compared += [compare(seg_t, seg_c, m, an) for m in metrics]
    decided = decide(compared, an, randomised)
    return [SegmentResult(column=column, value=None if value is None else str(value), srm=srm,
                          metrics=decided[start:start + len(metrics)])
            for column, value, srm, start in cells]


@dataclass(frozen=True)
class Design:
    """How the units were assigned: randomised or not, the treatment arms, the adjustment."""

    arms: tuple[object, ...] = ()  # several treatment arms (else the single treatment_label)
    randomised: bool = True
    adjust: Settings | None = None
    shares: tuple[float, ...] = ()  # several arms: the planned share of each arm, then the control's (else equal)


def _arm_data(frame: pl.DataFrame, series: pl.Series, labels: Sequence[object]) -> list[pl.DataFrame]:
    return [frame.filter(_group_mask(series, label)) for label in labels]


def _split_warnings(frame: pl.DataFrame, arms: list[pl.DataFrame], data_c: pl.DataFrame, group_column: str,
                    labels: Sequence[object], control_label: object) -> list[EngineMessage]:
    warnings: list[EngineMessage] = []
    ignored = frame.height - sum(a.height for a in arms) - data_c.height
    if ignored:
        warnings.append(warning("cg_ignored_rows", n=ignored, group_column=group_column,
                                treatment_label=", ".join(repr(x) for x in labels), control_label=repr(control_label)))
    for label, data in (*((("treatment" if len(labels) == 1 else str(lb)), d) for lb, d in zip(labels, arms, strict=True)),
                        ("control", data_c)):
        if data.height == 0:
            warnings.append(warning("cg_no_group_units", group=label))
    return warnings


def evaluate_experiment(frame: pl.DataFrame, *, name: str, group_column: str,
                        treatment_label: object, control_label: object,
                        metrics: Sequence[MetricDefinition], alpha: float = 0.05, power: float = 0.8,
                        expected_treatment_share: float = 0.5,
                        confidence_level: float | None = None, method: Method = "frequentist",
                        correction: Correction = "holm", sequential_tuning: float = 5000.0,
                        prior: tuple[float, float] | None = None, srm_threshold: float = SRM_THRESHOLD,
                        segments: Sequence[str] = (), design: Design | None = None) -> ExperimentResult:
    """Compare treatment and control on each metric (one row per unit in ``frame``).

    Rows whose group is neither label are ignored. ``confidence_level`` defaults to
    ``1 - alpha`` and sets the intervals; ``alpha`` and ``power`` set significance and the minimum
    detectable effect. ``method`` chooses the verdict (fixed-horizon p-values, always-valid sequential
    p-values, or the Bayesian chance to beat control); ``correction`` adjusts the p-values across the
    metrics and arms (and, separately, across all per-segment tests). ``design`` gives several treatment
    arms, says whether the assignment was randomised and how to adjust a comparison that was not.
    Raises ``ValueError`` only for bad settings or columns missing from / of the wrong type in ``frame``.
    """
    design = design or Design()
    labels = list(design.arms) or [treatment_label]
    level = 1.0 - alpha if confidence_level is None else confidence_level
    _check_settings(frame, group_column, metrics, labels, control_label,
                    {"alpha": alpha, "power": power, "expected_treatment_share": expected_treatment_share,
                     "confidence_level": level, "srm_threshold": srm_threshold}, segments,
                    design.adjust.covariates if design.adjust else ())
    _check_method(method, correction, sequential_tuning, prior)
    an = Analysis(Levels(alpha, power, level), method, correction, sequential_tuning, prior)
    series = frame.get_column(group_column)
    arms = _arm_data(frame, series, labels)
    data_c = frame.filter(_group_mask(series, control_label))
    warnings = _split_warnings(frame, arms, data_c, group_column, labels, control_label)
    srm = sample_ratio_check(data_c.height, sum(a.height for a in arms), expected_treatment_share, srm_threshold,
                             arm_counts=[a.height for a in arms], randomised=design.randomised,
                             planned=design.shares, labels=[*(str(x) for x in labels), str(control_label)])
    if srm.mismatch:
        warnings.append(_srm_warning(srm, srm_threshold))
    if not design.randomised and design.adjust is None:
        warnings.append(warning("cg_not_randomised"))
    compared: list[MetricComparison] = []
    diagnostics = []
    for label, data_t in zip(labels, arms, strict=True):
        rows = [compare(data_t, data_c, m, an) for m in metrics]
        if design.adjust is not None:
            arm = str(label) if len(labels) > 1 else "treatment"
            rows, diag = adjust_arm(data_t, data_c, metrics, rows, design.adjust, level, arm)
            diagnostics += [diag] if diag is not None else []
        compared += [r.model_copy(update={"arm": str(label)}) if len(labels) > 1 else r for r in rows]
    results = decide(compared, an, design.randomised)
    by_segment = _segments(arms[0], data_c, segments, metrics, an, expected_treatment_share, srm_threshold,
                           warnings, design.randomised) if len(labels) == 1 else []
    if segments and len(labels) > 1:
        warnings.append(warning("cg_segments_arms"))
    return ExperimentResult(name=name, alpha=alpha, power=power, confidence_level=level,
                            control_label=str(control_label), treatment_label=", ".join(str(x) for x in labels),
                            srm=srm, metrics=results, **warning_fields(warnings), method=method,
                            correction=correction, segments=by_segment, randomised=design.randomised,
                            arms=[str(x) for x in labels] if len(labels) > 1 else [], diagnostics=diagnostics)
