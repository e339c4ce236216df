"""The files of a built site: its marker, the manifest of what a build wrote, and the files a new
build keeps (the site folder is the build's, the files a user added are theirs)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from metricspec.errors import UsageError

SITE_MARKER = ".metricspec-site"
"""File written into every built site: the manifest of the files the build wrote (one a line)."""
MANIFEST_HEADER = ("A site written by metricspec build. It wrote the files listed below: the next build replaces "
                   "them and keeps every other file.")


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
