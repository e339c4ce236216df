"""A spec as loaded: the validated model, the file it came from and where each of its values is.

Every mapping key and value of a spec keeps its file, line and column (:class:`Positions`), so that a
problem found by pydantic, by a validation rule or while running points at ``spec.yaml:12:3``. The
loader (:mod:`metricspec.loader`) builds it; everything after reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metricspec.errors import Location
from metricspec.spec.models import Spec
from metricspec.trust import DEFAULT as DEFAULT_CONFINEMENT
from metricspec.trust import Confinement

PathKey = tuple[str | int, ...]
"""A place in a spec: the keys and list indexes from its top (``("kpis", "ctr", "ratio")``)."""


@dataclass
class Positions:
    """File/line/column of each value (and each mapping key) by path."""

    values: dict[PathKey, Location] = field(default_factory=dict)
    keys: dict[PathKey, Location] = field(default_factory=dict)
    quoted: set[PathKey] = field(default_factory=set)
    origins: dict[PathKey, Path] = field(default_factory=dict)
    files: set[Path] = field(default_factory=set)  # included files, resolved

    def where(self, path: PathKey, *, key: bool = False) -> Location | None:
        """The closest known location of ``path`` (walking up to parents)."""
        p = tuple(path)
        table = self.keys if key else self.values
        while True:
            if p in table:
                return table[p]
            if p in self.keys:
                return self.keys[p]
            if p in self.values:
                return self.values[p]
            if not p:
                return None
            p = p[:-1]

    def merge(self, other: Positions, prefix: PathKey = ()) -> None:
        for k, v in other.values.items():
            self.values[prefix + k] = v
        for k, v in other.keys.items():
            self.keys[prefix + k] = v
        self.quoted |= {prefix + k for k in other.quoted}
        self.origins.update({prefix + k: v for k, v in other.origins.items()})


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec with where it came from."""

    spec: Spec
    path: Path
    positions: Positions
    raw: dict[str, Any]
    confinement: Confinement = DEFAULT_CONFINEMENT

    @property
    def root(self) -> Path | None:
        """The folder every path of this spec must stay inside (None: anywhere)."""
        return None if self.confinement.allow_outside else self.confinement.root_for(self.path)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def dir_of(self, *path: str) -> Path:
        """Folder that relative paths in this part of the spec are relative to (its own file's)."""
        return self.positions.origins.get(tuple(path), self.base_dir)

    def where(self, *path: str | int, key: bool = False) -> Location | None:
        return self.positions.where(path, key=key)
