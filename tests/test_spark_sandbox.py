"""The spark connector reads inside the sandbox (issue 21): SQL straight on files is off in every
session (whatever the query says), and files inside the project root still read. The refusals
that need no Spark are in tests/hostile/cases.yaml. Needs PySpark and a Java runtime."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("pyspark")
pytest.importorskip("ibis")

from metricspec.cli import main

HOSTILE = Path(__file__).parent / "hostile"
MASTER = "local[1]"


@pytest.fixture(scope="module")
def session():
    if shutil.which("java") is None:
        pytest.skip("no Java runtime: apt-get install default-jre-headless")
    from metricspec.connectors.spark import spark_session

    return spark_session(MASTER, {})


def test_sql_on_files_is_off_in_the_session(session) -> None:
    """The connector refuses `text.`...`` in a query; the session refuses it too, so no spelling the
    check misses can read a file."""
    from pyspark.errors import AnalysisException

    assert session.conf.get("spark.sql.runSQLOnFiles") == "false"
    with pytest.raises(AnalysisException):
        session.sql("SELECT * FROM text.`/etc/passwd`").collect()


def test_files_and_queries_inside_the_root_still_read(session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HOSTILE / "specs")
    spec = tmp_path / "spark_inside.yaml"
    data = (HOSTILE / "data" / "subs.parquet").as_posix()
    spec.write_text(
        "name: spark_inside\nsources:\n"
        f"  subs: {{connector: spark, options: {{path: 'file://{data}', master: '{MASTER}'}}, time_column: signup_date}}\n"
        f"  one: {{connector: spark, options: {{query: \"SELECT 1 AS n, DATE'2026-01-05' AS d\", master: '{MASTER}'}},"
        " time_column: d}\n"
        "kpis:\n  subs: {source: subs, agg: count}\n  one: {source: one, agg: sum, column: n}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(spec), "--as-of", "2026-03-31", "--format", "json", "-q",
                                       "--root", str(HOSTILE)])
    assert result.exit_code == 0, result.output
    assert '"one"' in result.stdout and '"subs"' in result.stdout
