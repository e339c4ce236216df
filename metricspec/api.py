"""The public Python API behind ``metricspec.load`` and ``metricspec.evaluate`` (see docs/python-api.md).

``import metricspec`` imports this module only when one of its functions is called, so it stays cheap.
Every function here loads a spec, so the loader is imported with the module; polars and the engine are
imported inside the functions that run a spec, so :func:`load` does not import them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metricspec.connectors.files import first_line
from metricspec.errors import Issue, Level, Location, SpecError, UsageError
from metricspec.loader import load_spec
from metricspec.plugins import using_plugin_manager
from metricspec.spec.loaded import LoadedSpec
from metricspec.spec.source import CALENDAR
from metricspec.trust import Confinement
from metricspec.utils import suggest

if TYPE_CHECKING:
    import pluggy
    import polars as pl

    from metricspec.engine.results import Results

PathLike = str | os.PathLike[str]


def load(path: PathLike, *, root: PathLike | None = None, allow_outside_root: bool = False,
         plugin_manager: pluggy.PluginManager | None = None) -> LoadedSpec:
    """Read and validate one spec file (includes merged, every rule checked).

    The spec's includes and data files must lie inside its project root (``root``, else the spec's git
    top level, else its folder; see docs/security.md) unless ``allow_outside_root``.
    ``plugin_manager`` (from :func:`metricspec.plugins.make_plugin_manager`) provides the connectors the
    sources are checked against; by default the process's (every installed plugin).
    Raises :class:`metricspec.errors.SpecError` carrying every problem with its ``file:line:col``.
    Spec warnings are kept on the result (:func:`metricspec.loader.spec_warnings`).
    """
    confinement = Confinement(root=Path(root) if root is not None else None, allow_outside=allow_outside_root)
    with using_plugin_manager(plugin_manager):
        return load_spec(os.fspath(path), confinement)


def evaluate(spec_or_path: LoadedSpec | PathLike, *, as_of: dt.date | str | None = None,
             data: Mapping[str, Any] | None = None, root: PathLike | None = None,
             allow_outside_root: bool = False, plugin_manager: pluggy.PluginManager | None = None) -> Results:
    """Evaluate a spec: every KPI, goal, control group and attribution model.

    ``as_of`` is a date, an ISO date string or ``"today"``; by default the latest date in the data.
    ``data`` maps source names to frames that replace what the source's connector would read: a
    polars ``DataFrame`` or ``LazyFrame``, a pandas ``DataFrame``, a pyarrow ``Table``, or anything
    else polars reads through the Arrow PyCapsule interface (``pl.from_dataframe``). The source's
    ``rename``, ``columns``, ``timezone`` and ``derive`` still apply to the frame. ``root`` and
    ``allow_outside_root`` as for :func:`load` (when a path is given); ``plugin_manager`` as for
    :func:`load`, for loading and for reading the sources.
    """
    import metricspec.render.notebook  # noqa: F401  (Results show as a scorecard in Jupyter)
    from metricspec.engine.run import evaluate as run  # start-up: polars, not for load()

    loaded = spec_or_path if isinstance(spec_or_path, LoadedSpec) else load(
        spec_or_path, root=root, allow_outside_root=allow_outside_root, plugin_manager=plugin_manager)
    frames = source_frames(loaded, data) if data else None
    return run(loaded, as_of=parse_date(as_of), data=frames, plugin_manager=plugin_manager)


def query(spec_or_path: LoadedSpec | PathLike, kpis: str | Sequence[str], *, by: str | Sequence[str] = (),
          grain: str | None = None, where: str | None = None, start: dt.date | str | None = None,
          end: dt.date | str | None = None, data: Mapping[str, Any] | None = None, root: PathLike | None = None,
          allow_outside_root: bool = False, plugin_manager: pluggy.PluginManager | None = None) -> pl.DataFrame:
    """Declared KPIs by any column of their rows, per any grain, over the rows where ``where`` holds,
    dated ``start`` to ``end`` (docs/query.md).

    Returns a polars frame: ``period`` (a date; for ``grain="hour"`` an instant in the spec's time
    zone), one text column per ``by`` column, one Float64 column per KPI. ``data``, ``root``,
    ``allow_outside_root`` and ``plugin_manager`` as for :func:`evaluate`. Raises :class:`metricspec.errors.SpecError` for an
    unknown KPI or column, a grain a KPI cannot have or a malformed ``where``.
    """
    from metricspec.engine.query import Question, run_query  # start-up: polars, not for load()

    loaded = spec_or_path if isinstance(spec_or_path, LoadedSpec) else load(
        spec_or_path, root=root, allow_outside_root=allow_outside_root, plugin_manager=plugin_manager)
    frames = source_frames(loaded, data) if data else None
    question = Question(kpis=_names(kpis), by=_names(by), grain=grain, where=where, start=parse_date(start),
                        end=parse_date(end))
    return run_query(loaded, question, frames, plugin_manager=plugin_manager).frame


def _names(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def parse_date(value: dt.date | str | None) -> dt.date | None:
    """``as_of`` as a date: a date (a datetime's date), an ISO string, ``"today"`` or None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if value == "today":
            return dt.date.today()
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise UsageError(f"as_of={value!r} is not a date", hint="pass a datetime.date, 'YYYY-MM-DD' or 'today'")


def source_frames(loaded: LoadedSpec, data: Mapping[str, Any]) -> dict[str, pl.LazyFrame]:
    """``data`` as polars lazy frames, checked against the spec's sources (all problems at once)."""
    declared = sorted(loaded.spec.sources)
    issues: list[Issue] = []
    frames: dict[str, pl.LazyFrame] = {}
    for name, frame in data.items():
        if name not in loaded.spec.sources:
            guess = suggest(str(name), declared) if name != CALENDAR else None
            issues.append(Issue(Level.ERROR, f"data: the spec has no source '{name}'",
                                Location(loaded.path.as_posix()),
                                f"did you mean '{guess}'?" if guess else f"its sources: {', '.join(declared) or 'none'}"))
            continue
        try:
            frames[name] = to_lazy_frame(frame)
        except TypeError as exc:
            issues.append(Issue(Level.ERROR, f"data['{name}']: {exc}", loaded.where("sources", name),
                                "pass a polars, pandas or pyarrow frame"))
        except Exception as exc:  # polars could not convert it (a pandas frame needing pyarrow, odd dtypes)
            issues.append(Issue(Level.ERROR, f"data['{name}']: cannot turn the frame into a polars frame: "
                                f"{type(exc).__name__}: {first_line(exc)}", loaded.where("sources", name),
                                "pip install 'metricspec-cli[notebook]' (pyarrow), or pass a polars frame"))
    if issues:
        raise SpecError(issues)
    return frames


def to_lazy_frame(frame: Any) -> pl.LazyFrame:
    """A polars ``LazyFrame`` of a polars, pandas or pyarrow frame (or any Arrow PyCapsule exporter),
    with empty strings as missing values, as the CSV connector reads an empty field: the same data
    gives the same Results whether it comes from the file or from a frame (a pyarrow table with ``''``
    gave a segment ``''`` that the file did not)."""
    import polars as pl  # start-up: polars, not for load()

    if isinstance(frame, pl.LazyFrame):
        lazy = frame
    elif isinstance(frame, pl.DataFrame):
        lazy = frame.lazy()
    elif type(frame).__module__.split(".")[0] == "pandas" and hasattr(frame, "columns"):
        lazy = pl.from_pandas(frame).lazy()
    elif hasattr(frame, "__arrow_c_stream__") or hasattr(frame, "__arrow_c_array__"):
        lazy = pl.from_dataframe(frame).lazy()
    else:
        raise TypeError(f"a {type(frame).__module__}.{type(frame).__qualname__} is not a data frame")
    return lazy.with_columns(pl.col(pl.String).replace("", None))
