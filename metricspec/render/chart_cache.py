"""A disk cache of drawn charts, by content hash: a rebuild with unchanged data draws nothing.

A chart's SVG depends only on its Vega-Lite spec, its number locale and the vl-convert version, so the
SHA-256 of those three names the file (``<cache>/charts/ab/ab12….svg``). The cache lives in
``$METRICSPEC_CACHE_DIR`` if set (``off`` disables it), else ``$XDG_CACHE_HOME/metricspec`` or
``~/.cache/metricspec``. Files are written atomically (temporary file + rename), so concurrent
builds can share a cache (without fsync: an entry cut short by a crash is not a drawing and is
drawn again); a cache that cannot be read or written is skipped (drawing still works).
It keeps the :data:`MAX_ENTRIES` most recently used charts. The vega/vega-lite/vega-embed bundle of
browser-drawn sites (:mod:`metricspec.render.assets`) is cached here too.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

CACHE_VARIABLE = "METRICSPEC_CACHE_DIR"
MAX_ENTRIES = 20_000  # about 40 MB of SVG: the charts of some fifty sites the size of the examples
FORMAT = "1"  # bump when the stored SVG changes for the same inputs (e.g. a new post-processing step)

Key = tuple[str, str]


def cache_dir() -> Path | None:
    """Where the cache lives, or None when ``$METRICSPEC_CACHE_DIR`` is ``off``."""
    value = os.environ.get(CACHE_VARIABLE)
    if value is not None and value.strip():
        return None if value.strip().lower() in ("off", "0", "no", "false") else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "metricspec"


@functools.cache
def vl_convert_version() -> str:
    try:
        return metadata.version("vl-convert-python")
    except metadata.PackageNotFoundError:  # pragma: no cover - installed with metricspec
        return "unknown"


def digest(key: Key) -> str:
    """The content hash naming a chart: its spec, its locale, vl-convert's version and the cache format."""
    spec, locale = key
    text = "\0".join((FORMAT, vl_convert_version(), spec, locale))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _path(root: Path, name: str) -> Path:
    return root / "charts" / name[:2] / f"{name}.svg"


def load(keys: Iterable[Key]) -> dict[Key, str]:
    """The cached SVG of every key that has one (touched, so it counts as recently used)."""
    root = cache_dir()
    out: dict[Key, str] = {}
    if root is None:
        return out
    for key in keys:
        path = _path(root, digest(key))
        try:
            svg = path.read_text(encoding="utf-8")
            os.utime(path)
        except (OSError, UnicodeDecodeError):
            continue
        if svg.startswith("<svg") and svg.rstrip().endswith("</svg>"):
            out[key] = svg
    return out


def _write(path: Path, text: str) -> None:
    """Temporary file + rename (no fsync: see the module docstring)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store(drawn: dict[Key, str]) -> None:
    """Remember drawn charts; then drop the least recently used beyond :data:`MAX_ENTRIES`."""
    root = cache_dir()
    if root is None or not drawn:
        return
    try:
        for key, svg in drawn.items():
            _write(_path(root, digest(key)), svg)
        prune(root)
    except OSError:  # a read-only or full disk: the cache is only an optimisation
        return


def prune(root: Path, max_entries: int = MAX_ENTRIES) -> int:
    """Delete the least recently used charts beyond ``max_entries``; returns how many were deleted."""
    files = list((root / "charts").glob("*/*.svg"))
    if len(files) <= max_entries:
        return 0
    stamped = []
    for f in files:
        with contextlib.suppress(OSError):
            stamped.append((f.stat().st_mtime, str(f)))
    stamped.sort()
    excess = stamped[: len(stamped) - max_entries]
    for _, name in excess:
        with contextlib.suppress(OSError):
            os.unlink(name)
    return len(excess)


def load_text(name: str) -> str | None:
    """A cached file by name (the JavaScript bundle), or None."""
    root = cache_dir()
    if root is None:
        return None
    try:
        return (root / name).read_text(encoding="utf-8")
    except OSError:
        return None


def store_text(name: str, text: str) -> None:
    root = cache_dir()
    if root is not None:
        with contextlib.suppress(OSError):
            _write(root / name, text)
