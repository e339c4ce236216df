"""The GitHub Action (action.yml), the pre-commit hook and what ``metricspec init`` writes for them.

The action's ``run:`` steps are run with bash, as GitHub runs them (``bash --noprofile --norc -eo
pipefail``), with ``GITHUB_ACTIONS=true``, ``GITHUB_STEP_SUMMARY`` and ``GITHUB_OUTPUT`` set, against a
temporary git repository made by ``metricspec init``; metricspec is installed by the action's own
install step into a fresh virtual environment. ``uses:`` steps (setup-python, upload-artifact) are
GitHub's and are not run; their inputs are checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

import metricspec
from metricspec.cli import main

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- running the action's steps


class ActionRun:
    """Runs the composite action's steps like the runner: expressions in ``env``/``if``/``with``
    evaluated against the inputs and earlier steps' outputs; ``run:`` scripts with bash."""

    def __init__(self, inputs: dict[str, str], workspace: Path, action_path: Path, env: dict[str, str]) -> None:
        spec = action()
        self.inputs = {name: str(meta.get("default", "")) for name, meta in spec["inputs"].items()}
        unknown = set(inputs) - set(self.inputs)
        assert not unknown, f"not inputs of the action: {unknown}"
        self.inputs.update(inputs)
        self.workspace, self.action_path, self.env = workspace, action_path, env
        self.outputs: dict[str, dict[str, str]] = {}
        self.logs: dict[str, subprocess.CompletedProcess[str]] = {}
        self.uses: list[tuple[str, dict[str, str]]] = []
        self.failed = False

    def value(self, expr: str) -> str:
        if m := re.fullmatch(r"inputs\.([\w-]+)", expr):
            return self.inputs[m[1]]
        if m := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr):
            return self.outputs.get(m[1], {}).get(m[2], "")
        if expr == "github.action_path":
            return str(self.action_path)
        raise AssertionError(f"expression not understood by this test: {expr}")

    def render(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.value(m[1]), str(text))

    def condition(self, cond: str | None) -> bool:
        if cond is None:
            return not self.failed  # success()
        cond = EXPRESSION.sub(lambda m: m[1], cond).strip()
        if cond == "always()":
            return True
        if m := re.fullmatch(r"(\S+) (==|!=) '([^']*)'", cond):
            equal = self.value(m[1]) == m[3]
            return (equal if m[2] == "==" else not equal) and not self.failed
        raise AssertionError(f"condition not understood by this test: {cond}")

    def run(self) -> ActionRun:
        for step in action()["runs"]["steps"]:
            if not self.condition(step.get("if")):
                continue
            if "uses" in step:
                self.uses.append((step["uses"], {k: self.render(v) for k, v in step.get("with", {}).items()}))
                continue
            assert "${{" not in step["run"], "inputs reach scripts through env: (no script injection)"
            output = self.workspace.parent / f"output-{step.get('id', len(self.logs))}"
            output.write_text("")
            env = {**self.env, **{k: self.render(v) for k, v in step.get("env", {}).items()},
                   "GITHUB_OUTPUT": str(output)}
            done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                  cwd=self.workspace, env=env, capture_output=True, text=True, timeout=900)
            self.logs[step.get("id") or step["name"]] = done
            if step.get("id"):
                lines = output.read_text(encoding="utf-8").splitlines()
                self.outputs[step["id"]] = dict(line.split("=", 1) for line in lines if "=" in line)
            if done.returncode:
                self.failed = True
        return self


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def action_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh virtual environment on PATH (the action installs metricspec into it) and the GitHub variables.

    The environment sees the packages of the one running the tests (the action is run with
    ``pip-args: --no-deps``: nothing is downloaded) through a ``.pth`` file that adds each of its site
    folders with :func:`site.addsitedir`, so their own ``.pth`` files are processed as Python does at
    start-up: plugins installed with ``pip install -e`` (a finder registered by a ``.pth`` file) import
    as they do in the tests' environment, whether that is a virtual environment, the system's Python
    or a user site. (``PYTHONPATH`` does not process ``.pth`` files: the plugins' entry points were
    seen, their modules not, and every command failed on a fresh clone's venv; issue 25.)"""
    base = tmp_path_factory.mktemp("action")
    env_dir = base / "venv"
    venv.EnvBuilder(system_site_packages=False, with_pip=False).create(env_dir)
    # pip itself comes from the interpreter running the tests (no download)
    python = env_dir / "bin" / "python"
    assert python.exists()
    own_site = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"],
                              capture_output=True, text=True, check=True).stdout.strip()
    (Path(own_site) / "metricspec-tests-environment.pth").write_text(
        "import site; " + "; ".join(f"site.addsitedir({d!r})" for d in site_folders()) + "\n", encoding="utf-8")
    checkout = base / "action-checkout"  # what `uses: metricspec/metricspec@v…` checks out
    shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(".git", "*.egg-info", "__pycache__", "build",
                                                                  "site", ".hypothesis", "benchmarks", "tests"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "METRICSPEC_", "PYTHON"))}
    env.update({
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}", "VIRTUAL_ENV": str(env_dir),
        "GITHUB_ACTIONS": "true", "CI": "true",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid", "ACTION_CHECKOUT": str(checkout), "RUNNER_TEMP": str(base),
    })
    return env


