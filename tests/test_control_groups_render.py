"""The control-group section of scorecards, Markdown and the terminal, for every method.

The example spec (customer_value.yaml) is run with other control-group options: ``method:
sequential | bayesian``, ``segments:``, an expected split that makes the sample-ratio check fire, and a
segment value with markup in it.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console

from metricspec.engine.results import Results
from metricspec.engine.run import evaluate
from metricspec.loader import load_spec
from metricspec.render.html import render_scorecard
from metricspec.render.i18n import Translator
from metricspec.render.markdown import results_markdown
from metricspec.render.table import print_results

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
AS_OF = dt.date(2026, 11, 1)
XSS = "<script>alert(1)</script>"


def _spec(folder: Path, options: str, lang: str = "en") -> Path:
    """customer_value.yaml with ``options`` added to its control group, reading a copy of customers.csv whose
    acquisition channel 'direct' is renamed to a script tag."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    data.mkdir(exist_ok=True)
    for f in (EXAMPLES / "data").iterdir():
        if f.name != "customers.csv" and not (data / f.name).exists():
            shutil.copyfile(f, data / f.name)  # copies: specs are confined to their project root
    customers = pl.read_csv(EXAMPLES / "data" / "customers.csv", infer_schema=False)
    customers.with_columns(pl.col("acquisition_channel").replace("direct", XSS)).write_csv(data / "customers.csv")
    (folder / "shared").mkdir(exist_ok=True)
    shared = (EXAMPLES / "shared" / "customers.yaml").read_text(encoding="utf-8")
    (folder / "shared" / "customers.yaml").write_text(shared, encoding="utf-8")
    text = (EXAMPLES / "customer_value.yaml").read_text(encoding="utf-8")
    if "expected_treatment_share" in options:
        text = text.replace("    expected_treatment_share: 0.5\n", "")
    text, n = re.subn(r"(?m)^(    unit: customer_id\n)", lambda m: m.group(1) + options, text, count=1)  # the first group
    assert n == 1
    text = re.sub(r"(?m)^language: \w+$", f"language: {lang}", text)
    path = folder / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Results]:
    root = tmp_path_factory.mktemp("cg")
    options = {
        "bayesian": "    method: bayesian\n    segments: [acquisition_channel]\n",
        "sequential": "    method: sequential\n    sequential_tuning: 6000\n    correction: bh\n",
        "srm": "    expected_treatment_share: 0.3\n    correction: none\n    srm_threshold: 0.0001\n",
        "es": "    method: bayesian\n    prior: {mean: 0, stddev: 0.1}\n",
    }
    return {name: evaluate(load_spec(_spec(root / name, opts, "es" if name == "es" else "en")), as_of=AS_OF)
            for name, opts in options.items()}


def _visible(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_frequentist_labels_say_which_p_is_which() -> None:
    r = evaluate(load_spec(EXAMPLES / "customer_value.yaml"), as_of=AS_OF)
    text = " ".join(_visible(render_scorecard(r, "en")).split())
    for label in ("p (difference)", "adjusted p (difference)", "p (lift)", "adjusted p (lift)",
                  "Multiple comparisons Holm–Bonferroni", "Method frequentist (fixed horizon)",
                  "Units entered until 1 Nov 2026 (signup_date)", "Median revenue per customer"):
        assert label in text, label
    assert "Sample ratio mismatch" not in text
    m = r.control_groups[0].metrics[1]  # retention: p < 0.0001, shown as such
    assert m.p_value is not None and m.p_value < 1e-4 and "< 0.0001" in text


def test_bayesian_scorecard_and_segments(runs: dict[str, Results]) -> None:
    r = runs["bayesian"]
    page = render_scorecard(r, "en")
    text = " ".join(_visible(page).split())
    # the example's other control groups are frequentist: read the Bayesian group's own section
    first = " ".join(_visible(page.split('<section class="control-group"')[1]).split())
    for label in ("Chance to beat control", "Expected loss if shipped", "Lift (credible interval)", "Verdict",
                  "Method Bayesian", "Flat prior (gbstats' default).", "By acquisition_channel"):
        assert label in text, label
    tr = Translator("en")
    cg = r.control_groups[0]
    b = cg.metrics[1].bayesian
    assert b is not None and tr.percent(b.chance_to_beat_control) in text
    assert "p (difference)" not in first  # the Bayesian table shows posterior figures, not p-values
    assert {s.column for s in cg.segments} == {"acquisition_channel"} and len(cg.segments) == 6
    assert XSS not in page and html.escape(XSS) in page.replace("&#x27;", "'")  # segment value escaped
    # exposure changes the channel mix, so some segments' split is far from 50/50: flagged in their rows
    assert any(s.srm.mismatch for s in cg.segments) and "srm-row" in page
    assert "sample ratio mismatch in this segment" in text


def test_sequential_scorecard(runs: dict[str, Results]) -> None:
    r = runs["sequential"]
    text = " ".join(_visible(render_scorecard(r, "en")).split())
    for label in ("Always-valid p (difference)", "Difference (always-valid interval)", "Lift (always-valid interval)",
                  "sequential (always valid, tuned for 6,000 units)", "Benjamini–Hochberg"):
        assert label in text, label
    cg = r.control_groups[0]
    assert cg.method == "sequential" and cg.correction == "bh"
    for m in cg.metrics:
        s = m.sequential
        assert s is not None and s.tuning == 6000
        if s.p_value_adjusted is not None:
            assert m.significant == (s.p_value_adjusted < cg.alpha)


def test_srm_is_prominent_when_it_fires(runs: dict[str, Results]) -> None:
    r = runs["srm"]
    cg = r.control_groups[0]
    assert cg.srm.mismatch and cg.srm.threshold == 0.0001
    page = render_scorecard(r, "en")
    alert = re.search(r'<div class="alert srm-alert" role="alert">(.*?)</div>', page, flags=re.S)
    assert alert is not None
    assert "Sample ratio mismatch" in alert.group(1) and "30%" in alert.group(1)
    assert "(p &lt; 0.0001, threshold 0.0001)" in alert.group(1)
    assert 'class="badge srm-badge"' in page  # next to the group's title
    # the section starts with it: before the table
    assert page.index("srm-alert") < page.index('class="cg-table"')
    assert any(w.startswith("sample ratio mismatch") for w in cg.warnings)


def test_spanish_scorecard_translates_the_new_labels(runs: dict[str, Results]) -> None:
    r = runs["es"]
    text = " ".join(_visible(render_scorecard(r, "es")).split())
    for label in ("Probabilidad de superar al control", "Pérdida esperada si se lanza", "Método bayesiano",
                  "Distribución a priori normal del incremento: media 0,0", "desviación típica 10,0"):
        assert label in text, label
    assert "Chance to beat" not in text


def test_markdown_and_terminal_show_the_method(runs: dict[str, Results]) -> None:
    md = results_markdown(runs["bayesian"])
    assert "| Metric | Control | Treatment | Lift (posterior) | Credible interval | Chance to beat control |" in md
    md = results_markdown(runs["sequential"])
    assert "always-valid p (diff)" in md and "p adj. (BH)" in md
    buffer = io.StringIO()
    print_results(runs["srm"], Console(file=buffer, width=200, color_system=None))
    out = buffer.getvalue()
    assert "sample ratio mismatch: p = " in out and "(threshold 0.0001)" in out
    assert "p adj. (none)" in out
