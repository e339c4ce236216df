"""The registry of KPI kinds: one module per kind, listed once in :data:`_MODULES`.

A KPI's kind is the key it carries (``ratio:``, ``formula:``, ``funnel:``, …) or, for aggregations,
``agg:``. :data:`KPI` validates a KPI as its kind's model, used by the spec model; a kind's module is
imported when a spec first holds a KPI of that kind. :data:`KINDS` (every kind) is read by validation
messages, the JSON Schema (the discriminated union of every kind) and the docs gate.

Adding a kind (docs/adding-a-kind.md): write its module (model, inputs, plan, compute, docs
entry), add its key, module and class to :data:`_MODULES`, then its tests and docs.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Tag,
    TypeAdapter,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from metricspec.kinds.aggregate import ADDITIVE_AGGREGATIONS, AggregateKPI, Aggregation
from metricspec.kinds.base import (
    ColumnNeed,
    ExpressionSite,
    FromAggregates,
    FromInputs,
    FromQuery,
    FromRows,
    Inputs,
    KindIssue,
    KPIBase,
    KpiRef,
    Planned,
    SourceRef,
)

if TYPE_CHECKING:
    from metricspec.kinds.cohort_retention import CohortRetentionKPI
    from metricspec.kinds.cumulative import CumulativeKPI
    from metricspec.kinds.formula import FormulaKPI
    from metricspec.kinds.funnel import FunnelKPI
    from metricspec.kinds.growth import GrowthKPI
    from metricspec.kinds.moving_average import MovingAverageKPI
    from metricspec.kinds.ratio import RatioKPI
    from metricspec.kinds.retention import RetentionKPI
    from metricspec.kinds.rolling import RollingKPI
    from metricspec.kinds.share import ShareKPI
    from metricspec.kinds.tenure import TenureKPI
    from metricspec.kinds.to_date import ToDateKPI

    KINDS: tuple[type[KPIBase], ...]

_MODULES: dict[str, tuple[str, str]] = {
    "agg": ("aggregate", "AggregateKPI"),
    "ratio": ("ratio", "RatioKPI"),
    "formula": ("formula", "FormulaKPI"),
    "share": ("share", "ShareKPI"),
    "growth": ("growth", "GrowthKPI"),
    "cumulative": ("cumulative", "CumulativeKPI"),
    "moving_average": ("moving_average", "MovingAverageKPI"),
    "funnel": ("funnel", "FunnelKPI"),
    "retention": ("retention", "RetentionKPI"),
    "rolling": ("rolling", "RollingKPI"),
    "to_date": ("to_date", "ToDateKPI"),
    "cohort_retention": ("cohort_retention", "CohortRetentionKPI"),
    "tenure": ("tenure", "TenureKPI"),
}
"""Every kind: its key (``FORM``) -> its module in this package and its class, in the order the docs list
them. A kind's module is imported when a spec first holds a KPI of that kind (start-up); :data:`KINDS`
imports them all (validation messages, the JSON Schema, the docs gate)."""

FORMS: tuple[str, ...] = tuple(_MODULES)


def kind_for(form: str) -> type[KPIBase]:
    """The model of kind ``form`` (one of :data:`FORMS`), its module imported on first use."""
    module, name = _MODULES[form]
    kind: type[KPIBase] = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    return kind


def all_kinds() -> tuple[type[KPIBase], ...]:
    """Every kind's model, in the docs' order (imports every kind's module)."""
    return tuple(kind_for(form) for form in FORMS)


class _ByForm(Mapping[str, type[KPIBase]]):
    """``form -> kind`` over :data:`FORMS`, each kind imported when first looked up."""

    def __getitem__(self, form: str) -> type[KPIBase]:
        if form not in _MODULES:
            raise KeyError(form)
        return kind_for(form)

    def __iter__(self) -> Iterator[str]:
        return iter(FORMS)

    def __len__(self) -> int:
        return len(FORMS)


BY_FORM: Mapping[str, type[KPIBase]] = _ByForm()
_CLASSES = {name: form for form, (_, name) in _MODULES.items()}


def __getattr__(name: str) -> Any:
    """:data:`KINDS` and every kind's class, imported on first use (PEP 562)."""
    if name == "KINDS":
        value: Any = all_kinds()
    elif name in _CLASSES:
        value = kind_for(_CLASSES[name])
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


_BASE_ONLY = ("source", "column", "expression")
"""Keys of aggregations that a KPI reading other KPIs does not take."""


def _tag(form: str) -> str:
    """The union member's tag: never a spec key, so error locations keep only the spec's own keys."""
    return f"<{form}>"


def form_of(value: Any) -> str | None:
    """The kind a raw KPI mapping (or a model) is of: the one kind key it carries, else None."""
    if isinstance(value, KPIBase):
        return value.FORM
    if not isinstance(value, dict):
        return None
    present = [f for f in FORMS if f in value]
    return present[0] if len(present) == 1 else None


def _discriminate(value: Any) -> str | None:
    form = form_of(value)
    return None if form is None else _tag(form)


def kind_fields() -> set[str]:
    """Every key some kind takes."""
    return {f for k in all_kinds() for f in k.model_fields}


def _check_form(value: Any) -> Any:
    """Say which kind a KPI is before the kind's model validates it, with errors a user can act on."""
    if not isinstance(value, dict):
        return value
    present = [f for f in FORMS if f in value]
    if len(present) > 1:
        raise PydanticCustomError(
            "kpi_form", "a KPI has exactly one form, got {forms}; split it into two KPIs",
            {"forms": ", ".join(present)})
    if not present:
        known = kind_fields()
        for key in value:
            if isinstance(key, str) and key not in known:
                guess = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
                raise PydanticCustomError("kpi_unknown_key", "unknown key '{key}'",
                                          {"key": key, "guess": guess[0] if guess else ""})
        raise PydanticCustomError(
            "kpi_form", "a KPI needs one of: agg (with source), {forms}; add e.g. `agg: count` and `source: <name>`",
            {"forms": ", ".join(f for f in FORMS if f != "agg")})
    if present[0] != AggregateKPI.FORM:
        given = [k for k in _BASE_ONLY if k in value]
        if given:
            raise PydanticCustomError(
                "kpi_form", "{keys} {verb} to agg KPIs; a {form} KPI reads other KPIs",
                {"keys": "/".join(given), "verb": "belongs" if len(given) == 1 else "belong", "form": present[0]})
    return value


def _validate_kpi(value: Any, info: core_schema.ValidationInfo) -> KPIBase:
    """A KPI validated by its own kind's model: pydantic builds a kind's validator when a spec first
    holds a KPI of that kind (``defer_build``), so a run pays only for the kinds its spec uses. Errors
    inside the kind's model keep their locations (pydantic nests them under the KPI's key)."""
    if isinstance(value, KPIBase):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError("kpi_form", "a KPI is a mapping of keys, not a single value; write its keys "
                                  "under its name, e.g. `agg: count` and `source: <name>`")
    _check_form(value)
    form = form_of(value)
    assert form is not None  # _check_form raised otherwise
    return BY_FORM[form].model_validate(value, strict=info.config.get("strict") if info.config else None,
                                        context=info.context)


class _ByKind:
    """The KPI field's validation (:func:`_validate_kpi`) and JSON Schema (the union of every kind, as
    the committed schema/metricspec.schema.json shows it; built only when a schema is asked for)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(_validate_kpi)

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(TypeAdapter(_union()).core_schema)


def _union() -> Any:
    """Every kind as one discriminated union: what the JSON Schema shows (validation goes by kind)."""
    return Annotated[
        Union[tuple(Annotated[k, Tag(_tag(k.FORM))] for k in all_kinds())],  # noqa: UP007
        Field(discriminator=Discriminator(_discriminate)),
        BeforeValidator(_check_form),
    ]


if TYPE_CHECKING:
    KPI = KPIBase
else:  # every kind validates as its own model (_ByKind); the kinds a spec does not use are not imported
    KPI = Annotated[KPIBase, _ByKind()]
"""A KPI of any kind (the spec's ``kpis:`` values); to type checkers, the base every kind shares."""


def model_for(value: Any) -> type[KPIBase] | None:
    """The kind model a raw KPI mapping validates as (for did-you-mean on its keys)."""
    form = form_of(value)
    return None if form is None else BY_FORM[form]


__all__ = [
    "ADDITIVE_AGGREGATIONS", "BY_FORM", "FORMS", "KINDS", "KPI", "AggregateKPI", "Aggregation", "ColumnNeed",
    "CumulativeKPI", "ExpressionSite", "FormulaKPI", "FromAggregates", "FromInputs", "FromQuery", "FromRows", "FunnelKPI",
    "GrowthKPI", "Inputs", "KPIBase", "KindIssue", "KpiRef", "MovingAverageKPI", "Planned", "RatioKPI",
    "RetentionKPI", "RollingKPI", "ShareKPI", "SourceRef", "ToDateKPI", "form_of", "model_for",
]
__all__ += ["CohortRetentionKPI", "TenureKPI"]
