"""Lighthouse on a built scorecard site: performance and accessibility on the mobile profile.

Lighthouse is an npm package: this module never downloads it. Install it once, outside the repository,
as a development step (see docs/scorecards.md, "Speed in the browser")::

    npm install --prefix ~/.cache/metricspec-dev/lighthouse lighthouse@12

and it is found there, on ``PATH``, or at ``$METRICSPEC_LIGHTHOUSE``. It drives Debian's Chromium
(``/usr/bin/chromium``, or ``$CHROME_PATH``). The site is served from 127.0.0.1 by a small HTTP
server that compresses text with gzip, as GitHub Pages and most hosts do; Lighthouse's mobile
profile then simulates a mid-range phone (4x CPU slowdown) on a slow 4G network.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import json
import os
import shutil
import statistics
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CANDIDATES = [Path.home() / ".cache" / "metricspec-dev" / "lighthouse" / "node_modules" / ".bin" / "lighthouse",
              Path("/opt/metricspec-dev/lighthouse/node_modules/.bin/lighthouse")]
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
TEXT_TYPES = (".html", ".css", ".js", ".json", ".svg")


def lighthouse_command() -> str | None:
    """Where Lighthouse is: ``$METRICSPEC_LIGHTHOUSE``, the development install, or ``PATH``."""
    env = os.environ.get("METRICSPEC_LIGHTHOUSE")
    if env:
        return env
    for path in CANDIDATES:
        if path.exists():
            return str(path)
    return shutil.which("lighthouse")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, text gzipped when the client accepts it (as GitHub Pages serves them)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if (path.suffix not in TEXT_TYPES or "gzip" not in self.headers.get("Accept-Encoding", "")
                or not path.is_file()):
            super().do_GET()
            return
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (a free port) while the block runs; yields the base URL."""
    def handler(*args: Any, **kwargs: Any) -> _Handler:
        return _Handler(*args, directory=str(root), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def run_once(command: str, url: str, timeout: float = 300) -> dict[str, Any]:
    """One Lighthouse run (mobile profile, simulated throttling) on ``url``: its scores and figures."""
    flags = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"
    proc = subprocess.run([command, url, "--output=json", "--output-path=stdout", "--quiet",
                           "--only-categories=performance,accessibility", f"--chrome-flags={flags}"],
                          env={**os.environ, "CHROME_PATH": CHROME}, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"lighthouse failed on {url}:\n{proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    audits = report["audits"]
    a11y = {r["id"] for r in report["categories"]["accessibility"]["auditRefs"]}
    failed = sorted(a for a in a11y if audits.get(a, {}).get("score") == 0)
    return {
        "performance": round(report["categories"]["performance"]["score"] * 100),
        "accessibility": round(report["categories"]["accessibility"]["score"] * 100),
        "bytes": audits["total-byte-weight"]["numericValue"],
        "interactive_ms": audits["interactive"]["numericValue"],
        "fcp_ms": audits["first-contentful-paint"]["numericValue"],
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "accessibility_failed": failed,
    }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Lighthouse's advice: report the run with the median performance score."""
    ordered = sorted(runs, key=lambda r: (r["performance"], -r["interactive_ms"]))
    best = dict(ordered[len(ordered) // 2])
    best["performance_all"] = [r["performance"] for r in runs]
    best["interactive_spread_ms"] = (min(r["interactive_ms"] for r in runs), max(r["interactive_ms"] for r in runs))
    best["interactive_median_ms"] = statistics.median(r["interactive_ms"] for r in runs)
    return best
