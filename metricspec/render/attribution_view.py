"""The attribution section of a scorecard: credits per channel and model, customer journeys,
cost per acquisition and return, and the incremental CAC against the control group."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from metricspec.render import charts
from metricspec.render.views import AttributionView, DataTable, Figure, IncrementalView, chart_view

if TYPE_CHECKING:
    from metricspec.engine.attribution.models import AttributionReport, ChannelCredit, ModelResult
    from metricspec.engine.results import Results
    from metricspec.render.i18n import Translator

JOURNEYS_SHOWN = 10


def model_name(tr: Translator, model: ModelResult) -> str:
    """A model's label: the translated kind (``First touch``) unless the spec named the model itself."""
    name, kind = model.name, model.kind
    key = f"model_{kind}"
    return tr(key) if name == kind and key in tr.fallback else name


def attribution_view(r: Results, a: AttributionReport, tr: Translator, prefix: str) -> AttributionView:
    models = a.models
    names = [model_name(tr, m) for m in models]
    keys = [m.name for m in models]
    label = dict(zip(keys, names, strict=True))
    channels = sorted({c.channel for m in models for c in m.credits})
    credit: dict[tuple[str, str], ChannelCredit] = {(m.name, c.channel): c for m in models for c in m.credits}
    conversions = DataTable(
        caption=tr("attribution_conversions"), headers=[tr("col_channel"), *names],
        rows=[[ch] + [tr.number(credit[(k, ch)].conversions, 1) if (k, ch) in credit else "—" for k in keys]
              for ch in channels],
        numeric=[False] + [True] * len(names))
    money = functools.partial(tr.value, unit="currency", currency=r.spec.currency)
    econ_rows = [[label[k], ch, tr.number(c.conversions, 1), money(c.value), money(c.spend),
                  money(c.cac), "—" if c.roas is None else tr.number(c.roas, 2),
                  tr.percent(c.roi, 0)]
                 for k in keys for ch in channels if (c := credit.get((k, ch))) is not None]
    economics = DataTable(caption=tr("attribution_economics"),
                          headers=[tr("col_model"), tr("col_channel"), tr("col_conversions"), tr("col_value"),
                                   tr("col_spend"), tr("col_cac"), tr("col_roas"), tr("col_roi")],
                          rows=econ_rows, numeric=[False, False, True, True, True, True, True, True])
    spend = {ch: next((c.spend for k in keys if (c := credit.get((k, ch))) is not None), None)
             for ch in channels}
    cac = DataTable(caption=tr("attribution_cac"), headers=[tr("col_channel"), tr("col_spend"), *names],
                    rows=[[ch, money(spend[ch])] + [money(credit[(k, ch)].cac) if (k, ch) in credit else "—"
                                                    for k in keys] for ch in channels],
                    numeric=[False] + [True] * (len(names) + 1))
    figure = None
    bars = [{"category": ch, "group": label[k], "value": credit[(k, ch)].conversions or 0.0,
             "tip": f"{ch} · {label[k]}: {tr.number(credit[(k, ch)].conversions or 0.0, 1)}"}
            for ch in channels for k in keys if (k, ch) in credit]
    if bars:
        title = tr("chart_attribution_title")
        desc = tr("chart_attribution_desc", models=", ".join(names), channels=", ".join(channels))
        chart = charts.grouped_bar_chart(f"{prefix}-attribution", title, desc, bars, categories=channels,
                                         groups=names, y_title=tr("col_conversions"), chart_locale=tr.chart_format)
        figure = Figure(chart=chart_view(chart), table=conversions)
    summary = tr("attribution_summary", attributed=tr.number(a.attributed_conversions, 0),
                 total=tr.number(a.total_conversions, 0))
    return AttributionView(title=a.title or tr("attribution"), summary=summary, models=names,
                           conversions=conversions, economics=economics, cac=cac, figure=figure,
                           journeys=journeys_table(a, tr, r.spec.currency), incremental=incremental_view(r, a, tr))


def _path(steps: list[str]) -> str:
    return " → ".join(steps) if steps else "—"


def journeys_table(a: AttributionReport, tr: Translator, currency: str) -> DataTable | None:
    """The most common journeys: first touch, touches in between, converting touch, how many and how much."""
    paths = a.journey_paths[:JOURNEYS_SHOWN]
    if not paths:
        return None
    money = functools.partial(tr.value, unit="currency", currency=currency)
    attributed = a.attributed_conversions
    shown = sum(p.conversions for p in paths)
    caption = tr("journeys_caption", n=len(paths), shown=tr.number(shown, 0), total=tr.number(attributed, 0),
                 share=tr.percent(shown / attributed if attributed else None, 0))
    rows = [[p.initial, _path(p.intermediate), p.converting, tr.number(p.conversions, 0),
             tr.percent(p.conversions / attributed if attributed else None), money(p.value)]
            for p in paths]
    return DataTable(caption=caption,
                     headers=[tr("col_first_touch"), tr("col_in_between"), tr("col_converting_touch"),
                              tr("col_conversions"), tr("col_share"), tr("col_value")],
                     rows=rows, numeric=[False, False, False, True, True, True])


def incremental_view(r: Results, a: AttributionReport, tr: Translator) -> IncrementalView | None:
    """Social spend per conversion the exposed group made beyond the control group's rate, with its interval."""
    inc = a.incremental
    if inc is None:
        return None
    group = next((cg for cg in r.control_groups if cg.name == inc.control_group), None)
    money = functools.partial(tr.value, unit="currency", currency=r.spec.currency)
    level = group.confidence_level if group is not None else None
    low, high = inc.incremental_cac_ci[:2]
    c_low, c_high = inc.incremental_conversions_ci[:2]
    cac = inc.incremental_cac
    if cac is None:
        value, interval = tr("incremental_none"), "—"
    else:
        value = money(cac)
        interval = tr("interval", low=money(low) if low is not None else "—",
                      high=money(high) if high is not None else tr("unbounded"))
    return IncrementalView(
        group=(group.title if group is not None else None) or inc.control_group, cac=value,
        interval=interval, confidence=tr.percent(level, 0) if level is not None else "—",
        conversions=tr.number(inc.incremental_conversions, 1),
        conversions_interval=tr("interval", low=tr.number(c_low, 1), high=tr.number(c_high, 1)),
        treatment_n=tr.number(inc.treatment_n, 0), spend=money(inc.social_spend),
        significant=bool(inc.significant),
        significance=tr("significant") if inc.significant else tr("not_significant"))
