"""Open a spec's sources through their connectors, and list the columns the spec needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from metricspec.connectors.base import Connector, SourceContext
from metricspec.connectors.duckdb_files import duckdb_relation
from metricspec.connectors.files import first_line
from metricspec.errors import DataError, Issue, Level, Location, MetricSpecError, SpecError
from metricspec.plugins import missing_connector_hint
from metricspec.sources.casts import dtype_of
from metricspec.sources.database import (
    DatabaseSource,
    DatabaseTables,
    SourceOptions,
    is_database_table,
)
from metricspec.sources.needs import Requirements, requirements
from metricspec.sources.prepare import PreparedFrame, check_columns, derived_types, prepare_source
from metricspec.sources.registry import connector_registry as registry_of_plugins
from metricspec.spec.expr import parse
from metricspec.spec.source import CALENDAR, time_column_of, timeless_source

if TYPE_CHECKING:
    import polars as pl

    from metricspec.sources.joins import JoinInfo
    from metricspec.spec.loaded import LoadedSpec


def connector_registry() -> dict[str, type[Connector]]:
    """The installed connectors by name (the process's plugin manager)."""
    return registry_of_plugins()


def open_source(
    loaded: LoadedSpec, name: str, *, registry: dict[str, type[Connector]] | None = None,
    frame: pl.LazyFrame | None = None, sample_rows: int | None = None, lenient: bool = False,
    tables: DatabaseTables | None = None,
) -> PreparedFrame | DatabaseSource:
    """Scan one source and apply its renames, types and time zone (lazily).

    A connector returns a polars LazyFrame, or an ibis table for data that lives in a database: the
    SQL backend (``tables``) prepares that into a :class:`~metricspec.sources.database.DatabaseSource`
    whose queries run in the database (unless the source says ``engine: polars``: then the columns
    the spec reads are fetched and computed in polars).
    ``frame`` (from ``metricspec.evaluate(data=...)``) replaces what the connector would read;
    it is prepared like a connector's frame. With ``sample_rows``, connectors that read eagerly
    (databases, Excel) read at most that many rows (``validate --data``); ``lenient`` gives
    every cast its lenient path (see :func:`~metricspec.sources.prepare.prepare_source`).
    """
    spec = loaded.spec
    if name == CALENDAR and spec.calendar and name not in spec.sources:
        frame = calendar_frame(loaded)
        return PreparedFrame(source_name=name, frame=frame, raw=frame, casts=(), where=None)
    source = spec.sources[name]
    where = loaded.where("sources", name)
    explain: Callable[[BaseException], DataError | None] | None = None
    columns: Mapping[str, str] = source.columns
    if frame is None:
        connector, options, context = bound_connector(loaded, name, registry, sample_rows=sample_rows)
        if source.engine == "duckdb":
            frame = duckdb_relation(source.connector, options, context, _text_columns(source))
        else:
            frame = connector.scan(options, context)
            columns = _declared_columns(connector, options, context, frame, source)
        explain = partial(connector.explain_error, options, context)
    if is_database_table(frame):
        if tables is None:
            raise DataError(f"source '{name}' lives in a database, and nothing was given to open database sources",
                            where=where, hint="pass the SQL backend's tables to open_checked (engine/run.py does)")
        if source.engine != "polars":
            return tables.prepare(frame, source_options(loaded, name, columns))
        frame = tables.polars_frame(frame, name, where)  # computed in polars, from the columns the spec reads
    prepared = prepare_source(
        frame,
        source_name=name,
        rename=source.rename,
        columns=columns,
        timestamp_format=source.timestamp_format,
        timezone=source.timezone,
        target_timezone=spec.timezone,
        time_column=None if source.time_column in source.derive else source.time_column,
        where=where,
        lenient=lenient,
    )
    return _with_derived(replace(prepared, explain=explain), source.derive, spec.timezone)


def _with_derived(prepared: PreparedFrame, derive: Mapping[str, str], timezone: str) -> PreparedFrame:
    """The source's ``derive:`` columns added, each cast to its one type."""
    if not derive:
        return prepared
    from metricspec.plan.expressions import to_polars  # polars: only for derived columns

    types = derived_types(derive, prepared.frame.collect_schema())
    derived = prepared.frame.with_columns([
        _typed(to_polars(parse(text)), types[col], timezone).alias(col) for col, text in derive.items()])
    return replace(prepared, frame=derived)


def _typed(expr: pl.Expr, typ: str | None, timezone: str) -> pl.Expr:
    """A derived column cast to its one type (the SQL backend casts to the same, sql_prepare.py)."""
    return expr if typ is None else expr.cast(dtype_of(typ, timezone))


def _declared_columns(connector: Connector, options: Any, context: SourceContext, frame: Any,
                      source: Any) -> Mapping[str, str]:
    """The connector's column types (see ``Connector.column_types``), renamed as the spec renames
    them, under the spec's own ``columns:``."""
    if type(connector).column_types is Connector.column_types:
        return dict(source.columns)
    names = list(frame.columns) if is_database_table(frame) else frame.collect_schema().names()
    declared = connector.column_types(options, context, names)
    if not declared:
        return dict(source.columns)
    return {**{source.rename.get(c, c): t for c, t in declared.items()}, **source.columns}


def _text_columns(source: Any) -> tuple[str, ...]:
    """The columns (as the connector names them) whose dates metricspec parses itself: the time column
    and columns declared date or datetime."""
    back = {new: old for old, new in source.rename.items()}
    cols = [c for c, t in source.columns.items() if t in ("date", "datetime")]
    if source.time_column and source.time_column not in source.derive and source.time_column not in source.columns:
        cols.append(source.time_column)
    return tuple(back.get(c, c) for c in cols)


def source_options(loaded: LoadedSpec, name: str, columns: Mapping[str, str] | None = None) -> SourceOptions:
    """How source ``name``'s table is prepared: its renames, types (``columns``: the spec's and its
    connector's, see :func:`_declared_columns`; default the spec's), time zones and derived columns."""
    source = loaded.spec.sources[name]
    return SourceOptions(
        name=name, rename=source.rename, columns=source.columns if columns is None else columns,
        timestamp_format=source.timestamp_format, timezone=source.timezone, target_timezone=loaded.spec.timezone,
        time_column=None if source.time_column in source.derive else source.time_column,
        derive=source.derive, where=loaded.where("sources", name))


@dataclass
class OpenedSources:
    """Sources opened lazily, their schemas, and every problem found while opening them.

    ``prepared`` keeps, per source, what explains a value that does not convert
    (:func:`metricspec.sources.dataerrors.collect_all_checked`).
    """

    frames: dict[str, pl.LazyFrame] = field(default_factory=dict)
    schemas: dict[str, dict[str, pl.DataType]] = field(default_factory=dict)
    relations: dict[str, DatabaseSource] = field(default_factory=dict)
    """Sources that live in a database, where their queries run."""
    issues: list[Issue] = field(default_factory=list)
    prepared: dict[str, PreparedFrame] = field(default_factory=dict)
    needed: dict[str, list[str]] = field(default_factory=dict)
    """Per source, the columns the spec reads (that exist), in schema order."""
    joins: dict[str, list[JoinInfo]] = field(default_factory=dict)
    """Per source with ``joins:``, the joins applied (:mod:`metricspec.sources.joins`)."""

    def columns_read(self, loaded: LoadedSpec, name: str) -> list[str]:
        """Every column of source ``name`` that a run reads: the spec's columns plus the time
        column (for freshness). ``run`` and ``validate --data`` read exactly these."""
        cols = list(self.needed.get(name, []))
        tcol = time_column_of(loaded.spec, name)
        if tcol is not None and tcol in self.schemas.get(name, {}) and tcol not in cols:
            cols.append(tcol)
        if not cols and self.schemas.get(name) and timeless_source(loaded.spec, name):
            cols.append(next(iter(self.schemas[name])))  # a count of a source without time: keep its rows
        return cols


def bound_connector(
    loaded: LoadedSpec, name: str, registry: dict[str, type[Connector]] | None = None, *,
    sample_rows: int | None = None,
) -> tuple[Connector, Any, SourceContext]:
    """Source ``name``'s connector, its validated options and its context (root confinement included)."""
    source = loaded.spec.sources[name]
    where = loaded.where("sources", name)
    registry = registry if registry is not None else connector_registry()
    cls = registry.get(source.connector)
    if cls is None:
        raise DataError(f"source '{name}': connector '{source.connector}' is not installed", where=where,
                        hint=missing_connector_hint("run `metricspec plugins` to see what is installed"))
    try:
        options = cls.Options.model_validate(source.options)
    except ValidationError as exc:
        from metricspec.spec.errormap import pydantic_issues  # loads every kind (start-up)

        raise SpecError(pydantic_issues(exc, source.options, loaded.positions, cls.Options,
                                        prefix=("sources", name, "options"))) from None
    context = SourceContext(source_name=name, base_dir=loaded.dir_of("sources", name), where=where,
                            root=loaded.root, sample_rows=sample_rows)
    return cls(), options, context


def scan_source(loaded: LoadedSpec, name: str, registry: dict[str, type[Connector]] | None = None) -> Any:
    """What the source's connector reads (a polars LazyFrame, or an ibis table for a database), before
    the source's own options are applied."""
    connector, options, context = bound_connector(loaded, name, registry)
    return connector.scan(options, context)


def open_checked(loaded: LoadedSpec, names: list[str] | None = None,
                 frames: Mapping[str, pl.LazyFrame] | None = None, *,
                 sample_rows: int | None = None, lenient: bool = False,
                 tables: DatabaseTables | None = None) -> OpenedSources:
    """Open each named source (default: every source the spec reads), read its schema and
    check the columns the spec needs. ``frames`` replace the connectors of the sources they name;
    ``tables`` (the SQL backend) opens the sources that live in a database.

    Problems are collected (not raised), so a user sees them all at once. The checks that need the
    data's types beyond the columns (expressions, scopes) are the caller's next step.
    """
    out = OpenedSources()
    try:
        registry = connector_registry()
    except MetricSpecError as exc:
        out.issues.extend(exc.issues())
        return out
    req = requirements(loaded)
    opened = _open_each(loaded, sorted(req.columns) if names is None else names, registry, frames,
                        sample_rows=sample_rows, lenient=lenient, out=out, tables=tables)
    _joined(loaded, opened, req, out, tables)
    for name, item in opened.items():
        try:
            if isinstance(item, PreparedFrame):
                lf, schema = item.frame, dict(item.frame.collect_schema())
                out.prepared[name] = item
            else:  # a database source: its schema is known without reading a row
                lf, schema = item.frame, dict(item.schema)
                out.relations[name] = item
        except MetricSpecError as exc:
            out.issues.extend(exc.issues())
            continue
        except Exception as exc:  # polars raises many error types for unreadable data
            out.issues.append(Issue(Level.ERROR, f"source '{name}' cannot be read: {first_line(exc)}",
                                    loaded.where("sources", name), "check the file format and connector options"))
            continue
        needed = req.columns.get(name, {})
        checks = req.checks(name)

        def where_for(col: str, kind: str | None = None, checks: dict[str, Any] = checks,
                      name: str = name) -> Location | None:
            places = checks.get(col, {})
            return places.get(kind) or next(iter(places.values()), None) or loaded.where("sources", name)

        out.issues.extend(check_columns(
            lf, {col: tuple(kinds) for col, kinds in checks.items()}, source_name=name, where_for=where_for,
        ))
        out.frames[name] = lf
        out.schemas[name] = schema
        out.needed[name] = [c for c in schema if c in needed]
    return out


def _open_each(loaded: LoadedSpec, names: list[str], registry: dict[str, type[Connector]],
               frames: Mapping[str, pl.LazyFrame] | None, *, sample_rows: int | None, lenient: bool,
               out: OpenedSources, tables: DatabaseTables | None) -> dict[str, PreparedFrame | DatabaseSource]:
    """Each named source and every source they join (right sides first), opened; problems go to
    ``out.issues``."""
    from metricspec.sources.joins import with_joined  # joins.py loads polars

    try:
        names = with_joined(loaded.spec, names)
    except MetricSpecError as exc:  # a cycle (validation reports it with its place)
        out.issues.extend(exc.issues())
        return {}
    opened: dict[str, PreparedFrame | DatabaseSource] = {}
    for name in names:
        try:
            opened[name] = open_source(loaded, name, registry=registry, frame=(frames or {}).get(name),
                                       sample_rows=sample_rows, lenient=lenient, tables=tables)
        except MetricSpecError as exc:
            out.issues.extend(exc.issues())
        except Exception as exc:  # polars raises many error types for unreadable data
            out.issues.append(Issue(Level.ERROR, f"source '{name}' cannot be read: {first_line(exc)}",
                                    loaded.where("sources", name), "check the file format and connector options"))
    return opened


def _joined(loaded: LoadedSpec, opened: dict[str, PreparedFrame | DatabaseSource], req: Requirements,
            out: OpenedSources, tables: DatabaseTables | None) -> None:
    """Apply the sources' joins (in place) and make the columns read through a join required of the
    joined source: listed among its columns read, and their stored values checked where a database
    casts them."""
    from metricspec.sources.joins import apply_joins, joined_columns  # joins.py loads polars

    out.joins, issues = apply_joins(loaded, opened, tables)
    out.issues.extend(issues)
    try:
        for name in out.joins:
            for col, (_kind, where) in list(req.columns.get(name, {}).items()):
                origin = joined_columns(out.joins, name, col)
                if origin is None:
                    continue
                right, right_col = origin
                req.need(right, right_col, None, where)  # its type is checked once, on the joining source
                joined = opened.get(right)
                if tables is not None and not isinstance(opened[name], PreparedFrame) and joined is not None \
                        and not isinstance(joined, PreparedFrame):
                    tables.check_values(joined, [right_col])
    except MetricSpecError as exc:
        out.issues.extend(exc.issues())


def calendar_frame(loaded: LoadedSpec) -> pl.LazyFrame:
    """The publishing calendar as daily planned posts: date, network, campaign, owner, topic, content_type,
    planned_posts."""
    import polars as pl  # polars: heavy, loaded when data is read (the CLI starts without it)

    text = ("network", "campaign", "owner", "topic", "content_type")
    rows: dict[str, list[object]] = {"date": [], **{c: [] for c in text}, "planned_posts": []}
    for entry in loaded.spec.calendar:
        day = entry.start
        while day <= entry.end:
            if entry.per == "day":
                share = entry.posts
            elif entry.per == "week":
                share = entry.posts / 7
            else:
                nxt = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
                share = entry.posts / (nxt - day.replace(day=1)).days
            rows["date"].append(day)
            for c in text:
                rows[c].append(getattr(entry, c))
            rows["planned_posts"].append(share)
            day += dt.timedelta(days=1)
    return pl.DataFrame(
        rows, schema={"date": pl.Date, **dict.fromkeys(text, pl.String), "planned_posts": pl.Float64}
    ).lazy()
