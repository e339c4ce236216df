"""One verdict per metric, and the family's corrected p-values it is decided on.

The verdict reads the figure the group decides on — the adjusted effect in an adjusted comparison,
the always-valid p-value for ``sequential``, the chance to beat control for ``bayesian``, else the test
of the difference — after the group's correction, and never says "significant" beside "too small to
conclude": a metric with too few units, outcomes or power is ``too_small`` whatever its p-value.

Corrections: ``holm`` and ``bh`` over every test of the family (all arms × metrics); ``dunnett`` adjusts
each metric's arms together by Dunnett's many-to-one test (:mod:`.dunnett`), then multiplies by the
number of metrics (Bonferroni across metrics), so the family-wise error over arms × metrics stays at
alpha.
"""

from __future__ import annotations

from collections.abc import Sequence

from metricspec.engine.cg_results import Verdict
from metricspec.engine.experiments import dunnett
from metricspec.engine.experiments.multitest import adjust
from metricspec.engine.results import MetricComparison

TOO_SMALL = frozenset({"cg_too_few_units", "cg_too_few_outcomes", "cg_below_mde", "cg_quantile_too_few",
                       "cg_short_follow_up"})


def correct(pvalues: Sequence[float | None], metrics: Sequence[MetricComparison], correction: str,
            sizes: Sequence[tuple[int, int]] | None = None) -> list[float | None]:
    """Corrected p-values in the input's order (``sizes``: treatment and control units of each test)."""
    if correction != "dunnett":
        return adjust(pvalues, "holm" if correction == "holm" else "bh" if correction == "bh" else "none")
    sizes = sizes or [(m.treatment_n, m.control_n) for m in metrics]
    names = list(dict.fromkeys(m.name for m in metrics))
    out: list[float | None] = [None] * len(pvalues)
    for name in names:
        idx = [i for i, m in enumerate(metrics) if m.name == name]
        control = max(sizes[i][1] for i in idx)
        within = dunnett.adjust([pvalues[i] for i in idx], [sizes[i][0] for i in idx], control)
        for i, p in zip(idx, within, strict=True):
            out[i] = None if p is None else min(1.0, p * len(names))
    return out


def verdict(m: MetricComparison, randomised: bool) -> Verdict:
    if not randomised and m.adjusted is None:
        return "not_adjusted"
    if any(w.code in TOO_SMALL for w in m.warning_codes):
        return "too_small"
    if m.significant is None:
        return "no_test"
    if not m.significant:
        return "no_difference"
    return "no_test" if m.better is None else "better" if m.better else "worse"
