"""Several segment columns at once: ``segments: [[network, tab]]`` is one breakdown by the combination.

* the combination's series equal a plain-Python group-by (sum, count, mean), a DuckDB SQL query for the
  derived KPIs (ratio, share, formula, growth), and respect the KPI's scope;
* hypothesis: an additive KPI's combinations add up to its single-column segments and to its headline;
* the series key and label ("network · tab", "facebook · feed"), their columns and values in the Results,
  unchanged single-column series (`[[network]]` is `network`), charts and target lines on the KPI page, CSV;
* errors with file:line:col for a bad combination or an unknown column in one.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metricspec.engine.results import Results
from metricspec.engine.run import evaluate
from metricspec.errors import SpecError
from metricspec.loader import load_spec

AS_OF = dt.date(2026, 3, 31)
NETWORKS = ["facebook", "instagram", "x"]
TABS = ["feed", "reels", "stories"]

SPEC = """\
name: combos
grains: [month]
sources:
  posts:
    connector: csv
    options: {path: posts.csv}
    time_column: day
    columns: {day: date}
kpis:
  clicks:
    source: posts
    agg: sum
    column: clicks
    segments: [network, [network, tab]]
  views: {source: posts, agg: sum, column: views, segments: [[network, tab], [tab, network]]}
  posts_n: {source: posts, agg: count, segments: [[network, tab]]}
  mean_clicks: {source: posts, agg: mean, column: clicks, segments: [[network, tab]]}
  paid_clicks: {source: posts, agg: sum, column: clicks, scope: {paid: "yes"}, segments: [[network, tab]]}
  ctr:
    ratio: {numerator: clicks, denominator: views}
    unit: percent
    segments: [[network, tab]]
  click_share:
    share: {of: clicks, where: "paid == 'yes'"}
    segments: [[network, tab]]
  clicks_per_post:
    formula: clicks / posts_n
    segments: [[network, tab]]
  clicks_growth:
    growth: clicks
    segments: [[network, tab]]
{extra}"""


def make_rows(seed: int, n: int = 400) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(90))
        rows.append({"day": day.isoformat(), "network": rng.choice(NETWORKS),
                     "tab": rng.choice([*TABS, ""]) if rng.random() < 0.1 else rng.choice(TABS),
                     "paid": rng.choice(["yes", "no"]), "clicks": rng.randint(0, 50), "views": rng.randint(50, 900)})
    return rows


def write(folder: Path, rows: list[dict[str, Any]], extra: str = "") -> Path:
    cols = ["day", "network", "tab", "paid", "clicks", "views"]
    lines = [",".join(cols)] + [",".join(str(r[c]) for c in cols) for r in rows]
    (folder / "posts.csv").write_text("\n".join(lines) + "\n")
    (folder / "s.yaml").write_text(SPEC.replace("{extra}", extra))
    return folder / "s.yaml"


def run(path: Path) -> Results:
    return evaluate(load_spec(path), as_of=AS_OF)


def combo_series(res: Results, kpi: str, columns: tuple[str, ...] = ("network", "tab")) -> dict[tuple[str, ...],
                                                                                                   dict[str, Any]]:
    """(values) -> {month: value} of the KPI's breakdown by ``columns``."""
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for s in res.kpi(kpi).series:
        if s.kind == "segment" and (s.segment_columns or [s.segment]) == list(columns):
            key = tuple(s.segment_values or [s.segment_value or ""])
            out[key] = {p.period.isoformat()[:7]: p.value for p in s.points}
    return out


def month(day: str) -> str:
    return day[:7]


def python_groups(rows: list[dict[str, Any]], value: Any, keep: Any = None) -> dict[tuple[str, str], dict[str, list]]:
    """Plain Python: the rows' values per (network, tab) and month; rows without a tab are left out."""
    out: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["tab"] and (keep is None or keep(r)):
            out[(r["network"], r["tab"])][month(r["day"])].append(value(r))
    return out


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)  # Results keep 10 decimals


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Results, Path]:
    folder = tmp_path_factory.mktemp("combos")
    rows = make_rows(5)
    path = write(folder, rows, extra="""objectives:
  o:
    type: engagement
    kpis: [ctr]
    goals:
      g: {kpi: ctr, target: 0.05, grain: month, deadline: 2026-06-30, scope: {network: instagram, tab: reels}}
""")
    return rows, run(path), folder


