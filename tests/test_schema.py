"""The committed JSON Schema matches the models, and validates the example specs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from metricspec.cli import main
from metricspec.loader.reading import read_yaml
from metricspec.schema import SCHEMA_PATH, generated_schema_json, schema_json

EXAMPLES = sorted(Path(__file__).parent.parent.joinpath("specs", "examples").glob("*.yaml"))


def test_committed_schema_is_up_to_date():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == generated_schema_json() == schema_json(), (
        "metricspec/schema/metricspec.schema.json is stale: run `metricspec schema --from-models -o "
        "metricspec/schema/metricspec.schema.json`"
    )


def test_schema_command_writes_the_same_text(tmp_path):
    out = tmp_path / "schema.json"
    result = CliRunner().invoke(main, ["schema", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == schema_json()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_validate_against_schema(path):
    data, _ = read_yaml(path)
    jsonschema.validate(data, json.loads(schema_json()))


def test_schema_rejects_unknown_keys():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "kpiz": {}}, json.loads(schema_json()))