def site_folders() -> list[str]:
    """The site folders the interpreter running the tests imports from, in its order (a venv's own,
    then the base or user ones it sees, and any on ``PYTHONPATH``)."""
    return [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and os.path.isdir(p)]


def with_tests_pythonpath(env: dict[str, str]) -> dict[str, str]:
    """``env`` for commands run with the tests' own interpreter (their ``PYTHONPATH`` kept)."""
    return {**env, **{k: v for k, v in os.environ.items() if k.startswith("PYTHON")}}


def _project(tmp_path: Path, env: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    result = subprocess.run([sys.executable, "-m", "metricspec", "init", str(repo)], capture_output=True,
                            text=True, env=with_tests_pythonpath(env))
    assert result.returncode == 0, result.stderr
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "init")
    made = subprocess.run([sys.executable, "-m", "metricspec", "baseline", "update", "metrics.yaml", "--as-of",
                           "2026-05-31"], cwd=repo, capture_output=True, text=True, env=with_tests_pythonpath(env))
    assert made.returncode == 0, made.stderr
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "baseline")
    return repo


def _run(tmp_path: Path, env: dict[str, str], repo: Path, name: str, **inputs: str) -> tuple[ActionRun, Path]:
    summary = tmp_path / f"summary-{name}.md"
    summary.write_text("")
    run_env = {**env, "GITHUB_STEP_SUMMARY": str(summary)}
    inputs = {"paths": "metrics.yaml", "as-of": "2026-05-31", "pip-args": "--no-deps",  # the dependencies are those of the tests
              **inputs}
    return ActionRun(inputs, repo, Path(env["ACTION_CHECKOUT"]), run_env).run(), summary


def test_the_action_passes_fails_and_reports(tmp_path: Path, action_env: dict[str, str]) -> None:
    repo = _project(tmp_path, action_env)

    ok, summary = _run(tmp_path, action_env, repo, "ok")
    install = ok.logs["install"]
    assert install.returncode == 0, install.stderr
    assert install.stdout.strip() == f"metricspec, version {metricspec.__version__}"
    installed = Path(action_env["VIRTUAL_ENV"]) / "bin" / "metricspec"
    assert installed.exists(), "the install step put metricspec into the job's environment"
    check = ok.logs["check"]
    assert check.returncode == 0, check.stderr
    assert not ok.failed
    assert ok.outputs["check"]["result"] == "ok" and ok.outputs["check"]["exit-code"] == "0"
    assert ok.outputs["check"]["summary"].startswith("1 spec · 2 goals: ")
    assert "metricspec check: ✅ no regression" in summary.read_text(encoding="utf-8")
    junit = repo / "reports" / "metricspec-junit.xml"
    assert ok.outputs["check"]["junit"] == "reports/metricspec-junit.xml"
    assert ET.parse(junit).getroot().get("failures") == "0"
    (upload,) = [w for u, w in ok.uses if u.startswith("actions/upload-artifact@")]
    assert upload["path"] == "reports/metricspec-junit.xml" and upload["name"] == "metricspec-junit"
    (setup,) = [w for u, w in ok.uses if u.startswith("actions/setup-python@")]
    assert setup == {"python-version": "3.12"}

    # lower a target in a commit: a spec regression against the previous commit
    spec = repo / "metrics.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("target: 6000", "target: 5000"), encoding="utf-8")
    _git(repo, "commit", "-qam", "lower the target")
    bad, summary = _run(tmp_path, action_env, repo, "regression", against="HEAD~1")
    check = bad.logs["check"]
    assert check.returncode == 0, check.stderr  # the check step records the result ...
    assert bad.outputs["check"]["result"] == "regression" and bad.outputs["check"]["exit-code"] == "1"
    assert bad.failed and bad.logs["Fail on a regression or bad input"].returncode == 1  # ... the last step fails
    assert re.search(r"^::error file=metrics\.yaml,line=\d+,col=\d+,title=starter%3A target lowered", check.stdout,
                     re.M), check.stdout
    assert "metricspec check: ❌ regression" in summary.read_text(encoding="utf-8")
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "1"
    assert any(u.startswith("actions/upload-artifact@") for u, _ in bad.uses), "the report is uploaded on failure"

    broken, summary = _run(tmp_path, action_env, repo, "error", paths="no-such-specs")
    assert broken.outputs["check"]["result"] == "error" and broken.outputs["check"]["exit-code"] == "2"
    text = summary.read_text(encoding="utf-8")
    assert "metricspec check: ⛔ bad input (exit 2)" in text and "no-such-specs" in text
    assert broken.failed


