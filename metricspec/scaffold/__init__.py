"""``metricspec init``: copy a working starter spec and sample data into a folder."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from metricspec.errors import UsageError
from metricspec.utils import atomic_write_bytes

FILES = ("metrics.yaml", "data/posts.csv")


def scaffold(directory: str | Path, *, force: bool = False) -> list[Path]:
    """Write the starter files; refuse to overwrite existing ones unless ``force``."""
    target = Path(directory)
    existing = [target / f for f in FILES if (target / f).exists()]
    if existing and not force:
        raise UsageError(
            f"{', '.join(str(p) for p in existing)} already exist(s)",
            hint="choose another folder or pass --force to overwrite",
        )
    root = resources.files("metricspec.scaffold") / "files"
    written = []
    for rel in FILES:
        data = root.joinpath(*rel.split("/")).read_bytes()
        atomic_write_bytes(target / rel, data)
        written.append(target / rel)
    return written
