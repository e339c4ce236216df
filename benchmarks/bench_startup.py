"""Cold start of the CLI: ``metricspec validate specs/examples``, ``metricspec --help`` and ``metricspec run``.

Every run is a fresh process. Prints, and asserts nothing:

* wall time of each command, best and median of ``--repeat`` runs (default 5), next to a bare
  ``python -c pass`` (the interpreter's own start-up) and ``python -c "import polars"`` for scale;
* ``python -X importtime`` of ``validate``: the slowest top-level imports (cumulative) and the slowest
  single modules (self time);
* which heavy packages ``validate`` (without ``--data``) imports, checked in a subprocess that runs the
  CLI's validate command through click's ``main(..., standalone_mode=False)`` and then reads
  ``sys.modules``. ``polars`` must not be among them.

* ``metricspec run`` of a small CSV spec (four KPIs, 200 rows, JSON to stdout) against a polars-only
  program doing the same reading and monthly aggregation and printing JSON: what a metricspec run
  costs beyond the data work, and ``-X importtime`` of that run. Beside them, the polars-only program
  that also imports the libraries metricspec is built on (PyYAML, click, pluggy, pydantic) and validates
  the spec with one pydantic model: the floor under a run's start-up, and what is metricspec's own.

The goal is under 0.5 s for ``validate``. If ``specs/examples`` holds no spec, a small spec is written to
a temporary directory and measured instead (the output says so).

Usage: ``python benchmarks/bench_startup.py [--repeat 5] [--path specs/examples]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("polars", "numpy", "pandas", "pyarrow", "scipy", "duckdb", "altair", "jinja2", "babel", "rich",
         "vl_convert", "sqlalchemy", "connectorx", "fastexcel", "openpyxl", "statsmodels")
GOAL_S = 0.5

SMALL_SPEC = """\
name: startup-probe
sources:
  posts: {connector: csv, options: {path: posts.csv}, time_column: posted_at}
kpis:
  posts: {source: posts, agg: count, segments: [platform]}
  clicks: {source: posts, agg: sum, column: clicks}
  impressions: {source: posts, agg: sum, column: impressions}
  ctr: {ratio: {numerator: clicks, denominator: impressions}, unit: percent}
"""

POLARS_ONLY = """
import json, sys
import polars as pl
frame = (pl.scan_csv(sys.argv[1]).with_columns(pl.col("posted_at").str.to_datetime("%Y-%m-%d %H:%M:%S"))
         .group_by(pl.col("posted_at").dt.truncate("1mo").alias("period"))
         .agg(pl.len().alias("posts"), pl.col("clicks").sum(), pl.col("impressions").sum())
         .with_columns((pl.col("clicks") / pl.col("impressions")).alias("ctr")).sort("period").collect())
print(json.dumps(frame.to_dicts(), default=str))
"""

STACK_FLOOR = """
import yaml, click, pluggy
from pydantic import BaseModel, Field
class Kpi(BaseModel):
    source: str | None = None
    agg: str = "count"
    column: str | None = None
    segments: list[str] = Field(default_factory=list)
    unit: str | None = None
    ratio: dict[str, str] | None = None
class Spec(BaseModel):
    name: str
    sources: dict[str, dict[str, object]]
    kpis: dict[str, Kpi]
with open(sys.argv[2]) as f:
    Spec.model_validate(yaml.safe_load(f))
"""
"""What every ``metricspec run`` needs beyond polars, and nothing of metricspec: the libraries it is built on
(PyYAML, click, pluggy, pydantic) and one small pydantic model validating the probe spec. Added to the
polars-only program it is the floor under ``metricspec run``'s start-up."""


def write_run_probe(folder: Path) -> Path:
    """SMALL_SPEC and 200 rows of posts.csv in ``folder``; returns the spec."""
    import random

    rng = random.Random(7)
    lines = ["posted_at,platform,clicks,impressions"]
    for i in range(200):
        lines.append(f"2025-{1 + i % 6:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00,"
                     f"{rng.choice(['x', 'linkedin', 'instagram'])},{rng.randint(0, 50)},{rng.randint(100, 5000)}")
    (folder / "posts.csv").write_text("\n".join(lines) + "\n")
    (folder / "probe.yaml").write_text(SMALL_SPEC)
    return folder / "probe.yaml"


PROBE = """
import sys
from metricspec.cli import main
code = 0
try:
    main.main(["validate", *sys.argv[1:]], standalone_mode=False)
except SystemExit as exc:  # validate exits 2 on spec errors; the imports are what we look at
    code = exc.code
heavy = {heavy!r}
print("__PROBE__" + __import__("json").dumps({{
    "exit": code, "modules": len(sys.modules),
    "heavy": sorted(h for h in heavy if h in sys.modules),
    "metricspec": sorted(m for m in sys.modules if m.startswith("metricspec")),
}}))
"""


