"""The control-group section of a scorecard: a control group's results as display-ready, localised views.

One table per group whose columns follow the group's ``method``: fixed-horizon p-values of the
difference and of the lift (raw and adjusted), always-valid ones for ``sequential``, the posterior
figures for ``bayesian``; one table per segment column; the sample-ratio check as an alert.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from metricspec.engine.results import (
    EngineMessage,
    ExperimentResult,
    MetricComparison,
    SampleRatioCheck,
)
from metricspec.render import charts
from metricspec.render.cg_details import CgDetails, design_text, details_view
from metricspec.render.cg_text import unit_of
from metricspec.render.cg_views import CgCell, CgFact, CgRow, CgTable, SrmAlert
from metricspec.render.i18n import Translator
from metricspec.render.views import DataTable, Figure, View, chart_view, interval


class ControlGroupView(View):
    anchor: str
    title: str
    description: str | None
    facts: list[CgFact]
    srm: SrmAlert | None  # shown prominently when the sample ratio mismatches
    warnings: list[str]
    table: CgTable
    figure: Figure | None
    segments: list[CgTable]
    design: str | None = None  # a comparison, not an experiment; how it was adjusted; several arms
    details: CgDetails | None = None  # balance, overlap, survival, difference-in-differences


@dataclass(frozen=True)
class _Column:
    header: str
    cell: Callable[[MetricComparison], CgCell]
    numeric: bool = True


def warnings_text(tr: Translator, texts: list[str], codes: list[EngineMessage], unit: str = "number",
                  currency: str | None = None) -> list[str]:
    """Warnings translated from their message codes when present (Results written before codes had none), the
    metric's figures in its ``unit`` (a proportion's difference in percentage points, money in ``currency``)."""
    if len(codes) != len(texts):
        return list(texts)
    return [tr.message(c.code, c.params, text, unit, currency) for c, text in zip(codes, texts, strict=True)]


def p_text(tr: Translator, p: float | None) -> str:
    if p is None:
        return "—"
    if p < 0.0001:
        return "< " + tr.number(0.0001, 4)
    return tr.number(p, 4)


def p_phrase(tr: Translator, p: float | None) -> str:
    """``p = 0.0123`` or ``p < 0.0001``, for sentences."""
    text = p_text(tr, p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _unit(m: MetricComparison) -> str:
    return unit_of(m)


def metric_head(tr: Translator, m: MetricComparison) -> str:
    """The metric's title, its arm when there are several, and for survival metrics the day its figures are at."""
    head = m.title if m.arm is None else f"{m.title} · {m.arm}"
    if m.survival is not None:
        head += " " + tr("cg_retained_at", days=tr.number(m.survival.at_days[0], 0))
    return head


def is_conclusive(m: MetricComparison) -> bool:
    if m.verdict is None:  # Results written before verdicts
        return bool(m.significant)
    return m.verdict in ("better", "worse")


def _correction_name(tr: Translator, correction: str) -> str:
    return tr(f"cg_correction_{correction}")


@dataclass(frozen=True)
class _Shown:
    """The figures a table shows for one metric under the group's method."""

    diff_ci: tuple[float | None, float | None]
    p: float | None
    p_adjusted: float | None
    lift: float | None
    lift_ci: tuple[float | None, float | None]
    p_lift: float | None
    p_lift_adjusted: float | None


def _shown(m: MetricComparison, method: str) -> _Shown:
    s, b = m.sequential, m.bayesian
    if method == "sequential":
        if s is None:
            return _Shown((None, None), None, None, m.relative_lift, (None, None), None, None)
        return _Shown((s.difference_ci_low, s.difference_ci_high), s.p_value, s.p_value_adjusted, m.relative_lift,
                      (s.relative_lift_ci_low, s.relative_lift_ci_high), s.relative_p_value, s.relative_p_value_adjusted)
    if method == "bayesian":
        lift, ci = (b.relative_lift, (b.credible_interval_low, b.credible_interval_high)) if b else (None, (None, None))
        return _Shown((m.difference_ci_low, m.difference_ci_high), None, None, lift, ci, None, None)
    return _Shown((m.difference_ci_low, m.difference_ci_high), m.p_value, m.p_value_adjusted, m.relative_lift,
                  (m.relative_lift_ci_low, m.relative_lift_ci_high), m.relative_p_value, m.relative_p_value_adjusted)


