"""The SQL translation, piece by piece, against polars on the same values.

* time zones: naive wall-clock times in a zone with daylight saving (including the skipped and the
  repeated hour) and stored instants become the same local times on DuckDB as on polars;
* expressions: every operator and function of the expression language gives polars' value on DuckDB;
* `engine: duckdb` on the example specs' files gives the golden Results;
* snapshot: the SQL of a small plan on DuckDB, PostgreSQL and Spark, to review changes in review; and per
  KPI kind and database, every statement a small spec of that kind sends (tests/sql_snapshots.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import polars as pl
import pytest
from golden_support import golden_mismatch
from hypothesis import given, settings
from hypothesis import strategies as st

ibis = pytest.importorskip("ibis")
pytest.importorskip("duckdb")

from sql_snapshots import (  # noqa: E402
    KIND_DIALECTS,
    KIND_KPIS,
    NOT_COMPILED,
    kind_statements,
    kinds,
    snapshot_path,
)

from metricspec.engine.backends.ibis_expr import to_ibis  # noqa: E402
from metricspec.engine.backends.sql_time import localize  # noqa: E402
from metricspec.engine.run import evaluate  # noqa: E402
from metricspec.loader import load_spec  # noqa: E402
from metricspec.plan.expressions import to_polars  # noqa: E402
from metricspec.spec.expr import parse  # noqa: E402

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden"
ZONES = ["Europe/Warsaw", "America/New_York", "UTC", "Asia/Kolkata"]

wall_clock = st.datetimes(min_value=dt.datetime(2026, 3, 7), max_value=dt.datetime(2026, 11, 3)).map(
    lambda d: d.replace(microsecond=0, second=0))
near_changes = st.sampled_from([dt.datetime(2026, 3, 29), dt.datetime(2026, 10, 25), dt.datetime(2026, 3, 8),
                                dt.datetime(2026, 11, 1)]).flatmap(
    lambda day: st.integers(0, 4 * 60).map(lambda m: day + dt.timedelta(minutes=m)))


@settings(max_examples=40, deadline=None)
@given(times=st.lists(st.one_of(wall_clock, near_changes), min_size=1, max_size=30),
       stored=st.sampled_from(ZONES), target=st.sampled_from(ZONES))
def test_naive_times_localise_as_in_polars(times: list[dt.datetime], stored: str, target: str) -> None:
    frame = pl.DataFrame({"t": times}, schema={"t": pl.Datetime("us")})
    expected = frame.select(pl.col("t").dt.replace_time_zone(stored, ambiguous="earliest", non_existent="null")
                            .dt.convert_time_zone(target).dt.replace_time_zone(None))["t"].to_list()
    con = ibis.duckdb.connect()
    table = ibis.memtable(frame.to_arrow())
    got = con.to_polars(table.select(t=localize(table.t, None, stored, target, "duckdb")))["t"]
    assert got.cast(pl.Datetime("us")).to_list() == expected


@settings(max_examples=30, deadline=None)
@given(times=st.lists(st.one_of(wall_clock, near_changes), min_size=1, max_size=30), target=st.sampled_from(ZONES))
def test_instants_localise_as_in_polars(times: list[dt.datetime], target: str) -> None:
    frame = pl.DataFrame({"t": times}, schema={"t": pl.Datetime("us", "UTC")})
    expected = frame.select(pl.col("t").dt.convert_time_zone(target).dt.replace_time_zone(None))["t"].to_list()
    con = ibis.duckdb.connect()
    table = ibis.memtable(frame.to_arrow())
    got = con.to_polars(table.select(t=localize(table.t, "UTC", "UTC", target, "duckdb")))["t"]
    assert got.cast(pl.Datetime("us")).to_list() == expected


EXPRESSIONS = [
    "v + w", "v - w * 2", "v / w", "w / 0", "-v", "abs(v - 10)", "round(v / 3, 2)", "min(v, w)", "max(v, w, 3)",
    "coalesce(v, w, 0)", "v > 3 and w <= 1", "v > 3 or not flag", "s in ('a', 'b')", "s not in ('a', 'zz')",
    "lower(s) == 'a'", "upper(s)", "length(s)", "contains(s, 'b')", "starts_with(s, 'a')", "ends_with(s, 'c')",
    "is_null(v)", "is_not_null(s)", "year(t)", "month(t)", "weekday(t)", "hour(t)", "date(2026, 3, 1)",
    "flag == true", "s == null", "days_between(t, date(2026, 3, 1))", "months_between(date(2025, 12, 31), t)",
    "months_between(t, date(2025, 1, 31))",
]
ROWS = pl.DataFrame({
    "v": [1, 5, None, 0, 12, -3], "w": [0, 2, 1, None, 3, 0], "s": ["a", "B", None, "abc", "c", "b"],
    "flag": [True, False, None, True, False, True],
    "t": [dt.datetime(2026, 3, 29, 1, 30), dt.datetime(2026, 1, 4, 23, 59), None, dt.datetime(2026, 12, 31),
          dt.datetime(2025, 6, 1, 12), dt.datetime(2026, 3, 2, 7)],
})


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_expressions_give_polars_values_on_duckdb(text: str) -> None:
    node = parse(text)
    expected = ROWS.with_columns(to_polars(node).alias("x"))["x"]
    con = ibis.duckdb.connect()
    table = ibis.memtable(ROWS.to_arrow())
    got = con.to_polars(table.select(x=to_ibis(node, table.__getitem__)))["x"]
    if expected.dtype.is_numeric() and got.dtype.is_numeric():
        got, expected = got.cast(pl.Float64), expected.cast(pl.Float64)
    elif expected.dtype == pl.Date:
        got = got.cast(pl.Date)
    assert got.to_list() == expected.to_list(), text


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "specs" / "examples").glob("*.yaml")))
def test_engine_duckdb_on_the_example_files_gives_the_golden_results(name: str) -> None:
    """`engine: duckdb` on every csv/parquet source: DuckDB reads the files and computes the KPIs."""
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        loaded = load_spec(Path("specs/examples") / name)
        spec = loaded.spec
        sources = {k: v.model_copy(update={"engine": "duckdb"}) if v.connector in ("csv", "parquet") else v
                   for k, v in spec.sources.items()}
        loaded = dataclasses.replace(loaded, spec=spec.model_copy(update={"sources": sources}))
        text = evaluate(loaded, as_of=dt.date(2026, 11, 1)).to_json()
    finally:
        os.chdir(cwd)
    assert text == (GOLDEN / f"{Path(name).stem}.json").read_text(encoding="utf-8")


SNAPSHOT_DIALECTS = ["duckdb", "postgres", "pyspark"]


def snapshot_statements(dialect: str) -> str:
    """The fused statements of a small plan: two scopes and a null count on one grain and breakdown,
    a headline, two goal windows; one statement per (source, grain, breakdown), windows together."""
    from metricspec.engine.backends.sql_exprs import statement_expr
    from metricspec.engine.backends.sql_fuse import fuse
    from metricspec.engine.backends.sql_prepare import prepare
    from metricspec.plan.nodes import Plan, QueryKey, RunRange, Window
    from metricspec.sources.database import SourceOptions

    if dialect == "pyspark":
        pytest.importorskip("pyspark")
        assert ibis.pyspark is not None  # loading the backend registers its compiler options
    raw = ibis.table({"id": "int64", "at": "timestamp", "network": "string", "clicks": "int64",
                      "amount": "string", "paid": "boolean"}, name="events")
    opts = SourceOptions("events", {"at": "occurred_at"}, {"amount": "float"}, None, "UTC", "Europe/Warsaw",
                         "occurred_at", {"value": "amount * 2"}, None)
    rel = prepare(raw, dialect, "snapshot", opts)
    plan = Plan()
    paid = QueryKey("events", "occurred_at", "week", ("network",), (("paid", True),))
    plan.add(paid, "count", None, None)
    plan.add(paid, "sum", "clicks", "network in ('x', 'linkedin')")
    plan.add(paid, "count_distinct", "id", None)
    plan.add(paid, "last", "clicks", None)
    plan.add(paid, "last_ties", "clicks", None)
    plan.add(paid, "mean", None, None, "clicks / value")
    unpaid = QueryKey("events", "occurred_at", "week", ("network",), (("paid", False),))
    plan.add(unpaid, "count_distinct", "id", None)
    headline = QueryKey("events", "occurred_at", "week", (), ())
    plan.add(headline, "sum", "clicks", None)
    plan.add(headline, "p90", "amount", None)
    april = QueryKey("events", "occurred_at", Window(dt.date(2026, 4, 1), dt.date(2026, 4, 30)), (), ())
    plan.add(april, "median", "amount", "clicks > 0")
    plan.add(april, "count_distinct", "id", None)
    may = QueryKey("events", "occurred_at", Window(dt.date(2026, 5, 1), dt.date(2026, 5, 31)), (), (("paid", True),))
    plan.add(may, "count_distinct", "id", None)
    rng = RunRange(dt.date(2026, 1, 1), dt.date(2026, 11, 1), "sunday")
    statements = fuse(list(plan.queries.values()), plan.null_count_queries())
    assert len(statements) == 3  # week by network (two scopes), week, the two windows
    return "\n\n".join(f"-- {st.describe()}: {len(st.members)} quer{'y' if len(st.members) == 1 else 'ies'}"
                       + (f", null counts of {len(st.null_counts[0].query.aggregates)} aggregates"
                          if st.null_counts else "") + "\n"
                       + str(ibis.to_sql(statement_expr(rel, st, rng), dialect=dialect)).strip() + ";"
                       for st in statements) + "\n"


@pytest.mark.parametrize("dialect", SNAPSHOT_DIALECTS)
def test_sql_snapshot(dialect: str, update_golden: bool) -> None:
    """The fused statements a small plan sends, per dialect (review the diff when it changes;
    regenerate with pytest --update-golden)."""
    text = snapshot_statements(dialect)
    path = GOLDEN / "sql" / f"{dialect}.sql"
    if update_golden:
        path.write_bytes(text.encode())  # bytes: the SQL holds a carriage return (the characters TRIM strips)
        return
    assert path.exists(), f"{path} is missing: run pytest tests/test_sql_translation.py --update-golden"
    assert text == path.read_bytes().decode(), f"the {dialect} SQL changed: review and regenerate"


KIND_SNAPSHOTS = GOLDEN / "sql"
REGENERATE = "review the diff, then regenerate with: pytest tests/test_sql_translation.py -k snapshot --update-golden"


@pytest.mark.parametrize("dialect", KIND_DIALECTS)
@pytest.mark.parametrize("kind", kinds())
def test_sql_snapshot_per_kind(kind: str, dialect: str, update_golden: bool, tmp_path: Path) -> None:
    """Every statement the SQL backend sends for a small spec of each KPI kind, per database
    (tests/sql_snapshots.py): compiled without a database, compared byte for byte."""
    if dialect == "pyspark":
        pytest.importorskip("pyspark")
    assert kind in KIND_KPIS, (f"KPI kind '{kind}' has no snapshot spec: add its KPIs to KIND_KPIS in "
                               "tests/sql_snapshots.py, then run pytest tests/test_sql_translation.py -k snapshot "
                               "--update-golden")
    text = kind_statements(kind, dialect, tmp_path)
    # every statement a database is sent compiles: what a database cannot compute is refused at validation
    # (its capabilities) and left out, never sent to fail there
    assert NOT_COMPILED not in text, text
    path = snapshot_path(GOLDEN, dialect, kind)
    if update_golden:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
        return
    assert path.exists(), f"{path} is missing: {REGENERATE}"
    assert text == path.read_bytes().decode(), f"the SQL of kind '{kind}' on {dialect} changed: {REGENERATE}"


def test_sql_snapshots_cover_exactly_the_kinds_of_the_registry(update_golden: bool) -> None:
    """A snapshot spec and a snapshot per kind of the registry and dialect; a snapshot of a kind (or a
    dialect) that no longer exists is stale (``--update-golden`` deletes it)."""
    assert set(KIND_KPIS) == set(kinds()), (
        f"tests/sql_snapshots.py KIND_KPIS has specs for {sorted(set(KIND_KPIS) - set(kinds()))} that are not "
        f"kinds, and none for {sorted(set(kinds()) - set(KIND_KPIS))}")
    wanted = {snapshot_path(GOLDEN, d, k) for d in KIND_DIALECTS for k in kinds()}
    present = {p for p in KIND_SNAPSHOTS.glob("*/*") if p.is_file()}
    stale = sorted(present - wanted)
    if update_golden:
        for path in stale:
            path.unlink()
            if not any(path.parent.iterdir()):  # a dialect that no longer exists
                path.parent.rmdir()
        return
    assert not stale, f"stale SQL snapshots (no such kind or dialect): {[str(p) for p in stale]}: {REGENERATE}"
    missing = sorted(wanted - present)
    assert not missing, f"missing SQL snapshots: {[str(p) for p in missing]}: {REGENERATE}"


def test_one_statement_per_source_grain_and_breakdown(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run sends one statement per (source, grain, breakdown) for all its KPIs, whatever their scopes,
    one per source and breakdown for the goal windows, and one for every source's freshness: as many as
    `--explain` says, and the Results do not change."""
    from metricspec.engine.backends import sql, sql_exec
    from metricspec.engine.run import explain_run

    sent: list[str] = []
    real = sql.to_frame

    def counting(rel: object, expr: object, **kw: bool) -> pl.DataFrame:
        compiled = expr if isinstance(expr, sql_exec.Compiled) else None  # statements compiled ahead
        sent.append(compiled.sql or str(ibis.to_sql(compiled.expr)) if compiled else str(ibis.to_sql(expr)))
        return real(rel, expr, **kw)  # type: ignore[arg-type]

    monkeypatch.chdir(ROOT)
    explained = explain_run(load_spec(Path("specs/examples/warehouse_sales.yaml")), as_of=dt.date(2026, 11, 1))
    monkeypatch.setattr(sql, "to_frame", counting)
    loaded = load_spec(Path("specs/examples/warehouse_sales.yaml"))
    text = evaluate(loaded, as_of=dt.date(2026, 11, 1)).to_json()
    assert golden_mismatch(text, (GOLDEN / "warehouse_sales.json").read_text(encoding="utf-8")) is None
    queries = explained["queries"]
    statements = explained["statements"]
    assert isinstance(queries, list) and isinstance(statements, list)
    fused = {(q["source"], q["grain"] if q["grain"] in ("day", "week", "month", "quarter", "year") else "windows",
              tuple(q["segments"])) for q in queries}
    assert len(sent) == len(statements) == len(fused) + 1, (len(sent), len(statements), len(fused))
    assert len(queries) > len(fused)  # some statements answer several queries
    assert sum("UNION ALL" in s for s in sent) == 1  # the freshness of the three sources, together
    assert all(q["sql"] == statements[q["statement"] - 1] for q in queries)


