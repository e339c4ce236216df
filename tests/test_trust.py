"""Root confinement and the database sandbox (issue 11, docs/security.md)."""

from __future__ import annotations

import sqlite3
import subprocess
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from metricspec.cli import main
from metricspec.connectors.sandbox import (
    duckdb_allowed_paths,
    select_only,
    sqlite_lockdown,
    sqlite_uri,
)
from metricspec.trust import Confinement, project_root

SECRET = "password,t\nhunter2,2026-01-01\n"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A git repository in tmp/repo, with a secret file beside it (outside the repository)."""
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (tmp_path / "secret.csv").write_text(SECRET)
    (root / "data.csv").write_text("x,t\n1,2026-01-01\n2,2026-01-02\n")
    return root


def _spec(root: Path, body: str, name: str = "s.yaml") -> Path:
    path = root / "specs" / name
    path.write_text(textwrap.dedent(body))
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


def test_root_is_the_git_top_level(repo: Path, tmp_path: Path) -> None:
    assert project_root(repo / "specs" / "s.yaml") == repo.resolve()
    (tmp_path / "loose").mkdir()
    assert project_root(tmp_path / "loose" / "s.yaml") == (tmp_path / "loose").resolve()


@pytest.mark.parametrize("path", ["../../secret.csv", "{tmp}/secret.csv", "../link.csv"])
def test_data_outside_the_root_is_refused(repo: Path, tmp_path: Path, path: str) -> None:
    (repo / "link.csv").symlink_to(tmp_path / "secret.csv")  # a symlink inside, pointing outside
    spec = _spec(repo, f"""\
        name: s
        sources:
          d: {{connector: csv, options: {{path: "{path.format(tmp=tmp_path)}"}}, time_column: t}}
        kpis:
          n: {{source: d, agg: count}}
        """)
    code, out = _run("run", str(spec), "--format", "json")
    assert code == 2 and "is outside the project root" in out and "hunter2" not in out
    assert f"{spec.name}:3" in out or "s.yaml:3" in out
    code, out = _run("run", str(spec), "--format", "json", "--allow-outside-root")
    assert code == 0, out
    code, out = _run("run", str(spec), "--format", "json", "--root", str(tmp_path))
    assert code == 0, out


def test_glob_matches_through_symlinks_are_refused(repo: Path, tmp_path: Path) -> None:
    (repo / "parts").mkdir()
    (repo / "parts" / "a.csv").write_text("x,t\n1,2026-01-01\n")
    (repo / "parts" / "b.csv").symlink_to(tmp_path / "secret.csv")
    spec = _spec(repo, """\
        name: s
        sources:
          d: {connector: csv, options: {path: ../parts/*.csv}, time_column: t}
        kpis:
          n: {source: d, agg: count}
        """)
    code, out = _run("validate", str(spec), "--data")
    assert code == 2 and "b.csv is outside the project root" in out


def test_includes_outside_the_root_are_refused(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "shared.yaml").write_text("kpis:\n  m: {formula: n * 2}\n")
    spec = _spec(repo, f"""\
        name: s
        include: [{tmp_path / 'shared.yaml'}]
        sources:
          d: {{connector: csv, options: {{path: ../data.csv}}, time_column: t}}
        kpis:
          n: {{source: d, agg: count}}
        """)
    code, out = _run("validate", str(spec))
    assert code == 2 and "is outside the project root" in out and "s.yaml:2" in out
    code, out = _run("validate", str(spec), "--root", str(tmp_path))
    assert code == 0, out


def test_duckdb_reads_only_the_files_named_inside_the_root(repo: Path, tmp_path: Path) -> None:
    base = repo / "specs"
    assert duckdb_allowed_paths("select * from read_csv('../data.csv')", base, repo.resolve())
    assert duckdb_allowed_paths(f"select * from read_csv('{tmp_path / 'secret.csv'}')", base, repo.resolve()) == []
    assert duckdb_allowed_paths("select * from read_text('/proc/self/environ')", base, None) == []
    for sql in ("COPY (SELECT 1) TO 'x.csv'", "ATTACH 'x.db'", "INSTALL httpfs", "SET enable_external_access=true",
                "SELECT 1; CREATE TABLE t AS SELECT 1", "PRAGMA version"):
        assert select_only(sql) is not None, sql
    assert select_only("WITH a AS (SELECT 1 AS x) SELECT x FROM a") is None
    spec = _spec(repo, f"""\
        name: s
        sources:
          d: {{connector: duckdb, options: {{query: "SELECT * FROM read_csv('{tmp_path / 'secret.csv'}')"}},
              time_column: t}}
        kpis:
          n: {{source: d, agg: count}}
        """)
    code, out = _run("run", str(spec), "--format", "json")
    assert code == 2 and "Permission Error" in out and "hunter2" not in out


def test_sqlite_opens_read_only_and_cannot_attach(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table orders (id int, t text)")
        conn.execute("insert into orders values (1, '2026-01-01')")
    conn = sqlite3.connect(sqlite_uri(db), uri=True)
    sqlite_lockdown(conn)
    try:
        assert conn.execute("select count(*) from orders").fetchone() == (1,)
        for sql in (f"attach database '{tmp_path / 'new.db'}' as x", "insert into orders values (2, 'x')",
                    "create table t (a int)", "pragma writable_schema = 1"):
            with pytest.raises(sqlite3.DatabaseError):
                conn.execute(sql)
    finally:
        conn.close()
    assert not (tmp_path / "new.db").exists()


def test_sqlite_connector_refuses_writing_queries(repo: Path) -> None:
    db = repo / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table orders (id int, t text)")
    spec = _spec(repo, """\
        name: s
        sources:
          d: {connector: sqlite, options: {path: ../shop.db, query: "DELETE FROM orders"}, time_column: t}
        kpis:
          n: {source: d, agg: count}
        """)
    code, out = _run("run", str(spec), "--format", "json")
    assert code == 2 and "may only SELECT, but it holds DELETE" in out


def test_confinement_object() -> None:
    c = Confinement(root=Path("/srv/project"))
    assert c.outside(Path("/srv/project/data/x.csv"), Path("/srv/project/s.yaml")) is None
    assert c.outside(Path("/srv/other/x.csv"), Path("/srv/project/s.yaml")) == Path("/srv/project").resolve()
    assert Confinement(allow_outside=True).outside(Path("/etc/passwd"), Path("/srv/s.yaml")) is None


@pytest.mark.parametrize(("sql", "kind"), [
    ("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "DELETE"),
    ("select 1; -- harmless\n drop table t", "DROP"),
    ("COPY (SELECT 1) TO '/tmp/x.csv'", "COPY"),
    ("SELECT * FROM t; INSERT INTO t VALUES (1)", "INSERT"),
])
def test_select_only_refuses_writes_in_any_dialect(sql: str, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert select_only(sql) == kind
    import builtins

    real_import = builtins.__import__

    def no_duckdb(name: str, *args: object, **kwargs: object) -> object:
        if name == "duckdb":
            raise ImportError("no duckdb")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_duckdb)
    assert select_only(sql) == kind  # without DuckDB: the keyword check alone


@pytest.mark.parametrize("sql", ["SELECT 'delete me' AS \"update\" FROM t -- drop", "select replace(a, 'x', 'y') from t",
                                 "WITH a AS (SELECT 1 AS x) SELECT x FROM a"])
def test_select_only_lets_reading_queries_through(sql: str) -> None:
    assert select_only(sql) is None


def test_parquet_folder_with_a_symlink_outside_is_refused(repo: Path, tmp_path: Path) -> None:
    import polars as pl

    (repo / "events").mkdir()
    pl.DataFrame({"t": ["2026-01-01"], "x": [1]}).write_parquet(repo / "events" / "a.parquet")
    pl.DataFrame({"t": ["2026-01-01"], "x": [2]}).write_parquet(tmp_path / "secret.parquet")
    spec = _spec(repo, """\
        name: s
        sources:
          d: {connector: parquet, options: {path: ../events}, time_column: t, columns: {t: date}}
        kpis:
          n: {source: d, agg: sum, column: x}
        """)
    assert _run("run", str(spec), "--format", "json")[0] == 0
    (repo / "events" / "b.parquet").symlink_to(tmp_path / "secret.parquet")
    code, out = _run("run", str(spec), "--format", "json")
    assert code == 2 and "b.parquet is outside the project root" in out
