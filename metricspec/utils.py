"""Small helpers: atomic writes so nothing is ever left half-written, numbers written the same on
every machine, did-you-mean suggestions."""

from __future__ import annotations

import difflib
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SIGNIFICANT_DIGITS = 12
"""Every non-integer number metricspec writes (Results JSON, baselines, check reports, CSV) is rounded
to this many significant digits. The last digits of a floating-point sum depend on the order polars
adds the rows in (in-memory or streaming engine, threads), and those of a statistic (a p-value, a
confidence bound) on the numpy/scipy build; rounding makes the files byte-identical across machines
and library versions in practice (a value landing exactly on a rounding boundary could still differ)
while keeping far more precision than a ratio, an average or a p-value needs. Whole numbers below
2**53 are kept as they are: their sums are exact in any order, and rounding them would drop digits of
large counts or amounts in micros."""

EXACT_INTEGERS = float(2**53)  # whole numbers below this are exact in any summation order


def stable_float(value: float) -> float | None:
    """``value`` as written: None for NaN and infinities (JSON has neither), 0.0 for -0.0, whole numbers
    below 2**53 as they are, anything else rounded to :data:`SIGNIFICANT_DIGITS` significant digits."""
    if not math.isfinite(value):
        return None
    if value == 0:
        return 0.0
    if value == round(value) and abs(value) < EXACT_INTEGERS:
        return value
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def stable_numbers(data: Any) -> Any:
    """``data`` (JSON-like: dicts, lists, tuples, scalars) with every float passed through
    :func:`stable_float`; the one step every writer of numbers goes through."""
    if isinstance(data, float):
        return stable_float(data)
    if isinstance(data, dict):
        return {k: stable_numbers(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [stable_numbers(v) for v in data]
    return data


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename over ``path``.

    A path that is not a regular file (``/dev/null``, ``/dev/stdout``, a named pipe) is written in
    place: renaming over it would replace the device with a file. A symbolic link to a file keeps
    pointing at it: the file it points to is replaced.
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        with open(target, "wb") as fh:
            fh.write(data)
        return
    if target.is_symlink():
        target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # like a normally created file, not mkstemp's 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def replace_directory(staging: Path, target: Path) -> None:
    """Swap a fully built ``staging`` folder in for ``target`` (old one removed only after)."""
    target = Path(target)
    backup: Path | None = None
    if target.exists():
        backup = target.with_name(f".{target.name}.old-{os.getpid()}")
        if backup.exists():
            shutil.rmtree(backup)
        os.replace(target, backup)
    try:
        os.replace(staging, target)
    except BaseException:
        if backup is not None:
            os.replace(backup, target)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def staging_directory(target: Path) -> Path:
    """A fresh empty folder next to ``target`` to build into (its name holds this process's id)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_directories(target)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.build-{os.getpid()}-", dir=target.parent))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_directories(target: Path, *, legacy_age: float = 3600.0) -> list[Path]:
    """Remove staging and backup folders next to ``target`` that a killed build left behind.

    ``.NAME.build-PID-*`` and ``.NAME.old-PID`` are removed when process PID no longer runs;
    folders of the older naming without a process id, when older than ``legacy_age`` seconds.
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(?:build|old)-(?:(\d+)(?:-.*)?|[^-]*)")
    removed: list[Path] = []
    if not target.parent.is_dir():
        return removed
    for entry in target.parent.iterdir():
        m = pattern.fullmatch(entry.name)
        if m is None or not entry.is_dir() or entry.is_symlink():
            continue
        pid = m.group(1)
        stale = not _alive(int(pid)) if pid else time.time() - entry.stat().st_mtime > legacy_age
        if stale and (pid is None or int(pid) != os.getpid()):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to a mistyped ``word`` (for "did you mean …?"), if one is close enough."""
    match = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return match[0] if match else None
