"""Which numbers in the golden Results moved since a git revision (locations and added keys ignored).

    python scripts/golden_values_diff.py 977b40cc     # every value changed, removed or replaced

Prints one line per changed value (``file: path old -> new``); keys present only on one side are
listed as added or removed, and ``where`` locations (which move when lines are added to a spec) are
left out. Exit status 0 always: it reports, the golden test (tests/test_golden.py) decides.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"


def walk(old: Any, new: Any, path: str, out: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if key == "where":
                continue
            if key not in old:
                out.append(f"{path}/{key} added")
            elif key not in new:
                out.append(f"{path}/{key} removed")
            else:
                walk(old[key], new[key], f"{path}/{key}", out)
    elif isinstance(old, list) and isinstance(new, list):
        old_named, new_named = _by_name(old), _by_name(new)
        if old_named is not None and new_named is not None:  # KPIs, goals, series: matched by name
            walk(old_named, new_named, path, out)
            return
        if len(old) != len(new):
            out.append(f"{path} length {len(old)} -> {len(new)}")
        for i, (a, b) in enumerate(zip(old, new, strict=False)):
            walk(a, b, f"{path}[{i}]", out)
    elif old != new:
        out.append(f"{path} {old!r} -> {new!r}")


def _by_name(items: list[Any]) -> dict[str, Any] | None:
    """A list of objects with distinct identifying keys as a dict keyed by them (so an inserted KPI is one
    addition, not every later KPI moved), else None."""
    for key in ("name", "label", "period"):
        if items and all(isinstance(i, dict) and key in i for i in items):
            names = [str(i[key]) for i in items]
            if len(set(names)) == len(names):
                return {f"{key}={n}": i for n, i in zip(names, items, strict=True)}
    return None


def main(revision: str) -> int:
    for file in sorted(GOLDEN.glob("*.json")):
        shown = subprocess.run(["git", "show", f"{revision}:tests/golden/{file.name}"], capture_output=True,
                               text=True, cwd=GOLDEN)
        if shown.returncode != 0:
            print(f"{file.name}: new since {revision}")
            continue
        out: list[str] = []
        walk(json.loads(shown.stdout), json.loads(file.read_text(encoding="utf-8")), "", out)
        print(f"{file.name}: {'unchanged values' if not out else f'{len(out)} changes'}")
        for line in out:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "HEAD"))
