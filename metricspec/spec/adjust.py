"""How a control group that was not randomised is adjusted for the covariates that explain who was exposed.

A randomised experiment compares its groups as they are. A self-selected comparison (customers who
chose to follow the brand vs those who did not) differs before any exposure; ``adjust:`` names the
pre-exposure covariates and the method that removes that difference (docs/control-groups.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from metricspec.spec.base import StrictModel

AdjustMethod = Literal["ipw", "matching", "regression", "doubly_robust"]
Estimand = Literal["att", "ate"]


class Adjustment(StrictModel):
    """Covariate adjustment of an observational comparison (``randomised: false``)."""

    covariates: list[str] = Field(min_length=1, description="Pre-exposure columns that explain who was exposed "
                                  "(numbers, booleans or categories).")
    method: AdjustMethod = Field("doubly_robust", description="ipw | matching | regression | doubly_robust.")
    estimand: Estimand = Field("att", description="att: the effect on the exposed; ate: on everyone.")
    bootstrap: int | None = Field(None, ge=100, le=100_000, description="Intervals by a seeded bootstrap with "
                                  "this many resamples instead of robust (sandwich) standard errors.")
    seed: int = Field(20240101, ge=0, description="Seed of the bootstrap.")
    trim: float = Field(0.01, ge=0, lt=0.5, description="ipw and doubly_robust: units whose propensity is below "
                        "`trim` or above 1 - `trim` are left out (0: none).")
    caliper: float | None = Field(0.2, gt=0, description="matching: the largest distance of a match, in standard "
                                  "deviations of the logit of the propensity (null: no caliper).")
    replacement: bool = Field(True, description="matching: a control unit may be the match of several treated "
                              "units.")

    @model_validator(mode="after")
    def _options(self) -> Adjustment:
        if len(set(self.covariates)) != len(self.covariates):
            raise ValueError("`covariates:` lists a column twice")
        if self.method != "matching" and ({"caliper", "replacement"} & self.model_fields_set):
            raise ValueError("`caliper:` and `replacement:` apply to `method: matching` only")
        if self.method not in ("ipw", "doubly_robust") and "trim" in self.model_fields_set:
            raise ValueError("`trim:` applies to `method: ipw` and `method: doubly_robust` only")
        if self.method == "matching" and self.bootstrap is not None and self.replacement:
            raise ValueError("the bootstrap is not valid for matching with replacement (Abadie and Imbens, "
                             "2008): leave `bootstrap:` out (Abadie–Imbens standard errors are used) or set "
                             "`replacement: false`")
        if "seed" in self.model_fields_set and self.bootstrap is None:
            raise ValueError("`seed:` applies to the bootstrap only: add `bootstrap: 1000`")
        return self
