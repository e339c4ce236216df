"""Metric-valued filters (``filter_entities``): a KPI over the entities whose other KPIs satisfy a
condition in the period, checked against hand-written DuckDB SQL and across backends (the SQL backend
runs it as a semi-join in the database).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metricspec
from metricspec.engine.run import evaluate
from metricspec.errors import MetricSpecError, SpecError
from metricspec.loader import load_spec

SPEC = """\
name: entities
timezone: Europe/Warsaw
grains: [month, week]
sources:
  posts: {connector: parquet, options: {path: posts.parquet}, time_column: at}
  followers: {connector: parquet, options: {path: followers.parquet}, time_column: at}
kpis:
  posts: {source: posts, agg: count, segments: [network]}
  reach: {source: posts, agg: sum, column: reach}
  followers: {source: followers, agg: last, column: followers, per: account}
  big_posts:
    title: Posts of accounts with more than 5,000 followers at the period's end
    source: posts
    agg: count
    segments: [network]
    filter_entities: {entity: account, where: "followers > 5000"}
  busy_reach:
    source: posts
    agg: sum
    column: reach
    filter: "network != 'tiktok'"
    filter_entities: {entity: account, where: "posts >= 3 and followers > 1000"}
  busy_share: {ratio: {numerator: busy_reach, denominator: reach}}
"""
ACCOUNTS = [f"acc{i}" for i in range(12)]


def write(d: Path, seed: int = 1, n: int = 400) -> Path:
    rnd = random.Random(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    pl.DataFrame({
        "at": [start + dt.timedelta(minutes=rnd.randrange(60 * 24 * 150)) for _ in range(n)],
        "account": [rnd.choice([*ACCOUNTS, None]) for _ in range(n)],
        "network": [rnd.choice(["x", "instagram", "tiktok"]) for _ in range(n)],
        "reach": [rnd.randrange(0, 5000) for _ in range(n)],
    }, schema={"at": pl.Datetime("us", "UTC"), "account": pl.String, "network": pl.String,
               "reach": pl.Int64}).write_parquet(d / "posts.parquet")
    snaps = [(start + dt.timedelta(days=day, hours=rnd.randrange(24)), acc, rnd.randrange(0, 9000))
             for acc in ACCOUNTS for day in range(0, 150, 5)]
    pl.DataFrame({"at": [s[0] for s in snaps], "account": [s[1] for s in snaps], "followers": [s[2] for s in snaps]},
                 schema={"at": pl.Datetime("us", "UTC"), "account": pl.String, "followers": pl.Int64},
                 ).write_parquet(d / "followers.parquet")
    (d / "spec.yaml").write_text(SPEC)
    return d / "spec.yaml"


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("entities"))


def with_kpis(*lines: str) -> str:
    """The spec's sources and first KPIs, and these KPI lines (``name: {...}``)."""
    return SPEC.split("  big_posts:")[0] + "".join(f"  {line}\n" for line in lines)


def duck(sql: str, d: Path) -> pl.DataFrame:
    import duckdb

    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.sql(sql.replace("{d}", str(d))).pl()


LOCAL = "timezone('Europe/Warsaw', \"at\"::TIMESTAMPTZ)"


def test_posts_of_big_accounts_equal_hand_written_sql(spec_path: Path) -> None:
    """Per month and network: posts of the accounts whose last follower count in the month is > 5000."""
    pytest.importorskip("duckdb")
    got = metricspec.query(spec_path, "big_posts", by="network", grain="month", end="2026-05-31",
                           allow_outside_root=True)
    want = duck(f"""
        WITH f AS (SELECT date_trunc('month', {LOCAL})::DATE AS p, account, arg_max(followers, "at") AS last
                   FROM '{{d}}/followers.parquet' GROUP BY ALL),
             big AS (SELECT p, account FROM f WHERE last > 5000),
             posts AS (SELECT date_trunc('month', {LOCAL})::DATE AS p, * FROM '{{d}}/posts.parquet')
        SELECT p AS period, network, count(*)::DOUBLE AS n FROM posts SEMI JOIN big USING (p, account)
        GROUP BY ALL ORDER BY ALL""", spec_path.parent)
    joined = got.join(want, on=["period", "network"], how="full", coalesce=True)
    assert want.height > 10
    assert joined.filter(pl.col("big_posts").fill_null(0) != pl.col("n").fill_null(0)).height == 0


