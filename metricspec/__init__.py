"""metricspec: metrics as code for social-media and marketing measurement.

The public Python API (docs/python-api.md)::

    import metricspec

    spec = metricspec.load("specs/examples/x_brand_awareness.yaml")
    results = metricspec.evaluate(spec, as_of="2026-11-01")      # or evaluate(path, data={...})
    results.to_polars()                                          # every KPI's series, tidy
    results.kpi("followers").to_polars()                         # one KPI
    results.goals_to_polars()                                    # one row per goal
    metricspec.query(spec, ["engagement_rate"], by=["network"], grain="week")  # ad hoc, a polars frame
    results                                                      # in Jupyter: the HTML scorecard

Importing this package is cheap: everything else is imported when first used.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Mapping
from pathlib import Path as _Path
from typing import TYPE_CHECKING, Any

from metricspec.install_check import warn_if_conflicting as _warn_if_conflicting
from metricspec.version import __version__

#: Set when the unrelated ``metricspec`` distribution is installed next to this one (a warning says so).
INSTALL_CONFLICT = _warn_if_conflicting(_Path(__file__).resolve().parent)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pluggy
    import polars as pl

    from metricspec.api import PathLike
    from metricspec.engine.results import Results
    from metricspec.errors import MetricSpecError
    from metricspec.outputs import OutputRenderer
    from metricspec.spec.loaded import LoadedSpec

    hookimpl: pluggy.HookimplMarker
    """Decorator for plugin hook implementations: ``@metricspec.hookimpl``."""


def load(path: PathLike, *, root: PathLike | None = None, allow_outside_root: bool = False,
         plugin_manager: pluggy.PluginManager | None = None) -> LoadedSpec:
    """Read and validate one spec file; raises :class:`metricspec.errors.SpecError` with every problem.
    Its includes and data must lie inside ``root`` (default: its git top level) unless
    ``allow_outside_root``; its sources' connectors come from ``plugin_manager`` (default: every
    installed plugin)."""
    from metricspec.api import load as load_path  # cheap `import metricspec`: loader on use

    return load_path(path, root=root, allow_outside_root=allow_outside_root, plugin_manager=plugin_manager)


def evaluate(spec_or_path: LoadedSpec | PathLike, *, as_of: dt.date | str | None = None,
             data: Mapping[str, Any] | None = None, root: PathLike | None = None,
             allow_outside_root: bool = False, plugin_manager: pluggy.PluginManager | None = None) -> Results:
    """Evaluate a spec (loaded, or a path): ``data`` maps source names to frames that replace the
    connector (polars, pandas or pyarrow); ``as_of`` defaults to the latest date in the data; the
    connectors come from ``plugin_manager`` (default: every installed plugin)."""
    from metricspec.api import evaluate as run  # cheap `import metricspec`: engine on use

    return run(spec_or_path, as_of=as_of, data=data, root=root, allow_outside_root=allow_outside_root,
               plugin_manager=plugin_manager)


def query(spec_or_path: LoadedSpec | PathLike, kpis: str | Sequence[str], *, by: str | Sequence[str] = (),
          grain: str | None = None, where: str | None = None, start: dt.date | str | None = None,
          end: dt.date | str | None = None, data: Mapping[str, Any] | None = None, root: PathLike | None = None,
          allow_outside_root: bool = False, plugin_manager: pluggy.PluginManager | None = None) -> pl.DataFrame:
    """Declared KPIs by any column (``by``), per any ``grain``, over the rows where ``where`` holds, from
    ``start`` to ``end``: a polars frame of ``period``, the ``by`` columns and one column per KPI."""
    from metricspec.api import query as ask  # cheap `import metricspec`: engine on use

    return ask(spec_or_path, kpis, by=by, grain=grain, where=where, start=start, end=end, data=data, root=root,
               allow_outside_root=allow_outside_root, plugin_manager=plugin_manager)


_LAZY = {
    "Results": "metricspec.engine.results",
    "LoadedSpec": "metricspec.spec.loaded",
    "MetricSpecError": "metricspec.errors",
    "OutputRenderer": "metricspec.outputs",
}


def __getattr__(name: str) -> Any:
    """``hookimpl`` and the public classes, imported on first use (PEP 562)."""
    if name == "hookimpl":
        from metricspec.hookspecs import hookimpl  # cheap `import metricspec`: pluggy on use

        value: Any = hookimpl
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'metricspec' has no attribute {name!r}")
    globals()[name] = value  # one marker per process, and the next lookup is a plain attribute
    return value


__all__ = ["LoadedSpec", "MetricSpecError", "OutputRenderer", "Results", "__version__", "evaluate", "hookimpl",
           "load", "query"]
