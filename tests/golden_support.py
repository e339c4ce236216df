"""Comparing a Results document with its golden file.

On the versions the golden files were written with, a document must equal its file byte for byte. The
lowest versions the dependency ranges allow (scripts/lowest-direct) compute the same statistics with an
older numpy and scipy, whose last digits differ (a forecast interval's bound 0.160308391505 against
0.160308391394, a p-value 3.65174093818e-22 against 3.65174093786e-22). That lane sets
``METRICSPEC_GOLDEN_REL_TOL`` (1e-8): every key, length, string and date must still be equal, and every
number equal within that relative tolerance. Unset (every other lane), the comparison is exact.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from typing import Any

REL_TOL = float(os.environ.get("METRICSPEC_GOLDEN_REL_TOL") or 0)


def json_differences(actual: Any, expected: Any, rel_tol: float = REL_TOL, path: str = "",
                     out: list[str] | None = None) -> list[str]:
    """Where two parsed JSON documents differ (dotted paths), numbers compared within ``rel_tol``."""
    out = [] if out is None else out
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key in sorted(set(actual) | set(expected)):
            if key not in actual or key not in expected:
                out.append(f"{path}.{key}: only in {'the golden file' if key in expected else 'the run'}")
            else:
                json_differences(actual[key], expected[key], rel_tol, f"{path}.{key}", out)
    elif isinstance(actual, list) and isinstance(expected, list):
        if len(actual) != len(expected):
            out.append(f"{path}: {len(actual)} items, the golden file has {len(expected)}")
        else:
            for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
                json_differences(a, e, rel_tol, f"{path}[{i}]", out)
    elif (isinstance(actual, (int, float)) and isinstance(expected, (int, float))
          and not isinstance(actual, bool) and not isinstance(expected, bool)):
        if type(actual) is not type(expected) or not math.isclose(actual, expected, rel_tol=rel_tol, abs_tol=0):
            out.append(f"{path}: {actual!r}, the golden file has {expected!r}")
    elif actual != expected or type(actual) is not type(expected):
        out.append(f"{path}: {actual!r}, the golden file has {expected!r}")
    return out


def golden_mismatch(text: str, expected: str, rel_tol: float = REL_TOL) -> str | None:
    """``None`` when ``text`` matches the golden ``expected`` (byte for byte, or within ``rel_tol`` when it
    is set); otherwise what differs, to fail with."""
    if text == expected:
        return None
    if rel_tol:
        found = json_differences(json.loads(text), json.loads(expected), rel_tol)
        if not found:
            return None
        return f"{len(found)} values differ beyond a relative {rel_tol:g}:\n" + "\n".join(found[:40])
    diff = "".join(list(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                             "golden", "now", n=2))[:80])
    return f"the Results differ from the golden file (first lines of the diff):\n{diff}"
