"""A KPI's answer never depends on the KPIs around it (issue 21): every rule here is tested with several
KPIs per source, listed in both orders, on polars and on DuckDB (the data moved into the database).

Two faults this catches: a sum of the time column was refused only when it was the source's first KPI
(the column's first use decided its check), and ``scope: {score: 5}`` listed before ``{score: 5.0}``
made both KPIs one query (Python calls 5 and 5.0, 1 and true equal), so each answered for the other.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pluggy
import polars as pl
import pytest
from click.testing import CliRunner

from metricspec.cli import main
from metricspec.engine.run import evaluate
from metricspec.errors import MetricSpecError
from metricspec.loader import load_spec

pytest.importorskip("duckdb")
pytest.importorskip("ibis")

from backend_support import DuckDBLoader, database_plugin_manager

ROWS = [  # (published_at, account, score, likes, flag)
    ("2026-02-02 10:00:00", "1", 5.0, 4, True),
    ("2026-02-03 10:00:00", "true", 5.0, 3, False),
    ("2026-02-04 10:00:00", "brand", 2.5, 4, True),
    ("2026-02-05 10:00:00", "1", 2.5, 7, None),
    ("2026-02-06 10:00:00", "brand", 5.0, 4, False),
]

KPIS = {  # name -> (definition, the plain-Python count of February's rows it keeps)
    "by_text_one": ("{source: p, agg: count, scope: {account: 1}}", sum(r[1] == "1" for r in ROWS)),
    "by_text_true": ("{source: p, agg: count, scope: {account: true}}", sum(r[1] == "true" for r in ROWS)),
    "by_text_brand": ("{source: p, agg: count, scope: {account: brand}}", sum(r[1] == "brand" for r in ROWS)),
    "by_float": ("{source: p, agg: count, scope: {score: 5.0}}", sum(r[2] == 5.0 for r in ROWS)),
    "by_int": ("{source: p, agg: count, scope: {likes: 4}}", sum(r[3] == 4 for r in ROWS)),
    "by_bool": ("{source: p, agg: count, scope: {flag: true}}", sum(r[4] is True for r in ROWS)),
    "all_rows": ("{source: p, agg: count}", len(ROWS)),
    "likes": ("{source: p, agg: sum, column: likes, scope: {score: 2.5}}", sum(r[3] for r in ROWS if r[2] == 2.5)),
}


def _write(d: Path, names: list[str]) -> Path:
    pl.DataFrame(
        {"published_at": [r[0] for r in ROWS], "account": [r[1] for r in ROWS], "score": [r[2] for r in ROWS],
         "likes": [r[3] for r in ROWS], "flag": [r[4] for r in ROWS]},
        schema={"published_at": pl.String, "account": pl.String, "score": pl.Float64, "likes": pl.Int64,
                "flag": pl.Boolean},
    ).write_parquet(d / "p.parquet")
    body = "".join(f"  {n}: {KPIS[n][0]}\n" for n in names)
    spec = d / "s.yaml"
    spec.write_text("name: s\ngrains: [month]\nsources:\n  p: {connector: parquet, options: {path: p.parquet}, "
                    "time_column: published_at}\nkpis:\n" + body, encoding="utf-8")
    return spec


def _values(spec: Path, pm: pluggy.PluginManager | None) -> dict[str, float | None]:
    results = evaluate(load_spec(spec), as_of=dt.date(2026, 3, 1), plugin_manager=pm)
    out: dict[str, float | None] = {}
    for kpi in results.kpis:
        points = [p for s in kpi.series if s.kind == "headline" for p in s.points if p.period == dt.date(2026, 2, 1)]
        out[kpi.name] = points[0].value if points else None
    return out


@pytest.mark.parametrize("backend", ["polars", "duckdb"])
def test_scope_values_pick_the_same_rows_whatever_the_order(tmp_path: Path, backend: str) -> None:
    pm = database_plugin_manager(DuckDBLoader()) if backend == "duckdb" else None
    names = list(KPIS)
    expected = {n: float(KPIS[n][1]) for n in names}
    for order in (names, names[::-1]):
        d = tmp_path / ("forward" if order == names else "backward")
        d.mkdir()
        assert _values(_write(d, order), pm) == expected, order
    for n in names:  # each alone gives what it gives among the others
        d = tmp_path / f"alone_{n}"
        d.mkdir()
        assert _values(_write(d, [n]), pm) == {n: expected[n]}


def _run(tmp_path: Path, kpis: str) -> str:
    (tmp_path / "q.csv").write_text("published_at,score,likes\n2026-02-02 10:00:00,5.0,3\n2026-02-03 10:00:00,2.5,4\n",
                                    encoding="utf-8")
    (tmp_path / "s.yaml").write_text(
        "name: s\nsources:\n  q: {connector: csv, options: {path: q.csv}, time_column: published_at}\n"
        "kpis:\n" + textwrap.indent(kpis, "  "), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(tmp_path / "s.yaml"), "--as-of", "2026-03-01"])
    assert "Traceback" not in result.output
    assert result.exit_code == 2, result.output
    return result.output


@pytest.mark.parametrize("agg", ["sum", "mean", "max", "p90", "median"])
@pytest.mark.parametrize("first", [True, False])
def test_aggregating_the_time_column_is_refused_in_any_position(tmp_path: Path, agg: str, first: bool) -> None:
    bad = f"t: {{source: q, agg: {agg}, column: published_at}}\n"
    others = "n: {source: q, agg: count}\nl: {source: q, agg: sum, column: likes}\n"
    out = _run(tmp_path, bad + others if first else others + bad)
    line = 5 if first else 7
    assert f"s.yaml:{line}:" in out and f"agg '{agg}' needs a number, but column 'published_at'" in out


@pytest.mark.parametrize("first", [True, False])
def test_a_scope_value_of_the_wrong_type_is_refused_in_any_position(tmp_path: Path, first: bool) -> None:
    bad = "a: {source: q, agg: count, scope: {score: 5}}\n"
    good = "b: {source: q, agg: count, scope: {score: 5.0}}\n"
    out = _run(tmp_path, bad + good if first else good + bad)
    assert f"s.yaml:{5 if first else 6}:" in out
    assert "scope value 5 cannot match column 'score', which is float" in out and "write 5.0" in out


def test_scope_value_types_are_checked_against_declared_columns_without_data(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(textwrap.dedent("""\
        name: s
        sources:
          q: {connector: csv, options: {path: missing.csv}, time_column: at, columns: {score: float, n: int, ok: bool}}
        kpis:
          a: {source: q, agg: count, scope: {score: 5}}
          b: {source: q, agg: count, scope: {n: '3'}}
          c: {source: q, agg: count, scope: {ok: 1}}
          d: {ratio: {numerator: a, denominator: b}, scope: {n: 2.0}}
        """), encoding="utf-8")
    with pytest.raises(MetricSpecError) as info:
        load_spec(tmp_path / "s.yaml")
    text = "\n".join(f"{i.where.line if i.where else '?'}: {i.message}" for i in info.value.issues())
    assert "5: source 'q': scope value 5 cannot match column 'score', which is float" in text
    assert "6: source 'q': scope value '3' cannot match column 'n', which is int" in text
    assert "7: source 'q': scope value 1 cannot match column 'ok', which is bool" in text
    assert "8: source 'q': scope value 2.0 cannot match column 'n', which is int" in text


@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize(("cell", "expect"), [("NaN", "column 'v' has values that are not finite numbers"),
                                              ("4/11/18", "column 'd' has dates outside 1900–2200")])
def test_a_bad_cell_stops_the_run_whatever_the_kpis_before_it(tmp_path: Path, first: bool, cell: str,
                                                              expect: str) -> None:
    """A NaN (or a date not in its format) in a column one KPI reads stops the run whether that KPI comes
    before or after KPIs that read other columns of the source (a column's first use once decided its
    checks)."""
    v, d = ("NaN", "2026-02-03") if cell == "NaN" else ("2.5", cell)
    (tmp_path / "q.csv").write_text(f"published_at,v,d\n2026-02-02 10:00:00,1.5,2026-02-02\n"
                                    f"2026-02-03 10:00:00,{v},{d}\n", encoding="utf-8")
    reads = "r: {source: q, agg: sum, column: v}\n" if cell == "NaN" else "r: {source: q, agg: max, expression: " \
        "\"year(d)\"}\n"
    others = "n: {source: q, agg: count}\nl: {source: q, agg: count_distinct, column: published_at}\n"
    (tmp_path / "s.yaml").write_text(
        "name: s\nsources:\n  q: {connector: csv, options: {path: q.csv}, time_column: published_at, "
        "columns: {d: date}}\nkpis:\n"
        + textwrap.indent(reads + others if first else others + reads, "  "), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(tmp_path / "s.yaml"), "--as-of", "2026-03-01"])
    assert "Traceback" not in result.output
    assert result.exit_code == 2 and expect in result.output and "row 2" in result.output, result.output
    (tmp_path / "s.yaml").write_text(  # the other KPIs alone do not read the bad cell: they run
        "name: s\nsources:\n  q: {connector: csv, options: {path: q.csv}, time_column: published_at, "
        "columns: {d: date}}\nkpis:\n  n: {source: q, agg: count}\n",
        encoding="utf-8")
    assert CliRunner().invoke(main, ["run", str(tmp_path / "s.yaml"), "--as-of", "2026-03-01"]).exit_code == 0
