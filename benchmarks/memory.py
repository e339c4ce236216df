"""Peak memory of a process, for the benchmark scripts (imported as a sibling module).

``VmHWM`` in ``/proc/<pid>/status`` is the process's own high-water mark, native allocations
(polars, DuckDB, vl-convert) included. ``ru_maxrss`` is not a substitute on Linux: a child inherits
its parent's high-water mark at fork, so a benchmark's parent holding generated data inflates it.
"""

from __future__ import annotations

from pathlib import Path


def vm_hwm_mib(pid: int | str = "self") -> float | None:
    """A process's peak resident set size in MiB (Linux ``VmHWM``); None when unavailable or gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
