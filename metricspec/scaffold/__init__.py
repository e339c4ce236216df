"""``metricspec init``: a working starter project — a spec with sample data, the JSON Schema for
editor completion (with the VS Code mapping), a pre-commit config and a GitHub workflow using
metricspec's action."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from metricspec.errors import UsageError
from metricspec.utils import atomic_write_bytes

SCHEMA_FILE = "metricspec.schema.json"
FILES: dict[str, str] = {
    # written to (relative to the project folder) -> packaged file (relative to scaffold/files), or
    # "" for the JSON Schema, which is generated from the models
    "metrics.yaml": "metrics.yaml",
    "data/posts.csv": "data/posts.csv",
    SCHEMA_FILE: "",
    ".vscode/settings.json": "project/vscode-settings.json",
    ".pre-commit-config.yaml": "project/pre-commit-config.yaml",
    ".github/workflows/metricspec.yml": "project/metricspec-workflow.yml",
}
VERSIONED = (".pre-commit-config.yaml", ".github/workflows/metricspec.yml")
"""Files that pin this version of metricspec (``{version}`` in the packaged file)."""


def file_bytes(rel: str) -> bytes:
    """The content ``init`` writes to ``rel``."""
    from metricspec import __version__

    packaged = FILES[rel]
    if not packaged:
        from metricspec.schema import schema_json

        return schema_json().encode("utf-8")
    data = (resources.files("metricspec.scaffold") / "files").joinpath(*packaged.split("/")).read_bytes()
    if rel in VERSIONED:
        data = data.replace(b"{version}", __version__.encode("ascii"))
    return data


def scaffold(directory: str | Path, *, force: bool = False) -> list[Path]:
    """Write the starter files; refuse to overwrite existing ones unless ``force``."""
    target = Path(directory)
    existing = [target / f for f in FILES if (target / f).exists()]
    if existing and not force:
        raise UsageError(
            f"{', '.join(str(p) for p in existing)} already exist(s)",
            hint="choose another folder or pass --force to overwrite",
        )
    contents = {rel: file_bytes(rel) for rel in FILES}  # everything read before anything is written
    written = []
    for rel, data in contents.items():
        atomic_write_bytes(target / rel, data)
        written.append(target / rel)
    return written
