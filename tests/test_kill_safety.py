"""A build killed with SIGKILL leaves no orphaned chart workers, and its leftovers are cleaned up
by the next build (issue 11)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metricspec.render.site_files import SITE_MARKER
from metricspec.utils import remove_stale_directories

EXAMPLES = Path(__file__).parent.parent / "specs" / "examples"
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry.name))
    return out


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sigkilled_build_leaves_no_workers_behind(tmp_path: Path) -> None:
    # static charts, none of them in the disk cache: a build that draws them in worker processes
    env = {**os.environ, "METRICSPEC_CHART_WORKERS": "2", "METRICSPEC_CACHE_DIR": "off"}
    site = tmp_path / "site"
    proc = subprocess.Popen([sys.executable, "-m", "metricspec", "build", str(EXAMPLES), "-o", str(site),
                             "--as-of", "2026-11-01", "--static-charts"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        workers: list[int] = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            workers = [c for c in _children(proc.pid)
                       if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
            if len(workers) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None and len(workers) >= 2, "the build never started its chart workers"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_running(w) for w in workers):
            time.sleep(0.1)
        assert not any(_running(w) for w in workers), "chart workers outlived their killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()  # type: ignore[union-attr]
    assert not site.exists()  # nothing half-written in its place


def test_next_build_removes_leftovers_of_dead_builds_only(tmp_path: Path) -> None:
    dead = _dead_pid()
    target = tmp_path / "site"
    stale = [tmp_path / f".site.build-{dead}-x1y2", tmp_path / f".site.old-{dead}"]
    live = tmp_path / f".site.build-{os.getpid()}-abcd"  # a build still running (this process)
    other = tmp_path / f".other.build-{dead}-zz"  # another site's folder: not ours to touch
    for folder in [*stale, live, other]:
        folder.mkdir()
        (folder / "index.html").write_text("half a site")
    removed = remove_stale_directories(target)
    assert sorted(removed) == sorted(stale)
    assert live.exists() and other.exists() and not any(p.exists() for p in stale)


def test_a_built_site_carries_the_marker_and_can_be_rebuilt(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from metricspec.cli import main

    monkeypatch.setenv("METRICSPEC_CHART_WORKERS", "1")
    spec = EXAMPLES / "trade_fair_campaign.yaml"
    site = tmp_path / "site"
    dead = _dead_pid()
    (tmp_path / f".site.build-{dead}-q").mkdir()
    for _ in range(2):  # the second build replaces the first: it is a metricspec site
        result = CliRunner().invoke(main, ["build", str(spec), "-o", str(site), "--as-of", "2026-11-01"])
        assert result.exit_code == 0, result.output
        assert (site / SITE_MARKER).is_file() and (site / "index.html").is_file()
    assert not (tmp_path / f".site.build-{dead}-q").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
