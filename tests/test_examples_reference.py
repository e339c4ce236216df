"""The example specs' numbers, recomputed independently with DuckDB SQL over the same files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from metricspec.engine.run import evaluate
from metricspec.loader import load_spec

EXAMPLES = Path(__file__).parent.parent / "specs" / "examples"
DATA = EXAMPLES / "data"
AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    return c


def run(name: str):
    return evaluate(load_spec(EXAMPLES / name), as_of=AS_OF)


def series(results, kpi, grain="month", kind="headline", segment_value=None):
    k = results.kpi(kpi)
    s = next(s for s in k.series if s.grain == grain and s.kind == kind
             and (segment_value is None or s.segment_value == segment_value))
    return {p.period: p.value for p in s.points}


@pytest.fixture(scope="module")
def x_results():
    return run("x_brand_awareness.yaml")


def test_followers_snapshot_and_rivals(x_results, con):
    rows = con.execute(f"""
        SELECT date_trunc('month', date)::DATE AS m, account, arg_max(followers, date)
        FROM read_csv_auto('{DATA / 'x_followers.csv'}') GROUP BY 1, 2""").fetchall()
    brand = {m: v for m, a, v in rows if a == "brand"}
    assert series(x_results, "followers") == pytest.approx({m: float(v) for m, v in brand.items()})
    rival = {m: v for m, a, v in rows if a == "rival_a"}
    bench = series(x_results, "followers", kind="benchmark")
    for m, v in rival.items():
        assert bench[m] == v


def test_retweets_per_post_by_content_type_in_local_time(x_results, con):
    # posts are UTC timestamps; the spec's time zone is Europe/Madrid
    rows = con.execute(f"""
        SELECT date_trunc('month', timezone('Europe/Madrid', posted_at::TIMESTAMPTZ))::DATE, content_type,
               sum(retweets)::DOUBLE / count(*)
        FROM read_csv_auto('{DATA / 'x_posts.csv'}', timestampformat='%Y-%m-%d %H:%M:%S') GROUP BY 1, 2""").fetchall()
    for m, ctype, v in rows:
        assert series(x_results, "retweets_per_post", kind="segment", segment_value=ctype)[m] == pytest.approx(v)


def test_answered_negative_share_and_ctr(x_results, con):
    share = con.execute(f"""
        SELECT date_trunc('month', timezone('Europe/Madrid', created_at::TIMESTAMPTZ))::DATE,
               avg(CASE WHEN answered THEN 1.0 ELSE 0.0 END)
        FROM read_csv_auto('{DATA / 'x_mentions.csv'}') WHERE sentiment = 'negative' GROUP BY 1""").fetchall()
    got = series(x_results, "negative_answered")
    for m, v in share:
        assert got[m] == pytest.approx(v)
    ctr = con.execute(f"""
        SELECT date_trunc('month', timezone('Europe/Madrid', posted_at::TIMESTAMPTZ))::DATE,
               sum(link_clicks)::DOUBLE / sum(CASE WHEN url IS NOT NULL THEN impressions END)
        FROM read_csv_auto('{DATA / 'x_posts.csv'}') GROUP BY 1""").fetchall()
    got = series(x_results, "ctr")
    for m, v in ctr:
        assert got[m] == pytest.approx(v)


def test_customer_value_cac_and_save_rate(con):
    r = run("customer_value.yaml")
    spend = dict(con.execute(f"""SELECT month::DATE, sum(spend) FROM read_csv_auto('{DATA / 'channel_spend.csv'}')
                                 GROUP BY 1""").fetchall())
    customers = dict(con.execute(f"""SELECT date_trunc('month', signup_date)::DATE, count(*)
                                     FROM read_csv_auto('{DATA / 'customers.csv'}') WHERE converted GROUP BY 1"""
                                 ).fetchall())
    cac = series(r, "cac")
    for m, s in spend.items():
        assert cac[m] == pytest.approx(s / customers[m])
    save = con.execute(f"""
        SELECT avg(CASE WHEN saved THEN 1.0 ELSE 0.0 END) FROM read_csv_auto('{DATA / 'support_cases.csv'}')
        WHERE intent IN ('cancel', 'return')
          AND timezone('Europe/Madrid', opened_at::TIMESTAMPTZ)::DATE BETWEEN DATE '2026-01-01' AND DATE '2026-11-01'
    """).fetchone()[0]
    goal = next(g for g in r.goals() if g.id == "save_rate")
    assert goal.current == pytest.approx(save)


def test_trade_fair_signups_and_investment(con):
    r = run("trade_fair_campaign.yaml")
    goal = next(g for g in r.goals() if g.id == "fifty_signups")
    n = con.execute(f"""
        SELECT count(*) FROM read_csv_auto('{DATA / 'signups.csv'}')
        WHERE utm_campaign = 'trade-fair-2026' AND utm_medium = 'social'
          AND timezone('Europe/Warsaw', created_at::TIMESTAMPTZ)::DATE BETWEEN DATE '2026-04-20' AND DATE '2026-05-17'
    """).fetchone()[0]
    assert goal.current == n
    inv = con.execute(f"""
        SELECT sum(ad_spend + staff_hours * hourly_rate), sum(ad_spend) FROM read_csv_auto('{DATA / 'campaign_costs.csv'}')
        WHERE campaign = 'trade-fair-2026' AND date BETWEEN DATE '2026-04-06' AND DATE '2026-05-17'""").fetchone()
    weekly = series(r, "investment", grain="week")
    assert sum(v for v in weekly.values() if v is not None) == pytest.approx(inv[0])


def test_facebook_real_data_engagement_rate_paid_vs_organic(con):
    r = run("facebook_cosmetics.yaml")
    rows = con.execute(f"""
        SELECT make_date(2014, "Post Month", 1), coalesce("Paid", 0) = 1,
               sum("Lifetime Engaged Users")::DOUBLE / sum("Lifetime Post Total Reach")
        FROM read_csv_auto('{DATA / 'facebook_posts_uci.csv'}') GROUP BY 1, 2""").fetchall()
    for m, paid, v in rows:
        got = series(r, "engagement_rate", kind="segment", segment_value="true" if paid else "false")
        assert got[m] == pytest.approx(v)
    shares = con.execute(f"""
        SELECT make_date(2014, "Post Month", 1), Type, sum(share)::DOUBLE / count(*)
        FROM read_csv_auto('{DATA / 'facebook_posts_uci.csv'}') GROUP BY 1, 2""").fetchall()
    for m, typ, v in shares:
        got = series(r, "shares_per_post", kind="segment", segment_value=typ)
        assert got[m] == pytest.approx(v)