class _Columns:
    """The table's columns for one control group's method and correction: each estimate with its interval
    beneath, each p-value with its adjusted value in the next column."""

    def __init__(self, tr: Translator, cg: ExperimentResult) -> None:
        self.tr, self.cg = tr, cg
        self.adjusted = any(m.adjusted is not None for m in cg.metrics)

    def _estimate(self, text: str, low: float | None, high: float | None, fmt: Callable[[float], str]) -> CgCell:
        notes = [] if low is None or high is None else [interval(self.tr, low, high, fmt)]
        return CgCell(text=text, numeric=True, notes=notes)

    def _p(self, p: float | None) -> CgCell:
        return CgCell(text=p_text(self.tr, p), numeric=True)

    def _lift(self, m: MetricComparison) -> CgCell:
        sh, tr = _shown(m, self.cg.method), self.tr
        return self._estimate(tr.percent(sh.lift, signed=True), *sh.lift_ci, lambda v: tr.percent(v, signed=True))

    def values(self) -> list[_Column]:
        tr = self.tr

        cur = self.cg.currency

        def group(m: MetricComparison, value: float | None, low: float | None, high: float | None, n: int) -> CgCell:
            cell = self._estimate(tr.value(value, _unit(m), cur), low, high, lambda v: tr.value(v, _unit(m), cur))
            return cell.model_copy(update={"notes": [*cell.notes, tr("cg_units", n=tr.number(n, 0))]})

        def difference(m: MetricComparison) -> CgCell:
            low, high = _shown(m, self.cg.method).diff_ci
            return self._estimate(tr.delta(m.difference, _unit(m), cur), low, high,
                                  lambda v: tr.delta(v, _unit(m), cur))

        if self.adjusted:
            return [_Column(tr("col_control"),
                            lambda m: group(m, m.control_value, m.control_ci_low, m.control_ci_high, m.control_n)),
                    _Column(tr("col_treatment"), lambda m: group(m, m.treatment_value, m.treatment_ci_low,
                                                                 m.treatment_ci_high, m.treatment_n)),
                    _Column(tr("col_unadjusted_difference"), difference)]

        header = "col_seq_difference_ci" if self.cg.method == "sequential" else "col_difference_ci"
        return [_Column(tr("col_control"),
                        lambda m: group(m, m.control_value, m.control_ci_low, m.control_ci_high, m.control_n)),
                _Column(tr("col_treatment"),
                        lambda m: group(m, m.treatment_value, m.treatment_ci_low, m.treatment_ci_high, m.treatment_n)),
                _Column(tr(header), difference)]

    def frequentist(self) -> list[_Column]:
        tr = self.tr
        seq = "seq_" if self.cg.method == "sequential" else ""
        adjusted = self.cg.correction != "none"
        cols = [_Column(tr(f"col_{seq}p_difference"), lambda m: self._p(_shown(m, self.cg.method).p))]
        if adjusted:
            cols.append(_Column(tr("col_p_difference_adjusted"), lambda m: self._p(_shown(m, self.cg.method).p_adjusted)))
        cols += [_Column(tr(f"col_{seq}lift_ci"), self._lift),
                 _Column(tr(f"col_{seq}p_lift"), lambda m: self._p(_shown(m, self.cg.method).p_lift))]
        if adjusted:
            cols.append(_Column(tr("col_p_lift_adjusted"),
                                lambda m: self._p(_shown(m, self.cg.method).p_lift_adjusted)))
        return cols

    def bayesian(self) -> list[_Column]:
        tr = self.tr
        return [
            _Column(tr("col_credible_interval"), self._lift),
            _Column(tr("col_chance_to_beat"), lambda m: CgCell(text=tr.percent(
                m.bayesian.chance_to_beat_control if m.bayesian else None), numeric=True)),
            _Column(tr("col_expected_loss"), lambda m: CgCell(text=tr.percent(
                m.bayesian.expected_loss if m.bayesian else None, 2), numeric=True)),
        ]

    def adjusted_figures(self) -> list[_Column]:
        """An adjusted comparison: the adjusted difference and lift with their intervals, their p-values."""
        tr, cur = self.tr, self.cg.currency

        def diff(m: MetricComparison) -> CgCell:
            a, u = m.adjusted, _unit(m)
            if a is None:
                return CgCell(text="—", numeric=True)
            return self._estimate(tr.delta(a.difference, u, cur), a.difference_ci_low, a.difference_ci_high,
                                  lambda v: tr.delta(v, u, cur))

        def lift(m: MetricComparison) -> CgCell:
            a = m.adjusted
            if a is None:
                return CgCell(text="—", numeric=True)
            return self._estimate(tr.percent(a.relative_lift, signed=True), a.relative_lift_ci_low,
                                  a.relative_lift_ci_high, lambda v: tr.percent(v, signed=True))

        cols = [_Column(tr("col_adjusted_difference"), diff), _Column(tr("col_adjusted_lift"), lift),
                _Column(tr("col_p_adjusted_effect"), lambda m: self._p(m.adjusted.p_value if m.adjusted else None))]
        if self.cg.correction != "none":
            cols.append(_Column(tr("col_p_difference_adjusted"),
                                lambda m: self._p(m.adjusted.p_value_adjusted if m.adjusted else None)))
        return cols

    def verdict(self) -> _Column:
        tr = self.tr

        def cell(m: MetricComparison) -> CgCell:
            key = m.verdict or ("better" if m.significant and m.better else "worse" if m.significant else
                                "no_difference")
            return CgCell(text=tr(f"cg_verdict_{key}"), strong=is_conclusive(m))
        return _Column(tr("col_verdict"), cell, False)

    def all(self) -> list[_Column]:
        if self.adjusted:
            method = self.adjusted_figures()
        else:
            method = self.bayesian() if self.cg.method == "bayesian" else self.frequentist()
        # the verdict first after the metric: on a phone it stays on screen while the figures scroll
        return [self.verdict(), *self.values(), *method]


