"""Benchmark ``metricspec query`` against the same query hand-written in DuckDB SQL.

Data: one table of ``--rows`` posts in a DuckDB file (generated once per size into ``--data-dir``,
deterministic: every value is a hash of the row number), a year of timestamps, 4 networks, 5 content
types, 8 countries and the post's metrics. The question, asked both ways:

    engagement rate (a ratio KPI: Σ likes + comments + shares ÷ Σ impressions) and posts,
    by network and content type, per week, where country is PL, ES or DE, in 2025

* ``metricspec``: ``metricspec.query(spec, ["engagement_rate", "posts"], by=[...], grain="week", where=...,
  start=..., end=...)`` on a spec whose source is the DuckDB table (``connector: duckdb``): the plan is
  compiled to SQL and runs in DuckDB; the answer is a polars frame with every week and breakdown filled;
* ``sql``: the same aggregation written by hand (``SELECT date_trunc('week', …), network, content_type,
  sum(…) / sum(impressions), count(*) … WHERE … GROUP BY ALL``), fetched as a polars frame.

Each run is a fresh process, and the variants are interleaved (A B A B …, alternating which goes first),
so a change in the machine's load hits both. Per run: the whole process's wall time (start-up and
imports included, as a user sees it), the time of the work after imports (each variant imports what it
uses before the clock: :data:`METRICSPEC_IMPORTS`, which is what a query imports: no pandas since the
DuckDB results come through Arrow), and the process's peak resident memory (``VmHWM``). The figures are the medians of ``--repeat`` runs, with the load average
before and after. The answers are checked to agree on every week and breakdown (relative 1e-9).

Usage::

    python benchmarks/bench_query.py --rows 10000000 --repeat 5
    python benchmarks/bench_query.py --rows 200000 --repeat 3     # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from memory import vm_hwm_mib  # noqa: E402

VARIANTS = ("metricspec", "sql")
WHERE = "country in ('PL', 'ES', 'DE')"
START, END = "2025-01-01", "2025-12-31"
SPEC = """\
name: query-benchmark
timezone: UTC
grains: [week]
sources:
  posts: {{connector: duckdb, options: {{path: '{path}', table: posts}}, time_column: posted_at}}
kpis:
  posts: {{source: posts, agg: count}}
  engagements: {{source: posts, agg: sum, expression: likes + comments + shares}}
  impressions: {{source: posts, agg: sum, column: impressions}}
  engagement_rate: {{ratio: {{numerator: engagements, denominator: impressions}}}}
"""
SQL = f"""
SELECT CAST(date_trunc('week', posted_at) AS DATE) AS period, network, content_type,
       sum(likes + comments + shares) / nullif(sum(impressions), 0) AS engagement_rate,
       CAST(count(*) AS DOUBLE) AS posts
FROM posts
WHERE {WHERE.replace("in", "IN")}
  AND CAST(posted_at AS DATE) BETWEEN DATE '{START}' AND DATE '{END}'
GROUP BY ALL ORDER BY ALL
"""
GENERATE = """
CREATE TABLE posts AS
SELECT TIMESTAMP '2025-01-01' + to_seconds(CAST(hash(i, 1) % (365 * 86400) AS BIGINT)) AS posted_at,
       ['x', 'instagram', 'linkedin', 'facebook'][1 + CAST(hash(i, 2) % 4 AS BIGINT)] AS network,
       ['photo', 'video', 'link', 'text', 'carousel'][1 + CAST(hash(i, 3) % 5 AS BIGINT)] AS content_type,
       ['PL', 'ES', 'DE', 'FR', 'IT', 'GB', 'US', 'PT'][1 + CAST(hash(i, 4) % 8 AS BIGINT)] AS country,
       CAST(100 + hash(i, 5) % 20000 AS BIGINT) AS impressions,
       CAST(hash(i, 6) % 500 AS BIGINT) AS likes,
       CAST(hash(i, 7) % 60 AS BIGINT) AS comments,
       CAST(hash(i, 8) % 40 AS BIGINT) AS shares
FROM range({rows}) AS r(i)
"""


def ensure_data(rows: int, data_dir: Path) -> Path:
    import duckdb

    d = data_dir / f"query-{rows}"
    d.mkdir(parents=True, exist_ok=True)
    path = d / "posts.duckdb"
    if not path.exists():
        tmp = d / "posts.duckdb.tmp"
        tmp.unlink(missing_ok=True)
        con = duckdb.connect(str(tmp))
        con.execute(GENERATE.format(rows=rows))
        con.execute("CHECKPOINT")
        con.close()
        tmp.replace(path)
    (d / "spec.yaml").write_text(SPEC.format(path=path))
    return d


# ----------------------------------------------------------------------------------------- children
METRICSPEC_IMPORTS = (
    "metricspec", "metricspec.engine.query", "metricspec.engine.run", "metricspec.loader", "metricspec.validation",
    "metricspec.sources", "metricspec.plugins", "metricspec.connectors.builtin", "metricspec.connectors.sql",
    "metricspec.engine.backends.sql", "ibis", "ibis.backends.duckdb",
)
"""What the metricspec variant imports before the clock, as both import duckdb and polars: the work time
compares the work; the process time includes every import. ``ibis.backends.duckdb.converter`` (which
imports pandas) is not listed: a query no longer imports it, and listing it charged metricspec's process
time with pandas' import (about a second)."""


