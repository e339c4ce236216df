"""Shared base model for every spec object."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown keys are errors; parsed specs are immutable; numbers are finite.

    ``allow_inf_nan=False`` applies to every float field of every model (``target: .nan``,
    ``.inf`` or ``1e309`` are rejected with file:line), so a new field cannot forget it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)
