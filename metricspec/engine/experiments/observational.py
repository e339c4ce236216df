"""Adjust every metric of one treatment arm for the covariates (``randomised: false`` with ``adjust:``).

The unadjusted comparison stays as it was (the reader sees how much selection there was); each
proportion and mean metric gains its adjusted effect (:mod:`.adjusted`), each survival metric its
inverse-probability-weighted curves, retention, median and hazard ratio (:mod:`.survival_adjusted`), and
the arm's diagnostics warnings beside them. Ratio and quantile metrics cannot be adjusted here and say so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from metricspec.engine.cg_results import Diagnostics
from metricspec.engine.experiments import adjusted
from metricspec.engine.experiments.adjusted import Prepared, Settings
from metricspec.engine.experiments.compare import MetricDefinition, warning_fields
from metricspec.engine.experiments.design import build_design
from metricspec.engine.experiments.fixed import warning
from metricspec.engine.experiments.survival_adjusted import Sample, headline, sandwich_figures
from metricspec.engine.experiments.survival_boot import bootstrap_figures
from metricspec.engine.results import MetricComparison

ADJUSTABLE = ("proportion", "mean", "survival")


def _outcome(frame: pl.DataFrame, column: str) -> np.ndarray:
    out: np.ndarray = frame.get_column(column).cast(pl.Float64).fill_null(float("nan")).to_numpy().astype(np.float64)
    return out


def adjust_arm(data_t: pl.DataFrame, data_c: pl.DataFrame, metrics: Sequence[MetricDefinition],
               compared: Sequence[MetricComparison], settings: Settings, level: float,
               arm: str) -> tuple[list[MetricComparison], Diagnostics | None]:
    """The arm's metrics with their adjusted figures, and the arm's diagnostics (None: nothing to adjust)."""
    frame = pl.concat([data_t, data_c], how="vertical_relaxed")
    t = np.concatenate([np.ones(data_t.height), np.zeros(data_c.height)])
    design = build_design(frame, list(settings.covariates))
    kept = t[design.keep]
    if min(int((kept == 1.0).sum()), int((kept == 0.0).sum())) < 2:
        note = warning("cg_adjust_impossible", n_treatment=int((kept == 1.0).sum()), n_control=int((kept == 0.0).sum()))
        return [c.model_copy(update=warning_fields([*c.warning_codes, note])) for c in compared], None
    prep = adjusted.prepare(design, t, settings, arm)
    out = []
    for m, c in zip(metrics, compared, strict=True):
        if m.kind == "survival":
            out.append(_survival(prep, frame, m, c, settings, level))
            continue
        if m.kind not in ADJUSTABLE or m.column is None:
            note = warning("cg_not_adjusted", kind=m.kind)
            out.append(c.model_copy(update=warning_fields([*c.warning_codes, note])))
            continue
        figures = adjusted.estimate(prep, _outcome(frame, m.column), settings, level)
        out.append(c.model_copy(update={"adjusted": figures, **warning_fields([*c.warning_codes, *prep.warnings])}))
    return out, prep.diagnostics


def _survival(prep: Prepared, frame: pl.DataFrame, m: MetricDefinition, c: MetricComparison, settings: Settings,
              level: float) -> MetricComparison:
    """A survival metric's weighted curves and figures (retention at the first day is its adjusted headline)."""
    assert m.duration and m.event
    keep = prep.design.keep
    d, e = _outcome(frame, m.duration)[keep], _outcome(frame, m.event)[keep]
    ok = np.isfinite(d) & np.isfinite(e) & (d >= 0.0)
    t = prep.t[ok]
    if c.survival is None or min(int((t == 1.0).sum()), int((t == 0.0).sum())) < 2:
        return c
    sample = Sample(prep.x[ok], t, d[ok], e[ok] != 0.0, "ate" if settings.estimand == "ate" else "att", settings.trim)
    labels = (c.survival.control.label, c.survival.treatment.label)
    figures, se = (bootstrap_figures(sample, list(m.at_days), level, labels, settings.bootstrap, settings.seed)
                   if settings.bootstrap is not None else sandwich_figures(sample, list(m.at_days), level, labels))
    return c.model_copy(update={"adjusted": headline(figures, se),
                                "survival": c.survival.model_copy(update={"adjusted": figures}),
                                **warning_fields([*c.warning_codes, *prep.warnings])})
