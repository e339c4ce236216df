"""Sources without a time column (``time_column: null``): all-time KPIs, end to end.

* reference computations: plain Python sums, counts and ratios over the export's rows;
* every backend: polars, DuckDB and PostgreSQL give byte-identical Results;
* hypothesis: an all-time sum is the sum of the column, and equals the total over the periods of
  the same rows read with a time column;
* no made-up dates: the Results, the CSV, the scorecard and the site hold no date the spec or data
  did not give (only the as-of date and goal deadlines), and are byte-identical on a second run;
* validate, run, render, build and check work on such a spec (CliRunner);
* what needs periods is refused with file:line and the fix.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import textwrap
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.cli import main
from metricspec.engine.run import evaluate
from metricspec.errors import SpecError
from metricspec.loader import load_spec

AS_OF = "2026-11-01"
ROWS = [
    # ad_set, campaign, impressions, clicks, spend, conversions
    ("spring_a", "spring", 12000, 340, 210.50, 12),
    ("spring_b", "spring", 8000, 150, 120.00, 4),
    ("summer_a", "summer", 20000, 610, 400.25, 30),
    ("summer_b", "summer", 5000, None, 35.10, 0),
    ("rival", "benchmark", 15000, 300, 0.0, 0),
]

SPEC = """\
name: adset-report
title: Ad-set report
sources:
  adsets:
    connector: csv
    options: {path: adsets.csv}
    time_column: null          # a one-off export: no dates
benchmarks:
  rival: {title: Rival, kind: competitor, scope: {campaign: benchmark}}
  plan: {title: Plan, kind: value, value: 1000}
kpis:
  spend: {source: adsets, agg: sum, column: spend, unit: currency, filter: "campaign != 'benchmark'"}
  clicks:
    source: adsets
    agg: sum
    column: clicks
    filter: "campaign != 'benchmark'"
    benchmarks: [plan]
  impressions: {source: adsets, agg: sum, column: impressions, scope: {campaign: spring}, benchmarks: [rival]}
  spring_clicks: {source: adsets, agg: sum, column: clicks, scope: {campaign: spring}}
  ad_sets: {source: adsets, agg: count, filter: "campaign != 'benchmark'"}
  best_ad_set: {source: adsets, agg: max, column: conversions}
  ctr:
    ratio: {numerator: spring_clicks, denominator: impressions}
    unit: percent
  cpc:
    formula: spend / clicks
    unit: currency
    direction: decrease
objectives:
  reach:
    title: Reach
    type: brand_awareness
    kpis: [clicks, cpc]
    goals:
      clicks_goal: {kpi: clicks, target: 1000, deadline: 2026-12-31}
      cpc_goal: {kpi: cpc, target: 0.5, deadline: 2026-06-30}