def _prior(tr: Translator, cg: ExperimentResult) -> str:
    b = next((m.bayesian for m in cg.metrics if m.bayesian is not None), None)
    if b is None or b.prior_mean is None or b.prior_stddev is None:
        return tr("cg_note_prior_flat")
    return tr("cg_note_prior_proper", mean=tr.percent(b.prior_mean, signed=True), stddev=tr.percent(b.prior_stddev))


def _note(tr: Translator, cg: ExperimentResult) -> str:
    """What the table's figures are: which test each p-value is, what the correction covers."""
    if any(m.adjusted is not None for m in cg.metrics):
        text = tr("cg_note_adjusted_effect")
        if cg.correction != "none":
            text += " " + tr("cg_note_adjusted", correction=_correction_name(tr, cg.correction), n=len(cg.metrics))
        return text
    if cg.method == "bayesian":
        return tr("cg_note_bayesian", level=tr.percent(1 - cg.alpha, 0)) + " " + _prior(tr, cg)
    text = tr("cg_note_sequential" if cg.method == "sequential" else "cg_note_frequentist")
    if cg.correction != "none":
        text += " " + tr("cg_note_adjusted", correction=_correction_name(tr, cg.correction), n=len(cg.metrics))
    return text


def _segment_note(tr: Translator, cg: ExperimentResult) -> str:
    if cg.method == "bayesian" or cg.correction == "none":
        return tr("cg_note_segments_plain")
    n = sum(len(s.metrics) for s in cg.segments)
    return tr("cg_note_segments", correction=_correction_name(tr, cg.correction), n=n)


