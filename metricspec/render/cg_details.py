"""What an adjusted, survival or several-arm control group shows beyond its main table, as localised views.

* the design: a comparison that was not randomised (adjusted or not), several treatment arms;
* per treatment arm of an adjusted comparison: the balance of every covariate before and after (the
  0.1 threshold), the propensities' overlap, units left out and the effective sample sizes;
* per survival metric: each group's units, ends, censored units, median tenure and retention at each
  day with their intervals, the log-rank test and the hazard ratio, and the Kaplan–Meier curves;
* difference-in-differences of the metrics with a pre-period, and the parallel pre-trends check.
"""

from __future__ import annotations

from pydantic import Field

from metricspec.engine.cg_results import Diagnostics, RetentionLift, SurvivalArm
from metricspec.engine.results import ExperimentResult, MetricComparison
from metricspec.render.cg_charts import km_chart
from metricspec.render.cg_text import unit_of
from metricspec.render.cg_views import CgCell, CgFact, CgRow, CgTable
from metricspec.render.i18n import Translator
from metricspec.render.views import DataTable, Figure, View, chart_view, interval


class BalanceView(View):
    table: CgTable
    facts: list[CgFact]


class SurvivalView(View):
    table: CgTable
    figure: Figure | None


class CgDetails(View):
    balance: list[BalanceView] = Field(default_factory=list)
    survival: list[SurvivalView] = Field(default_factory=list)
    did: CgTable | None = None


def _p(tr: Translator, p: float | None) -> str:
    if p is None:
        return "—"
    return "< " + tr.number(0.0001, 4) if p < 0.0001 else tr.number(p, 4)


def design_text(tr: Translator, cg: ExperimentResult) -> str | None:
    adjusted = [m.adjusted for m in cg.metrics if m.adjusted is not None]
    # survival is always weighted: the group's interval is read from another metric when there is one
    a = next((m.adjusted for m in cg.metrics if m.adjusted is not None and m.kind != "survival"),
             adjusted[0] if adjusted else None)
    if a is not None:
        how = tr(f"cg_interval_{a.interval}")
        if a.bootstrap:
            how = tr("cg_interval_bootstrap_n", n=tr.number(a.bootstrap, 0), seed=str(a.seed))
        method = cg.diagnostics[0].method if cg.diagnostics else a.method
        return tr("cg_design_adjusted", method=tr(f"cg_adjust_{method}"), estimand=tr(f"cg_estimand_{a.estimand}"),
                  interval=how)
    if not cg.randomised:
        return tr("cg_design_not_randomised")
    if cg.arms:
        return tr("cg_design_arms", n=tr.number(len(cg.arms), 0), arms=", ".join(cg.arms))
    return None


def _smd(tr: Translator, v: float | None) -> str:
    return "—" if v is None else ("+" if v > 0 else "") + tr.number(v, 3)


def _balance(tr: Translator, d: Diagnostics, title: str, arms: bool) -> BalanceView:
    rows = [CgRow(head=CgCell(text=b.name), flagged=not b.balanced,
                  cells=[CgCell(text=_smd(tr, b.smd_before), numeric=True),
                         CgCell(text=_smd(tr, b.smd_after), numeric=True, strong=not b.balanced),
                         CgCell(text=tr("yes") if b.balanced else tr("cg_not_balanced"))]) for b in d.balance]
    name = f"{title} · {d.arm}" if arms else title
    table = CgTable(caption=tr("cg_balance_table", name=name), numeric=[False, True, True, False],
                    headers=[tr("col_covariate"), tr("col_smd_before"), tr("col_smd_after"), tr("col_balanced")],
                    rows=rows, note=tr("cg_note_balance", threshold=tr.number(d.smd_threshold, 1)))
    facts = [CgFact(label=tr("cg_overlap"), value=tr(
                 "cg_overlap_value", treated=interval(tr, d.propensity_treated_min, d.propensity_treated_max,
                                                      lambda v: tr.number(v, 3)),
                 control=interval(tr, d.propensity_control_min, d.propensity_control_max, lambda v: tr.number(v, 3)),
                 n=tr.number(d.outside_support, 0), share=tr.percent(d.outside_support_share))),
             CgFact(label=tr("cg_effective_n"), value=tr(
                 "cg_effective_n_value", treated=tr.number(d.effective_n_treated, 0),
                 control=tr.number(d.effective_n_control, 0)))]
    if d.trimmed:
        facts.append(CgFact(label=tr("cg_left_out"), value=tr(
            "cg_left_out_trim" if d.trim else "cg_left_out_caliper", n=tr.number(d.trimmed, 0),
            trim=tr.percent(d.trim or 0.0))))
    if d.max_weight is not None:
        facts.append(CgFact(label=tr("cg_max_weight"), value=tr.number(d.max_weight, 2)))
    if d.dropped_covariates:
        facts.append(CgFact(label=tr("cg_dropped_covariates"), value=", ".join(d.dropped_covariates)))
    return BalanceView(table=table, facts=facts)


