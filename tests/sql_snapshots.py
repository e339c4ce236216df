"""SQL snapshots per KPI kind and database dialect (tests/golden/sql/<dialect>/<kind>.sql, issue 26).

For each kind of the registry (:data:`metricspec.kinds.KINDS`), :data:`KIND_KPIS` holds a small spec's
KPIs (one or two of that kind, with a breakdown and a scope or filter where the kind takes them, and the
base KPIs they read). :func:`kind_statements` compiles that spec for a dialect, without a database, to
every statement the SQL backend sends for it, in the order it sends them:

* the fused aggregate statements (:meth:`SqlBackend.run`): the plan is fused and each statement's
  expression built exactly as the backend builds it; only the compilation differs (``ibis.to_sql`` in the
  dialect instead of the connection's ``compile``, which gives the same SQL);
* the row reads of the kinds computed in polars from rows (funnels, retention, …; :meth:`SqlBackend.events`):
  the backend builds them itself, the database's answer is replaced by an empty frame of the same schema.

The spec is the same for every dialect except its time zone: Europe/Warsaw (from UTC storage) on the
databases whose dialect converts time zones, UTC elsewhere (they refuse a conversion, sql_time.py).
A snapshot's header repeats the spec and the data-time errors validation would give on that database
(an aggregate it computes only approximately): the statements below them are what is sent when the KPI
says ``approximate: true``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import ibis
import polars as pl
from ibis.formats.polars import PolarsType

from metricspec.engine.approximation import approximation_issues
from metricspec.engine.backends import sql, sql_exec
from metricspec.engine.backends.dialects import DIALECTS, dialect_for
from metricspec.engine.backends.sql_exec import Compiled
from metricspec.engine.backends.sql_exprs import statement_expr
from metricspec.engine.backends.sql_prepare import prepare
from metricspec.engine.kpis import Evaluator
from metricspec.engine.run import plan_requests
from metricspec.kinds import FORMS, AggregateKPI
from metricspec.loader import load_spec
from metricspec.plan.nodes import EventsQuery
from metricspec.sources import source_options
from metricspec.spec.loaded import LoadedSpec

KIND_DIALECTS = ["duckdb", "postgres", "pyspark", *sorted(set(DIALECTS) - {"duckdb", "postgres", "pyspark"})]
"""Every database with a dialect module: DuckDB, PostgreSQL and Spark run here; the warehouses are
compiled only (ibis needs no connection to compile their SQL)."""

AS_OF = dt.date(2026, 11, 1)
NOT_COMPILED = "ibis cannot compile this statement for"

TABLES: dict[str, dict[str, str]] = {
    "orders": {"order_id": "int64", "customer_id": "string", "ordered_at": "timestamp", "amount": "float64",
               "channel": "string", "country": "string", "paid": "boolean"},
    "customers": {"customer_id": "string", "signed_up_at": "timestamp", "churned_at": "timestamp",
                  "plan": "string"},
}
"""The database tables the snapshot specs read (as ibis types: unbound tables, no data)."""

HEAD = """\
name: snapshot-{kind}
timezone: {timezone}
grains: [month]
period: {{start: 2026-01-01, end: 2026-10-31}}
sources:
  orders:
    connector: duckdb
    options: {{path: warehouse.duckdb, table: orders}}
    time_column: ordered_at
    timezone: UTC
  customers:
    connector: duckdb
    options: {{path: warehouse.duckdb, table: customers}}
    time_column: signed_up_at
    timezone: UTC
kpis:
"""
"""Every snapshot spec's head; :data:`KIND_KPIS` gives its ``kpis:``."""

_BASE = """\
  revenue:
    source: orders
    agg: sum
    column: amount
    segments: [channel]
    scope: {paid: true}
  buyers:
    source: orders
    agg: count_distinct
    column: customer_id
    segments: [channel]
"""

