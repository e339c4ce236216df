"""KPIs against an independent computation (DuckDB SQL) on generated data with known answers."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import textwrap
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from metricspec.engine.run import evaluate
from metricspec.loader import load_spec

AS_OF = dt.date(2026, 6, 30)


def make_posts(path: Path, n: int = 2000, seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    start = dt.datetime(2026, 1, 1)
    secs = np.sort(rng.integers(0, 181 * 86400, n))
    df = pl.DataFrame({
        "post_id": [f"p{i:05d}" for i in range(n)],
        "posted_at": [start + dt.timedelta(seconds=int(s)) for s in secs],
        "platform": rng.choice(["x", "instagram", "linkedin"], n).tolist(),
        "content_type": rng.choice(["photo", "video", "link"], n).tolist(),
        "impressions": rng.integers(100, 5000, n).tolist(),
        "clicks": rng.integers(0, 200, n).tolist(),
        "retweets": rng.integers(0, 50, n).tolist(),
        "author": rng.choice([f"a{i}" for i in range(40)], n).tolist(),
        "sentiment": rng.choice(["positive", "neutral", "negative"], n).tolist(),
        "answered": rng.choice([True, False], n).tolist(),
    })
    df.write_csv(path)
    return df


def make_followers(path: Path) -> pl.DataFrame:
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(181)]
    rows = []
    for account, base, step in (("brand", 8000, 11), ("rival_a", 15000, 5)):
        for i, d in enumerate(days):
            rows.append({"date": d, "account": account, "followers": base + step * i + (i % 7), "following": 400 + i})
    df = pl.DataFrame(rows)
    df.write_csv(path)
    return df


SPEC = """
name: engine-test
timezone: UTC
grains: [month, week]
sources:
  posts:
    connector: csv
    options: {path: posts.csv}
    time_column: posted_at
  followers:
    connector: csv
    options: {path: followers.csv}
    time_column: date
    columns: {date: date}
benchmarks:
  rival_a: {kind: competitor, scope: {account: rival_a}}
kpis:
  posts: {source: posts, agg: count, segments: [platform], kind: activity}
  impressions: {source: posts, agg: sum, column: impressions, segments: [platform]}
  clicks: {source: posts, agg: sum, column: clicks}
  ctr: {ratio: {numerator: clicks, denominator: impressions}, unit: percent}
  mean_rt: {source: posts, agg: mean, column: retweets}
  median_rt: {source: posts, agg: median, column: retweets}
  max_rt: {source: posts, agg: max, column: retweets}
  min_rt: {source: posts, agg: min, column: retweets}
  authors: {source: posts, agg: count_distinct, column: author}
  video_rt: {source: posts, agg: sum, column: retweets, filter: "content_type == 'video'"}
  negative: {source: posts, agg: count, filter: "sentiment == 'negative'"}
  answered_share: {share: {of: negative, where: answered}}
  rt_per_post: {formula: "video_rt / posts"}
  followers: {source: followers, agg: last, column: followers, segments: [account], scope: {account: brand},
              benchmarks: [rival_a]}
  ff_ratio: {formula: "followers / following"}
  following: {source: followers, agg: last, column: following, scope: {account: brand}}
  follower_growth: {growth: followers}
  cum_posts: {cumulative: posts}
  posts_ma3: {moving_average: {kpi: posts, window: 3}}
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("engine")
    posts = make_posts(d / "posts.csv")
    followers = make_followers(d / "followers.csv")
    (d / "spec.yaml").write_text(textwrap.dedent(SPEC))
    results = evaluate(load_spec(d / "spec.yaml"), as_of=AS_OF)
    con = duckdb.connect()
    con.register("posts", posts.to_arrow())
    con.register("followers", followers.to_arrow())
    return results, con


# KPI values are rounded to 12 significant digits (metricspec.engine.kpis.SIGNIFICANT_DIGITS), so
# comparisons with independent computations allow a relative 1e-10.
def headline(results, kpi: str, grain: str = "month") -> dict[dt.date, float | None]:
    k = results.kpi(kpi)
    s = next(s for s in k.series if s.grain == grain and s.kind == "headline")
    return {p.period: p.value for p in s.points}


