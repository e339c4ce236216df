"""Wire the spec's ``control_groups`` to the statistics in :mod:`metricspec.engine.experiments`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import polars as pl

from metricspec.engine.expressions import filter_expr

if TYPE_CHECKING:
    from metricspec.loader import LoadedSpec


def run_control_groups(loaded: LoadedSpec, frames: dict[str, pl.LazyFrame], as_of: dt.date) -> list[dict[str, Any]]:
    from metricspec.engine.experiments import MetricDefinition, evaluate_experiment

    out = []
    for name, cg in loaded.spec.control_groups.items():
        cols = {cg.unit, cg.assignment.column}
        for m in cg.metrics.values():
            cols |= {c for c in (m.column, m.numerator, m.denominator, m.covariate) if c}
        lf = frames[cg.source]
        cond = filter_expr(cg.filter)
        if cond is not None:
            lf = lf.filter(cond)
        frame = lf.select(sorted(cols)).collect()
        # one row per unit: duplicates would double-count people
        frame = frame.unique(subset=[cg.unit], keep="first", maintain_order=True)
        metrics = [
            MetricDefinition(name=mname, kind=m.kind, column=m.column, numerator=m.numerator,
                             denominator=m.denominator, covariate=m.covariate, direction=m.direction,
                             title=m.title or mname)
            for mname, m in cg.metrics.items()
        ]
        result = evaluate_experiment(
            frame, name=name, group_column=cg.assignment.column, treatment_label=cg.assignment.treatment,
            control_label=cg.assignment.control, metrics=metrics, alpha=cg.alpha, power=cg.power,
            expected_treatment_share=cg.expected_treatment_share,
        )
        data = result.model_dump(mode="json")
        data["title"] = cg.title or name
        data["description"] = cg.description
        out.append(data)
    return out