def test_duckdb_memory_limit_gives_the_same_results_and_bad_sizes_are_explained(tmp_path: Path) -> None:
    """`memory_limit:` caps DuckDB's memory (it spills instead); the numbers do not change."""
    import shutil

    from metricspec.errors import SpecError

    shutil.copytree(ROOT / "specs" / "examples", tmp_path / "examples")
    path = tmp_path / "examples" / "warehouse_sales.yaml"
    text = path.read_text(encoding="utf-8")
    assert "connector: duckdb" in text
    limited = text.replace("path: data/warehouse.duckdb", "path: data/warehouse.duckdb, memory_limit: 64MB")
    limited = limited.replace("      path: data/warehouse.duckdb, memory_limit: 64MB\n",
                              "      path: data/warehouse.duckdb\n      memory_limit: 64MB\n")
    assert limited.count("memory_limit: 64MB") == 3
    path.write_text(limited, encoding="utf-8")
    import json

    got = json.loads(evaluate(load_spec(path), as_of=dt.date(2026, 11, 1)).to_json())
    golden = json.loads((GOLDEN / "warehouse_sales.json").read_text(encoding="utf-8"))
    assert got["kpis"] == golden["kpis"]  # the values (locations moved: one line was added)

    path.write_text(limited.replace("memory_limit: 64MB", "memory_limit: lots", 1), encoding="utf-8")
    with pytest.raises(SpecError) as bad:
        evaluate(load_spec(path), as_of=dt.date(2026, 11, 1))
    assert "is not a size" in str(bad.value) and "warehouse_sales.yaml:" in str(bad.value)

    path.write_text(limited.replace("memory_limit: 64MB", "memory_limit: 128MB", 1), encoding="utf-8")
    with pytest.raises(SpecError) as mixed:
        evaluate(load_spec(path), as_of=dt.date(2026, 11, 1))
    assert "differs from another source's" in str(mixed.value)