KIND_KPIS: dict[str, str] = {
    "agg": """\
  revenue:
    source: orders
    agg: sum
    column: amount
    segments: [channel]
    scope: {paid: true}
  buyers:
    source: orders
    agg: count_distinct
    column: customer_id
    filter: "country in ('PL', 'ES')"
    segments: [channel]
  median_order:
    source: orders
    agg: median
    column: amount
  p90_order:
    source: orders
    agg: p90
    column: amount
  last_amount:
    source: orders
    agg: last
    column: amount
""",
    "ratio": _BASE + """\
  revenue_per_buyer:
    ratio: {numerator: revenue, denominator: buyers}
    segments: [channel]
""",
    "formula": _BASE + """\
  revenue_per_buyer_k:
    formula: revenue / buyers / 1000
    segments: [channel]
""",
    "share": _BASE + """\
  spanish_revenue_share:
    share: {of: revenue, where: "country == 'ES'"}
    segments: [channel]
""",
    "growth": _BASE + """\
  revenue_growth:
    growth: revenue
    segments: [channel]
""",
    "cumulative": _BASE + """\
  revenue_so_far:
    cumulative: revenue
    segments: [channel]
""",
    "moving_average": _BASE + """\
  revenue_3m:
    moving_average: {kpi: revenue, window: 3}
    segments: [channel]
""",
    "funnel": """\
  signup_to_order:
    funnel:
      window_days: 30
      steps:
        - {name: signup, source: customers, key: customer_id, filter: "plan == 'pro'"}
        - {name: order, source: orders, key: customer_id, filter: paid}
""",
    "retention": """\
  retention_90d:
    retention:
      source: orders
      key: customer_id
      cohort_source: customers
      cohort_time_column: signed_up_at
      after_days: 90
      window_days: 30
    segments: [plan]
  repeat_rate:
    retention: {source: orders, key: customer_id, after_days: 90, mode: repeat}
    scope: {channel: x}
""",
    "rolling": _BASE + """\
  revenue_28d:
    rolling: {kpi: revenue, days: 28}
    segments: [channel]
  buyers_28d:
    rolling: {kpi: buyers, days: 28}
""",
    "to_date": _BASE + """\
  revenue_ytd:
    to_date: {kpi: revenue, period: year}
    segments: [channel]
  buyers_qtd:
    to_date: {kpi: buyers, period: quarter}
""",
    "cohort_retention": """\
  month_1_retention:
    cohort_retention: {source: orders, key: customer_id, period: month, age: 1, max_age: 6}
    segments: [channel]
""",
    "tenure": """\
  mean_tenure:
    tenure: {source: customers, key: customer_id, churn_column: churned_at, measure: mean}
    segments: [plan]
  buying_tenure:
    tenure: {source: orders, key: customer_id, inactivity_days: 90}
""",
}
"""Per kind (its key in the spec, :data:`metricspec.kinds.FORMS`), the snapshot spec's KPIs."""


def snapshot_path(golden: Path, dialect: str, kind: str) -> Path:
    return golden / "sql" / dialect / f"{kind}.sql"


def spec_text(kind: str, dialect: str) -> str:
    timezone = "Europe/Warsaw" if dialect_for(dialect).capabilities.time_zones else "UTC"
    return HEAD.format(kind=kind, timezone=timezone) + KIND_KPIS[kind]