MONTHS = ["2026-01", "2026-02", "2026-03"]


def test_aggregations_equal_plain_python(case: tuple[list[dict[str, Any]], Results, Path]) -> None:
    rows, res, _ = case
    for kpi, value, reduce, keep in [
        ("clicks", lambda r: r["clicks"], sum, None),
        ("views", lambda r: r["views"], sum, None),
        ("posts_n", lambda r: 1, sum, None),
        ("mean_clicks", lambda r: r["clicks"], lambda v: sum(v) / len(v), None),
        ("paid_clicks", lambda r: r["clicks"], sum, lambda r: r["paid"] == "yes"),
    ]:
        want = python_groups(rows, value, keep)
        got = combo_series(res, kpi)
        assert set(got) == set(want), kpi
        for combo, per_month in want.items():
            for m in MONTHS:
                expected = reduce(per_month[m]) if per_month.get(m) else (0.0 if kpi != "mean_clicks" else None)
                assert close(got[combo][m], expected), (kpi, combo, m, got[combo][m], expected)


def test_derived_kpis_equal_duckdb(case: tuple[list[dict[str, Any]], Results, Path]) -> None:
    duckdb = pytest.importorskip("duckdb")
    _, res, folder = case
    sql = """
        WITH g AS (
          SELECT network, tab, strftime(day, '%Y-%m') AS m, sum(clicks) AS c, sum(views) AS v, count(*) AS n,
                 sum(CASE WHEN paid = 'yes' THEN clicks ELSE 0 END) AS pc
          FROM read_csv(?, types={'tab': 'VARCHAR'}) WHERE tab IS NOT NULL AND tab <> '' GROUP BY ALL)
        SELECT network, tab, m, c / v AS ctr, CASE WHEN c = 0 THEN NULL ELSE pc / c END AS share, c / n AS per_post,
               c / lag(c) OVER (PARTITION BY network, tab ORDER BY m) - 1 AS growth
        FROM g ORDER BY ALL"""
    con = duckdb.connect()
    ref = con.execute(sql, [str(folder / "posts.csv")]).fetchall()
    ctr, share = combo_series(res, "ctr"), combo_series(res, "click_share")
    per_post, growth = combo_series(res, "clicks_per_post"), combo_series(res, "clicks_growth")
    assert len(ref) == sum(len(v) for v in ctr.values())  # every combination of every month
    for network, tab, m, r_ctr, r_share, r_pp, r_growth in ref:
        key = (network, tab)
        assert close(ctr[key][m], r_ctr) and close(share[key][m], r_share), (key, m)
        assert close(per_post[key][m], r_pp), (key, m)
        if m != MONTHS[0]:
            assert close(growth[key][m], r_growth), (key, m, growth[key][m], r_growth)


def test_series_key_label_and_values(case: tuple[list[dict[str, Any]], Results, Path]) -> None:
    _, res, _ = case
    data = json.loads(res.to_json())
    clicks = next(k for k in data["kpis"] if k["name"] == "clicks")
    single = [s for s in clicks["series"] if s["kind"] == "segment" and s["segment"] == "network"]
    combos = [s for s in clicks["series"] if s["kind"] == "segment" and s["segment"] == "network · tab"]
    assert [s["segment_value"] for s in single] == NETWORKS
    assert all("segment_columns" not in s and "segment_values" not in s for s in single)  # as before
    assert [s["segment_value"] for s in combos] == [f"{n} · {t}" for n in NETWORKS for t in TABS]
    assert all(s["segment_columns"] == ["network", "tab"] and s["segment_values"] == s["segment_value"].split(" · ")
               for s in combos)
    headline = [s for s in clicks["series"] if s["kind"] == "headline"]
    assert all("segment_columns" not in s for s in headline)
    views = combo_series(res, "views", ("tab", "network"))  # the other order is its own breakdown
    assert set(views) == {(t, n) for n in NETWORKS for t in TABS}
    assert views[("feed", "x")] == combo_series(res, "views")[("x", "feed")]
    assert res.to_json() == run(case[2] / "s.yaml").to_json()  # deterministic


