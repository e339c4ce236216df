"""The few read-only git operations the check needs (never changes the repository)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePosixPath

from metricspec.errors import UsageError


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("LC_ALL", "C")
    return env


def git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=_env(),
                              check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed", hint="install git, or run without --against") from None


def repo_root(path: Path) -> Path | None:
    """Top folder of the git working tree holding ``path`` (None outside a repository)."""
    start = path if path.is_dir() else path.parent
    start = start if str(start) else Path(".")
    if not start.exists():
        return None
    proc = git(["rev-parse", "--show-toplevel"], cwd=start)
    if proc.returncode != 0:
        return None
    return Path(proc.stdout.strip()).resolve()


def verify_ref(root: Path, ref: str) -> str:
    """The commit ``ref`` names; :class:`UsageError` (exit 2) if it does not exist."""
    if ref.startswith("-"):
        raise UsageError(f"'{ref}' is not a git revision", hint="pass a branch, tag or commit, e.g. origin/main")
    proc = git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=root)
    if proc.returncode != 0:
        raise UsageError(
            f"git revision '{ref}' not found in {root}",
            hint="fetch it first (in CI: `git fetch origin main` or checkout with fetch-depth: 0)",
        )
    return proc.stdout.strip()


def relative_to_root(root: Path, path: Path) -> PurePosixPath | None:
    try:
        return PurePosixPath(path.resolve().relative_to(root).as_posix())
    except ValueError:
        return None


def show_file(root: Path, ref: str, rel: PurePosixPath) -> str | None:
    """Text of ``rel`` (repository-relative) at ``ref``; None if it did not exist there."""
    proc = git(["show", f"{ref}:{rel.as_posix()}"], cwd=root)
    if proc.returncode != 0:
        return None
    return proc.stdout


def list_files(root: Path, ref: str, under: PurePosixPath) -> list[PurePosixPath]:
    """Files under a folder at ``ref``."""
    args = ["ls-tree", "-r", "--name-only", ref]
    if str(under) not in ("", "."):
        args += ["--", under.as_posix()]
    proc = git(args, cwd=root)
    if proc.returncode != 0:
        return []
    return [PurePosixPath(line) for line in proc.stdout.splitlines() if line]


def dirty_paths(root: Path, paths: list[Path]) -> list[str]:
    """Entries of ``git status --porcelain`` for these paths (modified, staged or untracked)."""
    rels = sorted({r.as_posix() for p in paths if (r := relative_to_root(root, p)) is not None})
    if not rels:
        return []
    proc = git(["status", "--porcelain", "--untracked-files=all", "--", *rels], cwd=root)
    if proc.returncode != 0:
        raise UsageError(f"git status failed: {proc.stderr.strip()}")
    return [line for line in proc.stdout.splitlines() if line.strip()]