def cli_command() -> tuple[list[str], str]:
    """The installed console script (not a pyenv/asdf shim), else ``python -m metricspec``."""
    script = Path(sysconfig.get_path("scripts")) / "metricspec"
    if script.exists():
        return [str(script)], str(script)
    return [sys.executable, "-m", "metricspec"], f"{Path(sys.executable).name} -m metricspec"


def once(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall-clock and CPU time (user + system) of one fresh process, and its exit status."""
    wall, cpu, code, _rss = once_rss(cmd, cwd, env)
    return wall, cpu, code


def once_rss(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, int, float]:
    """:func:`once` and the process's peak RSS in MiB."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    return (time.perf_counter() - t, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status),
            usage.ru_maxrss / 1024)


def timed(cmd: list[str], repeat: int, cwd: Path) -> tuple[list[float], int]:
    times = []
    code = 0
    for _ in range(repeat):
        wall, _cpu, code = once(cmd, cwd)
        times.append(wall)
    return times, code


def bytecode_env(folder: Path) -> dict[str, str]:
    """The environment of a process that reads compiled bytecode from ``folder`` (written by the first
    process): what an installed package has. This environment sets PYTHONDONTWRITEBYTECODE, so an
    editable checkout is compiled from source by every process."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": str(folder)}


def run_against_polars(py: str, cli: list[str], repeat: int) -> None:
    """``metricspec run`` of the probe against the polars-only program, interleaved, with and without
    compiled bytecode for both; best wall and CPU time of each."""
    run_dir = Path(tempfile.mkdtemp(prefix="metricspec-startup-run-"))
    run_spec = write_run_probe(run_dir)
    run_args = ["run", str(run_spec), "--as-of", "2025-06-30", "--format", "json", "--quiet"]
    cache = Path(tempfile.mkdtemp(prefix="metricspec-pycache-"))
    floor = POLARS_ONLY.replace("import polars as pl", "import polars as pl" + STACK_FLOOR, 1)
    cases = {"polars-only program": [py, "-c", POLARS_ONLY, str(run_dir / "posts.csv")],
             "metricspec run probe.yaml": [*cli, *run_args],
             "polars-only + the libraries": [py, "-c", floor, str(run_dir / "posts.csv"), str(run_spec)]}
    print(f"\n`metricspec run` against a polars-only program, interleaved, best of {repeat} (wall / CPU s):")
    for label, env in (("as this environment runs them (PYTHONDONTWRITEBYTECODE: metricspec compiled from "
                        "source in every process, unless its __pycache__ folders were written before, e.g. by "
                        "bench_pushdown.py)", None), ("with compiled bytecode (an installed package)",
                                                            bytecode_env(cache))):
        if env is not None:
            for cmd in cases.values():
                once(cmd, ROOT, env)  # writes the bytecode
        got: dict[str, list[tuple[float, float, float]]] = {k: [] for k in cases}
        loads = []
        for _ in range(repeat):
            for name, cmd in cases.items():
                wall, cpu, _code, rss = once_rss(cmd, ROOT, env)
                got[name].append((wall, cpu, rss))
            loads.append(os.getloadavg()[0])
        print(f"  {label}:")
        for name, runs in got.items():
            print(f"    {name:<28} {min(r[0] for r in runs):7.3f} / {min(r[1] for r in runs):6.3f}   peak RSS "
                  f"{max(r[2] for r in runs):5.0f} MiB")
        (pw, pc), (mw, mc), (fw, fc) = ((min(x[0] for x in r), min(x[1] for x in r)) for r in got.values())
        print(f"    difference {mw - pw:+.3f} s wall, {mc - pc:+.3f} s CPU (goal: within 0.15 s); ratio "
              f"{mw / pw:.2f}× wall, {mc / pc:.2f}× CPU; 1-minute load during the runs "
              f"{min(loads):.1f}–{max(loads):.1f}")
        print(f"    the libraries alone (PyYAML, click, pluggy, pydantic and one model): {fw - pw:+.3f} s wall, "
              f"{fc - pc:+.3f} s CPU over the polars-only program; metricspec's own part {mc - fc:+.3f} s CPU")
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(run_dir, ignore_errors=True)


def importtime(cmd: list[str], cwd: Path) -> list[tuple[int, int, int, str]]:
    """(self us, cumulative us, depth, module) from ``-X importtime``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *cmd], cwd=cwd, capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S.*)$", line)
        if m:
            depth = (len(m.group(3)) - 1) // 2
            rows.append((int(m.group(1)), int(m.group(2)), depth, m.group(4).strip()))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--path", default="specs/examples", help="what `validate` is run on (relative to the repo)")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()

    target = ROOT / args.path
    tmp = None
    specs = sorted(target.rglob("*.y*ml")) if target.exists() else []
    if not specs:
        tmp = Path(tempfile.mkdtemp(prefix="metricspec-startup-"))
        (tmp / "probe.yaml").write_text(SMALL_SPEC)
        target = tmp
        print(f"NOTE: {args.path} holds no spec; measuring a temporary copy of a small spec in {tmp}")
    cli, cli_name = cli_command()
    py = sys.executable
    print(f"python {sys.version.split()[0]} at {py}; {os.cpu_count()} CPUs (shared); every run a fresh process")
    print(f"CLI: {cli_name}; validate target: {target} ({len(specs) or 1} file(s) found by rglob)\n")

    cases = [
        ("python -c pass (interpreter floor)", [py, "-c", "pass"]),
        ("python -c 'import polars' (for scale)", [py, "-c", "import polars"]),
        ("metricspec --help", [*cli, "--help"]),
        ("metricspec validate " + (args.path if tmp is None else str(target)), [*cli, "validate", str(target)]),
        ("python -m metricspec validate (same)", [py, "-m", "metricspec", "validate", str(target)]),
    ]
    run_dir = Path(tempfile.mkdtemp(prefix="metricspec-startup-run-"))
    run_spec = write_run_probe(run_dir)
    run_args = ["run", str(run_spec), "--as-of", "2025-06-30", "--format", "json", "--quiet"]
    cases += [
        ("python polars-only program (same data work)", [py, "-c", POLARS_ONLY, str(run_dir / "posts.csv")]),
        ("metricspec run probe.yaml --format json", [*cli, *run_args]),
    ]
    results = {}
    print(f"{'command':<48} {'best':>8} {'median':>8}  exit  runs (s)")
    for name, cmd in cases:
        times, code = timed(cmd, args.repeat, ROOT)
        results[name] = times
        print(f"{name:<48} {min(times):8.3f} {statistics.median(times):8.3f}  {code:>4}  "
              + ", ".join(f"{t:.3f}" for t in times))
    vkey = cases[3][0]
    best = min(results[vkey])
    print(f"\nvalidate best {best:.3f} s vs goal {GOAL_S} s: {'within' if best < GOAL_S else 'OVER'} the goal "
          f"(interpreter floor {min(results[cases[0][0]]):.3f} s)")

    polars_only, run_best = min(results[cases[5][0]]), min(results[cases[6][0]])
    print(f"run best {run_best:.3f} s vs the polars-only program {polars_only:.3f} s: "
          f"{run_best - polars_only:+.3f} s ({run_best / polars_only:.2f}×)")
    run_against_polars(py, cli, args.repeat)
    report_imports("validate", importtime(["-m", "metricspec", "validate", str(target)], ROOT), args.top)
    report_imports("run", importtime(["-m", "metricspec", *run_args], ROOT), args.top)
    shutil.rmtree(run_dir, ignore_errors=True)
    probe_validate(py, target)
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def report_imports(what: str, rows: list[tuple[int, int, int, str]], top: int) -> None:
    if rows:
        total = sum(r[0] for r in rows)
        print(f"\n-X importtime of {what}: {len(rows)} modules, {total / 1e6:.3f} s of import time in total")
        print(f"top {top} top-level imports by cumulative time:")
        for self_us, cum, _depth, mod in sorted((r for r in rows if r[2] == 0), key=lambda r: -r[1])[:top]:
            print(f"  {cum / 1e3:8.1f} ms cumulative  {self_us / 1e3:7.1f} ms self  {mod}")
        print(f"top {top} modules by self time:")
        for self_us, cum, depth, mod in sorted(rows, key=lambda r: -r[0])[:top]:
            print(f"  {self_us / 1e3:8.1f} ms self  {cum / 1e3:8.1f} ms cumulative  depth {depth}  {mod}")
        pkgs: dict[str, int] = {}
        for self_us, _cum, _depth, mod in rows:
            pkgs[mod.split(".")[0]] = pkgs.get(mod.split(".")[0], 0) + self_us
        print(f"top {top} packages by summed self time:")
        for pkg, us in sorted(pkgs.items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {us / 1e3:8.1f} ms  {pkg}")


def probe_validate(py: str, target: Path) -> None:
    proc = subprocess.run([py, "-c", PROBE.format(heavy=HEAVY), str(target)], cwd=ROOT, capture_output=True,
                          text=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("__PROBE__")), None)
    if line is None:
        print(f"\nimport probe failed:\n{proc.stderr[-2000:]}")
    else:
        probe = json.loads(line[len("__PROBE__"):])
        print(f"\nvalidate without --data via click main(standalone_mode=False): exit {probe['exit']}, "
              f"{probe['modules']} modules in sys.modules")
        print(f"  polars imported: {'YES (it must not be)' if 'polars' in probe['heavy'] else 'no'}")
        print(f"  heavy packages imported: {', '.join(probe['heavy']) or 'none'}")
        print(f"  metricspec modules imported ({len(probe['metricspec'])}): {', '.join(probe['metricspec'])}")


if __name__ == "__main__":
    sys.exit(main())
