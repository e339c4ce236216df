"""Benchmark push-down: metricspec on the SQL backend against the SQL an analyst would write by hand.

The engine benchmark's data (benchmarks/bench_engine.py: 23 KPIs over posts, interactions, clicks and
follower snapshots, three grains, two breakdowns) is loaded into a database, and the variants compute
the same numbers, each in a fresh process:

* ``metricspec``: the engine benchmark's spec with its sources pointing at the database (``duckdb``,
  ``sql``, ``sqlite`` or ``spark`` connector), ``evaluate(load_spec(...))``;
* ``sql``: the hand-written baseline. On DuckDB, PostgreSQL and Spark, **fused** SQL in that database's
  dialect: one ``GROUP BY`` per table, grain and breakdown computing every aggregate of that table at
  once (``count(*) FILTER (WHERE ...)`` for the filtered ones), then the period grid, ratios, growth and
  the cross-table formula on the small results in polars. On SQLite, polars + connectorx: each table's
  needed columns read with connectorx, then the hand-written polars program of bench_engine.py;
* ``pull`` (DuckDB and PostgreSQL only, not run by default): metricspec as it was before the SQL
  backend, every table read whole into polars;
* ``stack`` (not run by default): the hand-written ``sql`` variant in a process that first imports the
  libraries metricspec is built on for that database (pydantic, PyYAML, click, pluggy and, but on
  SQLite, sqlglot, ibis and ibis' backend for the database), and no metricspec: the floor under
  metricspec's peak memory there (``--variants metricspec sql stack``).

The answers are checked to agree on every value (relative 1e-9). Every run is a **whole process**: the
time is the wall-clock time from starting the interpreter to its exit (imports and start-up included;
the variant's own work is printed beside it), the peak RSS is the process's own high-water mark
(``VmHWM``; for Spark, the Python driver only: the JVM is another process). Variants run
**interleaved** (round-robin: variant A, B, A, B, ...) so a busy spell of a shared machine hits each
alike, and each figure is the best of ``--repeat`` runs; the 1-minute load average is printed with
each run. metricspec and the bundled plugins are compiled to bytecode first and the children read it,
as an installed package does (``--from-source``: every child compiles them, as an environment with
PYTHONDONTWRITEBYTECODE and an editable checkout does).

Usage::

    python benchmarks/bench_pushdown.py --duckdb 10000000 50000000 --postgres 1000000 10000000 \
        --sqlite 1000000 --spark 2000000                                    # the issue-27 set
    python benchmarks/bench_pushdown.py --duckdb 1000000 --postgres --sqlite --spark --repeat 1  # a look
    python benchmarks/bench_pushdown.py --duckdb 50000000 --postgres --sqlite --spark --memory-limit 300MB

Data is generated once per size into ``--data-dir`` (default ``benchmarks/.data``): the engine
benchmark's parquet files plus ``events.duckdb`` and ``sqlite/data.db``. PostgreSQL runs in a
throwaway cluster (initdb, as the tests do), loaded with COPY; Spark in local mode reads the parquet
files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

import bench_engine as be  # noqa: E402
from formats import ensure_format  # noqa: E402

TABLES = {"posts": "posted_at", "interactions": "occurred_at", "clicks": "clicked_at", "followers": "date"}
VARIANTS = ("metricspec", "pull", "sql", "stack")
DEFAULT_VARIANTS = ("metricspec", "sql")
NEEDED = {"posts": ["posted_at", "platform", "campaign", "content_type", "impressions", "reach", "likes", "shares",
                    "comments", "link_clicks"],
          "interactions": ["occurred_at", "platform", "campaign", "user_id", "type"],
          "clicks": ["clicked_at", "platform", "campaign", "visitor_id", "is_bot"],
          "followers": ["date", "account", "platform", "followers"]}
"""The columns the hand-written programs read of each table (what the 23 KPIs need)."""
STACK = ("pydantic", "yaml", "click", "pluggy")
"""What every metricspec run imports (the spec's models, its YAML, the CLI, the plugin manager)."""
STACK_SQL = {"duckdb": ("sqlglot", "ibis", "ibis.backends.duckdb"),
             "postgres": ("sqlglot", "ibis", "ibis.backends.postgres"),
             "spark": ("sqlglot", "ibis", "ibis.backends.pyspark"), "sqlite": ()}
"""And what the SQL backend imports per database (SQLite is read into polars, without ibis)."""
MEMORY_LIMIT = os.environ.get("BENCH_DUCKDB_MEMORY_LIMIT")
"""DuckDB's memory_limit for the metricspec and sql variants on DuckDB (``--memory-limit``)."""


# ----------------------------------------------------------------------------------------- data
def ensure_duckdb(d: Path) -> Path:
    import duckdb

    path = d / "events.duckdb"
    if path.exists():
        return path
    tmp = d / "events.duckdb.tmp"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    for table in TABLES:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{d / table}.parquet')")
    con.execute("CHECKPOINT")
    con.close()
    tmp.replace(path)
    return path


def load_postgres(d: Path, base: str) -> None:
    """COPY the parquet files into PostgreSQL (skipped when the tables hold the right row counts)."""
    import polars as pl
    import psycopg

    types = {pl.String: "text", pl.Int64: "bigint", pl.Boolean: "boolean", pl.Date: "date", pl.Float64:
             "double precision"}
    with psycopg.connect(f"postgresql://{base}", autocommit=True) as con:
        for table in TABLES:
            frame = pl.read_parquet(d / f"{table}.parquet")
            have = con.execute("SELECT count(*) FROM pg_tables WHERE tablename = %s", (table,)).fetchone()
            if have and have[0] and con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == frame.height:
                continue
            cols = ", ".join(f"{c} {'timestamp' if isinstance(t, pl.Datetime) else types[t.base_type()]}"
                             for c, t in frame.schema.items())
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(f"CREATE TABLE {table} ({cols})")
            with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
                frame.write_csv(tmp.name)
                with con.cursor().copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, \
                        open(tmp.name, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        copy.write(chunk)
            con.execute(f"ANALYZE {table}")
            del frame


def spec_for(kind: str, target: str) -> str:
    """The engine benchmark's spec with its sources in the database."""
    if kind == "sqlite":
        return be.spec_yaml("sqlite").replace("path: data.db", f"path: '{target}'")

    def source(m: re.Match[str]) -> str:
        table = m.group(1)
        if kind == "duckdb":
            limit = f", memory_limit: {MEMORY_LIMIT}" if MEMORY_LIMIT else ""
            return f"{{connector: duckdb, options: {{path: '{target}', table: {table}{limit}}}"
        if kind == "postgres":
            return f"{{connector: sql, options: {{uri: 'postgresql://{target}', table: {table}}}"
        return f"{{connector: spark, options: {{path: '{target}/{table}.parquet', master: 'local[2]'}}"

    return re.sub(r"\{connector: parquet, options: \{path: (\w+)\.parquet\}", source, be.SPEC_YAML)


# ----------------------------------------------------------------------------------------- hand-written SQL
def statements(dialect: str) -> list[tuple[tuple[str, str, str], str]]:
    """One aggregation per table, grain and breakdown, in ``dialect``; keys as bench_engine uses them."""
    last = {"duckdb": "arg_max(followers, date)", "postgres": "(array_agg(followers ORDER BY date DESC))[1]",
            "spark": "max_by(followers, date)"}[dialect]
    aggs = {
        "posts": {"posts": "count(*)", "impressions": "sum(impressions)", "reach": "sum(reach)",
                  "likes": "sum(likes)", "shares": "sum(shares)", "comments": "sum(comments)",
                  "link_clicks": "sum(link_clicks)", "engagements": "sum(likes + shares + comments)",
                  "video_posts": "count(*) FILTER (WHERE content_type = 'video')",
                  "avg_impressions": "avg(impressions)", "max_impressions": "max(impressions)",
                  "active_campaigns": "count(DISTINCT campaign) FILTER (WHERE campaign <> 'organic')"},
        "interactions": {"interactions": "count(*)", "engaged_users": "count(DISTINCT user_id)",
                         "replies": "count(*) FILTER (WHERE type IN ('comment', 'reply'))"},
        "clicks": {"short_link_clicks": "count(*)", "unique_visitors": "count(DISTINCT visitor_id)",
                   "human_clicks": "count(*) FILTER (WHERE NOT is_bot)"},
        "followers": {"followers": last},
    }
    by_campaign = {"posts", "impressions", "reach", "link_clicks", "engagements", "video_posts", "interactions",
                   "engaged_users", "short_link_clicks", "unique_visitors"}
    out = []
    for g in be.GRAINS:
        for seg in ("", "platform", "campaign"):
            for table, tcol in TABLES.items():
                if table == "followers" and seg == "campaign":
                    continue
                chosen = {k: v for k, v in aggs[table].items() if seg != "campaign" or k in by_campaign}
                where = f"CAST({tcol} AS DATE) <= DATE '{be.AS_OF}'"
                if table == "followers":
                    where += " AND account = 'brand'" + ("" if seg else " AND platform = 'x'")
                seg_sql = f", {seg}" if seg else ""
                sql = (f"SELECT CAST(date_trunc('{g}', CAST({tcol} AS DATE)) AS DATE) AS period{seg_sql}, "
                       + ", ".join(f"{v} AS {k}" for k, v in chosen.items())
                       + f" FROM {table} WHERE {where} GROUP BY 1{', 2' if seg else ''}")
                out.append(((table, g, seg), sql))
    return out


def finish(frames: dict[tuple[str, str, str], Any]) -> dict[tuple[str, str, str], Any]:
    """Period grid, zero-filled counts, ratios, growth and the cross-table formula (as bench_engine's
    hand-written variants), on the small aggregated frames."""
    import polars as pl

    c = pl.col
    every = {"week": "1w", "month": "1mo", "quarter": "1q"}
    non_additive = {"avg_impressions", "max_impressions", "followers"}

    def div(num: str, den: str) -> pl.Expr:
        return pl.when(c(den) != 0).then(c(num) / c(den))

    out: dict[tuple[str, str, str], pl.DataFrame] = {}
    for (table, g, seg), frame in frames.items():
        segs = [seg] if seg else []
        frame = frame.with_columns(c("period").cast(pl.Date), *(c(k).cast(pl.Float64) for k in frame.columns
                                                                 if k not in ("period", *segs)))
        grid = pl.date_range(frame["period"].min(), be.LAST_PERIOD[g], every[g], eager=True).alias(
            "period").to_frame()
        if segs:
            grid = grid.join(frame.select(segs).unique(), how="cross")
        values = [k for k in frame.columns if k not in ("period", *segs)]
        full = grid.join(frame, on=["period", *segs], how="left").with_columns(
            [c(k).fill_null(0) for k in values if k not in non_additive])
        if table == "posts":
            full = full.with_columns(div("link_clicks", "impressions").alias("ctr"),
                                     div("engagements", "reach").alias("engagement_rate"),
                                     div("video_posts", "posts").alias("video_share"))
        elif table == "interactions" and seg != "campaign":
            full = full.with_columns(div("replies", "interactions").alias("reply_share"))
        elif table == "clicks" and seg != "campaign":
            full = full.with_columns(div("human_clicks", "short_link_clicks").alias("human_click_share"))
        elif table == "followers":
            prev = c("followers").shift(1)
            growth = pl.when((prev != 0) & ((c("period") != be.LAST_PERIOD[g]) | (not be.PARTIAL[g]))).then(
                (c("followers") - prev) / prev.abs())
            full = full.sort("period").with_columns((growth.over(segs) if segs else growth).alias("follower_growth"))
        out[(table, g, seg)] = full
    for g in be.GRAINS:
        for seg in ("", "platform", "campaign"):
            keys = ["period", seg] if seg else ["period"]
            joined = out[("clicks", g, seg)].select([*keys, "short_link_clicks"]).join(
                out[("posts", g, seg)].select([*keys, "posts"]), on=keys, how="full", coalesce=True)
            out[("derived", g, seg)] = joined.select([*keys, div("short_link_clicks", "posts").alias(
                "clicks_per_post")])
    return out


def run_sqlite_polars(target: str, d: Path) -> dict[tuple[str, str, str], Any]:
    """polars + connectorx: each table's needed columns read with connectorx, then bench_engine's
    hand-written polars program (its period grid, ratios, growth and formula)."""
    import formats  # benchmarks/formats.py
    import polars as pl

    def scan(_d: Path, _fmt: str, table: str) -> pl.LazyFrame:
        cols = ", ".join(NEEDED[table])
        frame = pl.read_database_uri(f"SELECT {cols} FROM {table}", f"sqlite://{target}", engine="connectorx")
        tcol = formats.TIME_COLUMNS[table]
        text = pl.col(tcol)
        if table == "followers":
            parsed = text.str.to_date(formats.DATE_WRITE["iso"])
        else:
            parsed = text.str.to_datetime(formats.PARSE["iso"], time_unit="us")
        extra = [pl.col("is_bot").cast(pl.Boolean)] if table == "clicks" else []
        return frame.lazy().with_columns(parsed, *extra)

    formats.scan = scan  # type: ignore[assignment]  # run_polars reads its tables through formats.scan
    return be.run_polars(d, "sqlite")  # type: ignore[no-any-return]


def run_sql(kind: str, target: str, d: Path) -> dict[tuple[str, str, str], Any]:
    import polars as pl

    if kind == "sqlite":
        return run_sqlite_polars(target, d)
    frames: dict[tuple[str, str, str], pl.DataFrame] = {}
    if kind == "duckdb":
        import duckdb

        con = duckdb.connect(target, read_only=True, config={"memory_limit": MEMORY_LIMIT} if MEMORY_LIMIT else {})
        for key, sql in statements("duckdb"):
            frames[key] = con.sql(sql).pl()  # DuckDB's own Arrow export
        con.close()
    elif kind == "postgres":
        import psycopg

        with psycopg.connect(f"postgresql://{target}") as con:
            for key, sql in statements("postgres"):
                cur = con.execute(sql)
                names = [col.name for col in cur.description or []]
                frames[key] = pl.DataFrame(cur.fetchall(), schema=names, orient="row", infer_schema_length=None)
    else:
        from metricspec.connectors.spark import spark_session

        spark = spark_session("local[2]", {})
        for table in TABLES:
            spark.read.parquet(str(d / f"{table}.parquet")).createOrReplaceTempView(table)
        for key, sql in statements("spark"):
            frames[key] = pl.from_arrow(spark.sql(sql).toArrow())  # type: ignore[assignment]
    return finish(frames)


# ----------------------------------------------------------------------------------------- children
def child(variant: str, kind: str, target: str, d: Path, dump: str | None) -> dict[str, Any]:
    """One variant in this (fresh) process; imports only what the variant itself needs."""
    import polars as pl  # noqa: F401  (every variant's answer is polars frames)

    spec_dir = Path(tempfile.mkdtemp(prefix="bench-pushdown-"))
    (spec_dir / "spec.yaml").write_text(spec_for(kind, target))
    if variant == "pull":  # the connectors as they were: the whole table into polars
        from metricspec.connectors import sql as sql_connectors

        sql_connectors.DuckDBConnector.scan = sql_connectors.DuckDBConnector._read_into_polars  # type: ignore[method-assign]
        sql_connectors.IBIS_BACKENDS.clear()
    if variant == "stack":
        import importlib

        for module in (*STACK, *STACK_SQL[kind]):
            importlib.import_module(module)
    t = time.perf_counter()
    if variant in ("sql", "stack"):
        result: Any = run_sql(kind, target, d)
    else:
        from metricspec.engine.run import evaluate
        from metricspec.loader import load_spec
        from metricspec.trust import Confinement

        # the benchmark's own spec, written to a temporary folder, reads the data folder beside it
        result = evaluate(load_spec(spec_dir / "spec.yaml", Confinement(allow_outside=True)), as_of=be.AS_OF)
    seconds = time.perf_counter() - t
    info: dict[str, Any] = {"work": seconds, "rss_mib": be.peak_rss_mib()}
    if dump:  # the agreement check's copy of the answer: not part of the variant's time
        t, c = time.perf_counter(), time.process_time()
        frame = be.canonical_frames(result) if variant in ("sql", "stack") else be.canonical_metricspec(result)
        frame.write_parquet(dump)
        info["values"] = frame.height
        info["dump"], info["dump_cpu"] = time.perf_counter() - t, time.process_time() - c
    return info


CHILD_ENV: dict[str, str] | None = None
"""The children's environment (None: this process's); see :func:`with_bytecode`."""


def with_bytecode() -> dict[str, str]:
    """Compile metricspec and the bundled plugins (and this script's own modules, which every variant
    imports) to bytecode, as installing a package does, and return
    an environment in which the children read it. An environment with PYTHONDONTWRITEBYTECODE (this
    one has it) otherwise compiles an editable checkout from source in every process, which the
    hand-written variants, made of installed packages only, never pay."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    folders = [ROOT / "metricspec", ROOT / "plugins", HERE, ROOT / "tests"]  # this script and its helpers too
    subprocess.run([sys.executable, "-m", "compileall", "-q", *map(str, folders)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return env


def spawn(args: list[str]) -> dict[str, Any]:
    """A whole process: its wall-clock time from start to exit, its CPU time (user + system, every
    thread: what a loaded machine inflates least, for the databases that run in the process), and what
    it reported."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, *args], stdout=out, stderr=err, cwd=ROOT, env=CHILD_ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"child {' '.join(args)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    report: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    dump = report.get("dump", 0.0)
    return {**report, "seconds": seconds - dump, "cpu": usage.ru_utime + usage.ru_stime - report.get("dump_cpu", 0.0),
            "load": os.getloadavg()[0]}


def measure(kind: str, target: str, d: Path, rows: int, variants: list[str], repeat: int,
            check: bool) -> list[dict[str, Any]]:
    """``repeat`` rounds of every variant, interleaved; the best time and the largest peak RSS of each."""
    import polars as pl

    best: dict[str, dict[str, Any]] = {}
    dumps: dict[str, Path] = {}
    loads: list[float] = []
    for i in range(repeat):
        for variant in variants:
            dump = str(d / f"{kind}-{variant}.parquet") if check and i == 0 else None
            args = ["--child", variant, "--kind", kind, "--target", target, "--dir", str(d)]
            report = spawn([*args, "--dump", dump] if dump else args)
            loads.append(report["load"])
            if dump:
                dumps[variant] = Path(dump)
            print(f"    round {i + 1} {variant:10} {report['seconds']:8.2f} s (work {report['work']:.2f} s, "
                  f"CPU {report['cpu']:.2f} s) {report['rss_mib']:8.0f} MiB  load {report['load']:.1f}", flush=True)
            old = best.get(variant)
            rss = max(report["rss_mib"], old["rss_mib"] if old else 0)
            cpu = min(report["cpu"], old["cpu"] if old else report["cpu"])
            if old is None or report["seconds"] < old["seconds"]:
                best[variant] = {**report, "rss_mib": rss, "cpu": cpu}
            else:
                old["rss_mib"], old["cpu"] = rss, cpu
    reports = []
    for variant in variants:
        b = best[variant]
        reports.append({"database": kind, "rows": rows, "variant": variant, **b,
                        "load_min": min(loads), "load_max": max(loads)})
        print(f"  {kind:8} {rows:>12,}  {variant:10} {b['seconds']:8.2f} s (work {b['work']:.2f} s, "
              f"CPU {b['cpu']:.2f} s) {b['rss_mib']:8.0f} MiB", flush=True)
    if check and "sql" in dumps:
        reference = pl.read_parquet(dumps["sql"])
        for variant, path in dumps.items():
            if variant != "sql":
                problems = be.compare(pl.read_parquet(path), reference, variant, "sql")
                print(f"  agreement {variant} vs sql: {problems or 'OK'}", flush=True)
                if problems:
                    raise SystemExit(1)
    return reports


def table(reports: list[dict[str, Any]]) -> str:
    """The markdown table of docs/performance.md."""
    lines = ["| database | rows | metricspec | hand-written | ratio | CPU ratio | peak RSS metricspec / hand-written "
             "| ratio | load |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (kind, rows) in dict.fromkeys((r["database"], r["rows"]) for r in reports):
        by = {r["variant"]: r for r in reports if r["database"] == kind and r["rows"] == rows}
        ms, sql = by.get("metricspec"), by.get("sql")
        if not ms or not sql:
            continue
        # CPU of this process: meaningless where the database is another process (PostgreSQL, Spark's JVM)
        cpu = f"{ms['cpu'] / sql['cpu']:.2f}×" if kind in ("duckdb", "sqlite") else "—"
        lines.append(f"| {kind} | {rows:,} | {ms['seconds']:.2f} s | {sql['seconds']:.2f} s | "
                     f"{ms['seconds'] / sql['seconds']:.2f}× | {cpu} | {ms['rss_mib']:,.0f} / {sql['rss_mib']:,.0f} MiB | "
                     f"{ms['rss_mib'] / sql['rss_mib']:.2f}× | {ms['load_min']:.1f}–{ms['load_max']:.1f} |")
    sql_rss = {(r["database"], r["rows"]): r["rss_mib"] for r in reports if r["variant"] == "sql"}
    floors = [f"{r['database']} {r['rows']:,}: {r['rss_mib']:,.0f} MiB, "
              f"{r['rss_mib'] / sql_rss[r['database'], r['rows']]:.2f}× the hand-written process"
              for r in reports if r["variant"] == "stack" and (r["database"], r["rows"]) in sql_rss]
    if floors:
        lines += ["", "The hand-written SQL with metricspec's libraries imported (`stack`, the floor under metricspec's "
                      "peak memory): " + "; ".join(floors) + "."]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duckdb", type=int, nargs="*", default=[10_000_000, 50_000_000], help="rows, DuckDB file")
    ap.add_argument("--postgres", type=int, nargs="*", default=[1_000_000, 10_000_000], help="rows, PostgreSQL")
    ap.add_argument("--sqlite", type=int, nargs="*", default=[1_000_000], help="rows, SQLite file")
    ap.add_argument("--spark", type=int, nargs="*", default=[2_000_000], help="rows, Spark local[2]")
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(DEFAULT_VARIANTS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data-dir", type=Path, default=HERE / ".data")
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--memory-limit", metavar="SIZE",
                    help="DuckDB's memory_limit (e.g. 300MB) for metricspec (the connector option) and the "
                         "hand-written SQL alike; beyond it DuckDB spills to temporary files")
    ap.add_argument("--json", type=Path, help="write the measurements here")
    ap.add_argument("--from-source", action="store_true",
                    help="let the children compile metricspec from source when the environment says so "
                         "(PYTHONDONTWRITEBYTECODE), as figures before 2026-12-07 (late) did")
    ap.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    ap.add_argument("--kind", help=argparse.SUPPRESS)
    ap.add_argument("--target", help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--dump", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_limit:
        os.environ["BENCH_DUCKDB_MEMORY_LIMIT"] = args.memory_limit  # the children read it at import
    if args.child:
        print(json.dumps(child(args.child, args.kind, args.target, args.dir, args.dump)))
        return 0
    limit = f"; DuckDB memory_limit {args.memory_limit}" if args.memory_limit else ""
    global CHILD_ENV
    if not args.from_source:
        CHILD_ENV = with_bytecode()
    code = "compiled from source in every process" if args.from_source else "compiled bytecode, as installed"
    print(f"load average {os.getloadavg()[0]:.1f}; best of {args.repeat}, interleaved{limit}; metricspec: {code}",
          flush=True)
    reports: list[dict[str, Any]] = []
    for rows in args.duckdb:
        d, info = be.ensure_data(rows, args.data_dir)
        reports += measure("duckdb", str(ensure_duckdb(d)), d, info["total"], args.variants, args.repeat,
                           not args.no_check)
    if args.postgres:
        from pg_server import postgres_server

        with postgres_server() as base:
            for rows in args.postgres:
                d, info = be.ensure_data(rows, args.data_dir)
                t = time.perf_counter()
                load_postgres(d, base)
                print(f"  loaded {info['total']:,} rows into PostgreSQL in {time.perf_counter() - t:.0f} s")
                reports += measure("postgres", base, d, info["total"], args.variants, args.repeat,
                                   not args.no_check)
    for rows in args.sqlite:
        d, info = be.ensure_data(rows, args.data_dir)
        target = str((ensure_format(d, "sqlite") / "data.db").resolve())
        variants = [v for v in args.variants if v != "pull"]  # metricspec reads SQLite into polars anyway
        reports += measure("sqlite", target, d, info["total"], variants, args.repeat, not args.no_check)
    for rows in args.spark:
        d, info = be.ensure_data(rows, args.data_dir)
        variants = [v for v in args.variants if v != "pull"]  # there was no Spark connector to pull from
        reports += measure("spark", str(d), d, info["total"], variants, args.repeat, not args.no_check)
    print("\n" + table(reports))
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
