"""Derived KPIs must not depend on themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level
from metricspec.validation.references import kpi_dependencies

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Each elementary cycle found by DFS, reported once, starting at its smallest name."""
    cycles: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in graph.get(node, []):
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep):]
                i = cycle.index(min(cycle))
                canon = tuple(cycle[i:] + cycle[:i])
                if canon not in seen:
                    seen.add(canon)
                    cycles.append(list(canon))
            elif state.get(dep) is None:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def validate(loaded: LoadedSpec) -> list[Issue]:
    graph = {name: [d for d, _ in kpi_dependencies(k)] for name, k in loaded.spec.kpis.items()}
    issues = []
    for cycle in find_cycles(graph):
        chain = " -> ".join([*cycle, cycle[0]])
        issues.append(Issue(Level.ERROR, f"KPI cycle: {chain}", loaded.where("kpis", cycle[0], key=True),
                            "a derived KPI cannot depend on itself; break the loop"))
    return issues