"""


def write(d: Path, rows=ROWS, spec: str = SPEC) -> Path:
    pl.DataFrame(rows, schema={"ad_set": pl.String, "campaign": pl.String, "impressions": pl.Int64,
                               "clicks": pl.Int64, "spend": pl.Float64, "conversions": pl.Int64},
                 orient="row").write_csv(d / "adsets.csv")
    (d / "spec.yaml").write_text(spec)
    return d / "spec.yaml"


def values(results) -> dict[str, float | None]:
    out = {}
    for k in results.kpis:
        assert k.series == [], k.name  # no periods, no series
        (h,) = k.headlines
        assert (h.grain, h.period, h.previous, h.previous_year) == ("all", None, None, None)
        out[k.name] = h.value
    return out


def test_all_time_values_equal_plain_python(tmp_path: Path) -> None:
    results = evaluate(load_spec(write(tmp_path)), as_of=dt.date(2026, 11, 1))
    ours = [r for r in ROWS if r[1] != "benchmark"]
    spring = [r for r in ROWS if r[1] == "spring"]
    spend = sum(r[4] for r in ours)
    clicks = sum(r[3] or 0 for r in ours)
    want = {"spend": spend, "clicks": clicks, "impressions": sum(r[2] for r in spring),
            "spring_clicks": sum(r[3] for r in spring), "ad_sets": len(ours), "best_ad_set": 30,
            "ctr": sum(r[3] for r in spring) / sum(r[2] for r in spring), "cpc": spend / clicks}
    got = values(results)
    assert got == pytest.approx(want, rel=1e-10)
    (bench,) = results.kpi("impressions").headlines[0].benchmarks
    assert bench.value == 15000 and bench.difference == 20000 - 15000
    (plan,) = results.kpi("clicks").headlines[0].benchmarks
    assert plan.value == 1000 and plan.difference == clicks - 1000
    goals = {g.id: g for g in results.goals()}
    # met before the deadline; a sum of clicks could still fall (a source without dates says nothing about
    # negative rows to come), so not final (a count would be)
    assert goals["clicks_goal"].status == "target_reached" and goals["clicks_goal"].current == clicks
    cpc = goals["cpc_goal"]  # deadline passed, target not met: missed, judged by the total
    assert (cpc.status, cpc.measure, cpc.grain, cpc.trend) == ("missed", "total", "all", [])
    assert cpc.current == pytest.approx(spend / clicks)
    # null clicks are reported as skipped rows, as for any source
    assert any("clicks" in n.message and "1 row" in n.message for n in results.notes)


def test_goals_without_a_deadline_and_in_progress_have_no_forecast(tmp_path: Path) -> None:
    spec = SPEC.replace("clicks_goal: {kpi: clicks, target: 1000, deadline: 2026-12-31}",
                        "clicks_goal: {kpi: clicks, target: 5000, deadline: 2026-12-31}")
    results = evaluate(load_spec(write(tmp_path, spec=spec)), as_of=dt.date(2026, 11, 1))
    g = next(g for g in results.goals() if g.id == "clicks_goal")
    assert g.forecast is None and g.forecast_method_code == "forecast_none_all_time"
    assert g.status in ("off_track", "at_risk") and g.trend == []


# ------------------------------------------------------------------------------------ no dates
DATE = re.compile(r"\b(1[89]\d\d|20\d\d)-\d\d-\d\d\b")


def dates_in(text: str) -> set[str]:
    return {m.group(0) for m in DATE.finditer(text)}


def test_validate_run_render_build_and_check_end_to_end(tmp_path: Path) -> None:
    path = write(tmp_path)
    run = CliRunner()
    ok = run.invoke(main, ["validate", str(path), "--data"])
    assert ok.exit_code == 0, ok.output
    outputs = {}
    for fmt in ("json", "csv", "markdown", "table"):
        out = tmp_path / f"r.{fmt}"
        r = run.invoke(main, ["run", str(path), "--as-of", AS_OF, "--format", fmt, "-o", str(out)])
        assert r.exit_code == 0, r.output
        outputs[fmt] = out.read_text(encoding="utf-8")
    r = run.invoke(main, ["render", str(path), "--as-of", AS_OF, "-o", str(tmp_path / "s.html")])
    assert r.exit_code == 0, r.output
    outputs["html"] = (tmp_path / "s.html").read_text(encoding="utf-8")
    r = run.invoke(main, ["build", str(path), "--as-of", AS_OF, "-o", str(tmp_path / "site")])
    assert r.exit_code == 0, r.output
    site = "".join(p.read_text(encoding="utf-8") for p in sorted((tmp_path / "site").rglob("*.html")))
    outputs["site"] = site
    given = {AS_OF, "2026-12-31", "2026-06-30"}
    for fmt, text in outputs.items():
        assert dates_in(text) <= given, (fmt, dates_in(text) - given)
    assert "adset-report,spend,all,,all time,headline,,,,765.85,false,currency,EUR,,,,," in outputs["csv"], \
        outputs["csv"]
    assert "| clicks | all time | 1,100 |" in outputs["markdown"]
    assert "All time" in outputs["html"] and "vs previous" not in outputs["html"].split("Other KPIs")[-1]
    # byte-identical on a second run
    again = tmp_path / "again.html"
    assert run.invoke(main, ["render", str(path), "--as-of", AS_OF, "-o", str(again)]).exit_code == 0
    assert again.read_text(encoding="utf-8") == outputs["html"]
    # the CI gate: a baseline, no regression, then fewer clicks regress
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    base = run.invoke(main, ["baseline", "update", str(path), "--as-of", AS_OF, "--force",
                             "--baseline", str(tmp_path / "baseline.json")])
    assert base.exit_code == 0, base.output
    same = run.invoke(main, ["check", str(path), "--as-of", AS_OF, "--baseline", str(tmp_path / "baseline.json")])
    assert same.exit_code == 0, same.output
    write(tmp_path, [(a, c, i, (k // 4 if k else k), s, v) for a, c, i, k, s, v in ROWS])
    worse = run.invoke(main, ["check", str(path), "--as-of", AS_OF, "--baseline", str(tmp_path / "baseline.json")])
    assert worse.exit_code == 1, worse.output
    assert "clicks_goal" in worse.output


def test_polars_frames_carry_all_time_values_without_a_period(tmp_path: Path) -> None:
    results = evaluate(load_spec(write(tmp_path)), as_of=dt.date(2026, 11, 1))
    frame = results.to_polars()
    spend = frame.filter(pl.col("kpi") == "spend")
    assert spend.height == 1 and spend["period"][0] is None and spend["grain"][0] == "all"
    bench = frame.filter((pl.col("kpi") == "impressions") & (pl.col("kind") == "benchmark"))
    assert bench["benchmark"].to_list() == ["rival"] and bench["value"].to_list() == [15000.0]


def test_the_default_as_of_of_a_spec_without_dates_is_the_day_of_the_run(tmp_path: Path, monkeypatch) -> None:
    from metricspec.engine import run

    monkeypatch.setattr(run, "local_today", lambda zone: dt.date(2026, 7, 4))
    results = evaluate(load_spec(write(tmp_path)))
    assert results.as_of == dt.date(2026, 7, 4)
    assert "1970" not in results.to_json()


# ------------------------------------------------------------------------------------ backends
def test_backends_give_identical_results(tmp_path: Path, databases) -> None:
    from metricspec.engine.run import explain

    path = write(tmp_path)
    expected = evaluate(load_spec(path), as_of=dt.date(2026, 11, 1)).to_json()
    for name, pm in databases.items():
        assert evaluate(load_spec(path), as_of=dt.date(2026, 11, 1), plugin_manager=pm).to_json() == expected, name
        plan = explain(load_spec(path), as_of=dt.date(2026, 11, 1), plugin_manager=pm)
        assert {q["runs_in"] for q in plan} == {name}
        # the fused statement's aggregates (an all-time value is one ungrouped row: no GROUP BY), no dates
        assert all("m0_a0" in str(q["sql"]) and not dates_in(str(q["sql"])) for q in plan), name


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.integers(0, 300), st.one_of(st.none(), st.integers(-50, 500))),
                     min_size=0, max_size=30))
def test_an_all_time_sum_is_the_total_over_periods(tmp_path_factory, rows) -> None:
    d = tmp_path_factory.mktemp("prop")
    day = dt.date(2026, 1, 1)
    pl.DataFrame({"day": [day + dt.timedelta(days=r[0]) for r in rows], "v": [r[1] for r in rows]},
                 schema={"day": pl.Date, "v": pl.Int64}).write_csv(d / "e.csv")
    (d / "s.yaml").write_text(textwrap.dedent("""\
        name: prop
        sources:
          flat: {connector: csv, options: {path: e.csv}, time_column: null, columns: {v: float}}
          dated: {connector: csv, options: {path: e.csv}, time_column: day, columns: {day: date, v: float}}
        kpis:
          total: {source: flat, agg: sum, column: v}
          rows: {source: flat, agg: count}
          monthly: {source: dated, agg: sum, column: v}
        """))
    results = evaluate(load_spec(d / "s.yaml"), as_of=dt.date(2026, 12, 31))
    total = results.kpi("total").headlines[0].value
    assert total == sum(r[1] for r in rows if r[1] is not None)
    assert results.kpi("rows").headlines[0].value == len(rows)
    monthly = [p.value for s in results.kpi("monthly").series for p in s.points if p.value is not None]
    assert total == sum(monthly)


# ------------------------------------------------------------------------------------ refused
@pytest.mark.parametrize(("kpi", "line", "message", "hint"), [
    ("  by_set: {source: adsets, agg: sum, column: spend, segments: [campaign]}\n", 11,
     "segments are not supported yet", "scope: {<column>: <value>}"),
    ("  latest: {source: adsets, agg: last, column: spend}\n", 11, "agg 'last' needs times", "use max/min/sum"),
    ("  spend_growth: {growth: spend}\n", 11, "(growth) compares periods", "time_column"),
    ("  monthly: {source: adsets, agg: sum, column: spend, grains: [month]}\n", 11, "it has no grains",
     "remove `grains:`"),
    ("  mixed: {formula: spend + dated}\n  dated: {source: dated, agg: count}\n", 11,
     "reads all-time KPIs", "same kind"),
    ("  vs_last: {source: adsets, agg: sum, column: spend, benchmarks: [previous]}\n", 11,
     "compares with an earlier period", "remove the benchmark"),
    ("  steps: {funnel: {steps: [{name: a, source: adsets, key: ad_set}, {name: b, source: adsets, key: ad_set}],"
     " window_days: 3}}\n", 11, "(funnel) needs times, but source 'adsets' has no time column", "`time_column:`"),
])
def test_what_needs_periods_is_refused_with_its_place(tmp_path: Path, kpi: str, line: int, message: str,
                                                     hint: str) -> None:
    spec = textwrap.dedent("""\
        name: refused
        sources:
          adsets: {connector: csv, options: {path: adsets.csv}, time_column: null}
          dated: {connector: csv, options: {path: adsets.csv}, time_column: ad_set}
        benchmarks:
          previous: {kind: period, offset: previous_period}
        kpis:
          spend: {source: adsets, agg: sum, column: spend}
          clicks: {source: adsets, agg: sum, column: clicks}
          impressions: {source: adsets, agg: sum, column: impressions}
        """) + kpi
    write(tmp_path, spec=spec)
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "spec.yaml")
    issues = [i for i in info.value.issues() if message in i.message]
    assert issues, [i.format() for i in info.value.issues()]
    assert issues[0].where is not None and issues[0].where.line == line, issues[0].format()
    assert hint in (issues[0].hint or ""), issues[0].format()


def test_goals_on_an_all_time_kpi_are_judged_by_total(tmp_path: Path) -> None:
    spec = SPEC.replace("cpc_goal: {kpi: cpc, target: 0.5, deadline: 2026-06-30}",
                        "cpc_goal: {kpi: cpc, target: 0.5, measure: latest}")
    write(tmp_path, spec=spec)
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "spec.yaml")
    (issue,) = [i for i in info.value.issues() if "measures the latest period" in i.message]
    assert issue.where is not None and issue.where.line == 37 and "remove `measure:`" in (issue.hint or "")


def test_a_source_that_omits_time_column_still_gets_the_fix(tmp_path: Path) -> None:
    write(tmp_path, spec=SPEC.replace("    time_column: null          # a one-off export: no dates\n", ""))
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "spec.yaml")
    assert any("has no time column" in i.message and "time_column" in (i.hint or "") for i in info.value.issues())


def test_an_empty_side_of_a_ratio_counts_as_zero_and_explain_shows_no_dates(tmp_path: Path) -> None:
    """A KPI whose filter keeps no row is 0 (a sum) and combines with the others; `--explain` and the
    SQL show no date (no range, no window) for a source without dates."""
    from metricspec.engine.run import explain

    extra = ("  none_spent: {source: adsets, agg: sum, column: spend, scope: {campaign: winter}}\n"
             "  none_share: {ratio: {numerator: none_spent, denominator: spend}}\n")
    spec = SPEC.replace("objectives:\n", extra + "objectives:\n", 1)
    path = write(tmp_path, spec=spec)
    got = values(evaluate(load_spec(path), as_of=dt.date(2026, 11, 1)))
    assert got["none_spent"] == 0 and got["none_share"] == 0
    for q in explain(load_spec(path), as_of=dt.date(2026, 11, 1)):
        assert q["grain"] == "all" and q["time_column"] is None
        assert not dates_in(str(q))
