"""``metricspec query`` and ``metricspec.query``: numbers against hand-written SQL and plain Python,
breakdowns of derived KPIs, KPIs of different sources side by side, errors, formats and ``--explain``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import textwrap
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metricspec
from metricspec.cli import main
from metricspec.errors import SpecError

ROOT = Path(__file__).parent.parent
MULTI = "specs/examples/multi_network.yaml"


@pytest.fixture(autouse=True)
def in_root() -> Iterator[None]:
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(cwd)


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["query", *args])


# ------------------------------------------------------------------ numbers against DuckDB SQL

def duck(sql: str) -> pl.DataFrame:
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.sql(sql).pl()


def test_ratio_by_two_columns_with_a_filter_equals_hand_written_sql() -> None:
    """engagement_rate = sum(likes+comments+shares+saves) / sum(impressions), per week (Europe/Madrid)
    and network × content_type, on X posts: a ratio of sums per breakdown."""
    pytest.importorskip("duckdb")
    got = metricspec.query(MULTI, ["engagement_rate", "posts"], by=["network", "content_type"], grain="week",
                           where="network == 'x' and impressions > 1000", start="2026-09-01", end="2026-10-31")
    want = duck("""
        WITH p AS (
          SELECT *, timezone('Europe/Madrid', timezone('UTC', published_at::TIMESTAMP)) AS local
          FROM read_csv('specs/examples/data/network_posts.csv'))
        SELECT date_trunc('week', local)::DATE AS period, network, content_type,
               sum(likes + comments + shares + saves) / sum(impressions) AS rate, count(*) AS n
        FROM p WHERE network = 'x' AND impressions > 1000
          AND local::DATE BETWEEN DATE '2026-09-01' AND DATE '2026-10-31'
        GROUP BY ALL ORDER BY ALL""")
    # a week without posts of a type shows 0 posts and no rate (the periods and breakdowns are filled)
    empty = got.filter(pl.col("posts") == 0)
    assert empty["engagement_rate"].null_count() == empty.height
    got = got.filter(pl.col("posts") > 0)
    assert got.height == want.height > 20
    for g, w in zip(got.iter_rows(named=True), want.iter_rows(named=True), strict=True):
        assert (g["period"], g["network"], g["content_type"]) == (w["period"], w["network"], w["content_type"])
        assert g["engagement_rate"] == pytest.approx(w["rate"], rel=1e-11)
        assert g["posts"] == w["n"]


def test_a_ratio_is_a_ratio_of_sums_not_a_sum_of_ratios() -> None:
    by_type = metricspec.query(MULTI, ["engagements", "impressions", "engagement_rate"],
                               by=["network", "content_type"], grain="month", end="2026-10-31")
    by_network = metricspec.query(MULTI, "engagement_rate", by="network", grain="month", end="2026-10-31")
    sums = by_type.group_by(["period", "network"]).agg(pl.col("engagements").sum(), pl.col("impressions").sum())
    joined = by_network.join(sums, on=["period", "network"])
    assert joined.height == by_network.height
    for row in joined.iter_rows(named=True):
        assert row["engagement_rate"] == pytest.approx(row["engagements"] / row["impressions"], rel=1e-11)


def test_kpis_of_different_sources_line_up_on_period_and_breakdown() -> None:
    both = metricspec.query(MULTI, ["posts", "planned_posts", "plan_delivery"], by="network", grain="week",
                            start="2026-06-01", end="2026-10-31")
    for kpi in ("posts", "planned_posts"):
        alone = metricspec.query(MULTI, kpi, by="network", grain="week", start="2026-06-01", end="2026-10-31")
        assert both.select(["period", "network", kpi]).join(alone, on=["period", "network"], how="anti").filter(
            pl.col(kpi).is_not_null()).height == 0
        assert alone.join(both, on=["period", "network"], how="left", suffix="_b").filter(
            pl.col(kpi) != pl.col(f"{kpi}_b")).height == 0
    ok = both.filter(pl.col("planned_posts") > 0)
    assert ok.height > 50
    assert (ok["plan_delivery"] - ok["posts"] / ok["planned_posts"]).abs().max() < 1e-9  # type: ignore[operator]


# ------------------------------------------------------------------ derived kinds per breakdown, plain Python

SPEC = """\
name: derived
timezone: UTC
grains: [day]
sources:
  ev: {connector: csv, options: {path: ev.csv}, time_column: day, columns: {day: date}}
kpis:
  total: {source: ev, agg: sum, column: v}
  rows: {source: ev, agg: count}
  avg: {ratio: {numerator: total, denominator: rows}}
  twice: {formula: "total * 2 - rows"}
  growth: {growth: total}
  r3: {rolling: {kpi: total, days: 3}}
  mtd: {to_date: {kpi: total, period: month}}
  cum: {cumulative: total}
