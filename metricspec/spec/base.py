"""Shared base model for every spec object."""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema


class StrictModel(BaseModel):
    """Unknown keys are errors; parsed specs are immutable; numbers are finite and not true/false.

    ``allow_inf_nan=False`` applies to every float field of every model (``target: .nan``,
    ``.inf`` or ``1e309`` are rejected with file:line), so a new field cannot forget it; likewise
    ``true``/``false`` where a number is expected (``target: true`` was read as 1.0).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False,
                              defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name is not None and not _takes_bool(cls, info.field_name):
            raise PydanticCustomError("bool_not_number", "true/false is not a number here: write the number")
        return value


@cache
def _takes_bool(model: type[BaseModel], field: str) -> bool:
    """Whether a field's type admits true/false (a bool, a scalar, anything), not only numbers."""
    info = model.model_fields.get(field)
    return info is None or _admits_bool(info.annotation)


def _admits_bool(tp: Any) -> bool:
    if tp is bool or tp is Any or tp is object:
        return True
    origin = get_origin(tp)
    if origin is Literal:
        return any(isinstance(a, bool) for a in get_args(tp))
    if origin in (Union, types.UnionType, Annotated):
        return any(_admits_bool(a) for a in get_args(tp))
    return tp not in (int, float) and not (isinstance(tp, type) and issubclass(tp, int | float))


Grain = Literal["hour", "day", "week", "month", "quarter", "year"]
"""A KPI's period: ``hour`` (local clock hours in the spec's time zone, 23 or 25 on days the clocks
change), or a calendar period starting on a local date."""
GRAINS: tuple[str, ...] = ("hour", "day", "week", "month", "quarter", "year")
CalendarGrain = Literal["day", "week", "month", "quarter", "year"]
"""The grains a goal is paced in (its periods start on dates)."""
Direction = Literal["increase", "decrease"]
Scalar = str | int | float | bool
Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=80)]
MAX_DAYS = 36_525
"""Longest span in days a spec may give (100 years): longer ones overflow time arithmetic."""


def _currency_code(value: str) -> str:
    if len(value) != 3 or not value.isascii() or not value.isalpha() or not value.isupper():
        raise ValueError("not an ISO 4217 currency code; write three capital letters such as EUR, USD or PLN")
    return value


Currency = Annotated[str, AfterValidator(_currency_code),
                     Field(description="ISO 4217 code (EUR, USD, PLN); numbers show its symbol.")]
"""A currency code: it reaches charts, tables and number formats, so free text (a line separator
that broke the charts' JavaScript) is refused where the spec gives it."""


def _empty_values(tp: Any) -> dict[type, Any]:
    """The empty values ``tp`` accepts as they are, by their type: ``[]`` of a list, ``{}`` of a dict,
    None of an optional type (each made by calling the value's type, or returning None)."""
    out: dict[type, Any] = {}
    for t in get_args(tp) if get_origin(tp) in (Union, types.UnionType) else (tp,):
        if t is type(None):
            out[type(None)] = lambda: None
        elif get_origin(t) in (list, dict):
            out[get_origin(t)] = get_origin(t)
    return out


@dataclass(frozen=True)
class OnUse:
    """A field type whose module is imported when the field's validator is built, not with the model
    (start-up): ``Annotated[OnUse(load, shape=list[Any]), BUILT_ON_USE]``. ``load()`` returns the
    type (it imports its module); ``shape`` has the type's containers with ``Any`` inside (``list[Any]``,
    ``Any | None``), which is all the empty values need. Type checkers see the real type, written
    under ``TYPE_CHECKING``."""

    load: Callable[[], Any]
    shape: Any


def _field_type(source: Any) -> Any:
    """The type a BUILT_ON_USE field validates: ``source``, or what an :class:`OnUse` loads."""
    return source.load() if isinstance(source, OnUse) else source


_SOURCE = "metricspec_built_on_use"
"""The key of the field's type in its core schema's metadata (read for the JSON Schema)."""


class BuiltOnUse:
    """A field's validator and serialiser built the first time a value of it is seen (start-up).

    ``Annotated[dict[Name, Objective], BUILT_ON_USE]``: the parent model's own validator does not
    hold the field type's (every model of a section such as ``objectives:`` or ``control_groups:``),
    so a run pays only for the sections its spec (or Results document) has. Validation goes through
    a :class:`~pydantic.TypeAdapter` of the field's type with the parent's strictness and context;
    pydantic nests the adapter's errors under the field's key, so locations and messages are the
    same as with the type inline. The JSON Schema is the type's own (built when a schema is asked for).
    With an :class:`OnUse` type, the type's module is imported then too.
    """

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        adapter: list[TypeAdapter[Any]] = []

        def get() -> TypeAdapter[Any]:
            if not adapter:
                adapter.append(TypeAdapter(_field_type(source)))
            return adapter[0]

        empty = _empty_values(source.shape if isinstance(source, OnUse) else source)

        def validate(value: Any, info: ValidationInfo) -> Any:
            if type(value) in empty and not value:  # an empty section needs no validator: build none
                return empty[type(value)]()
            return get().validate_python(value, strict=info.config.get("strict") if info.config else None,
                                         context=info.context)

        def serialize(value: Any, info: core_schema.SerializationInfo) -> Any:
            if type(value) in empty and not value:
                return empty[type(value)]()
            return get().dump_python(value, mode="json" if info.mode == "json" else "python", by_alias=info.by_alias,
                                     exclude_unset=info.exclude_unset, exclude_defaults=info.exclude_defaults,
                                     exclude_none=info.exclude_none, round_trip=info.round_trip)

        return core_schema.with_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(serialize, info_arg=True),
            metadata={_SOURCE: source})

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        inner: Any = schema  # the field's own validators wrap ours: look inside them for the field's type
        while _SOURCE not in inner.get("metadata", {}):
            inner = inner["schema"]
        return handler(TypeAdapter(_field_type(inner["metadata"][_SOURCE])).core_schema)


BUILT_ON_USE = BuiltOnUse()


def untitle_built_on_use(model: type[BaseModel], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (the JSON Schema of ``model``) without the title pydantic gives a BUILT_ON_USE field
    of a model (or model | None): inline, pydantic leaves such a field untitled (the model has its own
    title), so the committed schema stays what it was with the field's type inline."""
    for name, info in model.model_fields.items():
        tp = _field_type(info.annotation)
        members = [t for t in (get_args(tp) if get_origin(tp) in (Union, types.UnionType) else (tp,))
                   if t is not type(None)]
        if (any(isinstance(m, BuiltOnUse) for m in info.metadata) and len(members) == 1
                and isinstance(members[0], type) and issubclass(members[0], BaseModel)):
            schema["properties"][name].pop("title", None)
    return schema
