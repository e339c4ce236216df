"""The example data: reproducible byte for byte, small, and internally consistent."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).parent.parent
DATA = ROOT / "specs" / "examples" / "data"
GENERATOR = DATA / "generate.py"
SHARED_FACEBOOK = Path("/work/shared/data/facebook_posts_uci.csv")

GENERATED = [
    "x_followers.csv", "x_follower_sources.csv", "x_posts.csv", "x_mentions.csv", "x_analytics_export.csv",
    "shortlink_clicks.csv", "network_posts.csv", "publishing_calendar.csv", "audience.csv",
    "profile_visits.csv", "influencer_interactions.csv", "signups.csv", "campaign_costs.csv", "customers.csv",
    "orders.csv", "leads.csv", "touchpoints.csv", "conversions.csv", "channel_spend.csv", "support_cases.csv",
    "social_study.csv",
]
CHANNELS = {"x", "instagram", "linkedin", "paid_search", "email", "direct"}


def read(name: str) -> pl.DataFrame:
    return pl.read_csv(DATA / name, infer_schema_length=None)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("example_data")
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)], check=True)
    return out


@pytest.mark.parametrize("name", GENERATED)
def test_generator_reproduces_committed_files(regenerated, name):
    assert (DATA / name).exists(), f"{name} is missing; run python specs/examples/data/generate.py"
    assert (regenerated / name).read_bytes() == (DATA / name).read_bytes(), f"{name} differs from a fresh run"


def test_warehouse_holds_the_csv_files_typed(regenerated):
    """warehouse.duckdb (not byte-reproducible: DuckDB files carry free blocks) holds exactly the CSV
    files' rows, typed, and a fresh run builds the same tables."""
    duckdb = pytest.importorskip("duckdb")
    sys.path.insert(0, str(DATA))
    try:
        from generate import WAREHOUSE_TABLES
    finally:
        sys.path.remove(str(DATA))
    for folder in (DATA, regenerated):
        con = duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)
        try:
            assert sorted(r[0] for r in con.execute("SHOW TABLES").fetchall()) == sorted(WAREHOUSE_TABLES)
            for table, (csv_name, _, order) in WAREHOUSE_TABLES.items():
                stored = con.sql(f"SELECT * FROM {table} ORDER BY {order}").pl()
                raw = read(csv_name).sort([c.strip() for c in order.split(",")])
                assert stored.height == raw.height
                for col in stored.columns:
                    got = stored[col]
                    if got.dtype == pl.Datetime:
                        got = got.dt.convert_time_zone("UTC").dt.replace_time_zone(None) if got.dtype.time_zone \
                            else got
                        want = raw[col].str.to_datetime("%Y-%m-%d %H:%M:%S")
                    elif got.dtype == pl.Date:
                        want = raw[col].str.to_date()
                    elif got.dtype == pl.Decimal:
                        got, want = got.cast(pl.Float64), raw[col].cast(pl.Float64)
                    else:
                        want = raw[col].cast(got.dtype)
                    assert got.to_list() == want.to_list(), f"{table}.{col}"
        finally:
            con.close()


def test_facebook_copy_is_unchanged():
    assert (DATA / "facebook_posts_uci.csv").exists()
    if SHARED_FACEBOOK.exists():
        assert (DATA / "facebook_posts_uci.csv").read_bytes() == SHARED_FACEBOOK.read_bytes()
    assert read("facebook_posts_uci.csv").height == 500


def test_small():
    total = sum(p.stat().st_size for p in DATA.iterdir() if p.is_file() and p.suffix != ".duckdb")
    assert total <= 4_000_000, f"example data is {total} bytes"
    assert (DATA / "warehouse.duckdb").stat().st_size <= 1_600_000
    assert read("shortlink_clicks.csv").height <= 20_000
    assert read("touchpoints.csv").height <= 60_000


def test_booleans_are_true_false():
    bool_cols = {
        "x_mentions.csv": ["is_influencer", "mentions_brand", "mentions_product", "has_url", "answered", "is_reply"],
        "customers.csv": ["exposed_to_social", "converted", "retained_90d", "saved"],
        "orders.csv": ["is_cross_sell"],
        "signups.csv": ["became_customer"],
        "support_cases.csv": ["answered", "saved"],
    }
    for name, cols in bool_cols.items():
        df = pl.read_csv(DATA / name, infer_schema_length=0)  # all strings
        for c in cols:
            assert set(df[c].unique().to_list()) <= {"true", "false"}, (name, c)


