"""A release a user can install (issue 25): the wheel and sdist hold everything, the wheel runs in a
clean environment outside the checkout, the release workflow publishes only the tag of the version,
``metricspec init`` pins a revision that exists, and the unrelated ``metricspec`` distribution is
detected."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

import metricspec
import metricspec.version
from metricspec.install_check import conflicts

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from release_check import problems  # noqa: E402  (scripts/ is not a package)

# ------------------------------------------------------------------------- the release workflow


def release_root(tmp_path: Path, version: str, changelog: str) -> Path:
    root = tmp_path / "repo"
    (root / "metricspec").mkdir(parents=True)
    (root / "pyproject.toml").write_text(f'[project]\nname = "metricspec-cli"\nversion = "{version}"\n')
    (root / "metricspec" / "version.py").write_text(f'__version__ = "{version}"\n')
    (root / "CHANGELOG.md").write_text(changelog)
    return root


def test_release_check(tmp_path: Path) -> None:
    dated = "# Changelog\n\n## [Unreleased]\n\n## [1.2.0] - 2027-01-15\n\n### Added\n- x\n"
    assert problems("v1.2.0", release_root(tmp_path / "a", "1.2.0", dated)) == []
    assert any("is not v1.2.0" in p for p in problems("v1.2.1", release_root(tmp_path / "b", "1.2.0", dated)))
    undated = dated.replace("- 2027-01-15", "- unreleased")
    assert any("no dated section" in p for p in problems("v1.2.0", release_root(tmp_path / "c", "1.2.0", undated)))
    dev = problems("v1.3.0.dev0", release_root(tmp_path / "d", "1.3.0.dev0", dated))
    assert any("not a release version" in p for p in dev) and any("no dated section" in p for p in dev)
    # the repository itself: its version has a changelog section (dated when it is released)
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(metricspec.__version__)}\] - ", text, re.M)
    assert problems(f"v{metricspec.__version__}") in ([], [f"CHANGELOG.md has no dated section "
                                                           f"'## [{metricspec.__version__}] - YYYY-MM-DD'"])


def test_release_workflow_builds_checks_and_publishes_by_trusted_publishing() -> None:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    trigger = doc[True] if True in doc else doc["on"]  # PyYAML reads the key `on` as true
    assert trigger == {"push": {"tags": ["v*"]}}
    build, publish = doc["jobs"]["build"], doc["jobs"]["publish"]
    scripts = "\n".join(s.get("run", "") for s in build["steps"])
    assert 'scripts/release_check.py "$TAG"' in scripts
    assert "python -m build --outdir dist ." in scripts and "twine check --strict dist/*" in scripts
    assert 'metricspec" init smoke' in scripts and 'metricspec" run smoke/metrics.yaml' in scripts
    assert publish["needs"] == "build" and publish["permissions"] == {"id-token": "write"}
    (upload,) = [s for s in publish["steps"] if str(s.get("uses", "")).startswith("pypa/gh-action-pypi-publish@")]
    assert not {"password", "user"} & set(upload.get("with", {})), "trusted publishing: no token"
    assert doc["permissions"] == {"contents": "read"}


# ------------------------------------------------------------------ the revision `init` pins


def test_a_release_pins_its_tag_and_a_development_version_its_commit(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from metricspec.cli import main
    from metricspec.scaffold import pinned_ref

    assert pinned_ref("1.4.2") == "v1.4.2"
    assert pinned_ref("1.5.0.dev3", tmp_path) == "main"  # not a git checkout: no commit to name
    git = shutil.which("git")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True) if git else None
    if head is None or head.returncode != 0:
        pytest.skip("not a git checkout")
    commit = head.stdout.strip()
    assert pinned_ref("1.5.0.dev3") == commit
    monkeypatch.setattr(metricspec.version, "__version__", "1.5.0.dev3")  # where the package's modules read it
    result = CliRunner().invoke(main, ["init", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert f"rev: {commit}" in (tmp_path / "p" / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    workflow = (tmp_path / "p" / ".github" / "workflows" / "metricspec.yml").read_text(encoding="utf-8")
    assert f"metricspec/metricspec@{commit}" in workflow


# ------------------------------------------------------------ the unrelated `metricspec` project


def test_conflicts_finds_the_unrelated_distribution_only(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    for name in ("metricspec", "metricspec_cli-0.1.0.dist-info", "metricspec_x_analytics-0.1.0.dist-info",
                 "metricspec_shortlinks-0.1.0.dist-info"):
        (site / name).mkdir(parents=True)
    assert conflicts(site / "metricspec") == []
    (site / "metricspec-2.3.1.dist-info").mkdir()
    assert conflicts(site / "metricspec") == [("2.3.1", site / "metricspec-2.3.1.dist-info")]


def test_import_and_version_say_when_the_unrelated_project_is_installed(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    shutil.copytree(ROOT / "metricspec", site / "metricspec", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONWARNINGS": "default"}
    clean = subprocess.run([sys.executable, "-m", "metricspec", "--version"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0 and clean.stderr == "", clean.stderr
    (site / "metricspec-2.3.1.dist-info").mkdir()
    imported = subprocess.run([sys.executable, "-c", "import metricspec; print(metricspec.__file__)"], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=120)
    assert imported.stdout.strip() == str(site / "metricspec" / "__init__.py")
    version = subprocess.run([sys.executable, "-m", "metricspec", "--version"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
    assert version.stdout.strip() == f"metricspec, version {metricspec.__version__}"
    for done in (imported, version):
        assert "MetricSpecInstallWarning: the unrelated distribution 'metricspec' 2.3.1 is installed" in done.stderr
        assert "pip uninstall -y metricspec metricspec-cli && pip install metricspec-cli" in done.stderr


# ------------------------------------------------------------------------ wheel and sdist


def packaged_files() -> set[str]:
    """Every file of the package in the checkout (git's list when there is one), without bytecode."""
    listed = subprocess.run(["git", "ls-files", "metricspec"], cwd=ROOT, capture_output=True, text=True) \
        if shutil.which("git") else None
    if listed is not None and listed.returncode == 0 and listed.stdout.strip():
        names = set(listed.stdout.split())
    else:
        names = {p.relative_to(ROOT).as_posix() for p in (ROOT / "metricspec").rglob("*") if p.is_file()}
    return {n for n in names if "__pycache__" not in n and not n.endswith(".pyc") and (ROOT / n).is_file()}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("src") / "metricspec"  # a copy: the build writes *.egg-info beside it
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "*.egg-info", "__pycache__", "build", "dist",
                                                                "site", ".hypothesis", ".*_cache", ".benchmarks"))
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(source)], capture_output=True,
                          text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def test_wheel_and_sdist_hold_everything(dist: Path) -> None:
    (wheel,) = dist.glob("metricspec_cli-*.whl")
    (sdist,) = dist.glob("metricspec_cli-*.tar.gz")
    wanted = packaged_files()
    assert {"metricspec/render/assets/charts.js", "metricspec/schema/metricspec.schema.json",
            "metricspec/render/locales/pl.json", "metricspec/render/templates/scorecard.html",
            "metricspec/scaffold/files/data/posts.csv", "metricspec/py.typed"} <= wanted
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    assert wanted <= in_wheel, f"missing from the wheel: {sorted(wanted - in_wheel)}"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in in_wheel)
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        in_sdist = {n.removeprefix(top + "/") for n in tar.getnames()}
    assert wanted | {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= in_sdist, \
        f"missing from the sdist: {sorted(wanted - in_sdist)}"
    if shutil.which("twine") or _has("twine"):
        checked = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
                                 capture_output=True, text=True, timeout=300)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_the_wheel_runs_in_a_clean_venv_outside_the_checkout(dist: Path, tmp_path: Path) -> None:
    """The wheel installed into a new venv (no checkout on any path, the working folder elsewhere):
    ``init`` makes a project that ``run``, ``render`` and ``build`` evaluate. The dependencies are the
    tests' own, seen as plain folders (no ``.pth`` of theirs runs, so an editable metricspec stays out),
    so that nothing is downloaded."""
    import venv

    (wheel,) = dist.glob("metricspec_cli-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    own_site = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"],
                              capture_output=True, text=True, check=True).stdout.strip()
    deps = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and os.path.isdir(p)]
    farms = []
    for i, folder in enumerate(deps):  # the dependencies without any metricspec (package, metadata, plugins)
        farm = tmp_path / f"deps-{i}"
        farm.mkdir()
        for entry in Path(folder).iterdir():
            if not entry.name.lower().replace("-", "_").startswith(("metricspec", "__editable__")):
                (farm / entry.name).symlink_to(entry)
        farms.append(str(farm))
    (Path(own_site) / "zz-test-dependencies.pth").write_text("".join(f"{d}\n" for d in farms))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "METRICSPEC_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    work = tmp_path / "elsewhere"
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=work, env=env, capture_output=True, text=True, timeout=600)

    installed = run(str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel))
    assert installed.returncode == 0, installed.stderr
    where = run(str(python), "-c", "import sys, metricspec; print(metricspec.__file__); print('\\n'.join(sys.path))")
    first, *path = where.stdout.splitlines()
    assert Path(first).is_relative_to(env_dir), first
    assert not any(p and Path(p).resolve().is_relative_to(ROOT) for p in path), "the checkout is on sys.path"
    metricspec_cmd = str(env_dir / "bin" / "metricspec")
    for args in (["init", "proj"], ["run", "proj/metrics.yaml", "--as-of", "2026-05-31"],
                 ["render", "proj/metrics.yaml", "-o", "card.html", "--lang", "pl"],
                 ["build", "proj", "-o", "site"], ["validate", "proj", "--data"]):
        done = run(metricspec_cmd, *args)
        assert done.returncode == 0, f"metricspec {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        assert "warning" not in done.stderr.lower() and "Traceback" not in done.stderr, done.stderr
    assert "6,000 link clicks" in run(metricspec_cmd, "run", "proj/metrics.yaml").stdout
    page = (work / "card.html").read_text(encoding="utf-8")
    assert 'lang="pl"' in page and ("<svg" in page or "vega" in page)
    assert any((work / "site").rglob("*.js")), "the site has its chart scripts"
    schema = run(metricspec_cmd, "schema")
    assert schema.stdout == (ROOT / "metricspec" / "schema" / "metricspec.schema.json").read_text(encoding="utf-8")
