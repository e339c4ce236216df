"""The public Python API: ``metricspec.load``, ``metricspec.evaluate(data=...)``, tidy polars frames of
the results, the Jupyter scorecard, and a cheap ``import metricspec``."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import polars as pl
import pytest
from golden_support import json_differences
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metricspec
from metricspec.errors import SpecError, UsageError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "examples"
GOLDEN = ROOT / "tests" / "golden"
STARTER = ROOT / "metricspec" / "scaffold" / "files" / "metrics.yaml"
POSTS = STARTER.parent / "data" / "posts.csv"
AS_OF = "2026-11-01"


# ---------------------------------------------------------------- import cost


def test_import_metricspec_is_cheap() -> None:
    code = ("import sys, metricspec; heavy = ['polars', 'pluggy', 'pydantic', 'jinja2', 'rich', 'click', "
            "'metricspec.engine', 'metricspec.loader']; print([m for m in heavy if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    marker = subprocess.run([sys.executable, "-c", "import metricspec, pluggy; "
                             "print(isinstance(metricspec.hookimpl, pluggy.HookimplMarker), "
                             "metricspec.hookimpl is metricspec.hookimpl)"], capture_output=True, text=True,
                            check=True)
    assert marker.stdout.split() == ["True", "True"]
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        metricspec.nonsense  # noqa: B018


def test_help_does_not_import_the_engine() -> None:
    code = ("import sys; from click.testing import CliRunner; from metricspec.cli import main; "
            "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0; "
            "print([m for m in ('polars', 'metricspec.engine', 'jinja2', 'pydantic') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------- load and evaluate


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_evaluate_gives_the_golden_results(golden: Path) -> None:
    spec = EXAMPLES / f"{golden.stem}.yaml"
    results = metricspec.evaluate(metricspec.load(spec.relative_to(ROOT)), as_of=dt.date(2026, 11, 1))
    assert not json_differences(json.loads(results.to_json()), json.loads(golden.read_text(encoding="utf-8")))


def test_evaluate_takes_a_path_and_as_of_forms() -> None:
    by_path = metricspec.evaluate(STARTER, as_of="2026-05-31")
    assert by_path.as_of == dt.date(2026, 5, 31)
    assert metricspec.evaluate(str(STARTER), as_of=dt.datetime(2026, 5, 31, 23, 0)).to_json() == by_path.to_json()
    assert metricspec.evaluate(STARTER).as_of == dt.date(2026, 6, 30), "default: the latest date in the data"
    with pytest.raises(UsageError, match="as_of='31/05/2026' is not a date"):
        metricspec.evaluate(STARTER, as_of="31/05/2026")
    with pytest.raises(SpecError) as err:
        metricspec.load(ROOT / "tests" / "no-such-spec.yaml")
    assert "no-such-spec.yaml" in str(err.value)


def _frames() -> dict[str, object]:
    import pandas as pd
    import pyarrow.csv as pacsv

    return {"polars": pl.read_csv(POSTS), "lazy": pl.scan_csv(POSTS), "pandas": pd.read_csv(POSTS),
            "pyarrow": pacsv.read_csv(POSTS)}


@pytest.mark.parametrize("kind", ["polars", "lazy", "pandas", "pyarrow"])
def test_data_frames_replace_the_connector(kind: str, tmp_path: Path) -> None:
    """The same rows from a frame give byte-identical results, even where the spec's file is missing."""
    expected = metricspec.evaluate(STARTER, as_of="2026-05-31").to_json()
    got = metricspec.evaluate(STARTER, as_of="2026-05-31", data={"posts": _frames()[kind]})
    assert got.to_json() == expected
    moved = tmp_path / "metrics.yaml"
    moved.write_text(STARTER.read_text(encoding="utf-8"), encoding="utf-8")  # no data/posts.csv next to it
    with pytest.raises(SpecError, match=r"file not found|does not exist|no such file"):
        metricspec.evaluate(moved, as_of="2026-05-31")
    from_frame = metricspec.evaluate(moved, as_of="2026-05-31", data={"posts": _frames()[kind]})
    assert from_frame.goals_to_polars().drop("where").equals(got.goals_to_polars().drop("where"))