def test_followers_recurrence():
    f = read("x_followers.csv").sort("account", "date")
    assert set(f["account"].unique()) == {"brand", "rival_a", "rival_b"}
    for acc, g in f.group_by("account"):
        assert g.height == 304
        prev = g["followers"].shift(1)
        ok = (g["followers"] == prev + g["new_followers"] - g["lost_followers"]).slice(1)
        assert ok.all(), acc
    brand = f.filter(pl.col("account") == "brand")
    assert 7800 <= brand["followers"][0] <= 8200
    assert 10_500 <= brand["followers"][-1] <= 11_800


def test_follower_sources_sum_to_new_followers():
    src = read("x_follower_sources.csv")
    assert set(src["source"].unique()) == {"search", "profile_visit", "retweet", "recommendation", "campaign_link"}
    sums = src.group_by("date").agg(pl.col("new_followers").sum().alias("s"))
    brand = read("x_followers.csv").filter(pl.col("account") == "brand").select("date", "new_followers")
    joined = brand.join(sums, on="date", how="full", coalesce=True)
    assert joined.height == 304
    assert (joined["s"] == joined["new_followers"]).all()


def test_x_posts():
    x = read("x_posts.csv")
    assert x["post_id"].is_unique().all()
    per_day = x.group_by(pl.col("posted_at").str.slice(0, 10)).len()
    assert per_day.height == 304 and per_day["len"].min() >= 2 and per_day["len"].max() <= 5
    assert (x["text"] == "<script>alert(1)</script>").sum() == 1
    links = x.filter(pl.col("content_type") == "link")
    assert (links["link_clicks"] > 0).all() and links["url"].is_not_null().all()
    assert (x.filter(pl.col("url").is_null())["link_clicks"] == 0).all()
    assert x["url"].drop_nulls().str.starts_with("https://sho.rt/").all()
    rt = x.group_by("content_type").agg(pl.col("retweets").mean())
    rt = dict(zip(rt["content_type"], rt["retweets"], strict=False))
    assert rt["video"] > rt["photo"] > rt["text"]


def test_mentions():
    m = read("x_mentions.csv")
    assert m["mention_id"].is_unique().all()
    assert (m["is_influencer"] == (m["author_followers"] >= 10_000)).all()
    assert m["text"].str.contains('<b>bold</b> & "quotes"', literal=True).sum() == 1
    ans = m.group_by("sentiment").agg(pl.col("answered").mean())
    ans = dict(zip(ans["sentiment"], ans["answered"], strict=False))
    assert 0.6 <= ans["negative"] <= 0.8 and ans["positive"] < ans["negative"] and ans["neutral"] < ans["negative"]


def test_x_analytics_export_matches_posts():
    e = pl.read_csv(DATA / "x_analytics_export.csv", infer_schema_length=None)
    assert e.columns == [
        "Tweet id", "Tweet permalink", "Tweet text", "time", "impressions", "engagements", "engagement rate",
        "retweets", "replies", "likes", "user profile clicks", "url clicks", "hashtag clicks", "detail expands",
        "permalink clicks", "app opens", "app installs", "follows", "email tweet", "dial phone", "media views",
        "media engagements"]
    x = read("x_posts.csv")
    j = e.join(x, left_on="Tweet id", right_on="post_id", how="left")
    assert j["posted_at"].is_not_null().all()
    assert (j["time"] == j["posted_at"].str.slice(0, 16) + " +0000").all()
    assert j["posted_at"].str.slice(0, 7).is_in(["2026-01", "2026-02", "2026-03"]).all()
    assert e.height == x.filter(pl.col("posted_at") < "2026-04-01").height
    for a, b in [("impressions", "impressions_right"), ("retweets", "retweets_right"), ("likes", "likes_right"),
                 ("replies", "replies_right"), ("url clicks", "link_clicks"), ("user profile clicks", "profile_visits")]:
        assert (j[a] == j[b]).all(), a
    parts = ["retweets", "replies", "likes", "user profile clicks", "url clicks", "hashtag clicks", "detail expands",
             "permalink clicks", "app opens", "app installs", "follows", "email tweet", "dial phone",
             "media engagements"]
    assert (e.select(pl.sum_horizontal(parts))[:, 0] == e["engagements"]).all()
    assert ((e["engagement rate"] - e["engagements"] / e["impressions"]).abs() < 1e-12).all()