def test_one_column_list_is_the_single_column(tmp_path: Path) -> None:
    rows = make_rows(9, 120)
    a = run(write(tmp_path, rows)).kpi("clicks").model_dump(mode="json")
    spec = (tmp_path / "s.yaml").read_text().replace("segments: [network, [network, tab]]",
                                                     "segments: [[network], [network, tab]]")
    (tmp_path / "s.yaml").write_text(spec)
    b = run(tmp_path / "s.yaml").kpi("clicks").model_dump(mode="json")
    assert a["series"] == b["series"]


def test_kpi_page_charts_and_goal_target_on_the_combination(case: tuple[list[dict[str, Any]], Results, Path]) -> None:
    from metricspec.render.figures import Figures
    from metricspec.render.i18n import Translator

    _, res, _ = case
    figures = Figures(res, Translator("en"), "t").segments(res.kpi("ctr"))
    assert len(figures) == 1
    text = json.dumps([f.model_dump(mode="json") if hasattr(f, "model_dump") else str(f) for f in figures],
                      ensure_ascii=False, default=str)
    assert "network · tab" in text and "instagram · reels" in text
    assert "Target: g (instagram · reels)" in text  # the goal's target is drawn on its combination's line
    clicks = Figures(res, Translator("en"), "t").segments(res.kpi("clicks"))
    assert len(clicks) == 2  # one chart per breakdown: network, and network · tab


def test_csv_rows_carry_the_label(case: tuple[list[dict[str, Any]], Results, Path]) -> None:
    from metricspec.render.csv import results_csv as render_csv

    _, res, _ = case
    text = render_csv(res)
    rows = [line for line in text.splitlines() if f"{res.spec.name},clicks,month," in line]
    assert any(",segment,network · tab,facebook · feed,," in line for line in rows), rows[:3]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 89), st.sampled_from(NETWORKS), st.sampled_from(TABS),
                          st.integers(0, 9)), min_size=1, max_size=40))
def test_property_combinations_add_up(tmp_path: Path, data: list[tuple[int, str, str, int]]) -> None:
    """An additive KPI: the combinations with one network add up to that network's series, all of them
    to the headline."""
    rows = [{"day": (dt.date(2026, 1, 1) + dt.timedelta(days=d)).isoformat(), "network": n, "tab": t,
             "paid": "no", "clicks": c, "views": 100} for d, n, t, c in data]
    res = run(write(tmp_path, rows))
    combos = combo_series(res, "clicks")
    single = combo_series(res, "clicks", ("network",))
    head = next(s for s in res.kpi("clicks").series if s.kind == "headline")
    assert head.points
    for p in head.points:
        m = p.period.isoformat()[:7]
        for n, per_month in single.items():
            assert per_month[m] == sum(v[m] for k, v in combos.items() if k[0] == n[0])
        assert p.value == sum(v[m] for v in combos.values())


def _error(tmp_path: Path, segments: str) -> Any:
    (tmp_path / "posts.csv").write_text("day,network,tab,paid,clicks,views\n2026-01-01,x,feed,no,1,2\n")
    (tmp_path / "s.yaml").write_text(
        "name: e\nsources:\n  posts: {connector: csv, options: {path: posts.csv}, time_column: day, "
        "columns: {day: date}}\nkpis:\n  clicks:\n    source: posts\n    agg: sum\n    column: clicks\n"
        f"    segments: {segments}\n")
    with pytest.raises(SpecError) as info:
        run(tmp_path / "s.yaml")
    return info.value.issues()


@pytest.mark.parametrize(("segments", "message", "col"), [
    ("[[network, network]]", "combination ['network', 'network'] names a column twice", None),
    ("[[]]", "needs at least one column", None),
    ("[[network, tab], [network, tab]]", "lists the breakdown network · tab twice", None),
    ("[[network, tb]]", "'tb'", 26),
])
def test_bad_combinations_get_file_line_col(tmp_path: Path, segments: str, message: str, col: int | None) -> None:
    issues = _error(tmp_path, segments)
    issue = next((i for i in issues if message in i.message), None)
    assert issue is not None, [i.format() for i in issues]
    assert issue.where is not None and issue.where.line == 9, issue.format()
    if col is not None:
        assert issue.where.column == col, issue.format()