def sql_month(con, select: str, where: str = "TRUE", table: str = "posts", tcol: str = "posted_at"):
    rows = con.execute(
        f"SELECT date_trunc('month', {tcol})::DATE AS m, {select} FROM {table} WHERE {where} GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return {r[0]: (None if r[1] is None else float(r[1])) for r in rows}


@pytest.mark.parametrize(
    ("kpi", "select", "where"),
    [
        ("posts", "count(*)", "TRUE"),
        ("impressions", "sum(impressions)", "TRUE"),
        ("mean_rt", "avg(retweets)", "TRUE"),
        ("median_rt", "median(retweets)", "TRUE"),
        ("max_rt", "max(retweets)", "TRUE"),
        ("min_rt", "min(retweets)", "TRUE"),
        ("authors", "count(DISTINCT author)", "TRUE"),
        ("video_rt", "sum(retweets)", "content_type = 'video'"),
        ("negative", "count(*)", "sentiment = 'negative'"),
    ],
)
def test_base_aggregations_match_duckdb(world, kpi, select, where):
    results, con = world
    got = headline(results, kpi)
    want = sql_month(con, select, where)
    assert set(want) <= set(got)
    for m, v in want.items():
        assert got[m] == pytest.approx(v, rel=1e-10), (kpi, m)


def test_ratio_share_and_formula(world):
    results, con = world
    ctr = headline(results, "ctr")
    want = sql_month(con, "sum(clicks)::DOUBLE / sum(impressions)")
    for m, v in want.items():
        assert ctr[m] == pytest.approx(v, rel=1e-10)
    share = headline(results, "answered_share")
    want = sql_month(con, "avg(CASE WHEN answered THEN 1.0 ELSE 0.0 END)", "sentiment = 'negative'")
    for m, v in want.items():
        assert share[m] == pytest.approx(v, rel=1e-10)
        assert 0 <= share[m] <= 1
    rpp = headline(results, "rt_per_post")
    want = sql_month(con, "sum(CASE WHEN content_type = 'video' THEN retweets ELSE 0 END)::DOUBLE / count(*)")
    for m, v in want.items():
        assert rpp[m] == pytest.approx(v, rel=1e-10)


def test_snapshot_last_value_and_benchmark(world):
    results, con = world
    got = headline(results, "followers")
    want = con.execute(
        "SELECT date_trunc('month', date)::DATE, arg_max(followers, date) FROM followers WHERE account = 'brand' "
        "GROUP BY 1 ORDER BY 1").fetchall()
    for m, v in want:
        assert got[m] == v
    k = results.kpi("followers")
    h = k.headlines[0]
    assert h.period == dt.date(2026, 6, 1)  # June is complete on 2026-06-30
    rival = con.execute("SELECT arg_max(followers, date) FROM followers WHERE account = 'rival_a' AND "
                        "date < DATE '2026-07-01'").fetchone()[0]
    assert h.benchmarks[0].value == rival
    assert h.benchmarks[0].difference == pytest.approx(h.value - rival)
    # previous period and its change
    assert h.previous == got[dt.date(2026, 5, 1)]
    assert h.change == pytest.approx(h.value - h.previous)
    ratio = headline(results, "ff_ratio")
    fol = con.execute("SELECT date_trunc('month', date)::DATE, arg_max(followers, date)::DOUBLE / "
                      "arg_max(following, date) FROM followers WHERE account='brand' GROUP BY 1").fetchall()
    for m, v in fol:
        assert ratio[m] == pytest.approx(v, rel=1e-10)


def test_growth_cumulative_moving_average(world):
    results, _ = world
    fol = headline(results, "followers")
    growth = headline(results, "follower_growth")
    months = sorted(fol)
    assert growth[months[0]] is None
    for a, b in itertools.pairwise(months):
        assert growth[b] == pytest.approx((fol[b] - fol[a]) / fol[a], rel=1e-10)
    posts = headline(results, "posts")
    cum = headline(results, "cum_posts")
    running = 0.0
    for m in months:
        running += posts[m]
        assert cum[m] == pytest.approx(running)
    ma = headline(results, "posts_ma3")
    for i, m in enumerate(months):
        if i < 2:
            assert ma[m] is None
        else:
            assert ma[m] == pytest.approx(sum(posts[x] for x in months[i - 2:i + 1]) / 3)


def test_segments_sum_to_total(world):
    results, _ = world
    k = results.kpi("impressions")
    total = headline(results, "impressions")
    segs = [s for s in k.series if s.grain == "month" and s.kind == "segment"]
    assert {s.segment_value for s in segs} == {"x", "instagram", "linkedin"}
    for m, v in total.items():
        assert sum(next(p.value for p in s.points if p.period == m) for s in segs) == pytest.approx(v)


def test_weeks_start_on_configured_day(world, tmp_path):
    results, con = world
    weekly = headline(results, "posts", "week")
    want = con.execute("SELECT date_trunc('week', posted_at)::DATE, count(*) FROM posts GROUP BY 1").fetchall()
    for w, v in want:
        assert weekly[w] == v
    assert all(p.weekday() == 0 for p in weekly)


def test_empty_periods_and_zero_denominators(tmp_path):
    pl.DataFrame({
        "t": [dt.date(2026, 1, 5), dt.date(2026, 3, 5)],
        "clicks": [5, 0],
        "impressions": [100, 0],
    }).write_csv(tmp_path / "d.csv")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""
        name: gaps
        sources:
          d: {connector: csv, options: {path: d.csv}, time_column: t, columns: {t: date}}
        kpis:
          clicks: {source: d, agg: sum, column: clicks}
          impressions: {source: d, agg: sum, column: impressions}
          ctr: {ratio: {numerator: clicks, denominator: impressions}}
          avg_clicks: {source: d, agg: mean, column: clicks}
    """))
    r = evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 3, 31))
    clicks = headline(r, "clicks")
    assert clicks[dt.date(2026, 2, 1)] == 0.0  # empty period counts as 0 for additive KPIs
    assert headline(r, "avg_clicks")[dt.date(2026, 2, 1)] is None  # and as missing otherwise
    ctr = headline(r, "ctr")
    assert ctr[dt.date(2026, 1, 1)] == pytest.approx(0.05)
    assert ctr[dt.date(2026, 2, 1)] is None  # 0 / 0
    assert ctr[dt.date(2026, 3, 1)] is None
    for k in r.kpis:
        for s in k.series:
            for p in s.points:
                assert p.value is None or math.isfinite(p.value)


def test_timezone_moves_late_utc_posts_to_next_local_day(tmp_path):
    pl.DataFrame({"ts": ["2026-01-31 23:30:00", "2026-02-01 10:00:00"]}).write_csv(tmp_path / "p.csv")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""
        name: tz
        timezone: Europe/Warsaw
        sources:
          p: {connector: csv, options: {path: p.csv}, time_column: ts, columns: {ts: datetime}, timezone: UTC}
        kpis:
          posts: {source: p, agg: count}
    """))
    r = evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 2, 28))
    months = headline(r, "posts")
    assert months.get(dt.date(2026, 1, 1), 0) == 0  # 23:30 UTC is 00:30 in Warsaw on 1 February
    assert months[dt.date(2026, 2, 1)] == 2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=40),
    flags=st.lists(st.booleans(), min_size=40, max_size=40),
    constant=st.integers(min_value=1, max_value=10_000),
)
def test_invariants(tmp_path_factory, values, flags, constant):
    d = tmp_path_factory.mktemp("prop")
    n = len(values)
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=7 * i) for i in range(n)]
    pl.DataFrame({
        "day": days,
        "v": values,
        "flag": flags[:n],
        "seg": [("a", "b", "c")[i % 3] for i in range(n)],
        "const": [constant] * n,
    }).write_csv(d / "d.csv")
    (d / "s.yaml").write_text(textwrap.dedent("""
        name: props
        sources:
          d: {connector: csv, options: {path: d.csv}, time_column: day, columns: {day: date}}
        kpis:
          total: {source: d, agg: sum, column: v, segments: [seg]}
          rows: {source: d, agg: count}
          flagged: {share: {of: rows, where: flag}}
          level: {source: d, agg: last, column: const}
          level_growth: {growth: level}
    """))
    last = days[-1]
    month_end = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    r = evaluate(load_spec(d / "s.yaml"), as_of=month_end)  # every month complete
    for v in headline(r, "flagged").values():
        assert v is None or 0.0 <= v <= 1.0
    total = headline(r, "total")
    segs = [s for s in r.kpi("total").series if s.kind == "segment" and s.grain == "month"]
    for m, v in total.items():
        assert sum(p.value for s in segs for p in s.points if p.period == m) == pytest.approx(v)
    assert sum(total.values()) == pytest.approx(sum(values))
    for g in list(headline(r, "level_growth").values())[1:]:
        assert g == 0.0