def test_network_posts_calendar_and_influencers():
    n = read("network_posts.csv")
    assert n["post_id"].is_unique().all()
    assert set(n["network"].unique()) == {"x", "instagram", "linkedin", "facebook"}
    x = read("x_posts.csv")
    xn = n.filter(pl.col("network") == "x")
    assert sorted(xn["post_id"].to_list()) == sorted(f"x-{i}" for i in x["post_id"].to_list())
    cal = read("publishing_calendar.csv")
    assert (cal["week_start"].str.to_date().dt.weekday() == 1).all()  # Mondays
    plan = cal.group_by("network").agg(pl.col("planned_posts").sum())
    done = n.group_by("network").len()
    ratio = plan.join(done, on="network").with_columns(r=pl.col("len") / pl.col("planned_posts"))
    assert ratio["r"].is_between(0.8, 1.0).all()
    inf = read("influencer_interactions.csv")
    j = inf.join(n, on="post_id", how="left")
    assert j["published_at"].is_not_null().all()
    assert (j["network"] == j["network_right"]).all()
    assert (j["occurred_at"] >= j["published_at"]).all()
    assert (inf["influencer_followers"] >= 10_000).all()


def test_shortlink_clicks():
    s = pl.read_csv(DATA / "shortlink_clicks.csv", infer_schema_length=None)
    assert s.columns == ["Short link", "Long URL", "Title", "Clicked at", "Referrer", "Country", "Device"]
    assert s["Long URL"].str.contains("utm_medium=social&utm_campaign=", literal=True).all()
    assert s["Clicked at"].str.contains(r"^2026-\d\d-\d\dT\d\d:\d\d:\d\dZ$").all()
    assert set(s["Referrer"].unique()) <= {"t.co", "instagram.com", "linkedin.com", "facebook.com", "direct"}
    x_links = set(read("x_posts.csv")["url"].drop_nulls().to_list())
    tf_x = s.filter(pl.col("Long URL").str.contains("utm_source=x&", literal=True))
    assert set(tf_x["Short link"].unique()) <= x_links
    assert "trade-fair-2026" in "".join(s["Long URL"].unique().to_list())


def test_audience_matches_followers():
    a = read("audience.csv")
    assert a["month"].str.ends_with("-01").all()
    assert set(a["gender"].unique()) == {"female", "male", "unknown"}
    xa = a.filter(pl.col("network") == "x").group_by("month").agg(pl.col("followers").sum())
    brand = read("x_followers.csv").filter(pl.col("account") == "brand").select("date", "followers")
    j = xa.join(brand, left_on="month", right_on="date")
    assert j.height == 10 and (j["followers"] == j["followers_right"]).all()


def test_profile_visits_from_x_posts():
    v = read("profile_visits.csv")
    assert set(v["tab"].unique()) == {"posts", "about", "shop", "reviews"}
    assert set(v["referrer"].unique()) == {"search", "post", "ad", "external", "direct"}
    from_posts = (v.filter((pl.col("network") == "x") & (pl.col("referrer") == "post"))
                  .group_by("date").agg(pl.col("visits").sum()))
    x = read("x_posts.csv").group_by(pl.col("posted_at").str.slice(0, 10).alias("date")).agg(
        pl.col("profile_visits").sum())
    j = x.join(from_posts, on="date", how="left").fill_null(0)
    assert (j["visits"] == j["profile_visits"]).all()


def _customers() -> pl.DataFrame:
    return pl.read_csv(DATA / "customers.csv", infer_schema_length=None,
                       schema_overrides={"churned_at": pl.Date, "signup_date": pl.Date})


