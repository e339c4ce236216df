"""Guards on what a command writes: never over its own inputs, never over a folder of documents.

* :func:`metricspec.trust.check_output_file`: every output file option (``-o`` of ``run``, ``render``
  and ``schema``, ``--junit`` of ``validate`` and ``check``, the baseline ``baseline update`` writes)
  must not be a folder, nor any file the command reads: specs, included files, data files (through
  any link), a file a source's glob pattern matches or one inside a folder a source reads. What was
  read is recorded as it is read (:func:`metricspec.trust.recording_reads`, opened around every
  command). It is the trust rules' (the baseline's writer, below the CLI, asks it too).
* :func:`check_site_dir`: ``build -o DIR`` must be empty, missing or a site an earlier build wrote (it
  holds :data:`~metricspec.render.site_files.SITE_MARKER`), unless ``--force``; and it may never
  contain an input, nor the current folder.
* :func:`metricspec.render.site_files.files_to_keep`: a build replaces only the files the earlier
  build wrote (the marker lists them) and keeps every other file of the folder (a ``CNAME``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from metricspec.errors import UsageError
from metricspec.render.site_files import SITE_MARKER
from metricspec.trust import check_output_file, paths_read
from metricspec.utils import atomic_write_text

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec

_PATH_OPTIONS = ("path", "database")


def emit_text(text: str, output: Path | None, loaded: Sequence[LoadedSpec]) -> None:
    """``text`` on stdout, or written whole to ``output`` (a temporary file renamed), never over a file the
    run read; "wrote …" on stderr."""
    if output is None:
        click.echo(text, nl=False)
        return
    check_output_file(output, input_files(loaded))
    atomic_write_text(output, text)
    click.echo(f"wrote {output}", err=True)


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
