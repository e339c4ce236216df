"""A control group's comparisons as plain-text table rows, for the terminal and Markdown outputs (English)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.render.formatting import fmt_delta, fmt_pct, fmt_value

if TYPE_CHECKING:
    from metricspec.engine.results import ExperimentResult, MetricComparison


def fmt_p(value: float | None) -> str:
    if value is None:
        return "—"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def fmt_interval(low: float | None, high: float | None) -> str:
    return "—" if low is None or high is None else f"{low:+.1%} … {high:+.1%}"


CORRECTION_LABELS = {"holm": "Holm", "bh": "BH", "none": "none"}


def _headers(cg: ExperimentResult) -> list[str]:
    if cg.method == "bayesian":
        return ["Metric", "Control", "Treatment", "Lift (posterior)", "Credible interval", "Chance to beat control",
                "Expected loss", "Conclusive"]
    prefix = "always-valid " if cg.method == "sequential" else ""
    return ["Metric", "Control", "Treatment", "Diff", "Lift", f"{prefix}CI (lift)", f"{prefix}p (diff)",
            f"p adj. ({CORRECTION_LABELS[cg.correction]})", f"{prefix}p (lift)", "Significant"]


def _row(cg: ExperimentResult, m: MetricComparison) -> list[str]:
    unit = "percent" if m.kind == "proportion" else "number"
    head = [m.title, fmt_value(m.control_value, unit), fmt_value(m.treatment_value, unit)]
    verdict = "yes" if m.significant else "no"
    b, s = m.bayesian, m.sequential
    if cg.method == "bayesian":
        return [*head, fmt_pct(b.relative_lift if b else None),
                fmt_interval(*(b.credible_interval_low, b.credible_interval_high) if b else (None, None)),
                "—" if b is None or b.chance_to_beat_control is None else f"{b.chance_to_beat_control:.1%}",
                "—" if b is None or b.expected_loss is None else f"{b.expected_loss:.2%}", verdict]
    if cg.method == "sequential":
        ci = (s.relative_lift_ci_low, s.relative_lift_ci_high) if s else (None, None)
        p, p_adj, p_rel = (s.p_value, s.p_value_adjusted, s.relative_p_value) if s else (None, None, None)
    else:
        ci, p, p_adj, p_rel = (m.relative_lift_ci_low, m.relative_lift_ci_high), m.p_value, m.p_value_adjusted, \
            m.relative_p_value
    return [*head, fmt_delta(m.difference, unit), fmt_pct(m.relative_lift), fmt_interval(*ci), fmt_p(p),
            fmt_p(p_adj), fmt_p(p_rel), verdict]


def control_group_table(cg: ExperimentResult) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of a control group for the terminal and Markdown outputs (English), by method."""
    return _headers(cg), [_row(cg, m) for m in cg.metrics]


def segment_table(cg: ExperimentResult) -> tuple[list[str], list[list[str]]]:
    """The per-segment comparisons: a ``Segment`` column (``column=value``, ``(SRM)`` when the split mismatches)
    before the columns of :func:`control_group_table`."""
    rows = []
    for seg in cg.segments:
        label = f"{seg.column}={'(no value)' if seg.value is None else seg.value}" + (" (SRM)" if seg.srm.mismatch else "")
        rows += [[label, *_row(cg, m)] for m in seg.metrics]
    return ["Segment", *_headers(cg)], rows
