"""Load spec files: YAML with positions (:mod:`.reading`), includes (:mod:`.includes`), the spec model
with pydantic's errors mapped to ``file:line:col`` (:mod:`metricspec.spec.errormap`), then every
validation rule (:mod:`metricspec.validation`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from metricspec.errors import Issue, Level, Location, SpecError
from metricspec.loader.includes import merge_includes
from metricspec.loader.reading import display_name, read_yaml
from metricspec.spec.errormap import pydantic_issues
from metricspec.spec.loaded import LoadedSpec, Positions
from metricspec.spec.models import Spec
from metricspec.trust import DEFAULT as DEFAULT_CONFINEMENT
from metricspec.trust import Confinement
from metricspec.validation import validate

SPEC_SUFFIXES = (".yaml", ".yml")


def load_spec(path: str | Path, confinement: Confinement = DEFAULT_CONFINEMENT) -> LoadedSpec:
    """Read, merge includes and validate one spec file; raise :class:`SpecError`."""
    p = Path(path)
    raw, positions = read_yaml(p)
    spec, raw = build_spec(p, raw, positions, confinement)
    loaded = LoadedSpec(spec=spec, path=p, positions=positions, raw=raw, confinement=confinement)
    found = validate(loaded)
    errors = [i for i in found if i.level is Level.ERROR]
    if errors:
        raise SpecError(found)
    object.__setattr__(loaded, "_warnings", [i for i in found if i.level is Level.WARNING])
    return loaded


def build_spec(p: Path, raw: Any, positions: Positions, confinement: Confinement = DEFAULT_CONFINEMENT,
               ) -> tuple[Spec, dict[str, Any]]:
    """The :class:`Spec` of parsed YAML: includes merged, pydantic errors mapped to file:line:col.

    No cross-reference rules run here (see :func:`load_spec`), so an earlier version of a spec
    read from git can be parsed the same way.
    """
    name = display_name(p)
    if raw is None:
        raise SpecError([Issue(Level.ERROR, "the file is empty", Location(name, 1, 1), "start with `name: my-spec`")])
    if not isinstance(raw, dict):
        raise SpecError(
            [Issue(Level.ERROR, f"a spec must be a mapping of keys, got a {type(raw).__name__}", Location(name, 1, 1),
                   "start with `name: my-spec` and sections such as `kpis:`")]
        )
    issues: list[Issue] = []
    raw = merge_includes(p, raw, positions, issues, seen=(p.resolve(),), trust=(confinement, p))
    if issues:
        raise SpecError(issues)
    try:
        return Spec.model_validate(raw), raw
    except ValidationError as exc:
        raise SpecError(pydantic_issues(exc, raw, positions, Spec)) from None


def load_specs(paths: list[Path] | list[str | Path], *, strict: bool = False, keep_going: bool = False,
               confinement: Confinement = DEFAULT_CONFINEMENT) -> tuple[list[LoadedSpec], list[Issue], list[Path]]:
    """Load every spec under ``paths``: (loaded, issues, files that failed).

    Raises :class:`SpecError` with every problem unless ``keep_going``.
    """
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise SpecError([Issue(Level.ERROR, "no such file or directory", Location(str(p)), "check the path")
                         for p in missing])
    files = find_spec_files(list(paths))
    if not files:
        raise SpecError([Issue(Level.ERROR, "no spec files (*.yaml, *.yml) found",
                               Location(", ".join(str(p) for p in paths)), "pass a spec file or a folder of them")])
    loaded: list[LoadedSpec] = []
    issues: list[Issue] = []
    broken: list[Path] = []
    for f in files:
        try:
            spec = load_spec(f, confinement)
        except SpecError as exc:
            issues.extend(exc.issues())
            broken.append(f)
            continue
        loaded.append(spec)
        issues.extend(spec_warnings(spec))
    errors = [i for i in issues if i.level is Level.ERROR or (strict and i.level is Level.WARNING)]
    if errors and not keep_going:
        raise SpecError(issues)
    return loaded, issues, broken


def spec_warnings(loaded: LoadedSpec) -> list[Issue]:
    return list(getattr(loaded, "_warnings", []))


def find_spec_files(paths: list[str | Path]) -> list[Path]:
    """Expand directories into the spec files they hold (sorted), skipping included-only files.

    Files whose first key is not ``name`` but that only hold shared sections (used via
    ``include:``) are skipped when they live under a directory named ``shared`` or
    start with an underscore. Hidden files and folders inside a directory (``.github/``
    workflows, ``.pre-commit-config.yaml``, ``.metricspec/``) are not specs either.
    """
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in f.relative_to(path).parts)
                if f.suffix in SPEC_SUFFIXES and f.is_file() and not hidden and not _is_partial(f):
                    out.append(f)
        else:
            out.append(path)
    return out


def _is_partial(path: Path) -> bool:
    return path.name.startswith("_") or "shared" in path.parts or ".metricspec" in path.parts