def test_plan_fuses_kpis_of_one_source_and_grain(world, tmp_path_factory):
    """All base KPIs on one source, grain, segmentation and scope share a single query."""
    from metricspec.engine.run import explain

    results, _ = world
    spec_path = Path(results.spec.path)
    plan = explain(load_spec(spec_path), as_of=AS_OF)
    keys = [(q["source"], q["grain"], tuple(q["segments"]), tuple(map(tuple, q["scope"]))) for q in plan]
    assert len(keys) == len(set(keys))
    posts_month = next(q for q in plan if q["source"] == "posts" and q["grain"] == "month" and not q["segments"]
                       and not q["scope"])
    names = {(a["agg"], a["column"], a["filter"]) for a in posts_month["aggregates"]}
    assert ("sum", "impressions", None) in names and ("median", "retweets", None) in names
    assert len(posts_month["aggregates"]) >= 10
    # only the needed columns are read
    assert set(posts_month["columns"]) <= {"posted_at", "impressions", "clicks", "retweets", "author", "content_type",
                                          "sentiment", "answered"}


def test_periods_after_a_source_ends_are_missing_not_zero(tmp_path):
    pl.DataFrame({"t": [dt.date(2026, 1, 5), dt.date(2026, 2, 5)], "n": [3, 4]}).write_csv(tmp_path / "x.csv")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""
        name: ends
        sources:
          x: {connector: csv, options: {path: x.csv}, time_column: t, columns: {t: date}}
        kpis:
          n: {source: x, agg: sum, column: n}
    """))
    r = evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 5, 31))
    got = headline(r, "n")
    assert got == {dt.date(2026, 1, 1): 3.0, dt.date(2026, 2, 1): 4.0}
    assert r.kpi("n").headlines[0].label == "2026-02"


def test_fast_points_equal_validated_points():
    import dataclasses

    from metricspec.engine.goals import make_points
    from metricspec.engine.results import Point, Series

    periods = [dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 3, 1)]
    values = [1.5, None, 0.0]
    fast = make_points(periods, values, "month", dt.date(2026, 3, 15))
    slow = [Point(period=p, label=p.strftime("%Y-%m"), value=v, partial=p.month == 3)
            for p, v in zip(periods, values, strict=True)]
    assert fast == slow
    assert [hash(p) for p in fast] == [hash(p) for p in slow]
    series = Series(grain="month", points=fast)
    assert series.model_dump_json() == Series(grain="month", points=slow).model_dump_json()
    assert Series.model_validate_json(series.model_dump_json()) == series  # JSON round trip builds equal points
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast[0].value = 2.0  # type: ignore[misc]
    with pytest.raises(ValidationError):  # pydantic still checks points it parses
        Series.model_validate({"grain": "month", "points": [{"period": "2026-01-01", "label": "x", "value": "a"}]})
    with pytest.raises(ValidationError):
        Series.model_validate({"grain": "month", "points": [{"period": "2026-01-01", "label": "x", "value": 1,
                                                              "extra": 1}]})


def test_previous_period_and_same_period_last_year(tmp_path):
    """Headline comparisons read the right earlier periods (checked against the data by hand)."""
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(730)]  # 2025 and 2026
    pl.DataFrame({"t": days, "n": [d.month + 100 * (d.year - 2025) for d in days]}).write_csv(tmp_path / "x.csv")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""
        name: yoy
        grains: [month, quarter]
        sources:
          x: {connector: csv, options: {path: x.csv}, time_column: t, columns: {t: date}}
        kpis:
          n: {source: x, agg: sum, column: n}
    """))
    r = evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 10, 15))
    month, quarter = r.kpi("n").headlines
    assert month.period == dt.date(2026, 9, 1)  # latest complete month
    assert month.value == 30 * (9 + 100)
    assert month.previous == 31 * (8 + 100)
    assert month.previous_year == 30 * 9
    assert month.yoy_change == pytest.approx(month.value - month.previous_year)
    assert month.yoy_change_pct == pytest.approx((month.value - month.previous_year) / month.previous_year)
    assert month.change_pct == pytest.approx((month.value - month.previous) / month.previous)
    assert quarter.period == dt.date(2026, 7, 1)
    assert quarter.value == 31 * 107 + 31 * 108 + 30 * 109
    assert quarter.previous == 30 * 104 + 31 * 105 + 30 * 106
    assert quarter.previous_year == 31 * 7 + 31 * 8 + 30 * 9


