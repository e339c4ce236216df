"""The example's adjusted comparison, survival metric and several-arm test on the scorecard, in Markdown and in
the terminal; one verdict per metric, figures in their unit (issue 22's control-group bullet)."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from metricspec.engine.results import Results
from metricspec.engine.run import evaluate
from metricspec.loader import load_spec
from metricspec.render.cg_details import details_view
from metricspec.render.html import render_scorecard
from metricspec.render.i18n import Translator
from metricspec.render.markdown import results_markdown
from metricspec.render.table import print_results

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def results() -> Results:
    return evaluate(load_spec(EXAMPLES / "customer_value.yaml"), as_of=AS_OF)


@pytest.fixture(scope="module")
def page(results: Results) -> str:
    return render_scorecard(results, "en")


def _section(page: str, anchor: str) -> str:
    start = page.index(f'<section class="control-group" id="{anchor}"')
    end = page.find('<section class="control-group"', start + 10)
    return page[start:end if end > 0 else None]


def _visible(fragment: str) -> str:
    text = re.sub(r"<svg.*?</svg>|<script.*?</script>", " ", fragment, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def test_the_adjusted_comparison_shows_both_differences_and_its_diagnostics(results: Results, page: str) -> None:
    cg = next(c for c in results.control_groups if c.name == "social_followers")
    text = _visible(_section(page, "cg-social_followers"))
    assert "A comparison, not an experiment" in text
    assert "doubly robust estimation (AIPW)" in text and "the effect on the exposed (ATT)" in text
    assert "robust (sandwich) standard errors" in text
    for header in ("Unadjusted difference (interval)", "Adjusted difference (interval)", "Adjusted lift (interval)",
                   "Verdict"):
        assert header in text, header
    spend = cg.metrics[0]
    assert spend.adjusted is not None and spend.difference is not None
    tr = Translator("en")
    # the naive +€32 and the adjusted ≈ €8 side by side, in euros
    assert tr.delta(spend.difference, "currency", "EUR") in text
    assert tr.delta(spend.adjusted.difference, "currency", "EUR") in text
    assert spend.difference > 3 * spend.adjusted.difference
    # balance of every covariate, before and after, with the threshold; overlap and effective sample size
    d = cg.diagnostics[0]
    assert [b.name for b in d.balance] == ["age", "region=east", "region=south", "region=west", "tenure_days",
                                           "orders_before", "spend_before"]
    for b in d.balance:
        assert b.smd_before is not None and b.smd_after is not None
        assert f"{b.name} {'+' if b.smd_before > 0 else ''}{tr.number(b.smd_before, 3)}" in text
    assert "Below 0.1 (in absolute value) counts as balanced" in text
    assert "Propensity overlap" in text and "Effective sample size" in text
    assert f"{tr.number(d.effective_n_control, 0)} control" in text
    # the survival metric is adjusted by inverse-probability weighting: weighted rows, curves and hazard ratio
    tenure = cg.metrics[2]
    assert tenure.adjusted is not None and tenure.survival is not None and tenure.survival.adjusted is not None
    assert tenure.verdict != "not_adjusted" and "comparison only (not adjusted)" not in text
    assert "survival metrics cannot be" not in text
    a = tenure.survival.adjusted
    assert f"Control, weighted {a.control.n} {a.control.events} {a.control.censored}" in text
    assert f"Treatment, weighted {a.treatment.n}" in text
    assert f"adjusted hazard ratio {tr.number(a.hazard_ratio, 2)}" in text
    assert tr.delta(tenure.adjusted.difference, "percent").replace("\xa0", " ") in text
    # Kaplan–Meier: table, curve and the tests; difference-in-differences with its pre-trends check
    assert "tenure and retention by group" in text and "Log-rank test" in text and "hazard ratio" in text
    assert "share still a customer by day (Kaplan–Meier)" in text
    assert "Kaplan–Meier curves weighted by the inverse probability of each unit's group" in text
    assert "difference-in-differences" in text and "parallel (p" in text


def test_one_verdict_per_metric_and_no_significant_beside_too_small(results: Results, page: str) -> None:
    text = _visible(page)
    assert "Significant" not in re.sub(r"<span[^>]*>significant</span>", "", text)  # no yes/no column any more
    for cg in results.control_groups:
        section = _section(page, f"cg-{cg.name}")
        rows = re.findall(r'<tr class="cg-row([^"]*)"><th scope="row">(.*?)</th>(.*?)</tr>', section, flags=re.S)
        table_rows = rows[:len(cg.metrics)]
        for m, (classes, _head, cells) in zip(cg.metrics, table_rows, strict=True):
            first = cells.split("<td", 2)[1]  # the verdict comes first: on a phone it stays on screen
            shown = _visible(first.split(">", 1)[1])
            assert shown == Translator("en")(f"cg_verdict_{m.verdict}"), (m.name, shown)
            conclusive = m.verdict in ("better", "worse")
            assert ("cg-muted" in classes) != conclusive  # figures that conclude nothing step back
            assert ("<strong>" in first) == conclusive
    saved = next(m for m in results.control_groups[0].metrics if m.name == "save_rate")
    assert saved.significant and saved.verdict == "too_small"  # p < 0.0001 yet 0 successes in control


def test_figures_are_in_their_unit(results: Results, page: str) -> None:
    text = _visible(_section(page, "cg-social_exposure"))
    conv = results.control_groups[0].metrics[0]
    assert conv.verdict == "too_small" and any(w.code == "cg_below_mde" for w in conv.warning_codes)
    # the MDE warning of a proportion in percentage points, not a raw fraction
    assert "the observed difference (+2.4 pp) is smaller than the minimum detectable effect (+3.6 pp)" in text
    assert "(0.024" not in text and "(+0.024" not in text
    # money with its currency, in the table and in the warnings
    assert "€164.47" in text and "(+€20.58) is smaller than the minimum detectable effect (+€70.43)" in text


def test_several_arms_show_each_arm_against_the_shared_control(results: Results, page: str) -> None:
    cg = next(c for c in results.control_groups if c.name == "email_variants")
    assert cg.arms == ["discount", "story"] and cg.correction == "dunnett"
    text = _visible(_section(page, "cg-email_variants"))
    assert "2 treatment arms (discount, story) compared with one shared control" in text
    assert "Bought within 30 days · discount" in text and "Bought within 30 days · story" in text
    assert "Dunnett (many-to-one)" in text
    # the arms share the control's curve: one table and one chart with the three groups
    assert text.count("tenure and retention by group") == 1 and "Each arm against the control: discount:" in text
    details = details_view(Translator("en"), cg, "E-mail", "x")
    assert details is not None and len(details.survival) == 1
    figure = details.survival[0].figure
    assert figure is not None
    groups = {row["group"] for row in json.loads(figure.chart.vega_lite)["data"]["values"]}
    assert groups == {"Control", "discount", "story"}


def test_survival_curves_are_stored_and_drawn_thinned(results: Results, page: str) -> None:
    """At most ~100 steps a group, exact at every step; the charts are a small part of the page."""
    for cg in results.control_groups:
        for m in cg.metrics:
            if m.survival is None:
                continue
            arms = [m.survival.control, m.survival.treatment]
            arms += [m.survival.adjusted.control, m.survival.adjusted.treatment] if m.survival.adjusted else []
            for arm in arms:
                assert 2 <= len(arm.curve) <= 103, (cg.name, m.name, len(arm.curve))
    charts = [s.figure.chart.vega_lite for cg in results.control_groups
              for s in (getattr(details_view(Translator("en"), cg, cg.name, "x"), "survival", None) or [])
              if s.figure is not None]
    assert len(charts) == 2  # social_followers' weighted curves, email_variants' three groups
    assert sum(len(c.encode()) for c in charts) < 40_000  # 107 KB for three charts before


def test_markdown_and_terminal_show_the_adjustment(results: Results) -> None:
    md = results_markdown(results)
    assert "| Metric | Control | Treatment | Unadjusted diff | Adjusted diff | CI (adjusted diff) |" in md
    assert "**Balance: standardised mean differences, threshold 0.1**" in md
    assert "Not randomised: adjusted by doubly robust (AIPW), effect on the treated (ATT)" in md
    buffer = io.StringIO()
    print_results(results, Console(file=buffer, width=400, color_system=None))
    out = buffer.getvalue()
    for needle in ("Unadjusted diff", "Adjusted diff", "Overlap: propensity treated", "Survival: Still a customer",
                   "Difference-in-differences", "control, weighted", "Survival metrics are weighted",
                   "too small to conclude", "Verdict"):
        assert needle in out, needle
    assert "Significant" not in out
    assert "(+2.4\u00a0pp) is smaller than the minimum detectable effect (+3.6\u00a0pp)" in out
