"""``validate --data``: every source opens and has the columns the spec reads, with usable types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level, MetricSpecError

if TYPE_CHECKING:
    from metricspec.loader import LoadedSpec

SAMPLE_ROWS = 1000


def check_data(loaded: LoadedSpec) -> list[Issue]:
    """Open every declared source and read a sample, so bad values in typed columns show up too."""
    from metricspec.connectors.files import first_line
    from metricspec.sources import CALENDAR, open_checked

    names = list(loaded.spec.sources) + ([CALENDAR] if loaded.spec.calendar else [])
    opened = open_checked(loaded, names)
    issues = list(opened.issues)
    for name, lf in opened.frames.items():
        try:
            lf.head(SAMPLE_ROWS).collect()
        except MetricSpecError as exc:
            issues.extend(exc.issues())
        except Exception as exc:  # polars raises many error types for unreadable data
            issues.append(Issue(Level.ERROR, f"source '{name}' cannot be read: {first_line(exc)}",
                                loaded.where("sources", name), "check the column types declared under `columns:`"))
    return issues
