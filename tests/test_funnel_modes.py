"""Funnels per entity (each entity enters once, at its first first-step event: the default) or per event
(every first-step event starts its own window), with the window's end inclusive (the default) or
exclusive, against the same funnel written in plain SQL (DuckDB) on random data whose times fall on
whole hours, so steps land exactly on the window's end often.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.engine.run import evaluate
from metricspec.loader import load_spec

pytest.importorskip("duckdb")

START = dt.datetime(2026, 3, 1)
AS_OF = dt.date(2026, 5, 10)
WINDOW_DAYS = 3
SPEC = """\
name: funnel-modes
timezone: UTC
grains: [month, week]
sources:
  leads: {{connector: parquet, options: {{path: leads.parquet}}, time_column: t}}
  signups: {{connector: parquet, options: {{path: signups.parquet}}, time_column: t}}
  sales: {{connector: parquet, options: {{path: sales.parquet}}, time_column: t}}
kpis:
  conversion:
    funnel:
      window_days: {window}
      count: {count}
      window_end: {end}
      steps:
        - {{name: lead, source: leads, key: person}}
        - {{name: signup, source: signups, key: person}}
        - {{name: sale, source: sales, key: person, filter: "amount > 0"}}
"""

SQL = """
WITH leads AS (SELECT * FROM '{d}/leads.parquet'),
entries AS ({entries}),
judged AS (SELECT * FROM entries WHERE t0 < TIMESTAMP '{cutoff}' AND t0 + INTERVAL {w} DAY <= TIMESTAMP '{cutoff}'),
s1 AS (SELECT j.id, min(s.t) AS tp FROM judged j JOIN '{d}/signups.parquet' s
         ON s.person = j.person AND s.t >= j.t0 AND s.t {op} j.t0 + INTERVAL {w} DAY AND s.t < TIMESTAMP '{cutoff}'
       GROUP BY j.id),
s2 AS (SELECT j.id FROM judged j JOIN s1 USING (id) JOIN '{d}/sales.parquet' p
         ON p.person = j.person AND p.t >= s1.tp AND p.t {op} j.t0 + INTERVAL {w} DAY AND p.t < TIMESTAMP '{cutoff}'
         AND p.amount > 0
       GROUP BY j.id)
SELECT date_trunc('{grain}', t0)::DATE AS period, count(s2.id)::DOUBLE / count(*) AS share
FROM judged LEFT JOIN s2 USING (id) GROUP BY 1 ORDER BY 1
"""
ENTRIES = {
    "entity": "SELECT row_number() OVER () AS id, person, min(t) AS t0 FROM leads GROUP BY person",
    "event": "SELECT row_number() OVER () AS id, person, t AS t0 FROM leads",
}


def write(d: Path, leads: list[tuple[int, int]], signups: list[tuple[int, int]],
          sales: list[tuple[int, int, int]], count: str, end: str) -> Path:
    def times(hours: list[int]) -> list[dt.datetime]:
        return [START + dt.timedelta(hours=h) for h in hours]

    schema = {"person": pl.String, "t": pl.Datetime("us")}
    pl.DataFrame({"person": [f"p{p}" for p, _ in leads], "t": times([h for _, h in leads])},
                 schema=schema).write_parquet(d / "leads.parquet")
    pl.DataFrame({"person": [f"p{p}" for p, _ in signups], "t": times([h for _, h in signups])},
                 schema=schema).write_parquet(d / "signups.parquet")
    pl.DataFrame({"person": [f"p{p}" for p, _, _ in sales], "t": times([h for _, h, _ in sales]),
                  "amount": [a for _, _, a in sales]},
                 schema={**schema, "amount": pl.Int64}).write_parquet(d / "sales.parquet")
    (d / "spec.yaml").write_text(SPEC.format(window=WINDOW_DAYS, count=count, end=end))
    return d / "spec.yaml"


def sql_shares(d: Path, count: str, end: str, grain: str) -> dict[dt.date, float]:
    import duckdb

    cutoff = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
    sql = SQL.format(d=d, entries=ENTRIES[count], cutoff=cutoff.isoformat(sep=" "), w=WINDOW_DAYS,
                     op="<=" if end == "inclusive" else "<", grain=grain)
    with duckdb.connect() as con:
        return dict(con.sql(sql).fetchall())


def metricspec_shares(path: Path, grain: str) -> dict[dt.date, float | None]:
    res = evaluate(load_spec(path), as_of=AS_OF)
    series = next(s for s in res.kpi("conversion").series if s.grain == grain and s.kind == "headline")
    return {p.period: p.value for p in series.points}


HOURS = 24 * 65
people = st.integers(0, 14)
hours = st.integers(0, HOURS)


def compare(path: Path, count: str, end: str) -> int:
    checked = 0
    for grain in ("month", "week"):
        ours = metricspec_shares(path, grain)
        theirs = sql_shares(path.parent, count, end, grain)
        for period, value in ours.items():
            if value is None:  # a period whose entries' windows have not all closed, or without entries
                continue
            assert theirs.get(period) == pytest.approx(value, rel=1e-11), (grain, period, count, end)
            checked += 1
        # every period SQL has is either judged by metricspec or not yet whole
        cutoff = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
        from metricspec.plan.periods import period_end

        for period in theirs:
            if ours.get(period) is None:
                assert dt.datetime.combine(period_end(period, grain), dt.time()) + \
                    dt.timedelta(days=WINDOW_DAYS) > cutoff, (grain, period)
    return checked


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(leads=st.lists(st.tuples(people, hours), min_size=1, max_size=40),
       signups=st.lists(st.tuples(people, hours), max_size=40),
       sales=st.lists(st.tuples(people, hours, st.integers(-1, 3)), max_size=40),
       count=st.sampled_from(["entity", "event"]), end=st.sampled_from(["inclusive", "exclusive"]))
def test_funnel_modes_equal_plain_sql(tmp_path_factory, leads, signups, sales, count: str, end: str) -> None:
    # distinct lead times per person: "the first lead" is then one row, as in SQL's min(t)
    leads = list(dict.fromkeys(leads))
    path = write(tmp_path_factory.mktemp("funnel"), leads, signups, sales, count, end)
    compare(path, count, end)


def test_the_modes_differ_where_they_should(tmp_path: Path) -> None:
    """p0 is a lead twice (day 0 and day 10) and buys 2 days after the second: per entity it does not
    convert (its window is days 0-3), per event one of its two leads does. p1 signs up and buys exactly
    3 days after its lead: converted with an inclusive end, not with an exclusive one."""
    leads = [(0, 0), (0, 240), (1, 24)]
    signups = [(0, 250), (1, 24 + 72)]
    sales = [(0, 240 + 48, 5), (1, 24 + 72, 5)]
    results = {}
    for count in ("entity", "event"):
        for end in ("inclusive", "exclusive"):
            d = tmp_path / f"{count}-{end}"
            d.mkdir()
            path = write(d, leads, signups, sales, count, end)
            assert compare(path, count, end) > 0
            results[(count, end)] = metricspec_shares(path, "month")[dt.date(2026, 3, 1)]
    assert results == pytest.approx({("entity", "inclusive"): 1 / 2, ("entity", "exclusive"): 0.0,
                                     ("event", "inclusive"): 2 / 3, ("event", "exclusive"): 1 / 3}, rel=1e-11)
