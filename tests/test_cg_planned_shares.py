"""Planned shares of a control group's groups (``planned_shares:``): the sample ratio check's chi-square against
scipy, in the engine and from a spec, the warning and alert it gives, and the spec errors with their place."""

from __future__ import annotations

import datetime as dt
import textwrap

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from metricspec.engine.experiments import MetricDefinition, evaluate_experiment
from metricspec.engine.experiments.evaluate import Design, sample_ratio_check
from metricspec.engine.run import evaluate
from metricspec.errors import SpecError
from metricspec.loader import load_spec
from metricspec.render.control_groups import _srm
from metricspec.render.i18n import Translator


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 5000), min_size=3, max_size=6),
       st.lists(st.floats(0.05, 1.0), min_size=6, max_size=6))
def test_chi_square_with_planned_shares_equals_scipy(counts, raw):
    if sum(counts) == 0:
        return
    shares = np.array(raw[:len(counts)]) / sum(raw[:len(counts)])
    labels = [f"g{i}" for i in range(len(counts))]
    srm = sample_ratio_check(counts[-1], sum(counts[:-1]), 0.5, arm_counts=counts[:-1], planned=list(shares),
                             labels=labels)
    ref = stats.chisquare(counts, f_exp=np.array(shares) * sum(counts))
    assert srm.chi2 == pytest.approx(ref.statistic, rel=1e-9, abs=1e-9)
    assert srm.p_value == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)
    assert srm.expected_treatment_share == pytest.approx(1.0 - shares[-1])
    assert srm.group_counts == dict(zip(labels, counts, strict=True))
    assert list(srm.planned_shares.values()) == pytest.approx(list(shares))


def _frame(n: int = 4000, control: float = 0.5) -> pl.DataFrame:
    rng = np.random.default_rng(4)
    arm = rng.choice(["none", "mens", "womens"], n, p=[control, (1 - control) / 2, (1 - control) / 2])
    return pl.DataFrame({"arm": arm, "bought": rng.random(n) < 0.1})


def test_a_planned_half_for_the_control_is_no_mismatch_and_an_equal_split_is():
    frame = _frame()
    metric = [MetricDefinition(name="bought", kind="proportion", column="bought")]
    kwargs = {"name": "e", "group_column": "arm", "treatment_label": "mens", "control_label": "none", "metrics": metric}
    planned = evaluate_experiment(frame, **kwargs, design=Design(arms=("mens", "womens"), shares=(0.25, 0.25, 0.5)))
    equal = evaluate_experiment(frame, **kwargs, design=Design(arms=("mens", "womens")))
    counts = [int((frame["arm"] == g).sum()) for g in ("mens", "womens", "none")]
    ref = stats.chisquare(counts, f_exp=np.array([0.25, 0.25, 0.5]) * sum(counts))
    assert planned.srm.p_value == pytest.approx(ref.pvalue, rel=1e-9) and not planned.srm.mismatch
    assert planned.srm.planned_shares == {"mens": 0.25, "womens": 0.25, "none": 0.5}
    assert equal.srm.p_value == pytest.approx(stats.chisquare(counts).pvalue, rel=1e-9) and equal.srm.mismatch
    codes = [w for w in equal.warning_codes if w.code == "cg_sample_ratio_mismatch_arms"]
    assert codes and "none 0.3333" in str(codes[0].params["shares"]) and "mens" in str(codes[0].params["groups"])
    assert "sample ratio mismatch: mens" in equal.warnings[0]
    alert = _srm(Translator("en"), equal.srm)
    assert alert is not None and "33.3%" in alert.detail and f"none {counts[2]:,}" in alert.detail


DATA = "id,d,arm,bought\n" + "".join(f"{i},2026-01-{1 + i % 28:02d},{('none', 'mens', 'womens', 'none')[i % 4]},"
                                     f"{i % 3 == 0}\n" for i in range(400))

SPEC = """\
name: t
sources:
  people: {connector: csv, options: {path: data.csv}, time_column: d, columns: {d: date}}
kpis:
  n: {source: people, agg: count}
control_groups:
  g:
    source: people
    unit: id
    metrics: {bought: {kind: proportion, column: bought}}
"""


def _write(tmp_path, extra: str):
    (tmp_path / "data.csv").write_text(DATA, encoding="utf-8")
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(SPEC) + extra, encoding="utf-8")
    return path


def test_a_spec_states_the_planned_shares(tmp_path):
    path = _write(tmp_path, "    assignment: {column: arm, treatment: [mens, womens], control: none}\n"
                            "    planned_shares: {none: 0.5, mens: 0.25, womens: 0.25}\n")
    cg = evaluate(load_spec(path), as_of=dt.date(2026, 11, 1)).control_groups[0]
    assert cg.srm.group_counts == {"mens": 100, "womens": 100, "none": 200}
    assert cg.srm.chi2 == pytest.approx(0.0) and not cg.srm.mismatch


def test_one_treatment_reads_its_share_from_planned_shares(tmp_path):
    path = _write(tmp_path, "    assignment: {column: arm, treatment: mens, control: none}\n"
                            "    planned_shares: {none: 0.6, mens: 0.4}\n")
    cg = evaluate(load_spec(path), as_of=dt.date(2026, 11, 1)).control_groups[0]
    assert cg.srm.expected_treatment_share == 0.4 and cg.srm.group_counts is None
    assert cg.srm.p_value == pytest.approx(stats.chisquare([100, 200], f_exp=[120, 180]).pvalue, rel=1e-9)


@pytest.mark.parametrize(("extra", "message"), [
    ("    planned_shares: {none: 0.5, mens: 0.25}\n", "no share for 'womens'"),
    ("    planned_shares: {none: 0.5, mens: 0.25, woman: 0.25}\n", "names 'woman', which is not a label"),
    ("    planned_shares: {none: 0.5, mens: 0.25, womens: 0.2}\n", "add up to 0.95, not 1"),
    ("    planned_shares: {none: 1.0, mens: 0.0, womens: 0.0}\n", "between 0 and 1"),
    ("    expected_treatment_share: 0.5\n    planned_shares: {none: 0.5, mens: 0.25, womens: 0.25}\n", "not both"),
    ("    randomised: false\n    planned_shares: {none: 0.5, mens: 0.25, womens: 0.25}\n", "randomised groups"),
])
def test_bad_planned_shares_are_refused_with_their_place(tmp_path, extra, message):
    path = _write(tmp_path, "    assignment: {column: arm, treatment: [mens, womens], control: none}\n" + extra)
    with pytest.raises(SpecError) as e:
        load_spec(path)
    assert message in str(e.value) and "spec.yaml:" in str(e.value)