"""


def _write(d: Path, rows: list[tuple[int, str, str, int]]) -> Path:
    base = dt.date(2026, 1, 28)
    with (d / "ev.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["day", "seg", "other", "v"])
        for day, seg, other, v in rows:
            w.writerow([(base + dt.timedelta(days=day)).isoformat(), seg, other, v])
    (d / "s.yaml").write_text(SPEC)
    return d / "s.yaml"


def _python(rows: list[tuple[int, str, str, int]], keep: str) -> dict[tuple[dt.date, str], dict[str, float | None]]:
    """Per day (from the first asked date to the data's last) and seg with rows where other == keep:
    every derived KPI, in plain Python. Windows reaching before the first date have no value."""
    base = dt.date(2026, 1, 28)
    days = [base + dt.timedelta(days=i) for i in range(max(r[0] for r in rows) + 1)]
    segs = sorted({r[1] for r in rows if r[2] == keep})
    tot: dict[tuple[dt.date, str], float] = defaultdict(float)
    cnt: dict[tuple[dt.date, str], int] = defaultdict(int)
    for day, seg, other, v in rows:
        if other == keep:
            tot[(base + dt.timedelta(days=day), seg)] += v
            cnt[(base + dt.timedelta(days=day), seg)] += 1
    out: dict[tuple[dt.date, str], dict[str, float | None]] = {}
    for s in segs:
        running = 0.0
        for i, d in enumerate(days):
            t, n = tot[(d, s)], cnt[(d, s)]
            prev = tot[(days[i - 1], s)] if i else None
            running += t
            out[(d, s)] = {
                "total": t, "rows": float(n), "avg": t / n if n else None, "twice": t * 2 - n,
                "growth": (t - prev) / abs(prev) if prev else None,
                "r3": sum(tot[(days[j], s)] for j in range(i - 2, i + 1)) if i >= 2 else None,
                "mtd": sum(tot[(x, s)] for x in days if x.month == d.month and x <= d) if d.month == 2 else None,
                "cum": running}
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["a", "b", "c"]), st.sampled_from(["k", "x"]),
                               st.integers(-5, 50)), min_size=1, max_size=40))
def test_derived_kinds_are_recomputed_per_breakdown(tmp_path_factory, rows) -> None:
    """Every derived kind per ``seg`` over the rows where ``other == 'k'`` equals plain Python."""
    path = _write(tmp_path_factory.mktemp("derived"), rows)
    kpis = ["total", "rows", "avg", "twice", "growth", "r3", "mtd", "cum"]
    frame = metricspec.query(path, kpis, by="seg", grain="day", where="other == 'k'", start="2026-01-28",
                             end="2026-02-06", allow_outside_root=True)
    want = _python(rows, "k")
    got = {(r["period"], r["seg"]): {k: r[k] for k in kpis} for r in frame.iter_rows(named=True)}
    assert set(got) == set(want)
    for key, values in want.items():
        for kpi, value in values.items():
            have = got[key][kpi]
            assert (have is None) == (value is None), (key, kpi, have, value)
            if value is not None:
                assert have == pytest.approx(value, rel=1e-11, abs=1e-12), (key, kpi)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["a", "b", "c"]), st.sampled_from(["k", "x"]),
                               st.integers(-5, 50)), min_size=1, max_size=40))
def test_breakdowns_of_an_additive_kpi_add_up_to_the_total(tmp_path_factory, rows) -> None:
    path = _write(tmp_path_factory.mktemp("sums"), rows)
    args = {"grain": "week", "end": "2026-02-06", "allow_outside_root": True}
    by = metricspec.query(path, ["total", "rows"], by=["seg", "other"], **args)  # type: ignore[arg-type]
    total = metricspec.query(path, ["total", "rows"], **args)  # type: ignore[arg-type]
    summed = by.group_by("period").agg(pl.col("total").sum(), pl.col("rows").sum()).sort("period")
    assert summed.equals(total.select(summed.columns))


# ------------------------------------------------------------------ errors

def test_a_breakdown_a_kpi_cannot_have_is_refused_with_the_kpi_and_the_column() -> None:
    result = invoke(MULTI, "--kpi", "plan_delivery", "--kpi", "posts", "--by", "content_type")
    assert result.exit_code == 2, result.output
    assert ("KPI 'plan_delivery' cannot be broken down by 'content_type': source 'calendar_plan' (read through "
            "KPI 'planned_posts') has no column 'content_type'") in result.output
    assert "KPI 'posts' cannot" not in result.output


def test_unknown_names_get_did_you_mean() -> None:
    result = invoke(MULTI, "--kpi", "engagment_rate", "--by", "network")
    assert result.exit_code == 2
    assert "unknown KPI 'engagment_rate' in spec 'multi-network' — did you mean 'engagement_rate'?" in result.output
    result = invoke(MULTI, "--kpi", "posts", "--by", "netwrk")
    assert result.exit_code == 2
    assert "has no column 'netwrk' — did you mean 'network'?" in result.output
    result = invoke(MULTI, "--kpi", "posts", "--where", "contnt_type == 'video'")
    assert result.exit_code == 2
    assert "KPI 'posts' cannot be filtered by 'contnt_type'" in result.output and "'content_type'" in result.output


@pytest.mark.parametrize(("where", "message"), [
    ("network = 'x'", "--where: cannot parse expression"),
    ("network == 1", "--where: '==' compares text with a number"),
    ("", "--where: empty expression"),
])
def test_a_malformed_where_is_refused(where: str, message: str) -> None:
    result = invoke(MULTI, "--kpi", "posts", "--where", where)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_grain_a_kpi_cannot_have_is_refused() -> None:
    assert metricspec.query(MULTI, "posts", grain="hour", start="2026-10-01", end="2026-10-01").height == 24
    cohort = "specs/examples/customer_value.yaml"
    loaded = metricspec.load(cohort)
    name = next(n for n, k in loaded.spec.kpis.items() if k.form == "cohort_retention")
    with pytest.raises(SpecError, match=f"KPI '{name}' cannot be computed per day: it is computed per"):
        metricspec.query(loaded, name, grain="day")
    funnel = next((n for n, k in loaded.spec.kpis.items() if k.form in ("funnel", "retention")), None)
    if funnel is not None:
        with pytest.raises(SpecError, match=f"KPI '{funnel}' cannot be computed per hour"):
            metricspec.query(loaded, funnel, grain="hour")
    result = invoke(MULTI, "--kpi", "audience", "--grain", "hour")
    assert result.exit_code == 2
    assert "KPI 'audience' cannot be computed per hour: time column 'month' of source 'audience' holds Date" \
        in result.output


# ------------------------------------------------------------------ formats and explain

@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_formats_are_deterministic(fmt: str) -> None:
    args = [MULTI, "--kpi", "posts,ctr", "--by", "network", "--grain", "month", "--from", "2026-08-01", "--to",
            "2026-10-31", "--format", fmt]
    first, second = invoke(*args), invoke(*args)
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    if fmt == "json":
        doc = json.loads(first.output)
        assert doc["grain"] == "month" and doc["by"] == ["network"] and len(doc["rows"]) == 12
        assert doc["rows"][0] == {**doc["rows"][0], "period": "2026-08-01", "label": "2026-08", "network": "facebook"}
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(first.output)))
        frame = metricspec.query(MULTI, ["posts", "ctr"], by="network", grain="month", start="2026-08-01",
                                 end="2026-10-31")
        assert [float(r["ctr"]) for r in rows] == frame["ctr"].to_list()
    if fmt in ("table", "markdown"):
        assert "2026-09" in first.output and "instagram" in first.output and "%" in first.output


def test_output_file_is_written(tmp_path: Path) -> None:
    out = tmp_path / "q.csv"
    result = invoke(MULTI, "--kpi", "posts", "--format", "csv", "-o", str(out), "--to", "2026-10-31")
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("period,label,posts\n")


def test_explain_shows_the_sql_on_a_database_source() -> None:
    result = invoke("specs/examples/warehouse_sales.yaml", "--kpi", "revenue", "--by", "acquisition_channel",
                    "--grain", "quarter", "--where", "amount > 10", "--explain")
    assert result.exit_code == 0, result.output
    assert "runs in: duckdb" in result.output and "GROUP BY" in result.output
    assert "DATE_TRUNC('QUARTER'" in result.output and '"amount" > 10' in result.output
    plan = json.loads(invoke("specs/examples/warehouse_sales.yaml", "--kpi", "revenue", "--grain", "month",
                             "--explain", "--format", "json").output)
    assert plan[0]["runs_in"] == "duckdb" and "SELECT" in plan[0]["sql"]


def test_where_applies_before_grouping() -> None:
    """A breakdown value without rows that pass ``where`` has no rows in the answer (not zeros)."""
    frame = metricspec.query(MULTI, "posts", by="network", grain="month", where="network == 'x'", end="2026-10-31")
    assert frame["network"].unique().to_list() == ["x"]


def test_a_query_reads_only_the_sources_its_kpis_need(monkeypatch) -> None:
    from metricspec import sources

    opened: list[str] = []
    real = sources.open_source

    def spy(loaded, name, **kw):  # type: ignore[no-untyped-def]
        opened.append(name)
        return real(loaded, name, **kw)

    monkeypatch.setattr(sources, "open_source", spy)
    metricspec.query(MULTI, "engagement_rate", by="network", end="2026-10-31")
    assert opened == ["posts"]


def test_hourly_query_on_the_day_the_clocks_go_back(tmp_path: Path) -> None:
    times = [dt.datetime(2026, 10, 24, 22, tzinfo=dt.UTC) + dt.timedelta(minutes=30 * i) for i in range(52)]
    pl.DataFrame({"at": times, "n": list(range(52))}).write_parquet(tmp_path / "e.parquet")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""\
        name: h
        timezone: Europe/Warsaw
        sources:
          e: {connector: parquet, options: {path: e.parquet}, time_column: at}
        kpis:
          n: {source: e, agg: sum, column: n}
        """))
    frame = metricspec.query(tmp_path / "s.yaml", "n", grain="hour", start="2026-10-25", end="2026-10-25",
                             allow_outside_root=True)
    assert frame.height == 25 and frame.schema["period"] == pl.Datetime("us", "Europe/Warsaw")
    assert frame["n"].to_list() == [float(2 * i + 2 * i + 1) for i in range(25)]  # rows 2i and 2i + 1
