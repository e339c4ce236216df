"""Shared base model for every spec object."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown keys are errors; parsed specs are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