def test_action_inputs_and_outputs_are_documented() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    assert {"paths", "as-of", "baseline", "against", "python-version"} <= set(spec["inputs"])
    for name, meta in {**spec["inputs"], **spec["outputs"]}.items():
        assert meta.get("description"), f"{name} has no description"
        assert "${{" not in meta["description"], "descriptions are not evaluated"
    for step in spec["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash", "composite run steps must name their shell"
        if "uses" in step:
            assert re.fullmatch(r"actions/[\w-]+@v\d+", step["uses"]), step["uses"]
    docs = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    for name in [*spec["inputs"], *spec["outputs"]]:
        assert f"`{name}`" in docs, f"docs/ci.md does not describe the action's `{name}`"


def _workflow_steps(text: str) -> list[dict[str, Any]]:
    doc = yaml.safe_load(text)
    return [s for job in (doc.get("jobs") or {}).values() for s in job.get("steps", [])]


def workflows_in_docs() -> list[tuple[str, str]]:
    out = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        for block in re.findall(r"```yaml-norun\n(.*?)```", page.read_text(encoding="utf-8"), re.S):
            if re.search(r"^jobs:", block, re.M):
                out.append((page.name, block))
    return out


def test_documented_workflows_use_the_action_correctly() -> None:
    inputs = set(action()["inputs"])
    uses_action = 0
    for page, block in workflows_in_docs():
        for step in _workflow_steps(block):
            if str(step.get("uses", "")).startswith("metricspec/metricspec@"):
                uses_action += 1
                assert step["uses"] == f"metricspec/metricspec@v{metricspec.__version__}", (page, step["uses"])
                assert set(step.get("with", {})) <= inputs, (page, set(step["with"]) - inputs)
            if "run" in step:
                _check_commands(page, step["run"])
    assert uses_action >= 2, "docs/ci.md shows the check gate and the Pages workflow with the action"


def _check_commands(page: str, script: str) -> None:
    """Every ``metricspec ...`` command in a documented workflow parses with the real CLI (``--help``
    after the arguments: click still rejects unknown commands and options, but runs nothing)."""
    import shlex

    from click.testing import CliRunner

    for line in script.splitlines():
        line = line.strip()
        if not line.startswith("metricspec "):
            continue
        args = shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "x", line))[1:]
        result = CliRunner().invoke(main, [*args, "--help"])
        assert result.exit_code == 0, f"docs/{page}: `{line}` does not parse:\n{result.output}"


# ---------------------------------------------------------------- pre-commit and init


def test_the_pre_commit_hook_matches_spec_files_only() -> None:
    from pre_commit.clientlib import load_manifest
    from pre_commit.commands.run import filter_by_include_exclude

    (hook,) = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "metricspec-validate" and hook["entry"] == "metricspec validate"
    specs = ["specs/brand.yaml", "specs/sub/campaign.yml", "metrics.yaml", "my-metrics/metrics.yaml",
             "metrics/q3.yaml", "team/spec/plan.yaml"]
    others = [".github/workflows/metrics.yml", ".github/workflows/ci.yaml", ".pre-commit-config.yaml",
              "mkdocs.yml", "docker-compose.yml", ".gitlab-ci.yml", "specs/shared/customers.yaml",
              "specs/_common.yaml", "specs/readme.md", "config/metricspec.yaml"]
    matched = set(filter_by_include_exclude(specs + others, hook["files"], hook["exclude"]))
    assert matched == set(specs)
    examples = [p.relative_to(ROOT).as_posix() for p in (ROOT / "specs" / "examples").rglob("*.y*ml")]
    from metricspec.loader import find_spec_files

    real_specs = {p.relative_to(ROOT).as_posix() for p in find_spec_files([ROOT / "specs" / "examples"])}
    assert set(filter_by_include_exclude(examples, hook["files"], hook["exclude"])) == real_specs