def _metric_table(tr: Translator, cg: ExperimentResult, title: str) -> CgTable:
    columns = _Columns(tr, cg).all()
    rows = [CgRow(head=CgCell(text=metric_head(tr, m)), cells=[c.cell(m) for c in columns],
                  warnings=warnings_text(tr, m.warnings, m.warning_codes, _unit(m), cg.currency),
                  muted=not is_conclusive(m)) for m in cg.metrics]
    return CgTable(caption=tr("control_group_table", name=title), headers=[tr("col_metric"), *(c.header for c in columns)],
                   numeric=[False, *(c.numeric for c in columns)], rows=rows, note=_note(tr, cg))


def _segment_tables(tr: Translator, cg: ExperimentResult, title: str) -> list[CgTable]:
    columns = _Columns(tr, cg).all()
    tables: dict[str, CgTable] = {}
    for seg in cg.segments:
        label = seg.value if seg.value is not None else tr("segment_null")
        srm_note = [tr("segment_srm", p=p_phrase(tr, seg.srm.p_value))] if seg.srm.mismatch else []
        rows = [CgRow(head=CgCell(text=f"{label} · {m.title}"), cells=[c.cell(m) for c in columns],
                      warnings=srm_note + warnings_text(tr, m.warnings, m.warning_codes, _unit(m), cg.currency),
                      flagged=seg.srm.mismatch, muted=not is_conclusive(m))
                for m in seg.metrics]
        table = tables.get(seg.column)
        if table is None:
            table = CgTable(caption=tr("segment_table", column=seg.column, name=title),
                            headers=[tr("col_segment"), *(c.header for c in columns)],
                            numeric=[False, *(c.numeric for c in columns)], rows=[], note=_segment_note(tr, cg))
        tables[seg.column] = table.model_copy(update={"rows": [*table.rows, *rows]})
    return list(tables.values())


def _srm(tr: Translator, srm: SampleRatioCheck) -> SrmAlert | None:
    if not srm.mismatch:
        return None
    if srm.group_counts is not None and srm.planned_shares is not None:
        return SrmAlert(title=tr("srm_title"), detail=tr(
            "srm_detail_arms", groups=", ".join(f"{k} {tr.number(v, 0)}" for k, v in srm.group_counts.items()),
            shares=", ".join(f"{k} {tr.percent(v)}" for k, v in srm.planned_shares.items()), p=p_phrase(tr, srm.p_value),
            threshold=tr.number(srm.threshold, _digits(srm.threshold))))
    return SrmAlert(title=tr("srm_title"), detail=tr(
        "srm_detail", treatment=tr.number(srm.treatment_n, 0), control=tr.number(srm.control_n, 0),
        share=tr.percent(srm.expected_treatment_share, 0), p=p_phrase(tr, srm.p_value),
        threshold=tr.number(srm.threshold, _digits(srm.threshold))))


def _digits(value: float) -> int:
    """Decimals that show a small setting such as 0.001 or 0.0001 exactly (up to 10)."""
    text = f"{value:.10f}".rstrip("0")
    return max(1, len(text.split(".")[1])) if "." in text else 0


def _facts(tr: Translator, cg: ExperimentResult) -> list[CgFact]:
    method = tr(f"cg_method_{cg.method}")
    if cg.method == "sequential" and cg.metrics and cg.metrics[0].sequential is not None:
        method = tr("cg_method_sequential_tuned", tuning=tr.number(cg.metrics[0].sequential.tuning))
    facts = [CgFact(label=tr("cg_method"), value=method),
             CgFact(label=tr("confidence_level"), value=tr.percent(cg.confidence_level,
                                                                    max(0, _digits(cg.confidence_level) - 2)))]
    if cg.method != "bayesian":
        facts.append(CgFact(label=tr("cg_correction"), value=_correction_name(tr, cg.correction)))
    if cg.time_column is not None and cg.window_end is not None:
        key = "cg_window_until" if cg.window_start is None else "cg_window_range"
        facts.append(CgFact(label=tr("cg_window"), value=tr(key, start=tr.date(cg.window_start), end=tr.date(
            cg.window_end), column=cg.time_column)))
    return facts


