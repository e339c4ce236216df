"""Every example spec gives byte-identical Results when its data lives in Spark (local mode).

As in tests/test_backends_differential.py, each connector's data is loaded into the database (here a
local Spark session, as temporary views) and every KPI query runs as Spark SQL. Needs PySpark and a
Java runtime (``.ci/run`` installs Debian's ``default-jre-headless``); skipped with the reason without.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator

import pluggy
import pytest
from backend_support import SparkLoader, database_plugin_manager
from test_backends_differential import SPECS, assert_golden, results_json

# a skip, not an import: importing them at collection costs seconds (docs/contributing.md)
pytestmark = pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ('pyspark', 'ibis')),
                                reason="needs pyspark, ibis: pip install -e '.[test]'")


@pytest.fixture(scope="module")
def spark_pm() -> Iterator[pluggy.PluginManager]:
    if shutil.which("java") is None:
        pytest.skip("no Java runtime: apt-get install default-jre-headless")
    from metricspec.connectors.spark import spark_session

    session = spark_session("local[2]", {"spark.sql.shuffle.partitions": "1", "spark.ui.enabled": "false",
                                         "spark.sql.adaptive.enabled": "false"})
    yield database_plugin_manager(SparkLoader(session))


@pytest.mark.parametrize("name", SPECS)
def test_examples_on_spark_equal_golden(name: str, spark_pm: pluggy.PluginManager) -> None:
    assert_golden(name, results_json(name, spark_pm))
