"""Difference-in-differences: the change of the treated from before exposure minus the change of the controls.

Each unit's change is its outcome minus its value in the latest pre-period; the estimate is the
difference of the groups' mean changes, tested with Welch's t-test (the same as the interaction of
group and period in a regression on the two periods with unit-clustered errors, up to degrees of
freedom). It removes differences between the groups that stay constant over time, and assumes the
groups would have changed alike without exposure (parallel trends). With two or more pre-periods the
same difference between the two latest pre-periods is a placebo check of that assumption: a
significant pre-period difference is a warning.
"""

from __future__ import annotations

import numpy as np

from metricspec.engine.cg_results import DidFigures
from metricspec.engine.experiments import fixed
from metricspec.engine.experiments.fixed import Levels


def _changes(post: np.ndarray, pre: np.ndarray) -> np.ndarray:
    diff = post - pre
    out: np.ndarray = diff[np.isfinite(diff)]
    return out


def did(treated: list[np.ndarray], control: list[np.ndarray], pre_columns: list[str], levels: Levels) -> DidFigures:
    """``treated``/``control``: the outcome then each pre-period (oldest first), one array per column."""
    post_t, pre_t = treated[0], treated[1:]
    post_c, pre_c = control[0], control[1:]
    ch_t, ch_c = _changes(post_t, pre_t[-1]), _changes(post_c, pre_c[-1])
    main = fixed.welch(ch_t, ch_c, levels) if ch_t.size and ch_c.size else fixed.Outcome()
    trend_diff = trend_p = None
    parallel = None
    if len(pre_columns) >= 2:
        pt, pc = _changes(pre_t[-1], pre_t[-2]), _changes(pre_c[-1], pre_c[-2])
        if pt.size and pc.size:
            placebo = fixed.welch(pt, pc, levels)
            if placebo.treatment_value is not None and placebo.control_value is not None:
                trend_diff = placebo.treatment_value - placebo.control_value
            trend_p = placebo.p_value
            parallel = None if trend_p is None else trend_p >= levels.alpha
    t, c = main.treatment_value, main.control_value
    return DidFigures(pre_column=pre_columns[-1], treated_change=t, control_change=c,
                      difference=None if t is None or c is None else t - c,
                      difference_ci_low=main.ci[0] if main.ci else None,
                      difference_ci_high=main.ci[1] if main.ci else None, p_value=main.p_value,
                      pre_trend_difference=trend_diff, pre_trend_p_value=trend_p, parallel=parallel)