def _lift_figure(tr: Translator, cg: ExperimentResult, title: str, chart_id: str) -> Figure | None:
    """The lifts with their intervals (as the table shows them under the group's method), and their numbers
    as a table of their own."""
    def lift(v: float | None) -> str:
        return tr.percent(v, signed=True)

    rows: list[dict[str, Any]] = []
    adjusted = any(m.adjusted is not None for m in cg.metrics)
    for m in cg.metrics:
        if adjusted and m.adjusted is None:  # a difference, not an effect: not drawn beside the effects
            continue
        shown = _shown(m, cg.method)
        estimate, (low, high) = shown.lift, shown.lift_ci
        if m.adjusted is not None:
            estimate, low, high = m.adjusted.relative_lift, m.adjusted.relative_lift_ci_low, \
                m.adjusted.relative_lift_ci_high
        label = metric_head(tr, m)
        rows.append({"label": label, "estimate": estimate, "low": low, "high": high,
                     "significance": tr("significant") if is_conclusive(m) else tr("not_significant"),
                     "tip": tr("chart_lift_desc_row", metric=label, lift=lift(estimate), low=lift(low),
                               high=lift(high))})
    drawn = [r for r in rows if r["estimate"] is not None]
    if not drawn:
        return None
    key = {"sequential": "chart_lift_title_sequential", "bayesian": "chart_lift_title_bayesian"}.get(
        cg.method, "chart_lift_title")
    if any(m.adjusted is not None for m in cg.metrics):
        key = "chart_lift_title_adjusted"
    ctitle = tr(key, name=title)
    chart = charts.interval_chart(chart_id, ctitle, "; ".join(r["tip"] for r in drawn), rows, x_title=tr("col_lift"),
                                  significance=[tr("significant"), tr("not_significant")], chart_locale=tr.chart_format)
    ci_header = {"sequential": "col_seq_lift_ci", "bayesian": "col_credible_interval"}.get(cg.method, "col_lift_ci")
    table = DataTable(caption=ctitle, headers=[tr("col_metric"), tr("col_lift"), tr(ci_header)],
                      rows=[[r["label"], lift(r["estimate"]), interval(tr, r["low"], r["high"], lift)] for r in drawn],
                      numeric=[False, True, False])
    return Figure(chart=chart_view(chart), table=table)


def _group_warnings(tr: Translator, cg: ExperimentResult) -> list[str]:
    """The group's warnings; the sample-ratio one is left to the alert above the table when it has codes."""
    texts = warnings_text(tr, cg.warnings, cg.warning_codes)
    if len(cg.warning_codes) != len(texts):
        return texts
    return [t for t, c in zip(texts, cg.warning_codes, strict=True)
            if c.code not in ("cg_sample_ratio_mismatch", "cg_sample_ratio_mismatch_arms")]


def control_group_view(cg: ExperimentResult, tr: Translator, *, anchor: str, chart_id: str) -> ControlGroupView:
    title = cg.title or cg.name
    return ControlGroupView(
        anchor=anchor, title=title, description=cg.description, facts=_facts(tr, cg), srm=_srm(tr, cg.srm),
        warnings=_group_warnings(tr, cg), table=_metric_table(tr, cg, title),
        figure=_lift_figure(tr, cg, title, chart_id), segments=_segment_tables(tr, cg, title),
        design=design_text(tr, cg), details=details_view(tr, cg, title, chart_id))
