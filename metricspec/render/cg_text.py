"""A control group's comparisons as plain-text table rows, for the terminal and Markdown outputs (English).

One verdict per metric (never "significant" beside "too small to conclude"), every figure in its
metric's unit (money in the spec's currency, proportions' differences in percentage points). An
adjusted comparison shows the unadjusted difference beside the adjusted one; its balance, overlap
and effective sample sizes, the survival figures and the difference-in-differences follow as tables
of their own (:func:`detail_tables`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.render.formatting import fmt_delta, fmt_pct, fmt_value

if TYPE_CHECKING:
    from metricspec.engine.cg_results import Diagnostics, SurvivalArm, SurvivalFigures
    from metricspec.engine.results import ExperimentResult, MetricComparison

Table = tuple[str, list[str], list[list[str]]]  # title, headers, rows


def fmt_p(value: float | None) -> str:
    if value is None:
        return "—"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def fmt_interval(low: float | None, high: float | None) -> str:
    return "—" if low is None or high is None else f"{low:+.1%} … {high:+.1%}"


CORRECTION_LABELS = {"holm": "Holm", "bh": "BH", "dunnett": "Dunnett", "none": "none"}
VERDICTS = {"better": "better", "worse": "worse", "no_difference": "no difference", "too_small": "too small to conclude",
            "no_test": "no test", "not_adjusted": "comparison only (not adjusted)"}
METHODS = {"ipw": "inverse-probability weighting", "matching": "nearest-neighbour matching on the propensity",
           "regression": "regression adjustment", "doubly_robust": "doubly robust (AIPW)"}
ESTIMANDS = {"att": "effect on the treated (ATT)", "ate": "effect on everyone (ATE)"}
INTERVALS = {"sandwich": "robust (sandwich) standard errors", "abadie_imbens": "Abadie–Imbens standard errors",
             "bootstrap": "a seeded bootstrap"}


def unit_of(m: MetricComparison) -> str:
    return m.unit or ("percent" if m.kind in ("proportion", "survival") else "number")


def verdict_text(m: MetricComparison) -> str:
    if m.verdict is None:  # Results written before verdicts
        return "yes" if m.significant else "no"
    return VERDICTS[m.verdict]


def metric_label(m: MetricComparison) -> str:
    head = m.title if m.arm is None else f"{m.title} · {m.arm}"
    if m.survival is not None:
        head += f" (retained at {m.survival.at_days[0]} days)"
    return head


def _adjusted(cg: ExperimentResult) -> bool:
    return any(m.adjusted is not None for m in cg.metrics)


def _headers(cg: ExperimentResult) -> list[str]:
    if cg.method == "bayesian":
        return ["Metric", "Control", "Treatment", "Lift (posterior)", "Credible interval", "Chance to beat control",
                "Expected loss", "Verdict"]
    correction = f"p adj. ({CORRECTION_LABELS[cg.correction]})"
    if _adjusted(cg):
        return ["Metric", "Control", "Treatment", "Unadjusted diff", "Adjusted diff", "CI (adjusted diff)",
                "Adjusted lift", "p (adjusted)", correction, "Verdict"]
    prefix = "always-valid " if cg.method == "sequential" else ""
    return ["Metric", "Control", "Treatment", "Diff", "Lift", f"{prefix}CI (lift)", f"{prefix}p (diff)",
            correction, f"{prefix}p (lift)", "Verdict"]


def _row(cg: ExperimentResult, m: MetricComparison) -> list[str]:
    unit, cur = unit_of(m), cg.currency
    head = [metric_label(m), fmt_value(m.control_value, unit, cur), fmt_value(m.treatment_value, unit, cur)]
    b, s, a = m.bayesian, m.sequential, m.adjusted
    if cg.method == "bayesian":
        return [*head, fmt_pct(b.relative_lift if b else None),
                fmt_interval(*(b.credible_interval_low, b.credible_interval_high) if b else (None, None)),
                "—" if b is None or b.chance_to_beat_control is None else f"{b.chance_to_beat_control:.1%}",
                "—" if b is None or b.expected_loss is None else f"{b.expected_loss:.2%}", verdict_text(m)]
    if _adjusted(cg):
        shown = "—" if a is None or a.difference_ci_low is None or a.difference_ci_high is None else \
            f"{fmt_delta(a.difference_ci_low, unit, cur)} … {fmt_delta(a.difference_ci_high, unit, cur)}"
        return [*head, fmt_delta(m.difference, unit, cur), fmt_delta(a.difference if a else None, unit, cur), shown,
                fmt_pct(a.relative_lift if a else None), fmt_p(a.p_value if a else None),
                fmt_p(a.p_value_adjusted if a else None), verdict_text(m)]
    if cg.method == "sequential":
        ci = (s.relative_lift_ci_low, s.relative_lift_ci_high) if s else (None, None)
        p, p_adj, p_rel = (s.p_value, s.p_value_adjusted, s.relative_p_value) if s else (None, None, None)
    else:
        ci, p, p_adj, p_rel = (m.relative_lift_ci_low, m.relative_lift_ci_high), m.p_value, m.p_value_adjusted, \
            m.relative_p_value
    return [*head, fmt_delta(m.difference, unit, cur), fmt_pct(m.relative_lift), fmt_interval(*ci), fmt_p(p),
            fmt_p(p_adj), fmt_p(p_rel), verdict_text(m)]


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


def design_line(cg: ExperimentResult) -> str | None:
    """What kind of comparison this is and how its intervals were computed (None: a plain randomised test)."""
    adjusted = [m for m in cg.metrics if m.adjusted is not None]
    first = next((m for m in adjusted if m.kind != "survival"), adjusted[0] if adjusted else None)
    if first is not None and first.adjusted is not None:
        a = first.adjusted
        how = INTERVALS[a.interval] + (f" ({a.bootstrap} resamples, seed {a.seed})" if a.bootstrap else "")
        method = cg.diagnostics[0].method if cg.diagnostics else a.method
        weighted = " Survival metrics are weighted by the inverse probability of each unit's group." if method != "ipw" \
            and any(m.kind == "survival" for m in adjusted) else ""
        return (f"Not randomised: adjusted by {METHODS[method]}, {ESTIMANDS[a.estimand]}; intervals from {how}.{weighted} "
                "The unadjusted difference shows how much selection there was.")
    if not cg.randomised:
        return "Not randomised and not adjusted: a comparison, not an experiment."
    if cg.arms:
        return f"{len(cg.arms)} treatment arms ({', '.join(cg.arms)}) against one control; correction " \
               f"{CORRECTION_LABELS[cg.correction]} across arms × metrics."
    return None


def _smd(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}"


def balance_table(d: Diagnostics) -> Table:
    rows = [[b.name, _smd(b.smd_before), _smd(b.smd_after), "yes" if b.balanced else "NO"] for b in d.balance]
    return (f"Balance{'' if d.arm == 'treatment' else f' ({d.arm})'}: standardised mean differences, threshold {d.smd_threshold:g}",
            ["Covariate", "SMD before", "SMD after", "Balanced"], rows)


def overlap_line(d: Diagnostics) -> str:
    parts = [f"propensity treated {d.propensity_treated_min:.3f}–{d.propensity_treated_max:.3f}, "
             f"control {d.propensity_control_min:.3f}–{d.propensity_control_max:.3f}",
             f"outside common support: {d.outside_support:,} ({d.outside_support_share:.1%})",
             f"effective sample: {d.effective_n_treated:,.0f} treated, {d.effective_n_control:,.0f} control"]
    if d.trimmed:
        parts.append(f"left out: {d.trimmed:,}" + (f" (trim {d.trim:g})" if d.trim else " (no match in the caliper)"))
    if d.max_weight is not None:
        parts.append(f"largest weight {d.max_weight:.2f}")
    if d.n_missing:
        parts.append(f"{d.n_missing:,} units with a missing covariate")
    return f"Overlap{'' if d.arm == 'treatment' else f' ({d.arm})'}: " + "; ".join(parts)


def _days(value: float | None) -> str:
    return "not reached" if value is None else f"{value:,.0f}"


def survival_table(m: MetricComparison, s: SurvivalFigures) -> Table:
    headers = ["Group", "Units", "Ended", "Censored", "Median days (CI)",
               *(f"Retained at {k} days (CI)" for k in s.at_days)]
    treated = s.treatment.model_copy(update={"label": m.arm or s.treatment.label})
    rows = [_survival_row(arm) for arm in (s.control, treated)]
    title = f"Survival: {metric_label(m)} — log-rank p {fmt_p(s.logrank_p_value)}, hazard ratio " + \
        _hr(s.hazard_ratio, s.hazard_ratio_ci_low, s.hazard_ratio_ci_high)
    a = s.adjusted
    if a is not None:
        rows += [_survival_row(arm.model_copy(update={"label": f"{label}, weighted"}))
                 for arm, label in ((a.control, s.control.label), (a.treatment, treated.label))]
        lift = a.lifts[0]
        ci = "—" if lift.difference_ci_low is None or lift.difference_ci_high is None else \
            f"{fmt_delta(lift.difference_ci_low, 'percent', None)} … {fmt_delta(lift.difference_ci_high, 'percent', None)}"
        title += f"; weighted ({a.estimand.upper()}): hazard ratio " + \
            f"{_hr(a.hazard_ratio, a.hazard_ratio_ci_low, a.hazard_ratio_ci_high)}, retention at {lift.days} days " \
            f"{fmt_delta(lift.difference, 'percent', None)} ({ci})"
    return title, headers, rows


def _hr(hr: float | None, low: float | None, high: float | None) -> str:
    if hr is None:
        return "—"
    return f"{hr:.3f}" + ("" if low is None or high is None else f" ({low:.3f} … {high:.3f})")


def _survival_row(arm: SurvivalArm) -> list[str]:
    ret = [("—" if r is None else f"{r:.1%}") + ("" if lo is None or hi is None else f" ({lo:.1%} … {hi:.1%})")
           for r, lo, hi in zip(arm.retention, arm.retention_ci_low, arm.retention_ci_high, strict=True)]
    median = _days(arm.median) + (f" ({_days(arm.median_ci_low)} … {_days(arm.median_ci_high)})"
                                  if arm.median_ci_low is not None else "")
    return [arm.label, f"{arm.n:,}", f"{arm.events:,}", f"{arm.censored:,}", median, *ret]


def did_table(cg: ExperimentResult) -> Table | None:
    rows = []
    for m in cg.metrics:
        d = m.did
        if d is None:
            continue
        unit, cur = unit_of(m), cg.currency
        ci = "—" if d.difference_ci_low is None or d.difference_ci_high is None else \
            f"{fmt_delta(d.difference_ci_low, unit, cur)} … {fmt_delta(d.difference_ci_high, unit, cur)}"
        trend = "—" if d.parallel is None else ("parallel" if d.parallel else "NOT parallel") + \
            f" (p {fmt_p(d.pre_trend_p_value)})"
        rows.append([metric_label(m), d.pre_column, fmt_delta(d.treated_change, unit, cur),
                     fmt_delta(d.control_change, unit, cur), fmt_delta(d.difference, unit, cur), ci, fmt_p(d.p_value),
                     trend])
    if not rows:
        return None
    return ("Difference-in-differences (change since the pre-period)",
            ["Metric", "From", "Treated change", "Control change", "Difference", "CI", "p", "Pre-trends"], rows)


def detail_tables(cg: ExperimentResult) -> tuple[list[str], list[Table]]:
    """Lines (the design, overlap) and tables (balance, survival, difference-in-differences) after the main table."""
    lines = [x for x in [design_line(cg)] if x]
    tables: list[Table] = []
    for d in cg.diagnostics:
        tables.append(balance_table(d))
        lines.append(overlap_line(d))
    tables += [survival_table(m, m.survival) for m in cg.metrics if m.survival is not None]
    did = did_table(cg)
    if did is not None:
        tables.append(did)
    return lines, tables
