"""JSON Schema of the spec language, generated from the pydantic models and committed with the package."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).parent / "schema" / "metricspec.schema.json"


def spec_schema() -> dict[str, Any]:
    from metricspec.spec.base import untitle_built_on_use  # start-up: pydantic, not for --help
    from metricspec.spec.models import Spec  # start-up: pydantic, not for --help

    schema = untitle_built_on_use(Spec, Spec.model_json_schema(mode="validation"))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://metricspec.dev/schema/metricspec.schema.json"
    schema["title"] = "metricspec spec"
    return schema


def generated_schema_json() -> str:
    """The JSON Schema generated from the models: builds every model of the spec language (about a
    second); tests/test_schema.py checks that the committed file is this text."""
    return json.dumps(spec_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_json() -> str:
    """The JSON Schema as committed with the package (what :func:`generated_schema_json` gives, read in a
    millisecond): what ``metricspec schema`` prints and ``metricspec init`` writes."""
    return resources.files("metricspec").joinpath("schema", SCHEMA_PATH.name).read_text(encoding="utf-8")
