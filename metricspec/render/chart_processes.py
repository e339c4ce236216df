"""How many processes draw a batch of charts, and how those processes start and end.

:func:`metricspec.render.charts.draw` asks :func:`chart_workers`; the command line asks :func:`auto_workers`
(one process per CPU unless ``$METRICSPEC_CHART_WORKERS`` says otherwise), the library none unless asked.
Workers are fresh interpreters (:func:`spawn_context`) that exit when the process that started them is gone
(:func:`watch_parent`).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from typing import TYPE_CHECKING

from metricspec.errors import UsageError

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

WORKERS_VARIABLE = "METRICSPEC_CHART_WORKERS"
MIN_CHARTS_PER_WORKER = 16
"""A worker process takes most of a second to start (interpreter and vl-convert's JavaScript runtime): on
2 CPUs, 32 charts took 1.8 s in this process and 1.4 s with two workers. Fewer are drawn here."""


def chart_workers(charts: int, workers: int | None = None) -> int:
    """How many processes draw ``charts`` charts: at most ``workers``, else ``$METRICSPEC_CHART_WORKERS``,
    else 1 (the library starts no processes unless asked: the CLI asks for :func:`auto_workers`); at most
    one per :data:`MIN_CHARTS_PER_WORKER` charts, and 1 when worker processes could not start (1: no pool)."""
    if workers is None:
        workers = _workers_from_environment() or 1
    if workers > 1 and not _main_importable():
        return 1
    return max(1, min(workers, charts // MIN_CHARTS_PER_WORKER))


def auto_workers() -> int:
    """What the command line asks for: ``$METRICSPEC_CHART_WORKERS``, else one process per usable CPU."""
    return _workers_from_environment() or _cpu_count()


def _workers_from_environment() -> int | None:
    value = os.environ.get(WORKERS_VARIABLE, "").strip()
    if value and not value.isdigit():
        raise UsageError(f"{WORKERS_VARIABLE} must be a whole number of processes, not '{value}'")
    return int(value) if value else None


def _main_importable() -> bool:
    """Spawned workers re-import the main module from its file: a script read from stdin
    (``python - <<EOF``, ``__file__ == '<stdin>'``) has none, and every worker would die."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or getattr(main, "__spec__", None) is not None:
        return True  # interactive, ``python -c``, Jupyter, or ``python -m``: no file to re-run, or a module
    return os.path.isfile(path)


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def watch_parent(parent: int, interval: float = 0.5) -> None:
    """In a worker: exit as soon as the process that started it is gone (killed with SIGKILL, say),
    instead of lingering as an orphan. A daemon thread polls the parent process id."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(3)

    threading.Thread(target=watch, name="metricspec-parent-watchdog", daemon=True).start()


def spawn_context() -> BaseContext:
    """Workers start as fresh interpreters: a forked copy of a process that already runs polars' or
    vl-convert's threads can deadlock."""
    return multiprocessing.get_context("spawn")
