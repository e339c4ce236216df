"""A throwaway PostgreSQL cluster for tests: ``initdb`` in a temporary directory, started on a free port.

The server runs as the ``postgres`` user when the tests run as root (PostgreSQL refuses root), listens on
127.0.0.1 only and is stopped (and its directory removed) when the context ends. Tests skip, with the
reason, when the server binaries are missing (``.ci/run`` installs the Debian package ``postgresql``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PASSWORD = "s3cret-pw"
USER = "metricspec"


def _bin(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield ``user:password@127.0.0.1:port/postgres`` of a running server."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    # not pytest's tmp_path: its parents are private to the current user, and the server may run as 'postgres'
    root = Path(tempfile.mkdtemp(prefix="metricspec-pg-"))
    try:
        yield from _serve(root, initdb, pg_ctl)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _serve(root: Path, initdb: str, pg_ctl: str) -> Iterator[str]:
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the 'postgres' user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        for p in (root, sockets, pwfile):
            os.chown(p, user.pw_uid, user.pw_gid)
        os.chmod(root, 0o755)
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser")
        prefix = [runuser, "-u", "postgres", "--"]
    port = _free_port()
    run = lambda *cmd: subprocess.run([*prefix, *cmd], check=True, capture_output=True, text=True)  # noqa: E731
    run(initdb, "-D", str(data), "-U", USER, "--pwfile", str(pwfile), "-A", "scram-sha-256",
        "--no-sync", "-E", "UTF8", "--locale", "C")
    run(pg_ctl, "-D", str(data), "-w", "-t", "60", "-l", str(root / "log"), "-o",
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        yield f"{USER}:{PASSWORD}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
