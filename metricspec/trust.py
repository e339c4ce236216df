"""Root confinement: the files a spec may make metricspec read (see docs/security.md).

A spec is untrusted input (CI gates run specs from pull requests), so every path it names —
``include:``, a file connector's ``options.path``, a database file — must resolve, symlinks
followed, inside the project root: ``--root DIR``, else the git top level of the spec (the
nearest folder above it holding ``.git``), else the spec's own folder. ``--allow-outside-root``
lifts the rule for specs you trust.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from metricspec.errors import DataError, Location, UsageError

ROOT_HINT = "keep data and includes inside the project (the git repository); pass --root DIR to widen it, or " \
            "--allow-outside-root for a spec you trust"


def project_root(spec_path: Path) -> Path:
    """The git top level above ``spec_path`` (a ``.git`` folder or file), else its folder."""
    start = spec_path.resolve().parent
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


@dataclass(frozen=True)
class Confinement:
    """Where a spec's paths may point. ``root=None``: :func:`project_root` of each spec."""

    root: Path | None = None
    allow_outside: bool = False

    def root_for(self, spec_path: Path) -> Path:
        return self.root.resolve() if self.root is not None else project_root(spec_path)

    def outside(self, path: Path, spec_path: Path) -> Path | None:
        """The root when ``path`` (resolved, symlinks followed) lies outside it; None when allowed."""
        if self.allow_outside:
            return None
        root = self.root_for(spec_path)
        real = path.resolve()
        return None if real == root or root in real.parents else root

    def check(self, path: Path, spec_path: Path, *, what: str, where: Location | None = None) -> Path:
        """``path`` if it is allowed; else raise :class:`DataError` naming it and the root."""
        root = self.outside(path, spec_path)
        if root is not None:
            raise DataError(f"{what} {path} is outside the project root {root}", where=where, hint=ROOT_HINT)
        return path


DEFAULT = Confinement()


# ----------------------------------------------------------------- what a command reads

_RECORDING: list[set[str]] = []
"""The paths read since each :func:`recording_reads` began (innermost last)."""


@contextlib.contextmanager
def recording_reads() -> Iterator[set[str]]:
    """Collect every path read inside the block: spec and included files (the loader), and every
    path a connector resolves (:meth:`SourceContext.resolve`), data files, folders and glob
    patterns alike. Each command runs in one, so that no output option can name a file the
    command reads (:func:`check_output_file`)."""
    reads: set[str] = set()
    _RECORDING.append(reads)
    try:
        yield reads
    finally:
        _RECORDING.remove(reads)


def record_read(path: str | Path) -> None:
    """Note that ``path`` (a file, a folder or a glob pattern) is read, in every open recording."""
    if _RECORDING:
        absolute = os.path.abspath(os.path.expanduser(str(path)))
        for reads in _RECORDING:
            reads.add(absolute)


def paths_read() -> list[str]:
    """What the innermost recording holds so far (absolute paths, glob patterns kept)."""
    return sorted(_RECORDING[-1]) if _RECORDING else []


# ----------------------------------------------------------------- never overwriting an input


def _reads(output: Path, inputs: Iterable[Path | str]) -> str | None:
    """The input ``output`` would overwrite or join: the same file (through any link), a file a
    glob pattern of a source would match, or a file inside a folder a source reads."""
    resolved = output.resolve()
    try:
        stat = output.stat()
    except OSError:
        stat = None
    for item in {str(p) for p in inputs} | set(paths_read()):
        path = Path(item)
        if any(ch in item for ch in "*?["):
            if fnmatch.fnmatchcase(str(resolved), str(path.parent.resolve() / path.name)) or fnmatch.fnmatchcase(
                    str(resolved), item):
                return item
            continue
        real = path.resolve()
        if real == resolved or (real.is_dir() and real in resolved.parents):
            return item
        with contextlib.suppress(OSError):
            if stat is not None and os.path.samestat(stat, path.stat()):
                return item
    return None


def check_output_file(output: Path, inputs: Iterable[Path | str] = (), *, option: str = "-o") -> None:
    """Refuse an output file that is a folder, one of ``inputs``, or a path the command has read so
    far (:func:`metricspec.trust.record_read`: specs, includes, data files, folders and patterns)."""
    if output.is_dir():
        raise UsageError(f"{option} {output} is a folder", hint=f"give a file name, e.g. {output / 'results.json'}")
    hit = _reads(output, inputs)
    if hit is not None:
        same = Path(hit).resolve() == output.resolve()
        what = "" if same else f" ({'matches' if any(c in hit for c in '*?[') else 'is inside'} {hit})"
        raise UsageError(f"{option} {output} is an input of this command (a spec, included or data file){what}; "
                         "writing it would overwrite or change it", hint="choose another output file")
