"""The import layers, the absence of import cycles, and the size of modules and functions (issue 26).

* The layers themselves are import-linter contracts in pyproject.toml (``lint-imports``):
  :func:`test_import_contracts_are_kept` runs them.
* :func:`test_no_import_cycle` builds metricspec's import graph with grimp: imports at module level
  and inside functions. Imports under ``TYPE_CHECKING`` are never executed, so they cannot close an
  import cycle (a kind's helper may name the kind's model for mypy); the layers contract counts them
  all the same. An import the contracts excuse (their ``ignore_imports``, each with its reason) is
  left out, as are those in :data:`KNOWN_CYCLE_IMPORTS` (cycles inside one layer, which no layer
  contract sees); both lists shrink to nothing as issue 26's moves land.
* :func:`test_function_level_imports_do_not_grow`: an import inside a function is for an optional
  heavy dependency only, with a comment on its line saying why (STYLE.md); those without one may not
  grow past :data:`MAX_UNEXPLAINED_FUNCTION_IMPORTS` (the number left today, issue 26).
* :func:`test_module_and_function_sizes`: modules of at most :data:`MAX_MODULE_LINES` lines and
  functions of at most :data:`MAX_FUNCTION_LINES` (STYLE.md), except those in :data:`KNOWN_LARGE`,
  which may not grow.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "metricspec"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

MAX_UNEXPLAINED_FUNCTION_IMPORTS = 0
"""Imports inside functions with no comment saying why: none (issue 26). An import stays inside a function
only for an optional or heavy dependency, or for start-up, and its line says which."""

KNOWN_CYCLE_IMPORTS: frozenset[tuple[str, str]] = frozenset({
    # import cycles inside one layer, each broken today by an import inside a function (issue 26); none left
})

KNOWN_LARGE: dict[str, int] = {
    # "path" or "path:function" -> its length today; each may shrink, none may grow (issue 26)
}


def _excused_imports() -> set[tuple[str, str]]:
    """The imports the import-linter contracts ignore (``importer -> imported``)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    excused: set[tuple[str, str]] = set()
    for contract in config["tool"]["importlinter"]["contracts"]:
        for line in contract.get("ignore_imports", []):
            importer, imported = (part.strip() for part in line.split("->"))
            excused.add((importer, imported))
    return excused


