"""Incremental CAC from a control group: by hand, and honouring --as-of and the group's window.

Before the fix a March as-of still counted the whole year's customers in the control group, so the
incremental CAC divided Q1 spend by full-year conversions. The expected figures here are computed with
plain Python from the example CSV files.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import shutil
from pathlib import Path

import pytest

from metricspec.engine.attribution_run import incremental_cac
from metricspec.engine.results import (
    ExperimentResult,
    MetricComparison,
    SampleRatioCheck,
    SequentialFigures,
)
from metricspec.engine.run import evaluate
from metricspec.loader import load_spec

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
SOCIAL = {"x", "instagram", "linkedin", "facebook", "tiktok", "youtube"}
AS_OF_NOV = dt.date(2026, 11, 1)


def _metric(name: str, kind: str, diff: float, lo: float | None, hi: float | None, n_t: int = 1000,
            sequential: SequentialFigures | None = None) -> MetricComparison:
    nones = dict.fromkeys(("control_value", "treatment_value", "relative_lift", "relative_lift_ci_low",
                           "relative_lift_ci_high", "statistic", "p_value", "better", "variance_reduction", "mde"))
    return MetricComparison.model_validate({
        **nones, "name": name, "title": name, "kind": kind, "test": "t", "control_n": n_t, "treatment_n": n_t,
        "difference": diff, "difference_ci_low": lo, "difference_ci_high": hi, "significant": lo is not None and lo > 0,
        "cuped": False, "warnings": [], "sequential": sequential})


def cg(diff: float, lo: float | None, hi: float | None, n_t: int = 1000, kind: str = "proportion",
       sequential: SequentialFigures | None = None) -> list[ExperimentResult]:
    srm = SampleRatioCheck(expected_treatment_share=0.5, control_n=n_t, treatment_n=n_t, chi2=0.0, p_value=1.0,
                           mismatch=False)
    return [ExperimentResult(name="exp", alpha=0.05, power=0.8, confidence_level=0.95, control_label="False",
                             treatment_label="True", srm=srm, warnings=[],
                             metrics=[_metric("revenue", "mean", 5.0, 1.0, 9.0, n_t),
                                      _metric("conv", kind, diff, lo, hi, n_t, sequential)],
                             window_start=dt.date(2026, 1, 1), window_end=dt.date(2026, 3, 31))]


def test_incremental_cac_by_hand() -> None:
    out = incremental_cac(cg(0.03, 0.01, 0.05), "exp", None, 6000.0)
    assert out is not None and out.metric == "conv"
    assert out.incremental_conversions == pytest.approx(30.0)
    assert out.incremental_cac == pytest.approx(200.0)
    assert out.incremental_cac_ci == [pytest.approx(6000 / 50), pytest.approx(6000 / 10)]
    assert (out.window_start, out.window_end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))


def test_no_lift_gives_no_cac() -> None:
    out = incremental_cac(cg(-0.01, -0.03, 0.01), "exp", "conv", 6000.0)
    assert out is not None and out.incremental_cac is None
    assert out.incremental_cac_ci[1] is None  # lower CI bound of the lift ≤ 0: CAC unbounded


def test_missing_group_or_spend() -> None:
    assert incremental_cac(cg(0.03, 0.01, 0.05), "other", None, 1.0) is None
    assert incremental_cac(cg(0.03, 0.01, 0.05), "exp", None, None) is None
    assert incremental_cac(cg(0.03, 0.01, 0.05, kind="mean"), "exp", None, 1.0) is None  # no proportion metric


def test_sequential_groups_use_the_always_valid_interval() -> None:
    seq = SequentialFigures(tuning=5000, p_value=0.2, p_value_adjusted=0.2, difference_ci_low=-0.01,
                            difference_ci_high=0.08, relative_p_value=0.2, relative_p_value_adjusted=0.2,
                            relative_lift_ci_low=None, relative_lift_ci_high=None)
    out = incremental_cac(cg(0.03, 0.01, 0.05, sequential=seq), "exp", "conv", 6000.0)
    assert out is not None and out.incremental_conversions_ci == [pytest.approx(-10.0), pytest.approx(80.0)]
    assert out.incremental_cac_ci == [pytest.approx(6000 / 80), None]


# ------------------------------------------------------------------ the example, as of a date


def _customers(start: dt.date | None, end: dt.date) -> dict[bool, list[dict[str, str]]]:
    with (EXAMPLES / "data" / "customers.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f)
                if dt.date.fromisoformat(r["signup_date"]) <= end
                and (start is None or dt.date.fromisoformat(r["signup_date"]) >= start)]
    return {flag: [r for r in rows if r["exposed_to_social"] == ("true" if flag else "false")] for flag in (True, False)}


def _social_spend(start: dt.date | None, end: dt.date) -> float:
    with (EXAMPLES / "data" / "channel_spend.csv").open(encoding="utf-8") as f:
        return sum(float(r["spend"]) for r in csv.DictReader(f) if r["channel"] in SOCIAL
                   and dt.date.fromisoformat(r["month"]) <= end
                   and (start is None or dt.date.fromisoformat(r["month"]) >= start))


def _expected(start: dt.date | None, end: dt.date) -> tuple[int, int, float, float]:
    groups = _customers(start, end)
    n_t, n_c = len(groups[True]), len(groups[False])
    p_t = sum(r["converted"] == "true" for r in groups[True]) / n_t
    p_c = sum(r["converted"] == "true" for r in groups[False]) / n_c
    return n_t, n_c, (p_t - p_c) * n_t, _social_spend(start, end)


def _example(tmp_path: Path, extra: str = "") -> Path:
    """customer_value.yaml next to links to its data, with ``extra`` added to the control group."""
    for name in ("data", "shared"):
        shutil.copytree(EXAMPLES / name, tmp_path / name)  # copies: specs are confined to their project root
    text = (EXAMPLES / "customer_value.yaml").read_text(encoding="utf-8")
    if extra:
        text, n = re.subn(r"(?m)^(    unit: customer_id\n)", rf"\1{extra}", text, count=1)  # the first group
        assert n == 1
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("as_of", [dt.date(2026, 3, 31), dt.date(2026, 6, 30), dt.date(2026, 11, 1)])
def test_control_group_and_incremental_cac_honour_as_of(as_of: dt.date) -> None:
    r = evaluate(load_spec(EXAMPLES / "customer_value.yaml"), as_of=as_of)
    n_t, n_c, incremental, spend = _expected(None, as_of)
    group = r.control_groups[0]
    assert (group.srm.treatment_n, group.srm.control_n) == (n_t, n_c)
    assert (group.time_column, group.window_start, group.window_end) == ("signup_date", None, as_of)
    inc = r.attribution.incremental if r.attribution else None
    assert inc is not None
    assert inc.treatment_n == n_t
    assert inc.incremental_conversions == pytest.approx(incremental, rel=1e-12)
    assert inc.social_spend == pytest.approx(spend, rel=1e-12)
    assert inc.incremental_cac == pytest.approx(spend / incremental, rel=1e-12)
    if as_of.month == 3:  # Q1: a quarter of the customers, not the year's 6,000
        assert n_t + n_c < 2000


def test_a_period_or_campaign_windows_units_and_spend(tmp_path: Path) -> None:
    spec = _example(tmp_path, "    period: {start: 2026-04-01, end: 2026-06-30}\n")
    r = evaluate(load_spec(spec), as_of=dt.date(2026, 11, 1))
    start, end = dt.date(2026, 4, 1), dt.date(2026, 6, 30)
    n_t, n_c, incremental, spend = _expected(start, end)
    group = r.control_groups[0]
    assert (group.window_start, group.window_end) == (start, end)
    assert (group.srm.treatment_n, group.srm.control_n) == (n_t, n_c)
    inc = r.attribution.incremental if r.attribution else None
    assert inc is not None and inc.social_spend == pytest.approx(spend, rel=1e-12)
    assert inc.incremental_cac == pytest.approx(spend / incremental, rel=1e-12)
    assert (inc.window_start, inc.window_end) == (start, end)
    # as of May, the window ends at the as-of date
    may = evaluate(load_spec(spec), as_of=dt.date(2026, 5, 15)).control_groups[0]
    assert may.window_end == dt.date(2026, 5, 15)
    assert may.srm.treatment_n == _expected(start, dt.date(2026, 5, 15))[0]


def test_a_campaign_window(tmp_path: Path) -> None:
    spec = _example(tmp_path, "    campaign: spring\n")
    text = spec.read_text(encoding="utf-8") + "\ncampaigns:\n  spring: {start: 2026-03-15, end: 2026-04-15}\n"
    spec.write_text(text, encoding="utf-8")
    group = evaluate(load_spec(spec), as_of=dt.date(2026, 11, 1)).control_groups[0]
    assert (group.campaign, group.window_start, group.window_end) == ("spring", dt.date(2026, 3, 15),
                                                                      dt.date(2026, 4, 15))
    assert group.srm.treatment_n == _expected(dt.date(2026, 3, 15), dt.date(2026, 4, 15))[0]


def test_no_time_column_counts_every_unit_with_a_warning(tmp_path: Path) -> None:
    for name in ("data", "shared"):
        shutil.copytree(EXAMPLES / name, tmp_path / name)  # copies: specs are confined to their project root
    (tmp_path / "spec.yaml").write_text(
        "name: undated\nsources:\n  customers:\n    connector: csv\n    options: {path: data/customers.csv}\n"
        "control_groups:\n  exposure:\n    source: customers\n    unit: customer_id\n"
        "    assignment: {column: exposed_to_social, treatment: true, control: false}\n"
        "    metrics:\n      conversion: {kind: proportion, column: converted}\n", encoding="utf-8")
    group = evaluate(load_spec(tmp_path / "spec.yaml"), as_of=dt.date(2026, 3, 31)).control_groups[0]
    assert group.time_column is None and group.window_end is None
    assert group.srm.treatment_n + group.srm.control_n == 6000  # the as-of date cannot be applied
    assert any(w.code == "cg_no_time_column" for w in group.warning_codes)
    assert any("has no time column, so every unit counts" in w for w in group.warnings)
    assert not math.isnan(group.metrics[0].difference or math.nan)


def test_a_window_that_ends_before_it_starts_warns(tmp_path: Path) -> None:
    spec = _example(tmp_path, "    period: {start: 2026-09-01, end: 2026-12-31}\n")
    group = evaluate(load_spec(spec), as_of=dt.date(2026, 6, 30)).control_groups[0]
    assert (group.window_start, group.window_end) == (dt.date(2026, 9, 1), dt.date(2026, 6, 30))
    assert group.srm.treatment_n == group.srm.control_n == 0
    assert any("the window starts on 2026-09-01, after it ends on 2026-06-30" in w for w in group.warnings)


def test_engine_setting_errors_become_data_errors_with_a_location(tmp_path: Path, monkeypatch) -> None:
    from metricspec.engine import experiments_run
    from metricspec.errors import DataError

    def refuse(*args: object, **kwargs: object) -> None:
        raise ValueError("column revenue must be numeric or boolean, got String")

    monkeypatch.setattr(experiments_run, "evaluate_experiment", refuse)
    with pytest.raises(DataError, match="control group 'social_exposure': column revenue must be numeric") as info:
        evaluate(load_spec(_example(tmp_path)), as_of=AS_OF_NOV)
    assert info.value.where is not None and info.value.where.line is not None
