"""KPIs derived from KPIs may not nest deeper than :data:`MAX_KPI_DEPTH` levels.

Every walk over the KPI graph (units, all-time KPIs, evaluation) follows these chains, so a
chain of 500 formulas each reading the previous one ran out of Python's stack. Checked first, with
an iterative walk; the other rules only run on a spec that passes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level
from metricspec.validation.references import kpi_dependencies

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec

MAX_KPI_DEPTH = 64
"""Most KPIs one chain of derived KPIs may hold (``a`` reads ``b`` reads ``c`` …: 3)."""


def kpi_depths(graph: dict[str, list[str]]) -> dict[str, int]:
    """The longest chain of KPIs below each KPI, itself included (a KPI reading nothing: 1).

    Iterative (no recursion); KPIs on a cycle and those above them are left out (the cycle
    rule reports them)."""
    below = {name: [d for d in deps if d in graph] for name, deps in graph.items()}
    readers: dict[str, list[str]] = {name: [] for name in graph}
    waiting = {name: len(set(deps)) for name, deps in below.items()}
    for name, deps in below.items():
        for dep in set(deps):
            readers[dep].append(name)
    ready = [name for name, n in waiting.items() if n == 0]
    depth: dict[str, int] = {}
    while ready:
        name = ready.pop()
        depth[name] = 1 + max((depth[d] for d in below[name]), default=0)
        for reader in readers[name]:
            waiting[reader] -= 1
            if waiting[reader] == 0:
                ready.append(reader)
    return depth


def _chain(graph: dict[str, list[str]], depth: dict[str, int], top: str) -> list[str]:
    """The longest chain below ``top``, as names."""
    chain = [top]
    while True:
        deps = [d for d in graph[chain[-1]] if d in depth]
        if not deps:
            return chain
        chain.append(max(deps, key=lambda d: (depth[d], d)))


def validate(loaded: LoadedSpec) -> list[Issue]:
    graph = {name: [d for d, _ in kpi_dependencies(k)] for name, k in loaded.spec.kpis.items()}
    depth = kpi_depths(graph)
    over = [name for name, d in depth.items() if d > MAX_KPI_DEPTH]
    if not over:
        return []
    first = min(over, key=lambda n: (depth[n], n))  # the KPI where the chain first gets too deep
    chain = _chain(graph, depth, first)
    shown = " -> ".join([*chain[:3], "…", *chain[-2:]])
    others = f" (and {len(over) - 1} KPI(s) built on it)" if len(over) > 1 else ""
    return [Issue(Level.ERROR, f"KPI '{first}' is derived through a chain of {depth[first]} KPIs ({shown}); at most "
                               f"{MAX_KPI_DEPTH} may be chained{others}",
                  loaded.where("kpis", first, key=True),
                  "compute intermediate results in the data or in fewer steps")]