def test_a_condition_on_two_kpis_of_two_sources_with_a_filter(spec_path: Path) -> None:
    pytest.importorskip("duckdb")
    got = metricspec.query(spec_path, ["busy_reach", "reach", "busy_share"], grain="week", end="2026-05-31",
                           allow_outside_root=True)
    want = duck(f"""
        WITH posts AS (SELECT date_trunc('week', {LOCAL})::DATE AS p, * FROM '{{d}}/posts.parquet'),
             n AS (SELECT p, account, count(*) AS c FROM posts GROUP BY ALL),
             f AS (SELECT date_trunc('week', {LOCAL})::DATE AS p, account, arg_max(followers, "at") AS last
                   FROM '{{d}}/followers.parquet' GROUP BY ALL),
             ok AS (SELECT p, account FROM n JOIN f USING (p, account) WHERE c >= 3 AND last > 1000)
        SELECT p AS period, sum(reach)::DOUBLE AS r FROM posts SEMI JOIN ok USING (p, account)
        WHERE network != 'tiktok' GROUP BY ALL ORDER BY ALL""", spec_path.parent)
    joined = got.join(want, on="period", how="left")
    assert want.height > 5
    assert joined.filter(pl.col("busy_reach") != pl.col("r").fill_null(0)).height == 0
    share = got.filter(pl.col("reach") > 0)
    assert ((share["busy_share"] - share["busy_reach"] / share["reach"]).abs() < 1e-9).all()


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, object]]:
    pytest.importorskip("ibis")
    pytest.importorskip("duckdb")
    from backend_support import database_plugin_managers

    with database_plugin_managers() as managers:
        yield dict(managers)


def test_every_backend_gives_the_same_results(spec_path: Path, databases) -> None:
    expected = evaluate(load_spec(spec_path, ), as_of=dt.date(2026, 5, 31)).to_json()
    assert '"name": "big_posts"' in expected
    for name, pm in databases.items():
        assert evaluate(load_spec(spec_path), as_of=dt.date(2026, 5, 31), plugin_manager=pm).to_json() == expected, name


def test_the_sql_is_a_semi_join(spec_path: Path, databases) -> None:
    from metricspec.engine.query import Question, explain_query

    plan = explain_query(load_spec(spec_path), Question(("big_posts",), ("network",), "month", None, None,
                                                        dt.date(2026, 5, 31)), plugin_manager=databases["duckdb"])
    assert len(plan) == 1 and plan[0]["runs_in"] == "duckdb"
    assert "SEMI JOIN" in str(plan[0]["sql"]) and plan[0]["filter_entities"] == {
        "entity": "account", "where": "followers > 5000"}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), threshold=st.integers(0, 9000))
def test_a_condition_and_its_opposite_split_the_rows(tmp_path_factory, seed: int, threshold: int) -> None:
    """Property: the posts of accounts with followers > t plus those with followers <= t are the posts of
    accounts with a follower count in the period (the rest have none: no value, the condition is false)."""
    d = tmp_path_factory.mktemp("split")
    write(d, seed=seed, n=120)
    (d / "split.yaml").write_text(with_kpis(
        f'above: {{source: posts, agg: count, filter_entities: {{entity: account, where: "followers > {threshold}"}}}}',
        f'below: {{source: posts, agg: count, filter_entities: {{entity: account, where: "followers <= {threshold}"}}}}',
        'known: {source: posts, agg: count, filter_entities: {entity: account, where: "followers >= 0"}}'))
    frame = metricspec.query(d / "split.yaml", ["above", "below", "known", "posts"], grain="month",
                             end="2026-05-31", allow_outside_root=True)
    assert (frame["above"] + frame["below"] == frame["known"]).all()
    assert (frame["known"] <= frame["posts"]).all()


def test_validation_names_the_problem(tmp_path: Path) -> None:
    write(tmp_path)
    (tmp_path / "bad.yaml").write_text(with_kpis(
        'a: {source: posts, agg: count, filter_entities: {entity: account, where: "folowers > 5"}}',
        'b: {source: posts, agg: count, filter_entities: {entity: account, where: "busy > 5"}}',
        "busy: {ratio: {numerator: posts, denominator: reach}}",
        'c: {source: posts, agg: count, filter_entities: {entity: account, where: "a > 1"}}',
        'd: {source: posts, agg: count, filter_entities: {entity: account, where: "followers +"}}',
        'e: {source: posts, agg: count, filter_entities: {entity: account, where: "followers"}}',
        "r: {rolling: {kpi: a, days: 7}}"))
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "bad.yaml")
    text = str(info.value)
    assert "unknown kpi 'folowers' in `filter_entities.where` — did you mean 'followers'?" in text
    assert "`filter_entities.where` names KPI 'busy', a ratio KPI" in text
    assert "`filter_entities.where` names KPI 'a', which filters entities itself" in text
    assert "cannot parse expression" in text
    assert "a filter must be a condition" in text
    assert "a rolling window cannot read KPI 'a': it filters entities per period" in text
    assert text.count("bad.yaml:") >= 6  # every problem has its place


def test_a_missing_entity_column_is_refused_with_its_place(tmp_path: Path) -> None:
    write(tmp_path)
    (tmp_path / "s.yaml").write_text(with_kpis(
        'x: {source: posts, agg: count, filter_entities: {entity: acount, where: "followers > 5"}}'))
    with pytest.raises(MetricSpecError) as info:
        evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 5, 31))
    assert "acount" in str(info.value) and "s.yaml:" in str(info.value)
