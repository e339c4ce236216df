"""Refuse to release a tag that is not the version being built (run by .github/workflows/release.yml).

    python scripts/release_check.py v0.1.0

Checks that the tag is ``v`` + the version in pyproject.toml, that ``metricspec.__version__`` is the
same, that it is a final release (``X.Y.Z``: ``metricspec init`` pins the tag ``vX.Y.Z`` of such a
version, so it must be the tag published), and that CHANGELOG.md has a dated section for it. Exits 1
with what to fix.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def problems(tag: str, root: Path = ROOT) -> list[str]:
    version = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    init = (root / "metricspec" / "version.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', init, re.M)
    out = []
    if tag != f"v{version}":
        out.append(f"the tag {tag} is not v{version}, the version in pyproject.toml")
    if not found or found.group(1) != version:
        out.append(f"metricspec.__version__ ({found.group(1) if found else 'missing'}) is not {version}")
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        out.append(f"{version} is not a release version X.Y.Z")
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    if not re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M):
        out.append(f"CHANGELOG.md has no dated section '## [{version}] - YYYY-MM-DD'")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python scripts/release_check.py vX.Y.Z", file=sys.stderr)
        return 2
    found = problems(argv[0])
    for p in found:
        print(f"error: {p}", file=sys.stderr)
    if not found:
        print(f"{argv[0]}: ready to release")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