def test_customers_and_orders():
    c = _customers()
    o = read("orders.csv").with_columns(pl.col("ordered_at").str.to_datetime())
    assert 5500 <= c.height <= 6500 and c["customer_id"].is_unique().all()
    assert 0.005 <= c["revenue"].null_count() / c.height <= 0.02
    assert 0.45 <= c["exposed_to_social"].mean() <= 0.55
    grp = c.group_by("exposed_to_social").agg(pl.col("converted").mean(), pl.col("retained_90d").mean(),
                                             pl.col("cross_sell_revenue").mean())
    t = grp.filter(pl.col("exposed_to_social")).row(0, named=True)
    k = grp.filter(~pl.col("exposed_to_social")).row(0, named=True)
    assert t["converted"] > k["converted"] and t["retained_90d"] > k["retained_90d"]
    assert t["cross_sell_revenue"] > k["cross_sell_revenue"]
    assert not c.filter(~pl.col("exposed_to_social"))["saved"].any()
    assert c.select(pl.corr("revenue", "pre_period_revenue"))[0, 0] > 0.2

    assert o["order_id"].is_unique().all()
    j = o.join(c, on="customer_id", how="left")
    assert j["converted"].all()  # only converted customers order, and all ids exist
    assert (j["ordered_at"].dt.date() >= j["signup_date"]).all()
    churned = j.filter(pl.col("churned_at").is_not_null())
    assert (churned["ordered_at"].dt.date() <= churned["churned_at"]).all()
    assert set(o["customer_id"].unique()) == set(c.filter(pl.col("converted"))["customer_id"])
    first = o.group_by("customer_id").agg(pl.col("ordered_at").min())
    f = first.join(c, on="customer_id")
    assert ((f["ordered_at"] - f["signup_date"].cast(pl.Datetime("us"))) < timedelta(days=30)).all()
    # revenue, purchases and cross-sell revenue are the orders of the first 180 days
    w = j.filter(pl.col("ordered_at") < pl.col("signup_date").cast(pl.Datetime("us")) + pl.duration(days=180))
    agg = w.group_by("customer_id").agg(pl.col("amount").sum().alias("rev"), pl.len().alias("n"),
                                        pl.col("amount").filter(pl.col("is_cross_sell")).sum().alias("xs"))
    chk = c.join(agg, on="customer_id", how="left").with_columns(pl.col("rev", "n", "xs").fill_null(0))
    assert (chk["n"] == chk["purchases"]).all()
    assert ((chk["xs"] - chk["cross_sell_revenue"]).abs() < 0.01).all()
    rev = chk.filter(pl.col("revenue").is_not_null())
    assert ((rev["rev"] - rev["revenue"]).abs() < 0.01).all()
    # retained_90d: converted and not churned within 90 days of sign-up
    exp = c["converted"] & (c["churned_at"].is_null() | (c["churned_at"] >= c["signup_date"] + timedelta(days=90)))
    assert (exp.fill_null(False) == c["retained_90d"]).all()


def test_conversions_are_first_orders():
    conv = read("conversions.csv")
    o = read("orders.csv")
    first = o.sort("ordered_at", "order_id").group_by("customer_id", maintain_order=True).first()
    j = conv.join(first, left_on="person_id", right_on="customer_id", how="full", coalesce=True)
    assert j.height == conv.height == first.height
    assert (j["converted_at"] == j["ordered_at"]).all()
    assert ((j["value"] - j["amount"]).abs() < 0.005).all()


def test_leads():
    lead = read("leads.csv")
    c = _customers()
    assert lead["lead_id"].is_unique().all()
    assert set(lead["source"].unique()) <= CHANNELS
    won = lead.filter(pl.col("customer_id").is_not_null())
    j = won.join(c, on="customer_id", how="left")
    assert j["converted"].all() and (j["source"] == j["acquisition_channel"]).all()
    assert (won["converted_at"] > won["created_at"]).all()
    assert lead.filter(pl.col("customer_id").is_null())["converted_at"].is_null().all()
    conv = read("conversions.csv")
    jc = won.join(conv, left_on="customer_id", right_on="person_id")
    assert jc.height == won.height and (jc["converted_at"] == jc["converted_at_right"]).all()
    assert 0.15 <= won.height / lead.height <= 0.35


