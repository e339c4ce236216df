"""``metricspec.plugin_api`` is the whole surface a plugin imports (issue 26, move 5).

* The bundled plugins (``plugins/*``) and the examples of docs/writing-plugins.md import nothing from
  metricspec but ``metricspec.plugin_api`` (their modules parsed with :mod:`ast`, imports inside
  functions and under ``TYPE_CHECKING`` included).
* Every name in ``plugin_api.__all__`` exists, is the object metricspec itself uses, and is described
  in docs/writing-plugins.md.
* Importing the module does not import polars (plugins are loaded for every command).
"""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

import metricspec.plugin_api as plugin_api

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "plugins"
WRITING_PLUGINS = ROOT / "docs" / "writing-plugins.md"
ALLOWED = "metricspec.plugin_api"


def metricspec_imports(source: str, allowed: tuple[str, ...] = (ALLOWED,)) -> list[tuple[int, str]]:
    """``(line, module)`` of every import from metricspec in ``source`` other than the ``allowed`` ones."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            modules = [node.module]
        else:
            continue
        found += [(node.lineno, m) for m in modules
                  if (m == "metricspec" or m.startswith("metricspec.")) and m not in allowed]
    return found


def plugin_modules() -> list[Path]:
    """Every Python module of every bundled plugin package (tests of a plugin included)."""
    return sorted(p for p in PLUGINS.glob("*/**/*.py") if "build" not in p.relative_to(PLUGINS).parts)


def test_the_checker_finds_imports_from_metricspec_anywhere() -> None:
    source = (
        "import metricspec\n"
        "import metricspec.plugin_api\n"
        "from metricspec.plugin_api import hookimpl\n"
        "from metricspec.connectors.base import Connector\n"
        "from . import helpers\n"
        "import metricspec_other\n"
        "if TYPE_CHECKING:\n"
        "    from metricspec.engine.results import Results\n"
        "def f():\n"
        "    import metricspec.connectors.files as files\n"
    )
    assert metricspec_imports(source) == [
        (1, "metricspec"), (4, "metricspec.connectors.base"), (8, "metricspec.engine.results"),
        (10, "metricspec.connectors.files"),
    ]


def test_bundled_plugins_import_only_the_plugin_api() -> None:
    modules = plugin_modules()
    packages = {p.relative_to(PLUGINS).parts[0] for p in modules}
    assert {"metricspec-x-analytics", "metricspec-shortlinks"} <= packages
    offending = [f"{path.relative_to(ROOT)}:{line}: imports {module}"
                 for path in modules for line, module in metricspec_imports(path.read_text(encoding="utf-8"))]
    assert not offending, "plugins may import only metricspec.plugin_api:\n" + "\n".join(offending)
    for path in modules:
        if path.name == "__init__.py":
            assert "metricspec.plugin_api" in path.read_text(encoding="utf-8"), path


def python_blocks(markdown: str) -> list[tuple[int, str]]:
    """``(line, code)`` of every fenced python block of a Markdown page."""
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", markdown, flags=re.MULTILINE | re.DOTALL):
        blocks.append((markdown.count("\n", 0, match.start()) + 1, match.group(1)))
    return blocks


def test_writing_plugins_examples_import_only_the_plugin_api() -> None:
    blocks = python_blocks(WRITING_PLUGINS.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    # a test of a plugin may use the public API of the package root too (metricspec.evaluate, ...)
    offending = [f"docs/writing-plugins.md:{start}: imports {module}"
                 for start, code in blocks for _, module in metricspec_imports(code, (ALLOWED, "metricspec"))]
    assert not offending, "\n".join(offending)
    assert sum(ALLOWED in code for _, code in blocks) >= 5


def test_every_exported_name_exists_and_is_metricspecs_own() -> None:
    assert plugin_api.__all__ == sorted(set(plugin_api.__all__))
    from metricspec.check.findings import CheckReport, Finding
    from metricspec.connectors.base import Connector
    from metricspec.engine.results import Results
    from metricspec.hookspecs import hookimpl
    from metricspec.sources.registry import connector_registry

    for name in plugin_api.__all__:
        assert getattr(plugin_api, name) is not None, name
    namespace: dict[str, object] = {}
    exec("from metricspec.plugin_api import *", namespace)
    assert set(plugin_api.__all__) <= set(namespace)
    assert plugin_api.Results is Results
    assert plugin_api.Finding is Finding
    assert plugin_api.CheckReport is CheckReport
    assert plugin_api.connector_registry is connector_registry
    assert plugin_api.Connector is Connector
    assert plugin_api.hookimpl is hookimpl


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'first_line'"):
        _ = plugin_api.first_line  # not part of the API (the plugins imported it from connectors.files once)


def test_every_exported_name_is_described_in_writing_plugins() -> None:
    text = WRITING_PLUGINS.read_text(encoding="utf-8")
    missing = [name for name in plugin_api.__all__ if not re.search(rf"`{name}\b", text)]
    assert not missing, f"docs/writing-plugins.md does not describe {missing}"


def test_importing_the_plugin_api_imports_no_polars() -> None:
    code = ("import sys, metricspec.plugin_api\n"
            "heavy = sorted(m for m in ('polars', 'metricspec.check', 'metricspec.engine', 'metricspec.sources')"
            " if m in sys.modules)\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_bundled_plugins_work_through_the_plugin_api() -> None:
    import metricspec_shortlinks
    import metricspec_x_analytics

    pm = plugin_api.make_plugin_manager(load_entry_points=False, builtins=False,
                                        plugins=(metricspec_x_analytics, metricspec_shortlinks))
    registry = plugin_api.connector_registry(pm)
    assert registry == {"x_analytics": metricspec_x_analytics.XAnalyticsConnector,
                        "shortlinks": metricspec_shortlinks.ShortlinksConnector}
    assert all(issubclass(cls, plugin_api.Connector) for cls in registry.values())


def test_the_hooks_types_live_below_the_hookspecs_and_keep_their_old_homes() -> None:
    """The types the hooks name are defined in metricspec.hooktypes (below the layers that use them, issue 26)
    and stay importable where plugins and metricspec's modules found them before."""
    from metricspec import hookspecs, hooktypes, outputs
    from metricspec.check import findings
    from metricspec.check.pacing import PacingAlert
    from metricspec.connectors import base

    assert base.Connector is hooktypes.Connector and base.SourceContext is hooktypes.SourceContext
    assert base.ConnectorOptions is hooktypes.ConnectorOptions
    assert findings.Finding is hooktypes.Finding and outputs.OutputRenderer is hooktypes.OutputRenderer
    assert hookspecs.GoalAlert is hooktypes.GoalAlert is plugin_api.GoalAlert
    report = findings.CheckReport(specs=[findings.SpecCheck("s", "s.yaml", findings=[
        findings.Finding("failure", "status_worse", "results", "s", "o/g", "worse")])])
    assert isinstance(report, hooktypes.CheckSummary)
    assert not isinstance(object(), hooktypes.CheckSummary)
    members = {name for name in dir(hooktypes.GoalAlert) if not name.startswith("_")}
    assert members <= {f.name for f in dataclasses.fields(PacingAlert)}, "a PacingAlert is a GoalAlert"