def _graph() -> dict[str, set[str]]:
    """metricspec's modules and the metricspec modules each imports when it runs (at module level or
    inside a function; not under TYPE_CHECKING)."""
    graph = grimp.build_graph("metricspec", cache_dir=None, exclude_type_checking_imports=True)
    return {m: {i for i in graph.find_modules_directly_imported_by(m) if i.split(".")[0] == "metricspec"}
            for m in graph.modules if m.split(".")[0] == "metricspec"}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the first module of a strongly connected component (BFS)."""
    members = set(component)
    start = component[0]
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child not in parents:
                    parents[child] = node
                    nxt.append(child)
        frontier = nxt
    return component


def test_cycle_finder_finds_a_cycle_and_only_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e2"}, "e2": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _one_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    """Whether ``goal`` can be reached from ``start`` following imports."""
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        for child in graph.get(node, set()) - seen:
            seen.add(child)
            todo.append(child)
    return False


def test_no_import_cycle() -> None:
    graph = _graph()
    left_out = _excused_imports() | KNOWN_CYCLE_IMPORTS
    stale = sorted(e for e in KNOWN_CYCLE_IMPORTS if e[1] not in graph.get(e[0], set()))
    assert not stale, f"KNOWN_CYCLE_IMPORTS lists imports that are gone; remove them: {stale}"
    for importer, imported in left_out:
        graph.get(importer, set()).discard(imported)
    no_cycle = sorted(e for e in KNOWN_CYCLE_IMPORTS if not _reaches(graph, e[1], e[0]))
    assert not no_cycle, f"KNOWN_CYCLE_IMPORTS lists imports that no longer close a cycle; remove them: {no_cycle}"
    cycles = [" -> ".join(_one_cycle(graph, c)) for c in _cycles(graph)]
    assert not cycles, "import cycles among metricspec's modules:\n" + "\n".join(cycles)


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter is not installed")
def test_import_contracts_are_kept() -> None:
    # grimp finds the package on sys.path: this checkout's, whatever is installed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(["lint-imports", "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False,
                          env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def _unexplained_function_imports() -> list[str]:
    """``path:line`` of every import inside a function whose line gives no reason in a comment
    (``# type: ignore`` and ``# noqa`` are not reasons)."""
    found: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for fn in ast.walk(ast.parse(text)):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    comment = lines[node.lineno - 1].partition("#")[2].strip()
                    if not comment or (comment.startswith(("type: ignore", "noqa")) and "(" not in comment):
                        found.add(f"{rel}:{node.lineno}")
    return sorted(found)


def test_function_level_imports_do_not_grow() -> None:
    found = _unexplained_function_imports()
    assert len(found) <= MAX_UNEXPLAINED_FUNCTION_IMPORTS, (
        f"{len(found)} imports inside functions without a reason (at most {MAX_UNEXPLAINED_FUNCTION_IMPORTS}): "
        "import at module level, or, for an optional heavy dependency, say why in a comment on the line")


def _sizes() -> dict[str, int]:
    """"path" -> lines of every module, "path:function" -> lines of every function over the limit."""
    sizes: dict[str, int] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        sizes[rel] = text.count("\n")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    key = f"{rel}:{node.name}"
                    sizes[key] = max(sizes.get(key, 0), length)
    return sizes


def test_module_and_function_sizes() -> None:
    sizes = _sizes()
    too_large = [f"{name}: {n} lines" for name, n in sorted(sizes.items())
                 if n > (MAX_FUNCTION_LINES if ":" in name else MAX_MODULE_LINES) and n > KNOWN_LARGE.get(name, 0)]
    assert not too_large, (f"modules over {MAX_MODULE_LINES} lines or functions over {MAX_FUNCTION_LINES} "
                           "(split them):\n" + "\n".join(too_large))
    fixed = sorted(name for name, n in KNOWN_LARGE.items()
                   if sizes.get(name, 0) <= (MAX_FUNCTION_LINES if ":" in name else MAX_MODULE_LINES))
    assert not fixed, f"within the limits now; remove them from KNOWN_LARGE: {fixed}"


def test_size_check_counts_lines_as_the_limits_mean() -> None:
    source = "def f():\n" + "    x = 1\n" * 60 + "\n"
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef) and node.end_lineno is not None
    assert node.end_lineno - node.lineno + 1 == 61 > MAX_FUNCTION_LINES


DIALECT_NAMES = ("duckdb", "postgres", "pyspark", "clickhouse", "bigquery", "trino", "mysql", "mssql", "snowflake",
                 "oracle", "sqlite")
DIALECT_BRANCH = re.compile(
    r"\bdialect\b\s*(==|!=|\bnot\s+in\b|\bin\b)"  # dialect == …, rel.dialect in …
    r"|\b(dialect|backend)\b\s*(==|!=)\s*[\"']"  # backend == "postgres"
    rf"|(==|!=)\s*[\"']({'|'.join(DIALECT_NAMES)})[\"']\s*(?!\])")
"""A branch on a database's name: each database's behaviour is its object's (engine/backends/dialects/)."""


def _dialect_branches() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("metricspec/engine/backends/dialects/"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if DIALECT_BRANCH.search(code) and ("dialect" in code or "backend" in code or "engine/backends" in rel):
                found.append(f"{rel}:{n}: {line.strip()}")
    return found


def test_no_branch_on_a_database_name_outside_dialects() -> None:
    found = _dialect_branches()
    assert not found, ("branches on a database's name (give the database's object in "
                       "metricspec/engine/backends/dialects/ a method or capability instead):\n" + "\n".join(found))


def test_the_dialect_branch_check_finds_a_branch() -> None:
    for line in ('if dialect == "pyspark":', "send = X if rel.dialect in ALL else None",
                 'url = a if backend == "postgres" else b', 'if d != "duckdb":'):
        assert DIALECT_BRANCH.search(line), line
    assert not DIALECT_BRANCH.search("d = dialect_for(rel.dialect)")
