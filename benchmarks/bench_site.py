"""Building scorecard sites against evaluating the same specs: ``metricspec run`` vs ``metricspec build``.

Two corpora, in one run: the examples (``specs/examples``, six specs) and a 50-spec site (the
examples copied under 50 names, next to links to their data). For each, in fresh processes,
round-robin, best of ``--repeat`` (default 3):

* ``run``: evaluating every spec (``run_specs``, what ``metricspec run`` does before printing);
* ``build``: evaluating and building the site with charts drawn by the browser (the default), with
  an empty cache (``cold``: the Vega bundle is made, in a thread that overlaps the evaluation, as
  ``metricspec build`` does) and with a warm one;
* ``static``: ``build --static-charts``, every chart drawn as SVG by vl-convert in worker processes
  (one per CPU, or ``$METRICSPEC_CHART_WORKERS``: what ``metricspec build`` asks the library for),
  with an empty chart cache (``cold``) and with the cache a previous build filled (``warm``: a
  rebuild with unchanged data draws nothing).

Printed, asserting nothing: the best wall time of each (imports excluded; the whole process
too), its ratio to ``run`` on the same specs (goals: ``build`` within 1.5x, ``static`` within 3x on
the 50-spec site), peak RSS of the main process (``VmHWM``) and of the largest worker, whether
the builds wrote byte-identical pages, and the 1-minute load average of every run (the machine
may be shared).

With ``--lighthouse``, instead: the examples' site is built (charts drawn by the browser), served
from 127.0.0.1 with gzip, and Lighthouse (npm ``lighthouse`` driving Debian's Chromium, see
``benchmarks/lighthouse.py`` for installing it) measures the index and the largest scorecard on its
mobile profile, ``--repeat`` times each, interleaved: performance and accessibility scores (goals:
performance at least 90, accessibility 100), page weight, time to interactive, first and largest
contentful paint and total blocking time, the run with the median performance score reported.
``--site DIR`` measures a site already built (another version's, to compare).

Usage: ``python benchmarks/bench_site.py [--repeat 3] [--copies 50]``,
``python benchmarks/bench_site.py --lighthouse [--repeat 3] [--site DIR]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from memory import vm_hwm_mib  # benchmarks/memory.py

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "examples"
AS_OF = "2026-11-01"
VARIANTS = ["run", "build-cold", "build-warm", "static-cold", "static-warm"]
GOALS = {"build-cold": 1.5, "build-warm": 1.5, "static-cold": 3.0, "static-warm": 3.0}


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


def child(variant: str, specs: Path, out: Path) -> dict[str, Any]:
    """One measurement in this (fresh) process; imports happen before the clock starts."""
    import metricspec.render.html
    import metricspec.render.site
    from metricspec.cli.clicommon import parse_as_of
    from metricspec.cli.runner import run_specs
    from metricspec.progress import Progress
    from metricspec.render.assets import prefetch_bundle
    from metricspec.render.chart_processes import auto_workers

    sampler = WorkerPeaks()
    sampler.start()
    progress = Progress()
    t = time.perf_counter()
    if variant.startswith("build"):
        prefetch_bundle()
    outcome = run_specs([specs], as_of=parse_as_of(AS_OF))
    files: list[Path] = []
    if variant != "run":
        static = variant.startswith("static")  # the library draws in its own process unless asked, as the CLI asks
        files = metricspec.render.site.build_site(outcome.results, out, "en", static_charts=static,
                                                  chart_workers=auto_workers() if static else None, progress=progress)
    seconds = time.perf_counter() - t
    sampler.stop.set()
    sampler.join()
    return {"seconds": seconds, "specs": len(outcome.results), "files": len(files), "rss_mib": vm_hwm_mib(),
            "workers": len(sampler.peaks), "worker_rss_mib": max(sampler.peaks.values(), default=None),
            "counts": progress.counts}


def spawn(variant: str, specs: Path, out: Path, cache: Path) -> dict[str, Any]:
    env = dict(os.environ, METRICSPEC_CACHE_DIR=str(cache))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", variant, "--specs", str(specs), "--out", str(out)],
                          env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**result, "process_seconds": wall, "load": os.getloadavg()[0]}


def copies(folder: Path, n: int) -> Path:
    """``n`` specs: the examples in turn, each under a name of its own, next to links to their data."""
    folder.mkdir(parents=True)
    for name in ("data", "shared"):
        (folder / name).symlink_to(EXAMPLES / name, target_is_directory=True)
    examples = sorted(EXAMPLES.glob("*.yaml"))
    for i in range(n):
        src = examples[i % len(examples)]
        text, found = re.subn(r"(?m)^name: (\S+)$", lambda m, i=i: f"name: {m.group(1)}-{i + 1:02d}",
                              src.read_text(encoding="utf-8"), count=1)
        assert found == 1, src
        (folder / f"{src.stem}_{i + 1:02d}.yaml").write_text(text, encoding="utf-8")
    return folder


def html_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.html"))}


def measure(label: str, specs: Path, tmp: Path, repeat: int) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    warm = tmp / f"{label}-warm-cache"
    spawn("static-cold", specs, tmp / f"{label}-prime", warm)  # fills the warm cache (charts and bundle)
    spawn("build-cold", specs, tmp / f"{label}-prime-live", warm)
    for i in range(repeat):
        for v in VARIANTS:  # round-robin: a busy spell on a shared machine hits every variant alike
            cache = warm if v.endswith("warm") else tmp / f"{label}-cold-{v}-{i}"
            out = tmp / f"{label}-{v}-{i}"
            r = spawn(v, specs, out, cache)
            runs[v].append(r)
            workers = f", {r['workers']} workers up to {r['worker_rss_mib']:.0f} MiB" if r["workers"] else ""
            print(f"  {label} run {i + 1} {v:<12} {r['seconds']:7.2f} s  process {r['process_seconds']:7.2f} s  "
                  f"peak RSS {r['rss_mib']:.0f} MiB{workers}  {r['counts']}  (load {r['load']:.2f})", flush=True)
            if cache != warm:
                shutil.rmtree(cache, ignore_errors=True)
            if i > 0:  # the first run's sites are compared below; later ones only take disk space
                shutil.rmtree(out, ignore_errors=True)
    live = [html_bytes(tmp / f"{label}-build-{k}-0") for k in ("cold", "warm")]
    static = [html_bytes(tmp / f"{label}-static-{k}-0") for k in ("cold", "warm")]
    print(f"  {label}: identical pages, cold and warm cache: browser charts {'yes' if live[0] == live[1] else 'NO'}, "
          f"static charts {'yes' if static[0] == static[1] else 'NO'}")
    return runs


def report(label: str, runs: dict[str, list[dict[str, Any]]]) -> None:
    best = {v: min(runs[v], key=lambda r: r["seconds"]) for v in VARIANTS}
    base = best["run"]["seconds"]
    print(f"\n{label}: {best['run']['specs']} specs")
    for v in VARIANTS:
        r = best[v]
        ratio = r["seconds"] / base
        goal = f" (goal {GOALS[v]:.1f}x: {'met' if ratio <= GOALS[v] else 'NOT met'})" if v in GOALS else ""
        workers = f"; workers: {r['workers']}, up to {r['worker_rss_mib']:.0f} MiB each" if r["workers"] else ""
        loads = ", ".join(f"{x['load']:.1f}" for x in runs[v])
        print(f"  {v:<12} best {r['seconds']:7.2f} s  ({ratio:4.2f}x run){goal}; process "
              f"{min(x['process_seconds'] for x in runs[v]):.2f} s; {r['files']} files; peak RSS "
              f"{max(x['rss_mib'] for x in runs[v]):.0f} MiB{workers}; load {loads}")


def lighthouse_report(site: Path | None, repeat: int) -> None:
    """Lighthouse on the index and the largest scorecard (see the module's docstring)."""
    from lighthouse import (  # benchmarks/lighthouse.py
        lighthouse_command,
        median_run,
        run_once,
        serve,
    )

    command = lighthouse_command()
    if command is None:
        raise SystemExit("Lighthouse is not installed: npm install --prefix ~/.cache/metricspec-dev/lighthouse "
                         "lighthouse@12 (or set METRICSPEC_LIGHTHOUSE)")
    with tempfile.TemporaryDirectory(prefix="bench-lighthouse-") as name:
        if site is None:
            site = Path(name) / "site"
            subprocess.run([sys.executable, "-m", "metricspec", "build", str(EXAMPLES), "--output", str(site),
                            "--as-of", AS_OF, "--quiet"], check=True, cwd=ROOT)
        largest = max((site / "scorecards").glob("*.html"), key=lambda p: p.stat().st_size)
        pages = {"index": site / "index.html", f"largest scorecard ({largest.name})": largest}
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label in pages}
        with serve(site) as base:
            for i in range(repeat):
                for label, page in pages.items():  # interleaved: the machine's load falls on both alike
                    r = run_once(command, base + page.relative_to(site).as_posix())
                    r["load"] = os.getloadavg()[0]
                    runs[label].append(r)
                    print(f"  run {i + 1} {label}: performance {r['performance']}, accessibility "
                          f"{r['accessibility']}, interactive {r['interactive_ms'] / 1000:.1f} s (load {r['load']:.1f})",
                          flush=True)
        print(f"\nLighthouse {command}, mobile profile (simulated slow 4G, 4x CPU slowdown), median of {repeat}:")
        for label, page in pages.items():
            r = median_run(runs[label])
            loads = ", ".join(f"{x['load']:.1f}" for x in runs[label])
            goal = "met" if r["performance"] >= 90 and r["accessibility"] == 100 else "NOT met"
            print(f"  {label}: performance {r['performance']} (runs {r['performance_all']}), accessibility "
                  f"{r['accessibility']} (goal {goal}); page weight {r['bytes'] / 1024:.0f} KiB transferred "
                  f"(HTML {page.stat().st_size / 1024:.0f} KiB uncompressed); time to interactive "
                  f"{r['interactive_ms'] / 1000:.1f} s (runs {r['interactive_spread_ms'][0] / 1000:.1f}–"
                  f"{r['interactive_spread_ms'][1] / 1000:.1f} s); FCP {r['fcp_ms'] / 1000:.1f} s, LCP "
                  f"{r['lcp_ms'] / 1000:.1f} s, TBT {r['tbt_ms']:.0f} ms, CLS {r['cls']:.3f}; loads {loads}")
            if r["accessibility_failed"]:
                print(f"    accessibility audits failed: {', '.join(r['accessibility_failed'])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs per variant (the best is reported)")
    ap.add_argument("--copies", type=int, default=50, help="specs in the large site")
    ap.add_argument("--lighthouse", action="store_true", help="measure the site in the browser with Lighthouse")
    ap.add_argument("--site", type=Path, help="with --lighthouse: a site already built")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--specs", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.specs, args.out)))
        return
    if args.lighthouse:
        print(f"load before: {os.getloadavg()[0]:.2f} (2 CPUs, shared)")
        lighthouse_report(args.site, args.repeat)
        return

    import vl_convert

    import metricspec

    print(f"python {platform.python_version()}, metricspec {metricspec.__version__}, vl-convert "
          f"{vl_convert.__version__}, {os.cpu_count()} CPUs, {platform.machine()}; --as-of {AS_OF}, best of "
          f"{args.repeat}, fresh processes; load before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-site-") as name:
        tmp = Path(name)
        corpora = {"examples": EXAMPLES, f"{args.copies} specs": copies(tmp / "copies", args.copies)}
        results = {label: measure(label.replace(" ", "-"), specs, tmp, args.repeat) for label, specs in corpora.items()}
    for label, runs in results.items():
        report(label, runs)


if __name__ == "__main__":
    main()
