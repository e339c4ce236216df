"""Built-in connectors and the shared source options (renames, casts, time zones)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError

from metricspec.connectors import builtin as builtin_module
from metricspec.connectors.base import Connector, SourceContext
from metricspec.errors import DataError, Level, Location
from metricspec.plugins import make_plugin_manager
from metricspec.sources.dataerrors import collect_all_checked
from metricspec.sources.prepare import PreparedFrame, check_columns, prepare_source
from metricspec.sources.registry import connector_registry

BUILTINS = {"csv", "parquet", "ndjson", "json", "excel", "sqlite", "sql", "duckdb", "spark"}


@pytest.fixture(scope="module")
def registry() -> dict[str, type[Connector]]:
    return connector_registry(make_plugin_manager(load_entry_points=False, plugins=(builtin_module,)))


def read(registry: dict[str, type[Connector]], name: str, base: Path, **options: Any) -> pl.DataFrame:
    cls = registry[name]
    lf = cls().scan(cls.Options.model_validate(options), SourceContext("src", base))
    if not isinstance(lf, pl.LazyFrame):  # a database connector's ibis table (the SQL backend)
        return lf.to_polars()
    return lf.collect()


def scan_error(registry: dict[str, type[Connector]], name: str, base: Path, **options: Any) -> DataError:
    cls = registry[name]
    with pytest.raises(DataError) as info:
        cls().scan(cls.Options.model_validate(options), SourceContext("src", base)).collect()
    assert info.value.message.startswith("source 'src': ")
    return info.value


# ------------------------------------------------------------------ registration


def test_registry_has_every_builtin(registry: dict[str, type[Connector]]) -> None:
    assert set(registry) >= BUILTINS
    for name, cls in registry.items():
        assert cls.name == name and cls.description


def test_metricspec_connectors_hook_returns_the_builtins() -> None:
    pm = make_plugin_manager(load_entry_points=False, plugins=(builtin_module,))
    results = pm.hook.metricspec_connectors()
    assert len(results) == 1 and {cls.name for cls in results[0]} == BUILTINS


def test_entry_point_lists_builtin_connectors() -> None:
    eps = {ep.name: ep.value for ep in metadata.entry_points(group="metricspec")}
    assert eps.get("builtin_connectors") == "metricspec.connectors.builtin"


def test_connector_modules_do_not_import_polars() -> None:
    code = ("import sys; import metricspec.connectors.builtin, metricspec.sources.prepare; "
            "print('polars' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_option_is_a_validation_error(registry: dict[str, type[Connector]]) -> None:
    with pytest.raises(ValidationError):
        registry["csv"].Options.model_validate({"path": "x.csv", "delimiter": ";"})
    with pytest.raises(ValidationError):
        registry["sqlite"].Options.model_validate({"path": "x.db", "query": "select 1", "table": "t"})
    with pytest.raises(ValidationError):
        registry["duckdb"].Options.model_validate({})


# ------------------------------------------------------------------ files


def test_csv(registry: dict[str, type[Connector]], tmp_path: Path) -> None:
    (tmp_path / "posts.csv").write_text("id;likes;note\n1;10;NA\n2;;ok\n", encoding="utf8")
    df = read(registry, "csv", tmp_path, path="posts.csv", separator=";", null_values=["NA"])
    assert df.columns == ["id", "likes", "note"]
    assert df["likes"].to_list() == [10, None]
    assert df["note"].to_list() == [None, "ok"]


def test_csv_glob_skip_rows_and_encoding(registry: dict[str, type[Connector]], tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "2026-01.csv").write_text("exported by tool\na,b\n1,x\n")
    (tmp_path / "m" / "2026-02.csv").write_text("exported by tool\na,b\n2,y\n")
    df = read(registry, "csv", tmp_path, path="m/*.csv", skip_rows=1)
    assert df.sort("a")["a"].to_list() == [1, 2]
    (tmp_path / "latin.csv").write_bytes("city,n\nMálaga,1\n".encode("latin-1"))
    df = read(registry, "csv", tmp_path, path="latin.csv", encoding="latin-1")
    assert df["city"].to_list() == ["Málaga"]


def test_missing_file_names_resolved_path(registry: dict[str, type[Connector]], tmp_path: Path) -> None:
    err = scan_error(registry, "csv", tmp_path, path="data/nope.csv")
    assert str(tmp_path / "data" / "nope.csv") in err.message
    assert err.hint and "relative" in err.hint


def test_empty_glob(registry: dict[str, type[Connector]], tmp_path: Path) -> None:
    err = scan_error(registry, "csv", tmp_path, path="exports/*.csv")
    assert "no file matches" in err.message and str(tmp_path / "exports") in err.message


def test_parquet_with_hive_partitions(registry: dict[str, type[Connector]], tmp_path: Path) -> None:
    for month, values in ((1, [1, 2]), (2, [3])):
        d = tmp_path / "events" / "year=2026" / f"month={month}"
        d.mkdir(parents=True)
        pl.DataFrame({"clicks": values}).write_parquet(d / "part-0.parquet")
    df = read(registry, "parquet", tmp_path, path="events/**/*.parquet", hive_partitioning=True)
    assert sorted(df.columns) == ["clicks", "month", "year"]
    assert df.sort("clicks")["month"].to_list() == [1, 1, 2]
    # a directory works too
    df = read(registry, "parquet", tmp_path, path="events")
    assert df.height == 3 and "month" in df.columns


def test_corrupt_parquet(registry: dict[str, type[Connector]], tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"this is not parquet at all")
    err = scan_error(registry, "parquet", tmp_path, path="bad.parquet")
    assert "cannot read" in err.message and "Parquet" in err.message


def test_ndjson_and_json(registry: dict[str, type[Connector]], tmp_path: Path) -> None:
    (tmp_path / "e.ndjson").write_text('{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n')
    assert read(registry, "ndjson", tmp_path, path="e.ndjson")["a"].to_list() == [1, 2]
    (tmp_path / "e.json").write_text('[{"a": 1, "b": "x"}, {"a": 2, "b": null}]')
    df = read(registry, "json", tmp_path, path="e.json")
    assert df["a"].to_list() == [1, 2] and df["b"].to_list() == ["x", None]


def test_json_must_be_an_array(registry: dict[str, type[Connector]], tmp_path: Path) -> None:
    (tmp_path / "o.json").write_text('{"a": 1}')
    assert "not a JSON array" in scan_error(registry, "json", tmp_path, path="o.json").message
    (tmp_path / "broken.json").write_text("[{\"a\": 1,")
    assert "cannot read" in scan_error(registry, "json", tmp_path, path="broken.json").message


def test_excel(registry: dict[str, type[Connector]], tmp_path: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(tmp_path / "book.xlsx")
    first = wb.add_worksheet("Summary")
    first.write_row(0, 0, ["note"])
    first.write_row(1, 0, ["see next sheet"])
    sheet = wb.add_worksheet("Leads")
    sheet.write_row(0, 0, ["lead", "value"])
    sheet.write_row(1, 0, ["a", 10])
    sheet.write_row(2, 0, ["b", 20.5])
    wb.close()
    by_name = read(registry, "excel", tmp_path, path="book.xlsx", sheet="Leads")
    by_index = read(registry, "excel", tmp_path, path="book.xlsx", sheet=2)
    assert by_name.equals(by_index)
    assert by_name["value"].to_list() == [10, 20.5]
    assert read(registry, "excel", tmp_path, path="book.xlsx").columns == ["note"]
    err = scan_error(registry, "excel", tmp_path, path="book.xlsx", sheet="Lead")
    assert "no sheet 'Lead'" in err.message and err.hint and "'Leads'" in err.hint
    assert "no sheet 5" in scan_error(registry, "excel", tmp_path, path="book.xlsx", sheet=5).message


def test_corrupt_excel(registry: dict[str, type[Connector]], tmp_path: Path) -> None:
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    assert "cannot read" in scan_error(registry, "excel", tmp_path, path="bad.xlsx").message


# ------------------------------------------------------------------ databases


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table signups (id integer, plan text, at text)")
        conn.executemany("insert into signups values (?, ?, ?)",
                         [(1, "free", "2026-01-02 10:00:00"), (2, "pro", "2026-01-03 11:30:00")])
    return path


def test_sqlite(registry: dict[str, type[Connector]], sqlite_db: Path) -> None:
    base = sqlite_db.parent
    df = read(registry, "sqlite", base, path="app.db", table="signups")
    assert df["plan"].to_list() == ["free", "pro"]
    df = read(registry, "sqlite", base, path="app.db", query="select plan, count(*) as n from signups group by plan")
    assert dict(zip(df["plan"], df["n"], strict=True)) == {"free": 1, "pro": 1}


def test_sqlite_errors(registry: dict[str, type[Connector]], sqlite_db: Path) -> None:
    base = sqlite_db.parent
    err = scan_error(registry, "sqlite", base, path="app.db", table="signup")
    assert "no table 'signup'" in err.message and "did you mean 'signups'" in err.message
    assert "query failed" in scan_error(registry, "sqlite", base, path="app.db", query="select nope from signups").message
    assert "not found" in scan_error(registry, "sqlite", base, path="missing.db", table="x").message
    assert not (base / "missing.db").exists()  # never creates an empty database
    (base / "junk.db").write_bytes(b"junk" * 100)
    assert "cannot read" in scan_error(registry, "sqlite", base, path="junk.db", table="x").message


def test_sql_connector_sqlite_uri(registry: dict[str, type[Connector]], sqlite_db: Path) -> None:
    # relative sqlite:/// URIs resolve against the spec's directory
    df = read(registry, "sql", sqlite_db.parent, uri="sqlite:///app.db", table="signups")
    assert df.height == 2
    df = read(registry, "sql", sqlite_db.parent, uri=f"sqlite:///{sqlite_db}", query="select id from signups")
    assert df["id"].to_list() == [1, 2]


def test_sql_connector_errors(registry: dict[str, type[Connector]], tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    err = scan_error(registry, "sql", tmp_path, uri="not a uri", table="t")
    assert "not a database URI" in err.message
    from metricspec.connectors import sql as sql_module

    monkeypatch.setattr(sql_module, "_has", lambda module: False)
    err = scan_error(registry, "sql", tmp_path, uri="postgresql://me@localhost/shop", table="orders")
    assert err.hint and "pip install 'metricspec-cli[sql]'" in err.hint


def test_duckdb(registry: dict[str, type[Connector]], tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table spend as select * from (values ('x', 10.5), ('li', 4.0)) t(channel, amount)")
    con.close()
    df = read(registry, "duckdb", tmp_path, path="w.duckdb", table="spend")
    assert sorted(df["channel"].to_list()) == ["li", "x"]
    df = read(registry, "duckdb", tmp_path, path="w.duckdb", query="select sum(amount) as total from spend")
    assert df["total"].to_list() == [14.5]
    err = scan_error(registry, "duckdb", tmp_path, path="w.duckdb", table="spends")
    assert "did you mean 'spend'" in err.message
    assert "query failed" in scan_error(registry, "duckdb", tmp_path, path="w.duckdb", query="select * from nope").message
    # in memory, reading files relative to the spec
    (tmp_path / "c.csv").write_text("a\n1\n2\n")
    df = read(registry, "duckdb", tmp_path, query="select sum(a) as s from read_csv('c.csv')")
    assert df["s"].to_list() == [3]


def test_duckdb_missing_package(registry: dict[str, type[Connector]], tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)
    err = scan_error(registry, "duckdb", tmp_path, query="select 1")
    assert err.hint == "pip install 'metricspec-cli[duckdb]'"


# ------------------------------------------------------------------ source options


class Checked:
    """A prepared source collected the way a run collects it (bad values become DataErrors)."""

    def __init__(self, prepared: PreparedFrame) -> None:
        self.prepared = prepared

    def collect_schema(self) -> pl.Schema:
        return self.prepared.frame.collect_schema()

    def collect(self) -> pl.DataFrame:
        return collect_all_checked([self.prepared.frame], {self.prepared.source_name: self.prepared})[0]


def apply(lf: pl.LazyFrame, **kwargs: Any) -> Checked:
    args: dict[str, Any] = {
        "source_name": "followers", "rename": {}, "columns": {}, "timestamp_format": None, "timezone": None,
        "target_timezone": "UTC", "time_column": None, "where": Location("spec.yaml", 3, 5),
    }
    args.update(kwargs)
    return Checked(prepare_source(lf, **args))


def test_rename_and_casts() -> None:
    lf = pl.LazyFrame({
        "Tweet id": ["1", "2", "3"], "n": ["10", " 20 ", "30.0"], "rate": ["0.5", "1", ""],
        "flag": ["yes", "FALSE", "1"], "day": ["2026-01-02", "2026-01-03", None], "len": ["90", "1:30", "PT2M"],
    })
    out = apply(lf, rename={"Tweet id": "tweet_id"},
                columns={"tweet_id": "int", "n": "int", "rate": "float", "flag": "bool", "day": "date",
                         "len": "duration"}).collect()
    assert out["tweet_id"].to_list() == [1, 2, 3]
    assert out["n"].to_list() == [10, 20, 30]
    assert out["rate"].to_list() == [0.5, 1.0, None]
    assert out["flag"].to_list() == [True, False, True]
    assert out["day"].to_list() == [dt.date(2026, 1, 2), dt.date(2026, 1, 3), None]
    assert out["len"].to_list() == [dt.timedelta(seconds=90)] * 2 + [dt.timedelta(minutes=2)]


def test_rename_missing_column_did_you_mean() -> None:
    with pytest.raises(DataError) as info:
        apply(pl.LazyFrame({"Tweet id": [1]}), rename={"Tweet Id": "tweet_id"})
    assert "did you mean 'Tweet id'" in info.value.message
    assert info.value.where == Location("spec.yaml", 3, 5)
    with pytest.raises(DataError, match="did you mean 'likes'"):
        apply(pl.LazyFrame({"likes": [1]}), columns={"like": "int"})


def test_bad_value_names_source_column_value_and_row() -> None:
    values = [str(i) for i in range(16)] + ["n/a", "5"]
    lf = apply(pl.LazyFrame({"followers": values}), columns={"followers": "int"})
    assert lf.collect_schema()["followers"] == pl.Int64
    with pytest.raises(DataError) as info:
        lf.collect()
    assert info.value.message == (
        "source 'followers': column 'followers' has values that are not int (e.g. 'n/a' at row 17)"
    )
    assert info.value.hint and "null_values" in info.value.hint
    assert info.value.where == Location("spec.yaml", 3, 5)


def test_bad_value_from_a_csv_file(tmp_path: Path, registry: dict[str, type[Connector]]) -> None:
    (tmp_path / "f.csv").write_text("date,followers\n2026-01-01,10\n2026-01-02,n/a\n")
    cls = registry["csv"]
    lf = cls().scan(cls.Options(path="f.csv"), SourceContext("followers", tmp_path))
    checked = apply(lf, columns={"followers": "int"}, time_column="date")
    with pytest.raises(DataError, match=r"'n/a' at row 2"):
        checked.collect()
    with pytest.raises(DataError, match="not date"):
        apply(pl.LazyFrame({"d": ["2026-01-01", "01.02.2026"]}), columns={"d": "date"}).collect()
    # a declared null value is fine
    lf = cls().scan(cls.Options(path="f.csv", null_values=["n/a"]), SourceContext("followers", tmp_path))
    assert apply(lf, columns={"followers": "int"}).collect()["followers"].to_list() == [10, None]


def test_naive_timestamps_are_localised_then_converted() -> None:
    lf = pl.LazyFrame({"at": ["2026-07-01 12:00:00", "2026-01-15 08:30:00"]})
    out = apply(lf, columns={"at": "datetime"}, timezone="Europe/Madrid", target_timezone="UTC").collect()
    assert out.schema["at"] == pl.Datetime("us", "UTC")
    assert out["at"].to_list() == [dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC),
                                   dt.datetime(2026, 1, 15, 7, 30, tzinfo=dt.UTC)]
    # a naive datetime column (not a string) gets the same treatment, default zone UTC
    lf = pl.LazyFrame({"at": [dt.datetime(2026, 7, 1, 12)]})
    out = apply(lf, target_timezone="Europe/Madrid").collect()
    assert out["at"].dt.replace_time_zone(None).to_list() == [dt.datetime(2026, 7, 1, 14)]


def test_aware_timestamps_are_converted() -> None:
    lf = pl.LazyFrame({"at": ["2026-01-03 14:05 +0000", "2026-01-03 15:05 +0100"]})
    out = apply(lf, columns={"at": "datetime"}, timezone="Asia/Tokyo",  # ignored: values carry an offset
                target_timezone="America/New_York").collect()
    assert out.schema["at"] == pl.Datetime("us", "America/New_York")
    assert out["at"].dt.replace_time_zone(None).to_list() == [dt.datetime(2026, 1, 3, 9, 5)] * 2
    lf = pl.LazyFrame({"at": [dt.datetime(2026, 1, 3, 14, 5)]}).with_columns(pl.col("at").dt.replace_time_zone("UTC"))
    out = apply(lf, target_timezone="Europe/Madrid").collect()
    assert out["at"].dt.replace_time_zone(None).to_list() == [dt.datetime(2026, 1, 3, 15, 5)]


def test_timestamp_format_and_time_column_auto_parse() -> None:
    lf = pl.LazyFrame({"at": ["03/01/2026 14:05", "04/01/2026 09:00"]})
    out = apply(lf, time_column="at", timestamp_format="%d/%m/%Y %H:%M").collect()
    assert out["at"].to_list()[0] == dt.datetime(2026, 1, 3, 14, 5, tzinfo=dt.UTC)
    out = apply(pl.LazyFrame({"day": ["2026-01-03", "2026-01-04"]}), time_column="day",
                target_timezone="America/New_York").collect()
    assert out.schema["day"] == pl.Date  # plain dates stay dates: no shift across time zones
    out = apply(pl.LazyFrame({"at": ["2026-05-18T09:15:03Z"]}), time_column="at").collect()
    assert out["at"].to_list() == [dt.datetime(2026, 5, 18, 9, 15, 3, tzinfo=dt.UTC)]


def test_unknown_timezone() -> None:
    with pytest.raises(DataError, match="unknown timezone 'Mars/Olympus'"):
        apply(pl.LazyFrame({"a": [1]}), timezone="Mars/Olympus")


def test_check_columns() -> None:
    lf = pl.LazyFrame({"likes": ["1"], "impressions": [3], "posted_at": ["2026-01-01"], "net": ["x"]})
    issues = check_columns(
        lf, {"like": "numeric", "likes": "numeric", "impressions": "numeric", "posted_at": "temporal", "net": None},
        source_name="posts", where_for=lambda col, kind=None: Location("spec.yaml", len(col)),
    )
    messages = [i.message for i in issues]
    assert all(i.level is Level.ERROR for i in issues)
    assert "source 'posts' has no column 'like' (did you mean 'likes'?)" in messages
    assert "source 'posts': column 'likes' is str, not numeric" in messages
    assert "source 'posts': column 'posted_at' is str, not a date or datetime" in messages
    assert len(issues) == 3
    assert issues[0].where == Location("spec.yaml", 4)


def test_check_columns_reports_unreadable_source(tmp_path: Path) -> None:
    (tmp_path / "x.parquet").write_bytes(b"garbage")
    issues = check_columns(pl.scan_parquet(tmp_path / "x.parquet"), {"a": None}, source_name="s",
                           where_for=lambda col: None)
    assert len(issues) == 1 and "cannot be read" in issues[0].message
