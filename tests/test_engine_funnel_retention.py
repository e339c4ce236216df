"""Funnel conversion within a window and cohort retention, against plain-Python references."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections import defaultdict

import numpy as np
import polars as pl
import pytest

from metricspec.engine.run import evaluate
from metricspec.loader import load_spec

AS_OF = dt.date(2026, 8, 31)
T0 = dt.datetime(2026, 1, 1)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("funnel")
    rng = np.random.default_rng(11)
    clicks, leads, customers, orders = [], [], [], []
    for i in range(600):
        pid = f"u{i:04d}"
        t_click = T0 + dt.timedelta(hours=int(rng.integers(0, 240 * 24)))
        clicks.append({"person": pid, "clicked_at": t_click, "platform": str(rng.choice(["x", "linkedin"]))})
        if rng.random() < 0.6:
            t_lead = t_click + dt.timedelta(hours=int(rng.integers(-48, 20 * 24)))  # some leads before the click
            leads.append({"person": pid, "created_at": t_lead})
            if rng.random() < 0.5:
                customers.append({"person": pid, "converted_at": t_lead + dt.timedelta(hours=int(rng.integers(0, 40 * 24)))})
        # orders for retention
        if rng.random() < 0.7:
            first = T0 + dt.timedelta(days=int(rng.integers(0, 200)))
            orders.append({"customer_id": pid, "ordered_at": first})
            for _ in range(int(rng.integers(0, 4))):
                orders.append({"customer_id": pid, "ordered_at": first + dt.timedelta(days=int(rng.integers(1, 120)))})
    for name, rows in (("clicks", clicks), ("leads", leads), ("customers", customers), ("orders", orders)):
        pl.DataFrame(rows).write_csv(d / f"{name}.csv")
    (d / "spec.yaml").write_text(textwrap.dedent("""
        name: funnel
        grains: [month]
        sources:
          clicks: {connector: csv, options: {path: clicks.csv}, time_column: clicked_at, columns: {clicked_at: datetime}}
          leads: {connector: csv, options: {path: leads.csv}, time_column: created_at, columns: {created_at: datetime}}
          customers: {connector: csv, options: {path: customers.csv}, time_column: converted_at,
                      columns: {converted_at: datetime}}
          orders: {connector: csv, options: {path: orders.csv}, time_column: ordered_at, columns: {ordered_at: datetime}}
        kpis:
          click_to_customer:
            funnel:
              window_days: 30
              steps:
                - {name: click, source: clicks, key: person}
                - {name: lead, source: leads, key: person}
                - {name: customer, source: customers, key: person}
          retention_30:
            retention: {source: orders, key: customer_id, after_days: 30}
          repeat_30:
            retention: {source: orders, key: customer_id, after_days: 30, mode: repeat}
    """))
    res = evaluate(load_spec(d / "spec.yaml"), as_of=AS_OF)
    return res, clicks, leads, customers, orders


def monthly(results, kpi):
    s = next(s for s in results.kpi(kpi).series if s.kind == "headline")
    return {p.period: p.value for p in s.points}


def whole(month: dt.date, wait: dt.timedelta, cutoff: dt.datetime) -> bool:
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return dt.datetime.combine(nxt, dt.time()) + wait <= cutoff


def month_of(t: dt.datetime) -> dt.date:
    return dt.date(t.year, t.month, 1)


def test_funnel_matches_reference(world):
    res, clicks, leads, customers, _ = world
    window = dt.timedelta(days=30)
    cutoff = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
    lead_t = defaultdict(list)
    for r in leads:
        lead_t[r["person"]].append(r["created_at"])
    cust_t = defaultdict(list)
    for r in customers:
        cust_t[r["person"]].append(r["converted_at"])
    first_click: dict[str, dt.datetime] = {}
    for r in clicks:
        first_click[r["person"]] = min(first_click.get(r["person"], r["clicked_at"]), r["clicked_at"])
    entered, done = defaultdict(int), defaultdict(int)
    for p, t0 in first_click.items():
        if t0 + window > cutoff:
            continue
        entered[month_of(t0)] += 1
        ls = [t for t in lead_t[p] if t0 <= t <= t0 + window and t < cutoff]
        if not ls:
            continue
        tl = min(ls)
        cs = [t for t in cust_t[p] if tl <= t <= t0 + window and t < cutoff]
        if cs:
            done[month_of(t0)] += 1
    got = monthly(res, "click_to_customer")
    assert entered
    for m, n in entered.items():
        if whole(m, window, cutoff):
            assert got[m] == pytest.approx(done[m] / n, rel=1e-10)
        else:  # a month is judged only once every entry in it has had its whole window
            assert got[m] is None, m


def test_retention_and_repeat_match_reference(world):
    res, *_, orders = world
    cutoff = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
    by = defaultdict(list)
    for r in orders:
        by[r["customer_id"]].append(r["ordered_at"])
    after = dt.timedelta(days=30)
    span = dt.timedelta(days=60)  # active in [day 30, day 30 + 30) — the default window
    elig, kept, rep, elig_rep = defaultdict(int), defaultdict(int), defaultdict(int), defaultdict(int)
    for ts in by.values():
        ts = sorted(t for t in ts if t < cutoff)
        if not ts:
            continue
        start = ts[0]
        m = month_of(start)
        if start + after <= cutoff:
            elig_rep[m] += 1
            rep[m] += sum(1 for t in ts if start <= t <= start + after) >= 2
        if start + span > cutoff:
            continue
        elig[m] += 1
        kept[m] += any(start + after <= t < start + span for t in ts)
    ret, repeat = monthly(res, "retention_30"), monthly(res, "repeat_30")
    for m, n in elig.items():
        if not whole(m, span, cutoff):
            assert ret[m] is None
            continue
        assert ret[m] == pytest.approx(kept[m] / n, rel=1e-10)
        assert 0 <= ret[m] <= 1
    for m, n in elig_rep.items():
        if not whole(m, after, cutoff):
            assert repeat[m] is None
            continue
        assert repeat[m] == pytest.approx(rep[m] / n, rel=1e-10)
