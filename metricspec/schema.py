"""JSON Schema of the spec language, generated from the pydantic models."""

from __future__ import annotations

import json
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


def schema_json() -> str:
    return json.dumps(spec_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