FUNNEL_SPEC = """\
name: funnel-combos
grains: [month]
sources:
  events: {connector: csv, options: {path: events.csv}, time_column: t, columns: {t: datetime}}
kpis:
  visit_to_buy:
    funnel:
      window_days: 7
      steps:
        - {name: visit, source: events, key: person, filter: "step == 'visit'"}
        - {name: buy, source: events, key: person, filter: "step == 'buy'"}
    segments: [network, [network, tab]]
  come_back:
    retention: {source: events, key: person, after_days: 3, window_days: 10}
    segments: [[network, tab]]
"""


def funnel_rows(seed: int) -> list[tuple[str, dt.datetime, str, str, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(150):
        person, t0 = f"u{i:03d}", dt.datetime(2026, 1, 1) + dt.timedelta(hours=rng.randrange(80 * 24))
        for _ in range(rng.randint(1, 4)):
            t = t0 + dt.timedelta(hours=rng.randrange(15 * 24))
            out.append((person, t, rng.choice(["visit", "visit", "buy"]), rng.choice(NETWORKS), rng.choice(TABS)))
    return out


def test_funnel_and_retention_by_a_combination_equal_plain_python(tmp_path: Path) -> None:
    """Row-level kinds: the combination comes from each person's entry row (the first visit; the first
    event for retention), the share is per month of entry, only for windows closed by the as-of date."""
    rows = funnel_rows(3)
    (tmp_path / "events.csv").write_text("person,t,step,network,tab\n" + "".join(
        f"{p},{t.isoformat(sep=' ')},{s},{n},{tb}\n" for p, t, s, n, tb in rows))
    (tmp_path / "s.yaml").write_text(FUNNEL_SPEC)
    res = run(tmp_path / "s.yaml")
    cutoff = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())

    def closed(m: str, span: dt.timedelta) -> bool:  # a month is judged once its last entrant's window closed
        y, mo = int(m[:4]), int(m[5:])
        end = dt.datetime(y + mo // 12, mo % 12 + 1, 1)
        return end + span <= cutoff

    def shares(entry: dict[str, tuple[dt.datetime, str, str]], ok: Any,
               span: dt.timedelta) -> dict[tuple[str, str], dict[str, float | None]]:
        groups: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for person, (t0, n, tb) in entry.items():
            groups[(n, tb)][t0.date().isoformat()[:7]].append(int(ok(person, t0)))
        return {k: {m: sum(v) / len(v) if closed(m, span) else None for m, v in per.items()}
                for k, per in groups.items()}

    by_person: dict[str, list[tuple[dt.datetime, str, str, str]]] = defaultdict(list)
    for p, t, s, n, tb in sorted(rows, key=lambda r: (r[0], r[1])):
        by_person[p].append((t, s, n, tb))
    window = dt.timedelta(days=7)
    entry = {}
    for p, evs in by_person.items():
        first = next(((t, n, tb) for t, s, n, tb in evs if s == "visit"), None)
        if first is not None and first[0] + window <= cutoff:
            entry[p] = first
    want = shares(entry, lambda p, t0: any(s == "buy" and t0 <= t <= t0 + window for t, s, _, _ in by_person[p]),
                  window)
    got = combo_series(res, "visit_to_buy")
    assert want and set(want) <= set(got)
    for k, per in want.items():
        for m, v in per.items():
            assert close(got[k][m], v), (k, m)

    after, span = dt.timedelta(days=3), dt.timedelta(days=13)
    start = {p: (evs[0][0], evs[0][2], evs[0][3]) for p, evs in by_person.items() if evs[0][0] + span <= cutoff}
    want = shares(start, lambda p, t0: any(t0 + after <= t < t0 + span for t, _, _, _ in by_person[p]), span)
    got = combo_series(res, "come_back")
    assert want and set(want) <= set(got)
    for k, per in want.items():
        for m, v in per.items():
            assert close(got[k][m], v), (k, m)
