"""The documentation is executable and complete.

1. **Spec snippets run.** Every fenced block tagged ```yaml (or ```yml) in ``docs/*.md``
   that is a KPI/goal snippet is loaded and evaluated on the example data
   (``specs/examples/data``) as of 2026-11-01:

   * a block whose top-level keys are all spec keys and include ``name`` is a **full
     spec**. It is written to a temporary folder that links ``data/`` and ``shared/`` to
     ``specs/examples/``, so its relative paths resolve as if it lived in
     ``specs/examples/`` (nothing is written there);
   * a block with a top-level ``kpis:`` or ``objectives:`` is a **fragment**. It is merged
     into ``{name: doc-snippet, include: [<absolute path of
     specs/examples/shared/all_sources.yaml>]}``, which declares every example data file
     as a source (names in that file);
   * other blocks (a lone ``sources:`` or ``control_groups:`` example, a GitHub workflow,
     a pre-commit config) are not KPI/goal snippets and are skipped.

   Each snippet must load with :func:`metricspec.loader.load_spec` (no errors, no
   warnings) and :func:`metricspec.engine.run.evaluate` must give **every KPI the snippet
   defines at least one non-null value** and every goal a current value.

   **Convention:** fence a block that is intentionally not runnable — a CI workflow, a
   plugin's pyproject snippet, an example of an error, a partial excerpt — as
   ```yaml-norun (or ```text), and it is skipped. Everything fenced ```yaml must run.

2. **The spec reference is complete.** ``docs/spec-reference.md`` has one table per
   pydantic model of the spec language (marked ``<!-- model: Name -->``) listing every
   field with its type, its default (checked against the model) and its meaning; a field
   added to a model without documentation fails here.

3. **The CLI reference is fresh.** ``docs/cli.md`` equals what
   ``scripts/gen_cli_reference.py`` generates from ``--help``.

4. **Walk-throughs run.** In ``docs/getting-started.md``, ``docs/ci.md``, ``docs/python-api.md``
   and ``docs/query.md`` every ```sh (or ```bash, ```shell) block and every ```python block is
   executed, in the order of the page, as one session: shell blocks with ``bash -euo pipefail``
   (``metricspec`` is this interpreter's ``python -m metricspec``), python blocks in one shared
   namespace. The working directory is a fresh git repository holding a copy of ``specs/`` (so
   ``specs/examples/...`` paths work and a baseline can be committed). Each block must succeed.

   **Convention:** fence a command that must not run here — an install from the package index,
   a command that needs a service — as ```sh-norun (or ```text for output).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "specs" / "examples"
ALL_SOURCES = EXAMPLES / "shared" / "all_sources.yaml"
AS_OF = dt.date(2026, 11, 1)
RUNNABLE_LANGS = {"yaml", "yml"}


# ---------------------------------------------------------------- collecting blocks


@dataclass(frozen=True)
class Block:
    file: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.file.name}:{self.line}"


FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")


def fenced_blocks(path: Path) -> list[Block]:
    """Fenced code blocks of a Markdown file (indented fences, e.g. in lists, included)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        lang = m["info"].strip().split(" ")[0].lower() if m["info"].strip() else ""
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            close = FENCE.match(lines[j])
            if close and close["fence"].startswith(fence[0]) and len(close["fence"]) >= len(fence) \
                    and not close["info"].strip():
                break
            line = lines[j]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            j += 1
        out.append(Block(path, i + 1, lang, "\n".join(body) + "\n"))
        i = j + 1
    return out


def _spec_keys() -> set[str]:
    from metricspec.spec.models import Spec

    return set(Spec.model_fields)