def _days(tr: Translator, v: float | None) -> str:
    return tr("cg_not_reached") if v is None else tr.number(v, 0)


def _arm_row(tr: Translator, label: str, arm: SurvivalArm) -> CgRow:
    median = CgCell(text=_days(tr, arm.median), numeric=True,
                    notes=[] if arm.median_ci_low is None else
                    [tr("interval", low=_days(tr, arm.median_ci_low), high=_days(tr, arm.median_ci_high))])
    ret = [CgCell(text=tr.percent(r), numeric=True, notes=[interval(tr, lo, hi, tr.percent)])
           for r, lo, hi in zip(arm.retention, arm.retention_ci_low, arm.retention_ci_high, strict=True)]
    return CgRow(head=CgCell(text=label), cells=[
        CgCell(text=tr.number(arm.n, 0), numeric=True), CgCell(text=tr.number(arm.events, 0), numeric=True),
        CgCell(text=tr.number(arm.censored, 0), numeric=True), median, *ret])


def _hazard(tr: Translator, hr: float | None, low: float | None, high: float | None, p: float | None) -> str:
    return "—" if hr is None else tr("cg_hazard_ratio_value", hr=tr.number(hr, 2), interval=interval(
        tr, low, high, lambda v: tr.number(v, 2)), p=_p(tr, p))


def _lifts(tr: Translator, lifts: list[RetentionLift]) -> str:
    return "; ".join(tr("cg_retention_lift", days=tr.number(x.days, 0), difference=tr.delta(x.difference, "percent"),
                        interval=interval(tr, x.difference_ci_low, x.difference_ci_high,
                                          lambda v: tr.delta(v, "percent")), p=_p(tr, x.p_value)) for x in lifts)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _survival_note(tr: Translator, ms: list[MetricComparison]) -> str:
    """The tests of each arm against the control: log-rank, hazard ratio, retention lifts (and adjusted ones)."""
    parts = []
    for m in ms:
        s = m.survival
        assert s is not None
        hazard = _hazard(tr, s.hazard_ratio, s.hazard_ratio_ci_low, s.hazard_ratio_ci_high, s.hazard_ratio_p_value)
        if len(ms) > 1:
            parts.append(tr("cg_note_survival_arm", arm=m.arm or "", logrank=_p(tr, s.logrank_p_value), hazard=hazard))
        else:
            parts.append(tr("cg_note_survival", logrank=_p(tr, s.logrank_p_value), hazard=hazard))
        parts.append(_sentence(_lifts(tr, s.lifts)))
        a = s.adjusted
        if a is not None:
            parts.append(tr("cg_note_survival_adjusted", estimand=tr(f"cg_estimand_{a.estimand}"), hazard=_hazard(
                tr, a.hazard_ratio, a.hazard_ratio_ci_low, a.hazard_ratio_ci_high, a.hazard_ratio_p_value)))
            parts.append(_sentence(_lifts(tr, a.lifts)))
    if len(ms) > 1:
        parts.insert(0, tr("cg_note_survival_intro"))
    return " ".join(parts)


def _survival(tr: Translator, ms: list[MetricComparison], chart_id: str) -> SurvivalView:
    """One survival metric: its control and each treatment arm (one table and one chart when several arms share
    the control), with the weighted rows and curves of an adjusted comparison."""
    first = ms[0].survival
    assert first is not None
    labels = [tr("col_control"), *((m.arm or tr("col_treatment")) for m in ms)]
    arms = [first.control, *(m.survival.treatment for m in ms if m.survival is not None)]
    rows = [_arm_row(tr, label, arm) for label, arm in zip(labels, arms, strict=True)]
    adjusted = first.adjusted if len(ms) == 1 else None
    if adjusted is not None:
        labels = [tr("cg_weighted_group", group=label) for label in labels]
        arms = [adjusted.control, adjusted.treatment]
        rows += [_arm_row(tr, label, arm) for label, arm in zip(labels, arms, strict=True)]
    m = ms[0]
    title = m.title if m.arm is None or len(ms) > 1 else f"{m.title} · {m.arm}"
    table = CgTable(caption=tr("cg_survival_table", name=title), rows=rows, note=_survival_note(tr, ms),
                    headers=[tr("col_group"), tr("col_units"), tr("col_ended"), tr("col_censored"),
                             tr("col_median_days"), *(tr("col_retained_at", days=tr.number(k, 0)) for k in first.at_days)],
                    numeric=[False, True, True, True, True, *(True for _ in first.at_days)])
    return SurvivalView(table=table, figure=_km_figure(tr, title, first.at_days, list(zip(labels, arms, strict=True)),
                                                       chart_id, weighted=adjusted is not None))