def test_bad_data_is_reported_with_the_sources() -> None:
    with pytest.raises(SpecError) as err:
        metricspec.evaluate(STARTER, data={"post": pl.DataFrame({"a": [1]}), "posts": [1, 2, 3]})
    text = str(err.value)
    assert "data: the spec has no source 'post'" in text and "did you mean 'posts'?" in text
    assert "data['posts']: a builtins.list is not a data frame" in text
    class Exploding:
        def __arrow_c_stream__(self, requested_schema: object = None) -> object:
            raise ValueError("no stream today")

    with pytest.raises(SpecError, match=r"data\['posts'\]: cannot turn the frame into a polars frame: ValueError"):
        metricspec.evaluate(STARTER, data={"posts": Exploding()})
    with pytest.raises(SpecError, match="link_clicks"):  # a frame without the columns the spec needs
        metricspec.evaluate(STARTER, data={"posts": pl.DataFrame({"published_at": ["2026-01-01 10:00:00"]})})


SPEC = """\
name: api-property
timezone: UTC
grains: [month]
sources:
  sales:
    connector: csv
    options: {path: not-read.csv}
    time_column: day
    columns: {day: date}
kpis:
  revenue: {source: sales, agg: sum, column: amount, segments: [channel]}
  orders: {source: sales, agg: count}
"""

rows = st.lists(st.tuples(st.dates(dt.date(2026, 1, 1), dt.date(2026, 6, 30)), st.sampled_from(["x", "li", "fb"]),
                          st.integers(0, 10_000)), min_size=1, max_size=60)


@pytest.fixture(scope="module")
def property_spec(tmp_path_factory: pytest.TempPathFactory) -> metricspec.LoadedSpec:
    path = tmp_path_factory.mktemp("api") / "spec.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return metricspec.load(path)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows)
def test_frames_of_results_match_plain_python(property_spec: metricspec.LoadedSpec,
                                              data: list[tuple[dt.date, str, int]]) -> None:
    frame = pl.DataFrame(data, schema={"day": pl.Date, "channel": pl.String, "amount": pl.Int64}, orient="row")
    results = metricspec.evaluate(property_spec, as_of="2026-06-30", data={"sales": frame})
    tidy = results.to_polars()
    # independent: monthly sums and counts, per channel and in total
    revenue: dict[tuple[dt.date, str | None], int] = defaultdict(int)
    orders: dict[dt.date, int] = defaultdict(int)
    for day, channel, amount in data:
        month = day.replace(day=1)
        revenue[(month, None)] += amount
        revenue[(month, channel)] += amount
        orders[month] += 1
    got_revenue = {(r["period"], r["segment_value"]): r["value"] for r in tidy.filter(kpi="revenue").iter_rows(
        named=True) if r["kind"] in ("headline", "segment") and r["value"] is not None}
    assert {k: v for k, v in got_revenue.items() if k in revenue} == {k: float(v) for k, v in revenue.items()}
    assert all(v == 0 for k, v in got_revenue.items() if k not in revenue), "months without rows sum to 0"
    got_orders = {r["period"]: r["value"] for r in tidy.filter(kpi="orders", kind="headline").iter_rows(named=True)}
    assert {k: v for k, v in got_orders.items() if k in orders} == {k: float(v) for k, v in orders.items()}
    # the frame is the Results, point for point
    points = sum(len(s.points) for k in results.kpis for s in k.series)
    assert tidy.height == points
    assert results.kpi("revenue").to_polars().equals(tidy.filter(kpi="revenue").drop("spec"))
    assert tidy["spec"].unique().to_list() == ["api-property"]


def test_frame_schemas_are_fixed() -> None:
    from metricspec.engine.frames import GOAL_COLUMNS, KPI_COLUMNS

    results = metricspec.evaluate(STARTER, as_of="2026-05-31")
    tidy = results.to_polars()
    assert tidy.columns == ["spec", *KPI_COLUMNS]
    assert tidy.schema["period"] == pl.Date and tidy.schema["value"] == pl.Float64
    goals = results.goals_to_polars()
    assert goals.columns == ["spec", *GOAL_COLUMNS]
    assert goals.height == len(results.goals()) == 2
    row = goals.filter(goal="clicks_h1").row(0, named=True)
    goal = next(g for g in results.goals() if g.id == "clicks_h1")
    assert (row["status"], row["current"], row["target"], row["deadline"]) == (goal.status, goal.current,
                                                                                goal.target, goal.deadline)
    trend = goal.to_polars()
    assert trend.columns == ["period", "label", "value", "partial"] and trend.height == len(goal.trend)
    empty = results.model_copy(update={"kpis": [], "objectives": []})
    assert empty.to_polars().schema == tidy.schema and empty.goals_to_polars().schema == goals.schema
    both = pl.concat([tidy, metricspec.evaluate(EXAMPLES / "trade_fair_campaign.yaml", as_of=AS_OF).to_polars()])
    assert set(both["spec"]) == {"starter", "trade-fair-campaign"}