def test_touchpoints():
    tp = read("touchpoints.csv")
    c = _customers()
    assert set(tp["channel"].unique()) == CHANNELS
    cust_ids = set(c["customer_id"])
    people = set(tp["person_id"].unique())
    assert cust_ids <= people
    others = {p for p in people if p.startswith("p")}
    assert people - cust_ids == others
    assert 1.8 <= len(others) / len(cust_ids) <= 2.2
    per = tp.group_by("person_id").len()["len"]
    assert per.min() >= 1 and per.max() <= 9  # 1-8 touches (+ an occasional touch after the purchase)
    paid = tp.filter(pl.col("cost") > 0)
    assert set(paid["channel"].unique()) <= {"paid_search", "x", "instagram", "linkedin"}
    assert (tp.filter(pl.col("channel") == "paid_search")["cost"] > 0).all()
    # control customers are not reached through social
    control = set(c.filter(~pl.col("exposed_to_social"))["customer_id"])
    social = tp.filter(pl.col("channel").is_in(["x", "instagram", "linkedin"]))
    assert not (set(social["person_id"]) & control)


def test_support_cases():
    s = read("support_cases.csv")
    c = _customers()
    assert s["case_id"].is_unique().all()
    j = s.join(c, on="customer_id", how="left")
    assert j["converted"].all()
    assert not (s["saved"] & ~s["answered"]).any()
    assert not s.filter(pl.col("intent").is_in(["question", "complaint"]))["saved"].any()
    assert set(j.filter(pl.col("channel") == "social")["exposed_to_social"].unique()) == {True}
    saved_social = set(s.filter((pl.col("channel") == "social") & pl.col("saved")
                                & pl.col("intent").is_in(["cancel", "return"]))["customer_id"])
    assert saved_social == set(c.filter(pl.col("saved"))["customer_id"])


def test_channel_spend_is_acquisition_cost():
    sp = read("channel_spend.csv")
    c = _customers().with_columns(month=pl.col("signup_date").dt.truncate("1mo").cast(pl.String))
    agg = c.group_by("month", pl.col("acquisition_channel").alias("channel")).agg(pl.col("acquisition_cost").sum())
    j = sp.join(agg, on=["month", "channel"], how="full", coalesce=True)
    assert j.height == sp.height
    assert ((j["spend"] - j["acquisition_cost"]).abs() < 0.01).all()


def test_signups_and_costs():
    s = read("signups.csv")
    tf = s.filter((pl.col("utm_campaign") == "trade-fair-2026") & (pl.col("utm_medium") == "social"))
    assert 35 <= tf.height <= 45
    assert tf["created_at"].str.slice(0, 10).is_between("2026-04-20", "2026-05-17").all()
    assert (s["deal_value"].is_not_null() == s["became_customer"]).all()
    cc = read("campaign_costs.csv")
    assert set(cc["campaign"].unique()) == {"spring-sale", "trade-fair-2026", "black-friday-warmup"}
    assert (cc["ad_spend"] >= 0).all() and (cc["staff_hours"] >= 0).all() and (cc["hourly_rate"] > 0).all()


def test_dates_inside_period():
    checks = {
        "x_posts.csv": "posted_at", "x_mentions.csv": "created_at", "network_posts.csv": "published_at",
        "orders.csv": "ordered_at", "leads.csv": "created_at", "touchpoints.csv": "touched_at",
        "support_cases.csv": "opened_at", "signups.csv": "created_at", "influencer_interactions.csv": "occurred_at",
    }
    for name, col in checks.items():
        v = pl.read_csv(DATA / name, infer_schema_length=0)[col]
        assert v.str.contains(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$").all(), name
        assert v.min() >= "2026-01-01" and v.max() < "2026-11-01", name
    signup = _customers()["signup_date"]
    assert date(2026, 1, 1) <= signup.min() and signup.max() <= date(2026, 10, 31)


def test_social_study_has_a_self_selected_exposure():
    """Followers differ from the others before any exposure (the covariates explain who follows), so the plain
    difference in spend is far above the built-in effect of €8; the e-mail variants are a fair three-way split."""
    s = read("social_study.csv")
    assert s.height == 1500 and s["customer_id"].is_unique().all()
    f, o = s.filter(pl.col("follows_brand")), s.filter(~pl.col("follows_brand"))
    assert f["age"].mean() < o["age"].mean() - 3
    assert f["spend_before"].mean() > o["spend_before"].mean() + 10
    assert f["spend_after"].mean() - o["spend_after"].mean() > 20  # naive: selection on top of the €8 effect
    assert set(s["email_variant"].unique()) == {"none", "discount", "story"}
    shares = s["email_variant"].value_counts()["count"] / s.height
    assert shares.min() > 0.3
    assert (s["days_observed"] >= 0).all() and s.filter(~pl.col("churned"))["days_observed"].min() >= 92