class _Recorder:
    """What the SQL backend sends, in order (statements are compiled on the backend's worker thread)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def add(self, header: str, expr: Any) -> str | None:
        """Record ``expr``'s SQL under ``header``; a statement ibis cannot compile for the dialect is
        recorded as the error (the run fails there: the snapshot shows where)."""
        try:
            text: str | None = str(ibis.to_sql(expr, dialect=self.dialect)).strip()
            entry = f"-- {header}\n{text};"
        except Exception as exc:
            text = None
            entry = f"-- {header}\n-- {NOT_COMPILED} {self.dialect}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        with self.lock:
            self.sent.append(entry)
        return text


def _empty_answer(expr: Any) -> pl.DataFrame:
    schema = expr.as_table().schema()
    return pl.DataFrame(schema={name: PolarsType.from_ibis(dtype) for name, dtype in schema.items()})


@contextmanager
def _recording(rec: _Recorder) -> Iterator[None]:
    """The SQL backend with its statements compiled in ``rec``'s dialect and recorded, and the database's
    answers replaced by empty frames."""
    real_events = sql.SqlBackend.events
    pending: list[str] = []

    def compiled(rel: Any, st: Any, rng: Any, relations: Any) -> Compiled:
        expr = statement_expr(rel, st, rng, relations)
        n = len(st.members)
        header = f"{st.describe()}: {n} quer{'y' if n == 1 else 'ies'}" + (
            f", null counts of {sum(len(c.query.aggregates) for c in st.null_counts)} aggregates"
            if st.null_counts else "")
        return Compiled(expr, rec.add(header, expr))

    def events(self: Any, query: EventsQuery) -> pl.LazyFrame:
        pending.append(f"rows of {query.source} · time {query.time_column} · keep {', '.join(query.keep) or '-'}"
                       + (" · distinct per day" if query.days else ""))
        return real_events(self, query)

    def to_frame(rel: Any, expr: Any, *, small: bool = False) -> pl.DataFrame:
        if isinstance(expr, Compiled):
            return _empty_answer(expr.expr)
        assert pending, "a statement that is neither a fused aggregate nor a row read"
        rec.add(pending.pop(0), expr)
        return _empty_answer(expr)

    def checks(rel: Any, expr: Any, *, small: bool = False) -> pl.DataFrame:
        rec.add(f"the cast checks of source '{rel.source}'", expr)
        return pl.DataFrame([pl.Series(name, [None], dtype) for name, dtype in _empty_answer(expr).schema.items()])

    with mock.patch.object(sql, "compiled", compiled), mock.patch.object(sql, "to_frame", to_frame), \
            mock.patch.object(sql_exec, "to_frame", checks), mock.patch.object(sql.SqlBackend, "events", events):
        yield


def kind_statements(kind: str, dialect: str, workdir: Path) -> str:
    """The snapshot of ``kind`` on ``dialect``: the spec, the errors validation gives on that database,
    then every statement the SQL backend sends for the spec's KPIs (freshness aside: it is the same for
    every spec)."""
    if dialect == "pyspark":
        assert ibis.pyspark is not None  # loading the backend registers its compiler options
    text = spec_text(kind, dialect)
    path = workdir / f"{kind}.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_spec(path)
    assert any(kind == k.FORM for k in loaded.spec.kpis.values()), f"the {kind} snapshot spec has no {kind} KPI"
    loaded, left_out = _computable(loaded, dialect)
    rels = {name: prepare(ibis.table(TABLES[name], name=name), dialect, "snapshot", source_options(loaded, name))
            for name in loaded.spec.sources}
    refused = approximation_issues(loaded, dict.fromkeys(rels, dialect))
    ev = Evaluator(loaded=loaded, as_of=AS_OF, sources={}, schemas={n: r.schema for n, r in rels.items()},
                   relations=rels)
    plan_requests(ev)
    rec = _Recorder(dialect)
    with _recording(rec):
        ev.execute()
        for req in list(ev._planned):
            ev.series(req)
    head = "".join(f"-- {line}\n" if line else "--\n" for line in text.splitlines())
    notes = "".join(f"-- refused on {dialect} unless the KPI says `approximate: true`: {i.message}\n"
                    for i in refused if "only approximately" in i.message)
    notes += "".join(f"-- left out (refused on {dialect}, no statement): {message}\n" for message in left_out)
    return head + notes + "\n" + "\n\n".join(rec.sent) + "\n"


def _computable(loaded: LoadedSpec, dialect: str) -> tuple[LoadedSpec, list[str]]:
    """The spec without the aggregations ``dialect`` cannot compute (validation refuses them before any
    statement is sent, :func:`approximation_issues`), and why each was left out."""
    capabilities = dialect_for(dialect).capabilities
    missing = {name: kpi.agg for name, kpi in loaded.spec.kpis.items()
               if isinstance(kpi, AggregateKPI) and capabilities.support(kpi.agg) == "missing"}
    if not missing:
        return loaded, []
    kpis = {name: kpi for name, kpi in loaded.spec.kpis.items() if name not in missing}
    spec = loaded.spec.model_copy(update={"kpis": kpis})
    return dataclasses.replace(loaded, spec=spec), [f"KPI '{n}' (agg {agg})" for n, agg in missing.items()]


def kinds() -> tuple[str, ...]:
    """Every kind of the registry."""
    return FORMS
