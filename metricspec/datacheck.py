"""``validate --data``: every source opens and has the columns the spec reads, with usable types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level, MetricSpecError

if TYPE_CHECKING:
    from metricspec.loader import LoadedSpec


def check_data(loaded: LoadedSpec) -> list[Issue]:
    from metricspec.connectors.common import check_columns
    from metricspec.sources import CALENDAR, connector_registry, open_source, requirements

    issues: list[Issue] = []
    try:
        registry = connector_registry()
    except MetricSpecError as exc:
        return exc.issues()
    req = requirements(loaded)
    names = list(loaded.spec.sources) + ([CALENDAR] if loaded.spec.calendar else [])
    for name in names:
        needed = req.columns.get(name, {})
        try:
            lf = open_source(loaded, name, registry=registry)
            lf.collect_schema()
        except MetricSpecError as exc:
            issues.extend(exc.issues())
            continue
        except Exception as exc:  # polars raises many error types for unreadable data
            issues.append(Issue(Level.ERROR, f"source '{name}' cannot be read: {_first_line(exc)}",
                                loaded.where("sources", name), "check the file format and connector options"))
            continue
        issues.extend(check_columns(
            lf,
            {col: kind for col, (kind, _w) in needed.items()},
            source_name=name,
            where_for=lambda col, needed=needed, name=name: needed.get(col, (None, None))[1]
            or loaded.where("sources", name),
        ))
        try:
            lf.head(1000).collect()
        except MetricSpecError as exc:
            issues.extend(exc.issues())
        except Exception as exc:
            issues.append(Issue(Level.ERROR, f"source '{name}' cannot be read: {_first_line(exc)}",
                                loaded.where("sources", name), "check the column types declared under `columns:`"))
    return issues


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
