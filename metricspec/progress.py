"""Progress of long commands (``build``, ``render``): library code reports, the CLI shows.

Library functions take an optional :class:`Progress` and call :meth:`~Progress.start` and
:meth:`~Progress.advance` per stage (``specs`` evaluated, ``pages`` built, ``charts`` drawn, ``files``
written) and :meth:`~Progress.count` for the summary's tallies (charts drawn, taken from the cache,
left to the browser). The base class only keeps the tallies; :class:`TerminalProgress` also draws
rich progress bars on a terminal (stderr), and the CLI prints :meth:`~Progress.summary` at the end.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

STAGES = {"specs": "evaluating specs", "pages": "building pages", "charts": "drawing charts",
          "files": "writing files"}


class Progress:
    """Tallies what a command did; shows nothing (the default for library callers and pipes)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.started = time.perf_counter()

    def start(self, stage: str, total: int | None = None) -> None:
        """A stage begins (``total`` steps, or unknown)."""

    def advance(self, stage: str, n: int = 1, text: str | None = None) -> None:
        """``n`` steps of ``stage`` are done (``text``: what is being done now)."""

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None


class TerminalProgress(Progress):
    """rich progress bars on stderr, one per stage; they disappear when the command ends."""

    def __init__(self, console: Console | None = None) -> None:
        super().__init__()
        from rich.console import Console  # start-up: rich only for bars on a terminal
        from rich.progress import (  # start-up: rich only for bars on a terminal
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar: RichProgress = Progress(TextColumn("{task.description:<18}"), BarColumn(),
                                           MofNCompleteColumn(), TextColumn("{task.fields[now]}"),
                                           TimeElapsedColumn(), console=console or Console(stderr=True),
                                           transient=True)
        self._tasks: dict[str, TaskID] = {}

    def start(self, stage: str, total: int | None = None) -> None:
        if stage in self._tasks:
            self._bar.update(self._tasks[stage], total=total, completed=0)
        else:
            self._tasks[stage] = self._bar.add_task(STAGES.get(stage, stage), total=total, now="")

    def advance(self, stage: str, n: int = 1, text: str | None = None) -> None:
        if stage not in self._tasks:
            self.start(stage)
        fields: dict[str, Any] = {"now": text} if text is not None else {}
        self._bar.update(self._tasks[stage], advance=n, **fields)

    def __enter__(self) -> TerminalProgress:
        self._bar.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._bar.stop()