def _km_figure(tr: Translator, title: str, days: list[int], arms: list[tuple[str, SurvivalArm]], chart_id: str,
               weighted: bool) -> Figure:
    """The step curves as stored (see :func:`~metricspec.engine.experiments.survival_compare.thin_curve`), drawn to
    a hundredth of a point; the table under the chart holds each group's median and retention."""
    rows = [{"group": label, "days": int(p.days) if p.days.is_integer() else p.days, "survival": round(p.survival, 4),
             "tip": tr("chart_km_tip", group=label, days=tr.number(p.days, 0), share=tr.percent(p.survival))}
            for label, arm in arms for p in arm.curve]
    ctitle = tr("chart_km_title", name=title)
    desc = tr("chart_km_desc_weighted" if weighted else "chart_km_desc",
              groups=", ".join(f"{label} {_days(tr, arm.median)}" for label, arm in arms))
    chart = km_chart(chart_id, ctitle, desc, rows, groups=[label for label, _ in arms], x_title=tr("chart_km_x"),
                     y_title=tr("chart_km_y"), chart_locale=tr.chart_format)
    table = DataTable(caption=ctitle, headers=[tr("col_group"), tr("col_median_days"),
                                               *(tr("col_retained_at", days=tr.number(k, 0)) for k in days)],
                      rows=[[label, _days(tr, arm.median), *(tr.percent(r) for r in arm.retention)]
                            for label, arm in arms],
                      numeric=[False, True, *(True for _ in days)])
    return Figure(chart=chart_view(chart), table=table)


def _did(tr: Translator, cg: ExperimentResult, title: str) -> CgTable | None:
    rows = []
    for m in cg.metrics:
        d = m.did
        if d is None:
            continue
        unit, cur = unit_of(m), cg.currency

        def delta(v: float | None, unit: str = unit, cur: str | None = cur) -> str:
            return tr.delta(v, unit, cur)

        trend = "—" if d.parallel is None else tr("cg_parallel_yes" if d.parallel else "cg_parallel_no",
                                                    p=_p(tr, d.pre_trend_p_value))
        rows.append(CgRow(head=CgCell(text=m.title if m.arm is None else f"{m.title} · {m.arm}"), flagged=d.parallel is False,
                          cells=[CgCell(text=d.pre_column), CgCell(text=delta(d.treated_change), numeric=True),
                                 CgCell(text=delta(d.control_change), numeric=True),
                                 CgCell(text=delta(d.difference), numeric=True,
                                        notes=[interval(tr, d.difference_ci_low, d.difference_ci_high, delta)]),
                                 CgCell(text=_p(tr, d.p_value), numeric=True), CgCell(text=trend)]))
    if not rows:
        return None
    return CgTable(caption=tr("cg_did_table", name=title), rows=rows, note=tr("cg_note_did"),
                   headers=[tr("col_metric"), tr("col_pre_period"), tr("col_treated_change"), tr("col_control_change"),
                            tr("col_did"), tr("col_p_difference"), tr("col_pre_trends")],
                   numeric=[False, False, True, True, True, True, False])


def _survival_metrics(cg: ExperimentResult) -> list[list[MetricComparison]]:
    """Survival metrics, the arms of one metric together (they share the control's curve) unless adjusted (each
    arm's control is weighted to that arm's population)."""
    groups: dict[str, list[MetricComparison]] = {}
    for m in cg.metrics:
        if m.survival is not None:
            groups.setdefault(m.name if m.survival.adjusted is None else f"{m.name}\x00{m.arm}", []).append(m)
    return list(groups.values())


def details_view(tr: Translator, cg: ExperimentResult, title: str, chart_id: str) -> CgDetails | None:
    details = CgDetails(
        balance=[_balance(tr, d, title, bool(cg.arms)) for d in cg.diagnostics],
        survival=[_survival(tr, ms, f"{chart_id}-km{i}") for i, ms in enumerate(_survival_metrics(cg))],
        did=_did(tr, cg, title))
    return details if details.balance or details.survival or details.did else None
