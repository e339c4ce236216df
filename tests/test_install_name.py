"""The distribution is ``metricspec-cli``: the name ``metricspec`` on the public package index belongs to an
unrelated project, so no doc, hint or recipe may tell users to ``pip install metricspec``."""

from __future__ import annotations

import re
import shlex
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import metricspec

ROOT = Path(__file__).resolve().parent.parent
DIST = "metricspec-cli"
INSTALL = re.compile(r"\b(?:pip3?|pipx|uv pip|uv tool|python -m pip) install\b([^\n`]*)")
BARE = re.compile(r"metricspec(\[[^\]]*\])?([<>=!~;@ ].*)?")


def user_facing_files() -> list[Path]:
    """Everything a user reads or runs: docs, READMEs, CI recipes, the action, scaffold files, messages."""
    files = [ROOT / "README.md", ROOT / ".ci" / "run", ROOT / ".pre-commit-hooks.yaml", ROOT / "action.yml",
             *ROOT.glob("docs/*.md"), *ROOT.glob("plugins/*/README.md"), *ROOT.glob("benchmarks/*.md"),
             *(p for p in (ROOT / "metricspec").rglob("*") if p.is_file() and p.suffix in (".py", ".yaml", ".yml",
                                                                                            ".json", ".md", ".html"))]
    return sorted(p for p in files if p.exists())


def bare_installs(text: str) -> list[str]:
    """The ``pip install`` commands in ``text`` that name the distribution ``metricspec`` itself."""
    bad = []
    for match in INSTALL.finditer(text):
        args = re.split(r"&&|\|\||[;|]", match.group(1))[0].replace("\\", " ")  # this command only
        try:
            words = shlex.split(args)
        except ValueError:
            words = args.split()
        if any(BARE.fullmatch(w) for w in words):
            bad.append(match.group(0).strip())
    return bad


def test_the_check_recognises_bare_installs() -> None:
    assert bare_installs("run: pip install metricspec") == ["pip install metricspec"]
    assert bare_installs("`pip install 'metricspec[sql]'`") == ["pip install 'metricspec[sql]'"]
    assert bare_installs("pip install -q metricspec==0.1.0 && metricspec run") != []
    assert bare_installs("python -m pip install --upgrade metricspec>=0.1") != []
    assert bare_installs("pip install metricspec-cli 'metricspec-cli[excel]'") == []
    assert bare_installs("pip install -e . -e plugins/metricspec-x-analytics") == []


def test_no_doc_installs_the_unrelated_metricspec() -> None:
    offenders = [f"{p.relative_to(ROOT)}: {cmd}" for p in user_facing_files()
                 for cmd in bare_installs(p.read_text(encoding="utf-8"))]
    assert not offenders, "install the distribution `metricspec-cli`, not `metricspec`:\n" + "\n".join(offenders)


def test_docs_name_the_distribution() -> None:
    texts = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")}
    assert f"pip install {DIST}" in texts["ci.md"]
    assert f"pip install {DIST}" in texts["getting-started.md"]


def test_pyproject_and_plugins_use_the_distribution_name() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == DIST
    assert project["scripts"] == {"metricspec": "metricspec.cli:main"}, "the command stays `metricspec`"
    assert project["version"] == metricspec.__version__
    for path in ROOT.glob("plugins/*/pyproject.toml"):
        deps = tomllib.loads(path.read_text(encoding="utf-8"))["project"]["dependencies"]
        names = [re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0] for d in deps]
        assert DIST in names and "metricspec" not in names, f"{path}: depends on {deps}"


def test_installed_under_the_distribution_name() -> None:
    try:
        dist = metadata.distribution(DIST)
    except metadata.PackageNotFoundError:  # pragma: no cover - only when run from an uninstalled checkout
        pytest.skip(f"{DIST} is not installed (pip install -e .)")
    assert dist.version == metricspec.__version__
    assert "metricspec" in (dist.read_text("top_level.txt") or "metricspec").split()
    assert any(ep.name == "metricspec" and ep.value == "metricspec.cli:main" for ep in dist.entry_points)
