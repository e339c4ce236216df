"""The parts of a control group's spec: its assignment, its metrics and a Bayesian prior (the group itself,
which also reads the spec's periods, is :class:`metricspec.spec.models.ControlGroup`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from metricspec.spec.base import Direction, Scalar, StrictModel


class Assignment(StrictModel):
    column: str
    treatment: Scalar | list[Scalar] = Field(description="The treatment label, or a list of labels: several "
                                             "treatment arms compared with one control.")
    control: Scalar

    @property
    def treatments(self) -> list[Scalar]:
        return list(self.treatment) if isinstance(self.treatment, list) else [self.treatment]

    @model_validator(mode="after")
    def _distinct(self) -> Assignment:
        labels = [*self.treatments, self.control]
        if isinstance(self.treatment, list) and not self.treatment:
            raise ValueError("`treatment:` lists no label")
        for i, a in enumerate(labels):  # Python equality, as the engine matches labels: 1 equals true
            for b in labels[i + 1:]:
                if a == b:
                    raise ValueError(f"treatment and control labels must differ (both match {a!r})")
        return self


ExperimentMetricKind = Literal["proportion", "mean", "ratio", "quantile", "survival"]
MetricUnit = Literal["number", "count", "percent", "currency", "days"]


class ExperimentMetric(StrictModel):
    kind: ExperimentMetricKind
    column: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    covariate: str | None = None
    quantile: float | None = Field(None, gt=0, lt=1, description="`quantile` metrics: 0.5 for the median, 0.9 for p90.")
    direction: Direction = "increase"
    title: str | None = None
    unit: MetricUnit | None = Field(None, description="How values are shown: currency (the spec's), count, days, "
                                    "percent or number; default: percent for proportions and survival, else number.")
    duration: str | None = Field(None, description="`survival` metrics: days from the start to the end or to the "
                                 "last time the unit was seen.")
    event: str | None = Field(None, description="`survival` metrics: true when the end was seen (churned), false "
                              "when the unit was still active (censored).")
    at_days: list[int] = Field(default_factory=list, description="`survival` metrics: retention at these days per "
                               "arm with its lift (the first is the headline); default 90.")
    pre_period: list[str] = Field(default_factory=list, description="The same metric measured before exposure, "
                                  "oldest first: difference-in-differences (several: a parallel pre-trends check).")

    @model_validator(mode="after")
    def _columns(self) -> ExperimentMetric:
        if self.kind == "survival":
            return self._survival()
        if self.duration or self.event or self.at_days:
            raise ValueError("`duration:`, `event:` and `at_days:` apply to `kind: survival` metrics only")
        if self.pre_period and self.kind not in ("proportion", "mean"):
            raise ValueError(f"`pre_period:` applies to proportion and mean metrics, not {self.kind}s")
        if self.kind == "ratio":
            if not (self.numerator and self.denominator):
                raise ValueError("a ratio metric needs numerator and denominator columns")
            if self.column:
                raise ValueError("a ratio metric takes numerator/denominator, not column")
        elif not self.column:
            raise ValueError(f"a {self.kind} metric needs `column:`")
        elif self.numerator or self.denominator:
            raise ValueError(f"a {self.kind} metric takes `column:`, not numerator/denominator")
        if self.covariate and self.kind in ("ratio", "quantile"):
            raise ValueError(f"CUPED (covariate) is supported for proportion and mean metrics, not {self.kind}s")
        if (self.kind == "quantile") != (self.quantile is not None):
            raise ValueError("a quantile metric needs `quantile:` (0.5 for the median, 0.9 for p90)"
                             if self.kind == "quantile" else "`quantile:` applies to `kind: quantile` metrics only")
        return self

    def _survival(self) -> ExperimentMetric:
        if not (self.duration and self.event):
            raise ValueError("a survival metric needs `duration:` (days) and `event:` (true when the end was seen)")
        if self.column or self.numerator or self.denominator or self.covariate or self.quantile or self.pre_period:
            raise ValueError("a survival metric takes `duration:`, `event:` and `at_days:` only")
        if any(d <= 0 for d in self.at_days) or len(set(self.at_days)) != len(self.at_days):
            raise ValueError("`at_days:` takes distinct positive whole days")
        return self

    @property
    def retention_days(self) -> list[int]:
        return self.at_days or [90]


SHARE_TOLERANCE = 1e-6


def planned_share(shares: dict[Scalar, float], label: Scalar) -> float:
    """The share planned for ``label`` (checked by :func:`check_planned_shares`: there is one)."""
    return next(v for k, v in shares.items() if _same(k, label))


def check_planned_shares(assignment: Assignment, shares: dict[Scalar, float]) -> None:
    """Every group (each treatment label and the control) has one share in (0, 1), no other key, adding up to 1."""
    labels = [*assignment.treatments, assignment.control]
    unknown = [k for k in shares if not any(_same(k, label) for label in labels)]
    if unknown:
        raise ValueError(f"`planned_shares:` names {', '.join(repr(k) for k in unknown)}, which is not a label of "
                         f"`assignment:` (labels: {', '.join(repr(x) for x in labels)})")
    missing = [label for label in labels if not any(_same(k, label) for k in shares)]
    if missing:
        raise ValueError(f"`planned_shares:` has no share for {', '.join(repr(x) for x in missing)}: give every "
                         "group its share, control included")
    bad = [k for k, v in shares.items() if not 0.0 < v < 1.0]
    if bad:
        raise ValueError(f"`planned_shares:` {bad[0]!r} is {shares[bad[0]]}: a share is between 0 and 1 (0.25 for a "
                         "quarter)")
    total = sum(shares.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"`planned_shares:` add up to {total:g}, not 1")


def _same(a: Scalar, b: Scalar) -> bool:
    """Labels match by Python equality, but a boolean only matches a boolean (true is not 1 here, so a
    share cannot stand for two labels)."""
    return (isinstance(a, bool) == isinstance(b, bool)) and a == b


class BayesianPrior(StrictModel):
    """A proper normal prior on the relative lift (gbstats' default is a flat, improper prior)."""

    mean: float = Field(0.0, description="Prior mean of the relative lift (0.1 = +10%).")
    stddev: float = Field(gt=0, description="Prior standard deviation of the relative lift.")
