"""Guards on what a command writes: never over its own inputs, never over a folder of documents.

* :func:`check_output_file`: every output file option (``-o`` of ``run``, ``render`` and ``schema``,
  ``--junit`` of ``validate`` and ``check``, the baseline ``baseline update`` writes) must not be a
  folder, nor any file the command reads: specs, included files, data files (through any link),
  a file a source's glob pattern matches or one inside a folder a source reads. What was read
  is recorded as it is read (:func:`metricspec.trust.recording_reads`, opened around every command).
* :func:`check_site_dir`: ``build -o DIR`` must be empty, missing or a site an earlier build wrote (it
  holds :data:`SITE_MARKER`), unless ``--force``; and it may never contain an input, nor the current
  folder.
* :func:`files_to_keep`: a build replaces only the files the earlier build wrote (the marker lists
  them) and keeps every other file of the folder (a ``CNAME``, a ``robots.txt``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from metricspec.errors import UsageError
from metricspec.trust import paths_read

if TYPE_CHECKING:
    from metricspec.loader import LoadedSpec

SITE_MARKER = ".metricspec-site"
"""File written into every built site: the manifest of the files the build wrote (one a line)."""
MANIFEST_HEADER = ("A site written by metricspec build. It wrote the files listed below: the next build replaces "
                   "them and keeps every other file.")
_PATH_OPTIONS = ("path", "database")


def input_files(loaded: Sequence[LoadedSpec]) -> list[Path]:
    """Files a run reads: spec files, included files and local data files (resolved, no globs)."""
    out: set[Path] = set()
    for spec in loaded:
        out.add(spec.path.resolve())
        out |= {p.resolve() for p in spec.positions.files}
        for name, source in spec.spec.sources.items():
            for key in _PATH_OPTIONS:
                value = source.options.get(key)
                if isinstance(value, str) and not any(ch in value for ch in "*?["):
                    out.add((spec.dir_of("sources", name) / Path(value).expanduser()).resolve())
    return sorted(out)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


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


def check_site_dir(out_dir: Path, inputs: Iterable[Path], *, force: bool = False) -> None:
    """Refuse a site folder that holds inputs, the current folder, or documents that are not a site."""
    resolved = out_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"-o {out_dir} is a file, not a folder", hint="give the site a folder of its own")
    if _inside(Path.cwd().resolve(), resolved):
        raise UsageError(f"-o {out_dir} is the current folder (or holds it); the build replaces the whole folder",
                         hint="build into a folder of its own, e.g. -o site/")
    held = [p for p in [*map(str, inputs), *paths_read()] if _inside(Path(p).resolve(), resolved)]
    if held:
        raise UsageError(f"-o {out_dir} holds an input of this build ({held[0]}); the build replaces the whole "
                         "folder", hint="build into a folder of its own, e.g. -o site/")
    if force or not out_dir.is_dir() or (out_dir / SITE_MARKER).is_file():
        return
    if any(out_dir.iterdir()):
        raise UsageError(f"-o {out_dir} is a folder that is not empty and was not written by metricspec build",
                         hint="choose an empty or new folder, or pass --force to build into it (its files are kept; "
                              "those at the paths of the site's pages are replaced)")


# ----------------------------------------------------------------- the files of a site


def site_manifest(written: Iterable[str]) -> str:
    """The text of :data:`SITE_MARKER`: what the build wrote, sorted, the marker itself included."""
    return "\n".join([MANIFEST_HEADER, *sorted({*written, SITE_MARKER})]) + "\n"


def _site_files(out_dir: Path) -> set[str]:
    """Every file (and link) under ``out_dir``, relative, with ``/``."""
    return {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_symlink() or not p.is_dir()}


def _listing(names: Iterable[str], limit: int = 12) -> str:
    names = sorted(names)
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def files_to_keep(out_dir: Path, writes: Iterable[str], *, force: bool = False) -> list[str]:
    """The files of an existing ``out_dir`` that a build writing ``writes`` keeps: those no earlier
    build wrote (its :data:`SITE_MARKER` manifest lists what it wrote), e.g. a ``CNAME`` for GitHub
    Pages or a ``robots.txt``. Raises :class:`UsageError` (unless ``force``) when one of them is at a
    path the build writes, or when the folder is a site of a version that kept no manifest and the
    build would remove files; with ``force`` those are replaced."""
    if not out_dir.is_dir():
        return []
    new = {*writes, SITE_MARKER}
    present = _site_files(out_dir) - {SITE_MARKER}
    marker = out_dir / SITE_MARKER
    lines = marker.read_text(encoding="utf-8", errors="replace").splitlines() if marker.is_file() else []
    if marker.is_file() and lines[:1] != [MANIFEST_HEADER]:  # an earlier version's marker: no manifest
        gone = present - new
        if gone and not force:
            raise UsageError(f"-o {out_dir} was built by an earlier metricspec that did not record its files; this "
                             f"build would remove {len(gone)} file(s) it does not write: {_listing(gone)}",
                             hint="move the files you added out and back after the build, or pass --force to "
                                  "replace the folder")
        return []
    foreign = present - set(lines[1:])
    clash = foreign & new
    if clash and not force:
        raise UsageError(f"-o {out_dir} holds {len(clash)} file(s) that no metricspec build wrote at paths this "
                         f"build writes: {_listing(clash)}",
                         hint="move them, or pass --force to replace them (the other files are kept)")
    return sorted(foreign - new)
