"""``metricspec init``: a working starter project — a spec with sample data, the JSON Schema for
editor completion (with the VS Code mapping), a pre-commit config and a GitHub workflow using
metricspec's action."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from metricspec import (
    version as metricspec_version,  # read at call time: a test sets a development version
)
from metricspec.errors import UsageError
from metricspec.schema import schema_json
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
"""Files that pin this version of metricspec (``{ref}`` in the packaged file: :func:`pinned_ref`)."""

_RELEASE = re.compile(r"\d+\.\d+\.\d+")


def pinned_ref(version: str | None = None, source: Path | None = None) -> str:
    """The git revision of metricspec's repository that the hook and the action are pinned to.

    A release ``X.Y.Z`` is the tag ``vX.Y.Z``: the release workflow publishes a version only from
    the tag of the same name (.github/workflows/release.yml, scripts/release_check.py), so an
    installed release's tag exists. Any other version (``0.2.0.dev0``, a local build) has no tag: the
    commit of the checkout it runs from, or ``main`` when that is not known (not a git checkout)."""
    version = version or metricspec_version.__version__
    if _RELEASE.fullmatch(version):
        return f"v{version}"
    folder = source or Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel", "HEAD"], cwd=folder, capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "main"
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2 or not re.fullmatch(r"[0-9a-f]{40}", lines[1]):
        return "main"
    project = Path(lines[0]) / "pyproject.toml"  # metricspec's own checkout, not a repository around site-packages
    ours = project.is_file() and 'name = "metricspec-cli"' in project.read_text(encoding="utf-8", errors="replace")
    return lines[1] if ours else "main"


AT_REPOSITORY_ROOT = (".pre-commit-config.yaml", ".github/workflows/metricspec.yml")
"""Files that only work at the root of the git repository (pre-commit and GitHub read them there)."""


def file_bytes(rel: str, spec: str = "metrics.yaml") -> bytes:
    """The content ``init`` writes to ``rel``; ``spec`` is the starter spec's path from where the file
    is written (the repository root for :data:`AT_REPOSITORY_ROOT`)."""
    packaged = FILES[rel]
    if not packaged:
        return schema_json().encode("utf-8")
    data = (resources.files("metricspec.scaffold") / "files").joinpath(*packaged.split("/")).read_bytes()
    if rel in VERSIONED:
        data = data.replace(b"{ref}", pinned_ref().encode("ascii")).replace(b"{spec}", spec.encode("utf-8"))
    return data


def repository_root(folder: Path) -> Path | None:
    """The top folder of the git work tree ``folder`` is (or would be) in, or None."""
    existing = folder.resolve()
    while not existing.exists():
        existing = existing.parent
    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=existing, capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    top = done.stdout.strip()
    return Path(top).resolve() if done.returncode == 0 and top else None


@dataclass
class Scaffolded:
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the user has to do by hand


def scaffold(directory: str | Path, *, force: bool = False) -> Scaffolded:
    """Write the starter files; refuse to overwrite existing ones unless ``force``.

    Inside an existing git repository (``directory`` below its root), the pre-commit config and the
    workflow go to the repository's root, where pre-commit and GitHub read them, pointing at the spec
    by its path from there; one that already exists there is left as it is and a note says what to add.
    """
    target = Path(directory)
    root = repository_root(target)
    below = root is not None and root != target.resolve()
    prefix = target.resolve().relative_to(root).as_posix() + "/" if below and root is not None else ""
    places = {rel: (root / rel if below and root is not None and rel in AT_REPOSITORY_ROOT else target / rel)
              for rel in FILES}
    out = Scaffolded()
    kept = [rel for rel in AT_REPOSITORY_ROOT if below and places[rel].exists()]
    for rel in kept:  # an existing config of the repository is not ours to replace
        del places[rel]
        out.notes.append(f"{root / rel if root else rel} exists: add metricspec to it as shown in docs/ci.md "
                         f"(the spec is {prefix}metrics.yaml from the repository root)")
    existing = [p for p in places.values() if p.exists()]
    if existing and not force:
        raise UsageError(
            f"{', '.join(str(p) for p in existing)} already exist(s)",
            hint="choose another folder or pass --force to overwrite",
        )
    spec = f"{prefix}metrics.yaml"
    contents = {rel: file_bytes(rel, spec) for rel in places}  # everything read before anything is written
    for rel, data in contents.items():
        atomic_write_bytes(places[rel], data)
        out.written.append(places[rel])
    return out
