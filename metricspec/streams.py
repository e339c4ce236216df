"""What reaches stdout and stderr: secrets masked, and no workflow command smuggled in CI.

Every command runs inside :func:`guarded_output`, which puts a :class:`GuardedStream` in front of
``sys.stdout`` and ``sys.stderr``:

* every value taken from the environment is masked (:mod:`metricspec.envsecrets`);
* under GitHub Actions (``GITHUB_ACTIONS=true``) the runner obeys any line that starts, after
  blanks, with ``::`` (``::error file=…::``, ``::stop-commands::``, ``::add-mask::``) and any line
  holding ``##[``. Spec text (a title, a name, a value in an error message) holding a line break
  could print such a line. A line like that, which metricspec did not write as a command, is printed
  between ``::stop-commands::TOKEN`` and ``::TOKEN::`` with a random token, as GitHub documents
  for logging untrusted text: it shows in the log as it is and is not obeyed. metricspec's own
  annotations go through :func:`write_command`.

Lines are split at LF and CR, as the runner splits them. Child processes that write to the
descriptors themselves (Spark's JVM and its log lines) are started inside :func:`guarded_descriptor`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

from metricspec.envsecrets import mask

_BREAK = re.compile(r"\r\n|\r|\n")


def _obeyed(chunk: str) -> bool:
    """Whether the runner would read a workflow command in ``chunk`` (lines that start with ``::``
    after any blank, or hold ``##[``)."""
    return any(line.lstrip().startswith("::") or "##[" in line for line in _BREAK.split(chunk))


class GuardedStream:
    """A text stream that masks secrets and, in GitHub Actions, fences lines the runner would obey."""

    def __init__(self, raw: TextIO, *, github: bool) -> None:
        self.raw = raw
        self.github = github
        self._pending = ""

    # the stream others see
    @property
    def encoding(self) -> str:
        return str(getattr(self.raw, "encoding", "utf-8") or "utf-8")

    @property
    def errors(self) -> str | None:
        return getattr(self.raw, "errors", None)

    @property
    def name(self) -> Any:
        return getattr(self.raw, "name", "<guarded>")

    def isatty(self) -> bool:
        return bool(self.raw.isatty())

    def fileno(self) -> int:
        return self.raw.fileno()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._split(self._pending)
        if lines:
            self._emit("".join(lines))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Print what is pending; in GitHub Actions only whole lines (a line is obeyed as a whole)."""
        if self._pending and not self.github:
            self._emit(self._pending)
            self._pending = ""
        self.raw.flush()

    def close_guard(self) -> None:
        """Print the rest, even an unfinished line, and flush."""
        if self._pending:
            rest, self._pending = self._pending, ""
            self._emit(rest)
        self.raw.flush()

    def write_command(self, line: str) -> None:
        """Print a workflow command metricspec wrote itself (its values already escaped)."""
        if self._pending:
            rest, self._pending = self._pending, ""
            self._emit(rest + "\n")
        self.raw.write(mask(line) + "\n")
        self.raw.flush()

    # internals
    @staticmethod
    def _split(text: str) -> list[str]:
        """Whole lines (each with its break) and, last, what follows the last break."""
        out, start = [], 0
        for m in _BREAK.finditer(text):
            if m.group() == "\r" and m.end() == len(text):
                break  # perhaps the first half of CR LF: wait for more
            out.append(text[start:m.end()])
            start = m.end()
        out.append(text[start:])
        return out

    def _emit(self, chunk: str) -> None:
        chunk = mask(chunk)
        if self.github and _obeyed(chunk):
            token = secrets.token_hex(16)
            end = "" if chunk.endswith(("\n", "\r")) else "\n"
            chunk = f"::stop-commands::{token}\n{chunk}{end}::{token}::\n"
        self.raw.write(chunk)


@contextlib.contextmanager
def guarded_output() -> Iterator[None]:
    """Guard ``sys.stdout`` and ``sys.stderr`` for the block (nested blocks share the outer guard)."""
    if isinstance(sys.stdout, GuardedStream):
        yield
        return
    github = os.environ.get("GITHUB_ACTIONS") == "true"
    out, err = sys.stdout, sys.stderr
    guarded_out, guarded_err = GuardedStream(out, github=github), GuardedStream(err, github=github)
    sys.stdout, sys.stderr = guarded_out, guarded_err
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
        with contextlib.suppress(Exception):  # a closed pipe: nothing more can be printed
            guarded_out.close_guard()
        with contextlib.suppress(Exception):
            guarded_err.close_guard()


def write_command(line: str, *, err: bool = False) -> None:
    """Print one of metricspec's own workflow commands (an annotation) on stdout or stderr."""
    stream = sys.stderr if err else sys.stdout
    if isinstance(stream, GuardedStream):
        stream.write_command(line)
    else:
        stream.write(mask(line) + "\n")
        stream.flush()


@contextlib.contextmanager
def guarded_descriptor(fd: int = 2) -> Iterator[None]:
    """Child processes started inside the block write descriptor ``fd`` through a pipe that this
    process reads, masks and fences like :class:`GuardedStream`, for as long as they live: Spark's
    JVM logs its master URL (a host from ``${SPARK_HOST}``) straight to the descriptor."""
    read_end, write_end = os.pipe()
    saved = os.dup(fd)
    os.dup2(write_end, fd)
    os.close(write_end)
    github = os.environ.get("GITHUB_ACTIONS") == "true"
    target = GuardedStream(os.fdopen(saved, "w", encoding="utf-8", errors="replace", closefd=True), github=github)

    def pump() -> None:
        with os.fdopen(read_end, "r", encoding="utf-8", errors="replace", newline="") as source:
            for line in source:
                target.write(line)
                target.flush()
        target.close_guard()

    threading.Thread(target=pump, name=f"metricspec-guard-fd{fd}", daemon=True).start()
    restore = os.dup(saved)
    try:
        yield
    finally:
        os.dup2(restore, fd)  # this process writes to the real descriptor again; the children keep the pipe
        os.close(restore)
