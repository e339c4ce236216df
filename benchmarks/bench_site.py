"""``metricspec build`` of the example site: charts drawn in this process against worker processes.

Builds ``specs/examples`` (``--as-of 2026-11-01``, English) in fresh processes, round-robin, and
prints, asserting nothing:

* wall time of each variant, best of ``--repeat`` runs (default 3): the build itself (evaluating the
  specs, building the pages, drawing the charts, writing the site; imports excluded) and the whole
  process (interpreter start-up and imports included, as a user of the CLI sees it);
* the ratio of the two variants' best build times;
* peak RSS: the main process's own ``VmHWM`` (read from ``/proc/self/status`` by the child at its
  end; ``ru_maxrss`` is not used because a forked child inherits its parent's high-water mark), and
  for the worker processes the largest ``VmHWM`` of any one of them, sampled every 0.1 s while they run;
* whether both variants wrote byte-identical sites, and the 1-minute load average of every run.

Variants (set through ``METRICSPEC_CHART_WORKERS``):

* ``sequential``: every chart drawn one after the other in the main process (as before batching);
* ``parallel``: what ``metricspec build`` asks for, one worker process per CPU (``--workers N`` to choose).

Usage: ``python benchmarks/bench_site.py [--repeat 3] [--workers N] [--specs specs/examples]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from memory import vm_hwm_mib  # benchmarks/memory.py

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-01"


def worker_pids() -> set[int]:
    """This process's chart workers (multiprocessing's resource tracker, also a child, is left out)."""
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            pids.update(int(p) for p in (task / "children").read_text().split())
    out = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                out.add(pid)
    return out


class WorkerPeaks(threading.Thread):
    """Samples the peak RSS of this process's children (the chart workers) until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peaks: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            for pid in worker_pids():
                peak = vm_hwm_mib(pid)
                if peak is not None:
                    self.peaks[pid] = max(peak, self.peaks.get(pid, 0.0))


def child(specs: Path, out: Path) -> dict[str, Any]:
    """One build in this (fresh) process; imports happen before the clock starts."""
    import metricspec.render.html
    import metricspec.render.site
    from metricspec.clicommon import parse_as_of
    from metricspec.runner import run_specs

    sampler = WorkerPeaks()
    sampler.start()
    t = time.perf_counter()
    outcome = run_specs([specs], as_of=parse_as_of(AS_OF))
    files = metricspec.render.site.build_site(outcome.results, out, "en")
    seconds = time.perf_counter() - t
    sampler.stop.set()
    sampler.join()
    return {"seconds": seconds, "files": len(files), "rss_mib": vm_hwm_mib(),
            "workers": len(sampler.peaks), "worker_rss_mib": max(sampler.peaks.values(), default=None)}


def spawn(variant: str, workers: int | None, specs: Path, out: Path) -> dict[str, Any]:
    env = dict(os.environ)
    if variant == "sequential":
        env["METRICSPEC_CHART_WORKERS"] = "1"
    else:  # the library draws in its own process unless asked: ask as the CLI does (one per CPU)
        from metricspec.render.charts import auto_workers

        env["METRICSPEC_CHART_WORKERS"] = str(workers if workers is not None else auto_workers())
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", "--specs", str(specs), "--out", str(out)],
                          env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{variant} build failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**result, "process_seconds": wall}


def site_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs per variant (the best is reported)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes of the parallel variant "
                    "(default: metricspec's choice, one per CPU)")
    ap.add_argument("--specs", type=Path, default=ROOT / "specs" / "examples")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.specs, args.out)))
        return

    import metricspec

    variants = ["sequential", "parallel"]
    print(f"python {platform.python_version()}, metricspec {metricspec.__version__}, {os.cpu_count()} CPUs, "
          f"{platform.machine()}; building {args.specs} --as-of {AS_OF}, best of {args.repeat}, fresh processes")
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        for i in range(args.repeat):
            for v in variants:  # round-robin: a busy spell on a shared machine hits both alike
                r = spawn(v, args.workers, args.specs, Path(tmp) / v)
                runs[v].append(r)
                worker_rss = f", {r['workers']} workers up to {r['worker_rss_mib']:.0f} MiB each" \
                    if r["workers"] else ""
                print(f"  run {i + 1} {v:<10} build {r['seconds']:6.2f} s  process {r['process_seconds']:6.2f} s  "
                      f"peak RSS {r['rss_mib']:.0f} MiB{worker_rss}  (load {os.getloadavg()[0]:.2f})", flush=True)
        identical = site_bytes(Path(tmp) / "sequential") == site_bytes(Path(tmp) / "parallel")

    print()
    best = {v: min(runs[v], key=lambda r: r["seconds"]) for v in variants}
    for v in variants:
        r = best[v]
        workers = f"; workers: {r['workers']}, peak RSS {r['worker_rss_mib']:.0f} MiB each" if r["workers"] else ""
        print(f"{v:<10} best build {r['seconds']:6.2f} s (process {min(x['process_seconds'] for x in runs[v]):.2f} s), "
              f"{r['files']} files; peak RSS {max(x['rss_mib'] for x in runs[v]):.0f} MiB{workers}")
    print(f"speed-up (sequential / parallel, build): {best['sequential']['seconds'] / best['parallel']['seconds']:.2f}x")
    print(f"sites byte-identical: {'yes' if identical else 'NO'}")


if __name__ == "__main__":
    main()
