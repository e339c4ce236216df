"""Is the ``metricspec`` package this project's? (issue 25)

This project is the distribution ``metricspec-cli``; an unrelated project on the package index is
called ``metricspec`` and installs the same import package and command. With both in one
environment, files of one overwrite the other's (whichever was installed last), which shows as
import errors or as the wrong ``metricspec`` command. :func:`conflicts` looks, at ``import
metricspec`` (one listing of the folder the package was imported from), for the other project's
metadata next to this package, and the package warns with the fix.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

DISTRIBUTION = "metricspec-cli"
UNRELATED = "metricspec"
FIX = (f"pip uninstall -y {UNRELATED} {DISTRIBUTION} && pip install {DISTRIBUTION} (and the plugins and extras "
       "you use); see docs/getting-started.md, 'Two projects called metricspec'")

# metadata folders of the distribution named exactly "metricspec": "metricspec-1.2.dist-info",
# "metricspec-1.2-py3.11.egg-info" (metricspec_cli-… and metricspec_x_analytics-… do not match)
_METADATA = re.compile(r"metricspec-([^-]+)(?:-py[\d.]+)?\.(?:dist|egg)-info")


class MetricSpecInstallWarning(UserWarning):
    """The unrelated ``metricspec`` distribution is installed next to this one."""


def conflicts(package_dir: Path) -> list[tuple[str, Path]]:
    """``(version, metadata folder)`` of each ``metricspec`` (the unrelated distribution) installed in
    the folder that holds ``package_dir``."""
    site = package_dir.parent
    try:
        names = [entry.name for entry in site.iterdir()]
    except OSError:
        return []
    return [(m.group(1), site / name) for name in sorted(names) if (m := _METADATA.fullmatch(name))]


def message(found: list[tuple[str, Path]]) -> str:
    version, folder = found[0]
    return (f"the unrelated distribution '{UNRELATED}' {version} is installed in {folder.parent} next to "
            f"{DISTRIBUTION}: both provide the import package and the command `metricspec`, so one's files "
            f"overwrite the other's. Fix: {FIX}")


def warn_if_conflicting(package_dir: Path) -> str | None:
    """Warn (:class:`MetricSpecInstallWarning`) when :func:`conflicts` finds the other project; return
    the message."""
    found = conflicts(package_dir)
    if not found:
        return None
    text = message(found)
    warnings.warn_explicit(text, MetricSpecInstallWarning, str(found[0][1]), 1)
    return text