def test_init_writes_editor_pre_commit_and_workflow_files(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from pre_commit.clientlib import load_config

    from metricspec.schema import schema_json

    target = tmp_path / "proj"
    result = CliRunner().invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    spec = (target / "metrics.yaml").read_text(encoding="utf-8")
    assert spec.splitlines()[0] == "# yaml-language-server: $schema=metricspec.schema.json"
    assert (target / "metricspec.schema.json").read_text(encoding="utf-8") == schema_json()
    settings = json.loads((target / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    (patterns,) = settings["yaml.schemas"].values()
    assert list(settings["yaml.schemas"]) == ["./metricspec.schema.json"] and "metrics.yaml" in patterns
    config = load_config(str(target / ".pre-commit-config.yaml"))
    (repo,) = config["repos"]
    assert repo["rev"] == f"v{metricspec.__version__}" and [h["id"] for h in repo["hooks"]] == ["metricspec-validate"]
    workflow = (target / ".github" / "workflows" / "metricspec.yml").read_text(encoding="utf-8")
    (step,) = [s for s in _workflow_steps(workflow) if str(s.get("uses", "")).startswith("metricspec/")]
    assert step["uses"] == f"metricspec/metricspec@v{metricspec.__version__}"
    assert set(step["with"]) <= set(action()["inputs"]) and step["with"]["paths"] == "metrics.yaml"
    import jsonschema
    from ruamel.yaml import YAML

    doc = json.loads(json.dumps(YAML(typ="safe", pure=True).load(spec), default=str))  # dates as the YAML's text
    jsonschema.validate(doc, json.loads(schema_json()))
    checked = CliRunner().invoke(main, ["validate", str(target), "--data"])
    assert checked.exit_code == 0, checked.output
    assert "1 of 1 spec(s) valid" in checked.output, "the workflow and pre-commit YAML are not specs"
    again = CliRunner().invoke(main, ["init", str(target)])
    assert again.exit_code == 2 and ".vscode" in again.output and "--force" in again.output


def test_init_inside_a_repository_writes_hook_and_workflow_at_its_root(tmp_path: Path) -> None:
    """Issue 25: inside an existing git repository, `.github/workflows` and `.pre-commit-config.yaml` in a
    sub-folder never run; they go to the repository's root, pointing at the spec from there."""
    from click.testing import CliRunner
    from pre_commit.clientlib import load_config

    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    result = CliRunner().invoke(main, ["init", str(repo / "team" / "metrics")])
    assert result.exit_code == 0, result.output
    project = repo / "team" / "metrics"
    assert (project / "metrics.yaml").is_file() and (project / "data" / "posts.csv").is_file()
    assert not (project / ".pre-commit-config.yaml").exists() and not (project / ".github").exists()
    (hook_repo,) = load_config(str(repo / ".pre-commit-config.yaml"))["repos"]
    assert hook_repo["rev"] == f"v{metricspec.__version__}"
    workflow = (repo / ".github" / "workflows" / "metricspec.yml").read_text(encoding="utf-8")
    (step,) = [s for s in _workflow_steps(workflow) if str(s.get("uses", "")).startswith("metricspec/")]
    assert step["with"]["paths"] == "team/metrics/metrics.yaml"
    assert "metricspec baseline update team/metrics/metrics.yaml" in workflow
    assert f"created {repo / '.pre-commit-config.yaml'}" in result.output

    # a repository that has its own pre-commit config keeps it; init says what to add
    (repo / ".github" / "workflows" / "metricspec.yml").unlink()
    (repo / ".pre-commit-config.yaml").write_text("repos: []\n", encoding="utf-8")
    again = CliRunner().invoke(main, ["init", str(repo / "other")])
    assert again.exit_code == 0, again.output
    assert (repo / ".pre-commit-config.yaml").read_text(encoding="utf-8") == "repos: []\n"
    assert f"note: {repo / '.pre-commit-config.yaml'} exists: add metricspec to it" in again.output
    assert "other/metrics.yaml" in again.output
    assert "paths: other/metrics.yaml" in (repo / ".github" / "workflows" / "metricspec.yml").read_text()