def child(variant: str, d: Path, dump: str | None) -> dict[str, Any]:
    import importlib

    import duckdb
    import polars as pl

    if variant == "metricspec":
        for module in METRICSPEC_IMPORTS:
            importlib.import_module(module)
        import metricspec
    t = time.perf_counter()
    if variant == "metricspec":
        frame = metricspec.query(d / "spec.yaml", ["engagement_rate", "posts"], by=["network", "content_type"],
                                 grain="week", where=WHERE, start=START, end=END, allow_outside_root=True)
    else:
        con = duckdb.connect(str(d / "posts.duckdb"), read_only=True)
        frame = con.sql(SQL).pl()
        con.close()
    seconds = time.perf_counter() - t
    if dump:
        frame.write_parquet(dump)
    return {"work": seconds, "rss_mib": vm_hwm_mib(), "rows": frame.height, "polars": pl.__version__}


def spawn(variant: str, d: Path, dump: str | None) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", variant, "--dir", str(d), *(["--dump", dump] if dump else [])]
    t = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{variant} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return {"wall": wall, **json.loads(proc.stdout.strip().splitlines()[-1])}


def agree(d: Path, dumps: dict[str, str]) -> str:
    import polars as pl

    ours = pl.read_parquet(dumps["metricspec"]).filter(pl.col("posts") > 0)
    theirs = pl.read_parquet(dumps["sql"])
    keys = ["period", "network", "content_type"]
    if ours.height != theirs.height:
        return f"{ours.height} rows against {theirs.height}"
    joined = ours.join(theirs, on=keys, how="inner", suffix="_sql")
    if joined.height != theirs.height:
        return "the weeks or breakdowns differ"
    for col in ("engagement_rate", "posts"):
        off = joined.filter((pl.col(col) - pl.col(f"{col}_sql")).abs() > 1e-9 * pl.col(f"{col}_sql").abs())
        if off.height:
            return f"{col} differs in {off.height} rows"
    return "OK"


def measure(rows: int, d: Path, repeat: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    dumps = {v: str(d / f"answer-{v}.parquet") for v in VARIANTS}
    for v in VARIANTS:  # a warm-up each (file cache), checked for agreement, not timed
        spawn(v, d, dumps[v])
    agreement = agree(d, dumps)
    for i in range(repeat):
        order = VARIANTS if i % 2 == 0 else VARIANTS[::-1]
        for v in order:
            runs[v].append(spawn(v, d, None))
    out: dict[str, Any] = {"rows": rows, "agreement": agreement}
    for v in VARIANTS:
        out[v] = {k: statistics.median(r[k] for r in runs[v]) for k in ("wall", "work")}
        out[v]["rss_mib"] = max(r["rss_mib"] or 0 for r in runs[v])
        out[v]["answer_rows"] = runs[v][0]["rows"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000_000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--data-dir", type=Path, default=HERE / ".data")
    ap.add_argument("--json", type=Path, help="write the measurements here")
    ap.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--dump", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.dir, args.dump)))
        return 0
    reports = []
    for rows in args.rows:
        d = ensure_data(rows, args.data_dir)
        before = os.getloadavg()
        report = measure(rows, d, args.repeat)
        report["load"] = [round(before[0], 1), round(os.getloadavg()[0], 1)]
        reports.append(report)
        ms, sql = report["metricspec"], report["sql"]
        print(f"{rows:,} rows · load average {report['load'][0]} → {report['load'][1]} · median of {args.repeat} · "
              f"answers agree: {report['agreement']}")
        print(f"  metricspec  process {ms['wall']:6.2f} s  work {ms['work']:6.2f} s  peak {ms['rss_mib']:6.0f} MiB"
              f"  ({ms['answer_rows']} rows, every week and breakdown)")
        print(f"  sql         process {sql['wall']:6.2f} s  work {sql['work']:6.2f} s  peak {sql['rss_mib']:6.0f} MiB"
              f"  ({sql['answer_rows']} rows)")
        print(f"  ratio       process {ms['wall'] / sql['wall']:.2f}×  work {ms['work'] / sql['work']:.2f}×  "
              f"memory {ms['rss_mib'] / sql['rss_mib']:.2f}×")
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
