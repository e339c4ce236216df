"""What the kinds and the engine share: the plan's data types, the calendar of periods, and the spec's
expressions compiled to polars.

* :mod:`metricspec.plan.nodes` — the plan as plain data (queries, aggregates, requests); no polars;
* :mod:`metricspec.plan.periods` — periods of a grain (truncating dates, period ends, labels);
* :mod:`metricspec.plan.expressions` — expression trees (:mod:`metricspec.spec.expr`) as polars expressions.

Below the kinds and above the spec's language in the layers (pyproject.toml): the kinds plan and
compute with these, the engine executes them.
"""