def test_duckdb_out_of_memory_names_the_source_and_the_setting(tmp_path: Path) -> None:
    """A `memory_limit:` too small for the work is DuckDB's Out of Memory Error, reported with the source's
    file:line and a hint to raise the limit (not the missing-column hint)."""
    import duckdb

    from metricspec.errors import DataError

    con = duckdb.connect(str(tmp_path / "big.duckdb"))
    con.execute("CREATE TABLE visits AS SELECT range AS visitor, TIMESTAMP '2025-01-01' + "
                "to_seconds(range % 5000000) AS at FROM range(3000000)")
    con.close()
    (tmp_path / "spec.yaml").write_text(
        "name: oom\n"
        "sources:\n"
        "  visits:\n"
        "    connector: duckdb\n"
        "    options: {path: big.duckdb, table: visits, memory_limit: 2MB}\n"
        "    time_column: at\n"
        "kpis:\n"
        "  visitors: {source: visits, agg: count_distinct, column: visitor}\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        evaluate(load_spec(tmp_path / "spec.yaml"), as_of=dt.date(2025, 3, 1))
    text = str(err.value)
    assert "source 'visits'" in text and "Out of Memory" in text and "spec.yaml:4:" in text, text
    assert err.value.hint is not None and "memory_limit" in err.value.hint
