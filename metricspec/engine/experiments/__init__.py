"""Control-group comparison statistics: treatment vs control on one row per unit.

Pure library (no I/O). :func:`evaluate_experiment` compares the two groups on each
:class:`MetricDefinition`, checks the sample ratio, breaks the comparison down by segment, adjusts the
p-values for multiple comparisons and gives each metric its verdict. One job a module:

* :mod:`.fixed` — the classical test of the difference per kind (two-proportion z, Welch t, delta-method z)
  and CUPED;
* :mod:`.effects` — gbstats' relative-scale (delta-method) t-test, sequential always-valid intervals and
  Bayesian posterior, from per-group summaries;
* :mod:`.quantiles` — quantile metrics: order-statistic intervals and gbstats' quantile test;
* :mod:`.multitest` — Holm and Benjamini–Hochberg adjusted p-values;
* :mod:`.compare` — every figure of one metric; :mod:`.evaluate` — the whole control group.

Degenerate inputs (zero variance, zero denominators, empty groups) give ``None`` and a warning, never
inf/NaN or an exception.
"""

from __future__ import annotations

from metricspec.engine.experiments.compare import MetricDefinition
from metricspec.engine.experiments.evaluate import (
    SRM_THRESHOLD,
    evaluate_experiment,
    sample_ratio_check,
)
from metricspec.engine.results import (
    BayesianFigures,
    ExperimentResult,
    MetricComparison,
    SampleRatioCheck,
    SegmentResult,
    SequentialFigures,
)

__all__ = [
    "SRM_THRESHOLD",
    "BayesianFigures",
    "ExperimentResult",
    "MetricComparison",
    "MetricDefinition",
    "SampleRatioCheck",
    "SegmentResult",
    "SequentialFigures",
    "evaluate_experiment",
    "sample_ratio_check",
]
