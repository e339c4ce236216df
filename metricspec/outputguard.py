"""Guards on what a command writes: never over its own inputs, never over a folder of documents.

* :func:`check_output_file`: ``-o`` of ``run``, ``render``, ``baseline update`` and ``schema`` must
  not be a folder, nor a spec, included or data file the command reads.
* :func:`check_site_dir`: ``build -o DIR`` replaces DIR whole, so DIR must be empty, missing or a
  site an earlier build wrote (it holds :data:`SITE_MARKER`), unless ``--force``; and it may never
  contain an input, nor the current folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from metricspec.errors import UsageError

if TYPE_CHECKING:
    from metricspec.loader import LoadedSpec

SITE_MARKER = ".metricspec-site"
"""File written into every built site: the folder may be replaced by the next build."""
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


def check_output_file(output: Path, inputs: Iterable[Path] = ()) -> None:
    """Refuse an output file that is a folder or one of ``inputs``."""
    if output.is_dir():
        raise UsageError(f"-o {output} is a folder", hint=f"give a file name, e.g. {output / 'results.json'}")
    resolved = output.resolve()
    if resolved in {Path(p).resolve() for p in inputs}:
        raise UsageError(f"-o {output} is an input of this command (a spec, included or data file); writing it "
                         "would overwrite it", hint="choose another output file")


def check_site_dir(out_dir: Path, inputs: Iterable[Path], *, force: bool = False) -> None:
    """Refuse a site folder that holds inputs, the current folder, or documents that are not a site."""
    resolved = out_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"-o {out_dir} is a file, not a folder", hint="give the site a folder of its own")
    if _inside(Path.cwd().resolve(), resolved):
        raise UsageError(f"-o {out_dir} is the current folder (or holds it); the build replaces the whole folder",
                         hint="build into a folder of its own, e.g. -o site/")
    held = [p for p in inputs if _inside(Path(p).resolve(), resolved)]
    if held:
        raise UsageError(f"-o {out_dir} holds an input of this build ({held[0]}); the build replaces the whole "
                         "folder", hint="build into a folder of its own, e.g. -o site/")
    if force or not out_dir.is_dir() or (out_dir / SITE_MARKER).is_file():
        return
    if any(out_dir.iterdir()):
        raise UsageError(f"-o {out_dir} is a folder that is not empty and was not written by metricspec build; "
                         "the build would delete what it holds",
                         hint="choose an empty or new folder, or pass --force to replace it")