def _parse(text: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def classify(block: Block) -> str:
    """'spec', 'fragment' or 'skip'."""
    if block.lang not in RUNNABLE_LANGS:
        return "skip"
    doc = _parse(block.text)
    if not isinstance(doc, dict):
        return "skip"
    keys = set(doc)
    if "name" in keys and keys <= _spec_keys():
        return "spec"
    if keys & {"kpis", "objectives"}:
        return "fragment"
    return "skip"


def all_blocks() -> list[Block]:
    return [b for f in sorted(DOCS.glob("*.md")) for b in fenced_blocks(f)]


def runnable_blocks() -> list[Block]:
    out = []
    for b in all_blocks():
        if b.lang not in RUNNABLE_LANGS:
            continue
        try:
            kind = classify(b)
        except Exception:  # a ```yaml block that is not YAML: reported by test_yaml_blocks_parse
            continue
        if kind != "skip":
            out.append(b)
    return out


def test_yaml_blocks_parse():
    """Every ```yaml block is YAML; non-YAML belongs in ```text."""
    bad = []
    for b in all_blocks():
        if b.lang in RUNNABLE_LANGS:
            try:
                _parse(b.text)
            except Exception as exc:
                bad.append(f"{b.id}: {str(exc).splitlines()[0]}")
    assert not bad, "```yaml blocks that are not YAML (fence them as ```text):\n" + "\n".join(bad)


def test_snippets_found():
    """The docs this file guards exist and hold snippets (a guard against a broken collector)."""
    per_file = {}
    for b in runnable_blocks():
        per_file[b.file.name] = per_file.get(b.file.name, 0) + 1
    for name in ("kpi-cookbook.md", "goals.md", "expressions.md", "spec-reference.md"):
        assert per_file.get(name, 0) > 0, f"no runnable yaml snippet found in docs/{name}"


# ---------------------------------------------------------------- running snippets


def _link_examples(folder: Path) -> None:
    for sub in ("data", "shared"):
        target = folder / sub
        try:
            target.symlink_to(EXAMPLES / sub, target_is_directory=True)
        except OSError:  # no symlinks (some Windows set-ups): copy instead
            shutil.copytree(EXAMPLES / sub, target)


def _write_snippet(block: Block, kind: str, folder: Path) -> Path:
    path = folder / "snippet.yaml"
    if kind == "spec":
        _link_examples(folder)
        path.write_text(block.text, encoding="utf-8")
        return path
    doc = _parse(block.text)
    assert "name" not in doc and "include" not in doc, f"{block.id}: a fragment must not set name/include"
    header = f"name: doc-snippet\ninclude: [{json.dumps(str(ALL_SOURCES))}]\n"
    path.write_text(header + block.text, encoding="utf-8")
    return path


def _format_issues(exc: Exception) -> str:
    issues = getattr(exc, "issues", None)
    if callable(issues):
        return "\n".join(i.format() for i in issues())
    return str(exc)


@pytest.mark.parametrize("block", runnable_blocks(), ids=lambda b: b.id)
def test_snippet_runs(block: Block, tmp_path: Path) -> None:
    from metricspec.engine.run import evaluate
    from metricspec.errors import MetricSpecError
    from metricspec.loader import load_spec, spec_warnings
    from metricspec.trust import Confinement

    kind = classify(block)
    path = _write_snippet(block, kind, tmp_path)
    try:
        # fragments include the example sources by absolute path from a temporary folder: trusted text
        loaded = load_spec(path, Confinement(allow_outside=True))
    except MetricSpecError as exc:
        pytest.fail(f"{block.id} ({kind}) does not load:\n{_format_issues(exc)}\n--- snippet ---\n{block.text}")
    warnings = spec_warnings(loaded)
    assert not warnings, f"{block.id}: spec warnings:\n" + "\n".join(w.format() for w in warnings)
    try:
        results = evaluate(loaded, as_of=AS_OF)
    except MetricSpecError as exc:
        pytest.fail(f"{block.id} ({kind}) does not evaluate:\n{_format_issues(exc)}\n--- snippet ---\n{block.text}")
    defined = list((_parse(block.text) or {}).get("kpis") or {})
    empty = []
    for name in defined:
        kpi = results.kpi(name)
        if not any(p.value is not None for s in kpi.series for p in s.points) and not any(
                v is not None for *_, v in kpi.all_time_values()):  # all-time KPIs: no series
            empty.append(name)
    assert not empty, f"{block.id}: KPI(s) with no value on the example data: {', '.join(empty)}"
    no_data = [f"{g.objective}/{g.id}" for g in results.goals() if g.current is None]
    assert not no_data, f"{block.id}: goal(s) without a current value: {', '.join(no_data)}"


def test_all_sources_declares_every_data_file() -> None:
    """specs/examples/shared/all_sources.yaml reads every example data file."""
    folder = EXAMPLES / "data"
    files = {p.name for p in folder.iterdir() if p.suffix in (".csv", ".parquet", ".json", ".xlsx", ".db")}
    assert files, "no example data files"
    text = ALL_SOURCES.read_text(encoding="utf-8") + (EXAMPLES / "shared" / "customers.yaml").read_text(
        encoding="utf-8")
    declared = set(re.findall(r"\.\./data/([\w.\-]+)", text))
    assert files <= declared, f"data files missing from all_sources.yaml: {sorted(files - declared)}"


# ---------------------------------------------------------------- spec reference


def _models() -> dict[str, type[BaseModel]]:
    """Every pydantic model reachable from Spec."""
    from metricspec.spec.models import Spec

    found: dict[str, type[BaseModel]] = {}

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp.__name__ in found:
                return
            found[tp.__name__] = tp
            for f in tp.model_fields.values():
                visit(f.annotation)
            return
        for arg in typing.get_args(tp):
            visit(arg)

    visit(Spec)
    from metricspec.kinds import KINDS, KPIBase

    for kind in KINDS:  # the spec's KPI field names the base; each kind's model is imported on use
        visit(kind)
    found["KPIBase"] = KPIBase  # the keys every kind inherits: documented once
    return found


def _own_fields(model: type[BaseModel]) -> dict[str, Any]:
    """A model's fields; a KPI kind's without those it inherits from KPIBase (documented there)."""
    from metricspec.kinds import KPIBase

    if issubclass(model, KPIBase) and model is not KPIBase:
        return {k: v for k, v in model.model_fields.items() if k not in KPIBase.model_fields}
    return dict(model.model_fields)


def _reference_tables() -> dict[str, dict[str, list[str]]]:
    """model name -> field -> table cells, from `<!-- model: X -->` sections of spec-reference.md."""
    text = (DOCS / "spec-reference.md").read_text(encoding="utf-8")
    tables: dict[str, dict[str, list[str]]] = {}
    current: str | None = None
    for line in text.splitlines():
        m = re.match(r"<!-- model: (\w+) -->", line.strip())
        if m:
            current = m.group(1)
            tables.setdefault(current, {})
            continue
        if line.startswith("#"):
            current = None
            continue
        if current and line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            key = re.match(r"`([^`]+)`", cells[0])
            if key:
                tables[current][key.group(1)] = cells
    return tables


def _yaml_default(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml_default(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_default(v)}" for k, v in value.items()) + "}"
    if isinstance(value, BaseModel):  # a model with defaults of its own (goal_thresholds), written as YAML
        return _yaml_default(value.model_dump())
    return str(value)


def test_spec_reference_documents_every_field() -> None:
    from pydantic_core import PydanticUndefined

    models = _models()
    tables = _reference_tables()
    problems = []
    for name, model in sorted(models.items()):
        if name not in tables:
            problems.append(f"model {name} has no `<!-- model: {name} -->` table")
            continue
        documented = tables[name]
        own = _own_fields(model)
        for field, info in own.items():
            if field not in documented:
                problems.append(f"{name}.{field} is not documented")
                continue
            cells = documented[field]
            if len(cells) < 4 or not cells[3]:
                problems.append(f"{name}.{field}: the row needs key | type | default | meaning")
                continue
            default_cell = cells[2]
            if info.is_required():
                if "required" not in default_cell:
                    problems.append(f"{name}.{field} is required but its default cell says {default_cell!r}")
                continue
            value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
            if value is PydanticUndefined:
                continue
            want = _yaml_default(value)
            shown = default_cell.strip("`")
            if want == "—":
                ok = default_cell.startswith("—")
            else:
                ok = shown == want or default_cell.startswith(f"`{want}`")
            if not ok:
                problems.append(f"{name}.{field}: default is {want!r}, the reference says {default_cell!r}")
        for field in documented:
            if field not in own:
                problems.append(f"{name}.{field} is documented but is not a field of the model")
    for name in tables:
        if name not in models:
            problems.append(f"the reference has a table for {name}, which is not a spec model")
    assert not problems, "docs/spec-reference.md is out of date:\n" + "\n".join(problems)


def test_every_kind_is_documented() -> None:
    """The docs gate reads the kinds registry: each kind has its row in the spec reference's table of
    kinds (the summary its module declares), a page and anchor that exist, and a cookbook recipe."""
    from metricspec.kinds import KINDS

    reference = (DOCS / "spec-reference.md").read_text(encoding="utf-8")
    table = reference.split("<!-- kinds-table -->", 1)[1].strip().split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        form = re.search(r"`([a-z_]+)`", cells[0])
        assert form, f"a row of the table of kinds names no kind: {line}"
        rows[form.group(1)] = cells
    cookbook = (DOCS / "kpi-cookbook.md").read_text(encoding="utf-8")
    problems = []
    for kind in KINDS:
        cells = rows.pop(kind.FORM, None)
        if cells is None:
            problems.append(f"kind {kind.FORM}: no row in the spec reference's table of kinds")
        elif (cells[1], cells[2]) != kind.SUMMARY:
            problems.append(f"kind {kind.FORM}: its row says {cells[1:]!r}, its module {list(kind.SUMMARY)!r}")
        page, _, anchor = kind.DOCS.partition("#")
        text = (DOCS / page).read_text(encoding="utf-8") if (DOCS / page).exists() else None
        if text is None:
            problems.append(f"kind {kind.FORM}: DOCS names {page}, which does not exist")
        elif anchor and anchor not in {_anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}:
            problems.append(f"kind {kind.FORM}: DOCS names #{anchor}, not a heading of {page}")
        if f"<!-- kind: {kind.FORM} -->" not in cookbook:
            problems.append(f"kind {kind.FORM}: no recipe marked `<!-- kind: {kind.FORM} -->` in kpi-cookbook.md")
    problems += [f"the table of kinds lists {form}, which is not a registered kind" for form in rows]
    assert not problems, "\n".join(problems)


def _anchor(heading: str) -> str:
    """The anchor mkdocs gives a heading (lower case, punctuation dropped, spaces as dashes)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return re.sub(r"\s+", "-", text)


def test_expression_functions_documented() -> None:
    from metricspec.spec.expr import FUNCTIONS

    text = (DOCS / "expressions.md").read_text(encoding="utf-8")
    missing = [f for f in FUNCTIONS if f"`{f}(" not in text]
    assert not missing, f"functions missing from docs/expressions.md: {missing}"


# ---------------------------------------------------------------- CLI reference


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen_cli_reference", ROOT / "scripts" / "gen_cli_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_fresh() -> None:
    gen = _generator()
    current = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert current == gen.render(), "docs/cli.md is stale: run `python scripts/gen_cli_reference.py`"


def test_cli_reference_covers_every_command() -> None:
    from metricspec.cli import main

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"## metricspec {name}" in text, f"`metricspec {name}` is missing from docs/cli.md"


# ---------------------------------------------------------------- navigation


def test_mkdocs_nav_lists_every_page() -> None:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.name for p in DOCS.glob("*.md"))
    missing = [p for p in pages if p not in text]
    assert not missing, f"pages missing from the mkdocs.yml nav: {missing}"


# ---------------------------------------------------------------- walk-throughs


WALKTHROUGHS = ("getting-started.md", "ci.md", "python-api.md", "query.md")
SHELL_LANGS = {"sh", "bash", "shell"}


def _session_dir(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A git repository with a copy of specs/, and the environment the blocks run in."""
    work = tmp_path / "work"
    shutil.copytree(ROOT / "specs", work / "specs", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "METRICSPEC_")) and k != "COLUMNS"}
    env.update({"GIT_AUTHOR_NAME": "Docs Test", "GIT_AUTHOR_EMAIL": "docs@example.invalid",
                "GIT_COMMITTER_NAME": "Docs Test", "GIT_COMMITTER_EMAIL": "docs@example.invalid",
                "METRICSPEC_PYTHON": sys.executable})
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "specs"]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)
    return work, env


SHELL_PREAMBLE = 'metricspec() { "$METRICSPEC_PYTHON" -m metricspec "$@"; }\n'


@pytest.mark.parametrize("page", WALKTHROUGHS)
def test_walkthrough_runs(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [b for b in fenced_blocks(DOCS / page) if b.lang in SHELL_LANGS | {"python"}]
    assert blocks, f"docs/{page} has no shell or python blocks"
    work, env = _session_dir(tmp_path)
    monkeypatch.chdir(work)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for block in blocks:
        if block.lang == "python":
            try:
                exec(compile(block.text, f"docs/{block.id}", "exec"), namespace)
            except Exception as exc:
                pytest.fail(f"docs/{block.id} (python) failed: {type(exc).__name__}: {exc}\n{block.text}")
            continue
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", SHELL_PREAMBLE + block.text], cwd=work, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, (f"docs/{block.id} exited {done.returncode}:\n{block.text}\n--- stdout ---\n"
                                      f"{done.stdout[-3000:]}\n--- stderr ---\n{done.stderr[-3000:]}")