def test_null_values_are_skipped_and_reported(tmp_path):
    """Rows with a null where an aggregate reads a value are left out and counted once per column."""
    rows = [  # day, kind, clicks, cost
        ("2026-01-05", "ad", 3, 1.0), ("2026-01-06", "ad", None, 2.0), ("2026-01-07", "post", None, None),
        ("2026-02-02", "ad", 4, None), ("2026-02-03", "ad", 5, 4.0), ("2026-02-04", "post", 1, 1.0),
    ]
    pl.DataFrame(rows, schema={"day": pl.String, "kind": pl.String, "clicks": pl.Int64, "cost": pl.Float64},
                 orient="row").with_columns(pl.col("day").str.to_date()).write_parquet(tmp_path / "x.parquet")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""
        name: nulls
        grains: [week, month]
        sources:
          x: {connector: parquet, options: {path: x.parquet}, time_column: day}
        kpis:
          clicks: {source: x, agg: sum, column: clicks}
          ad_cost: {source: x, agg: sum, column: cost, filter: "kind == 'ad'"}
          per_click: {source: x, agg: sum, expression: "cost / clicks"}
          rows: {source: x, agg: count}
    """))
    r = evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 2, 28))
    expected = {  # counted by hand from the rows above
        "clicks": sum(c is None for _, _, c, _ in rows),  # 2
        "cost": sum(k == "ad" and v is None for _, k, _, v in rows),  # 1: the null 'post' row is outside the filter
        "cost / clicks": sum(c is None or v is None for _, _, c, v in rows),  # 3
    }
    got = {n.message.split("'")[1]: int(n.message.split()[0]) for n in r.notes}
    assert got == expected
    assert all(n.level == "warning" and "source 'x'" in n.message for n in r.notes)
    assert headline(r, "clicks", "month") == {dt.date(2026, 1, 1): 3.0, dt.date(2026, 2, 1): 10.0}
    assert headline(r, "ad_cost", "month") == {dt.date(2026, 1, 1): 3.0, dt.date(2026, 2, 1): 4.0}
    assert headline(r, "rows", "month") == {dt.date(2026, 1, 1): 3.0, dt.date(2026, 2, 1): 3.0}


def test_derived_kpis_as_frame_columns_equal_the_join_path(monkeypatch):
    """Derived KPIs computed as columns of their query frame give exactly what the general path
    (one join and DataFrame operations per series) gives, on every example spec."""
    from metricspec.engine.kpis import Evaluator

    examples = Path(__file__).parent.parent / "specs" / "examples"
    specs = sorted(examples.glob("*.yaml"))
    assert len(specs) >= 6
    as_of = dt.date(2026, 11, 1)
    planned = Evaluator._columnize
    derived_columns = []

    def counting(self, periods):
        layers = planned(self, periods)
        derived_columns.extend(e for stack in layers.values() for layer in stack[1:] for e in layer)
        return layers

    monkeypatch.setattr(Evaluator, "_columnize", counting)
    fast = [evaluate(load_spec(p), as_of=as_of).model_dump_json() for p in specs]
    assert len(derived_columns) > 50  # ratios, shares, formulas and growth really took the fast path
    monkeypatch.setattr(Evaluator, "_columnize", lambda self, periods: {})
    general = [evaluate(load_spec(p), as_of=as_of).model_dump_json() for p in specs]
    for path, a, b in zip(specs, fast, general, strict=True):
        assert a == b, path.name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(st.integers(0, 120),  # day offset
                            st.sampled_from(["a", "b", "c", None]),  # segment value
                            st.one_of(st.none(), st.integers(-5, 50)),  # value (null, zero, negative)
                            st.one_of(st.none(), st.integers(0, 3)),  # denominator (often zero)
                            st.booleans()),
                  min_size=0, max_size=60),
)
def test_frame_columns_equal_join_path_on_random_data(tmp_path_factory, monkeypatch, rows):
    """Property: on any data (nulls, zero denominators, empty segments, gaps), every derived form
    computed as frame columns equals the general join path, at every grain and segment."""
    from metricspec.engine.kpis import Evaluator

    d = tmp_path_factory.mktemp("cols")
    pl.DataFrame(
        {"day": [dt.date(2026, 1, 1) + dt.timedelta(days=r[0]) for r in rows], "seg": [r[1] for r in rows],
         "v": [r[2] for r in rows], "w": [r[3] for r in rows], "flag": [r[4] for r in rows]},
        schema={"day": pl.Date, "seg": pl.String, "v": pl.Int64, "w": pl.Int64, "flag": pl.Boolean},
    ).write_parquet(d / "d.parquet")
    (d / "s.yaml").write_text(textwrap.dedent("""
        name: columns
        grains: [week, month]
        sources:
          d: {connector: parquet, options: {path: d.parquet}, time_column: day}
        kpis:
          v: {source: d, agg: sum, column: v, segments: [seg]}
          w: {source: d, agg: sum, column: w, segments: [seg]}
          mean_v: {source: d, agg: mean, column: v, segments: [seg]}
          rows: {source: d, agg: count, segments: [seg]}
          ratio: {ratio: {numerator: v, denominator: w}, segments: [seg]}
          flagged: {share: {of: rows, where: flag}, segments: [seg]}
          formula: {formula: "(v - w) / (w - 1) + ratio", segments: [seg]}
          growth: {growth: v, segments: [seg]}
          ratio_growth: {growth: ratio, segments: [seg]}
          running: {cumulative: formula, segments: [seg]}
          smooth: {moving_average: {kpi: mean_v, window: 3}, segments: [seg]}
    """))
    as_of = dt.date(2026, 4, 15)  # partial week and month at the end
    fast = evaluate(load_spec(d / "s.yaml"), as_of=as_of).model_dump_json()
    with monkeypatch.context() as m:
        m.setattr(Evaluator, "_columnize", lambda self, periods: {})
        general = evaluate(load_spec(d / "s.yaml"), as_of=as_of).model_dump_json()
    assert fast == general


def test_rounding_keeps_whole_numbers_exact_and_rounds_fractions(tmp_path):
    """Sums of whole numbers stay exact however large (amounts in micros), so a goal compares the true
    total with its target; fractional values are rounded to 12 significant digits (stable across engines)."""
    pl.DataFrame({"day": [dt.date(2026, 1, 5), dt.date(2026, 2, 5)],
                  "cost_micros": [1_000_000_000_000, 234_567_890_125], "a": [0.1, 0.2]}).write_parquet(tmp_path / "x.parquet")
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""
        name: big
        grains: [month]
        sources:
          x: {connector: parquet, options: {path: x.parquet}, time_column: day}
        kpis:
          cost_micros: {source: x, agg: sum, column: cost_micros}
          tenths: {formula: "a_sum * 3"}
          a_sum: {source: x, agg: sum, column: a}
        objectives:
          o:
            goals:
              spend: {kpi: cost_micros, target: 1234567890126, start: 2026-01-01, deadline: 2026-02-28}
    """))
    r = evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 3, 15))
    goal = r.goals()[0]
    assert goal.current == 1_234_567_890_125  # exact: one short of the target
    assert goal.status == "missed"
    assert headline(r, "cost_micros") == {dt.date(2026, 1, 1): 1e12, dt.date(2026, 2, 1): 234_567_890_125.0}
    assert 0.2 * 3 != 0.6  # floating point: 0.6000000000000001
    assert headline(r, "tenths")[dt.date(2026, 2, 1)] == 0.6