# ---------------------------------------------------------------- Jupyter


def test_results_show_as_a_scorecard_in_jupyter(tmp_path: Path) -> None:
    from metricspec.render.html import render_scorecard

    spec = tmp_path / "metrics.yaml"
    text = STARTER.read_text(encoding="utf-8").replace("path: data/posts.csv", f"path: {POSTS.as_posix()}")
    spec.write_text(text.replace("title: Social media starter scorecard",
                                 "title: \"Starter <script>alert('x')</script>\"\nlanguage: es"), encoding="utf-8")
    results = metricspec.evaluate(spec, as_of="2026-05-31", allow_outside_root=True)  # data in the repo
    shown = results._repr_html_()
    match = re.fullmatch(r'<iframe srcdoc="([^"]*)" title="([^"]*)" sandbox="allow-scripts allow-popups" '
                         r'loading="lazy" style="[^"]*"></iframe>', shown)
    assert match, shown[:300]
    document = html.unescape(match[1])
    assert document == render_scorecard(results, "es"), "the spec's language (es), the CLI's renderer"
    assert "<script>alert" not in document and "&lt;script&gt;alert" in document
    assert "<script>" not in shown


def test_the_documented_api_is_exported() -> None:
    for name in ("load", "evaluate", "hookimpl", "Results", "LoadedSpec", "MetricSpecError", "OutputRenderer",
                 "__version__"):
        assert name in metricspec.__all__ and getattr(metricspec, name) is not None


def test_repr_of_results_is_a_short_summary() -> None:
    """Issue 25: ``print(results)`` was a megabyte (Jupyter stores the repr next to the HTML)."""
    from metricspec.engine.results import Results

    text = (Path(__file__).parent / "golden" / "customer_value.json").read_text(encoding="utf-8")
    results = Results.model_validate_json(text)
    statuses = Counter(g.status for g in results.goals())
    expected = (f"<Results of 'customer-value' as of 2026-11-01: {len(results.kpis)} KPIs, "
                f"{sum(statuses.values())} goals ({statuses['target_reached']} target reached, "
                f"{statuses['at_risk']} at risk, {statuses['off_track']} off track), "
                f"{len(results.control_groups)} control groups, attribution>")
    assert len(results.control_groups) > 1
    assert set(statuses) == {"target_reached", "at_risk", "off_track"}  # since goals leave out immature months
    assert repr(results) == str(results) == expected
    leads = results.kpi("leads")
    head = next(h for h in leads.headlines if h.value is not None)
    assert repr(leads) == f"<KpiResult 'leads' (agg, {len(leads.series)} series, {head.grain} {head.label}: " \
                          f"{head.value:g})>"
    assert len(repr(results)) < 200 and len(text) > 100_000


@pytest.mark.parametrize("kind", ["polars", "pandas", "pyarrow"])
def test_empty_strings_in_a_frame_are_missing_as_in_the_file(kind: str, tmp_path: Path) -> None:
    """Issue 25: a pyarrow table with empty strings gave a '' segment that the same CSV file (whose
    empty fields are missing values) did not."""
    import pandas as pd
    import pyarrow.csv as pacsv

    lines = POSTS.read_text(encoding="utf-8").splitlines()
    blanked = [lines[0]] + [",".join(f if i != 3 or n % 7 else "" for i, f in enumerate(line.split(",")))
                            for n, line in enumerate(lines[1:])]  # every 7th post has no content type
    data = tmp_path / "data"
    data.mkdir()
    (data / "posts.csv").write_text("\n".join(blanked) + "\n", encoding="utf-8")
    spec = tmp_path / "metrics.yaml"
    spec.write_text(STARTER.read_text(encoding="utf-8"), encoding="utf-8")
    from_file = metricspec.evaluate(spec, as_of="2026-05-31")
    table = pacsv.read_csv(data / "posts.csv", convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
    assert "" in table.column("content_type").to_pylist()
    frame = {"polars": lambda: pl.from_arrow(table),
             "pandas": lambda: pd.read_csv(data / "posts.csv", keep_default_na=False),
             "pyarrow": lambda: table}[kind]()
    from_frame = metricspec.evaluate(spec, as_of="2026-05-31", data={"posts": frame})
    assert from_frame.to_json() == from_file.to_json()
    values = {s.segment_value for k in from_frame.kpis for s in k.series if s.segment == "content_type"}
    assert "" not in values and values
