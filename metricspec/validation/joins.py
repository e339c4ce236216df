"""Source joins: the joined source exists, is not the source itself, joins form no cycle, and the key
of a source with several entities is named."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metricspec.errors import Issue, Level
from metricspec.sources.prepare import did_you_mean
from metricspec.validation.cycles import find_cycles

if TYPE_CHECKING:
    from metricspec.spec.loaded import LoadedSpec


def validate(loaded: LoadedSpec) -> list[Issue]:
    spec = loaded.spec
    issues: list[Issue] = []
    names = list(spec.sources)
    for name, src in spec.sources.items():
        for i, join in enumerate(src.joins):
            at = ("sources", name, "joins", i)
            if join.source == name:
                issues.append(Issue(Level.ERROR, f"source '{name}' joins itself", loaded.where(*at, "source"),
                                    "a join brings the columns of another source; remove it"))
                continue
            right = spec.sources.get(join.source)
            if right is None:
                issues.append(Issue(
                    Level.ERROR, f"source '{name}' joins unknown source '{join.source}'"
                    f"{did_you_mean(join.source, names)}", loaded.where(*at, "source"),
                    f"declare '{join.source}' under `sources:` or join one of: {', '.join(sorted(set(names) - {name}))}"))
                continue
            if join.key is None and len(right.entities) > 1:
                keys = ", ".join(f"{e} ({c})" for e, c in right.entities.items())
                issues.append(Issue(
                    Level.ERROR, f"source '{join.source}' has several entities ({keys}): which one does "
                    f"'{name}' join on?", loaded.where(*at),
                    f"add `key:` to the join, e.g. key: {next(iter(right.entities.values()))}"))
    graph = {name: [j.source for j in src.joins if j.source in spec.sources and j.source != name]
             for name, src in spec.sources.items()}
    for cycle in find_cycles(graph):
        chain = " -> ".join([*cycle, cycle[0]])
        first = next(i for i, j in enumerate(spec.sources[cycle[0]].joins) if j.source == cycle[1 % len(cycle)])
        issues.append(Issue(Level.ERROR, f"sources join each other in a cycle: {chain}",
                            loaded.where("sources", cycle[0], "joins", first, "source"),
                            "joins are many-to-one lookups: the joined source cannot join back; remove one of them"))
    return issues
