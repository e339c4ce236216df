"""Terminal tables that fit the terminal without cutting what matters (issue 25: at 80 columns the
status and deadline cells were cut to ``achiev…`` and ``2026-0…``).

Each :class:`Column` is either *kept whole* (never wrapped or cut: statuses, dates, numbers) or
*wrapping* (titles, names: wrapped down to ``min_width``). When the table is wider than the terminal,
columns with a ``drop`` rank are left out, lowest rank first, until the kept columns fit; then rich
wraps the wrapping ones into the rest of the width.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

Justify = Literal["left", "right"]


@dataclass
class Column:
    header: str
    justify: Justify = "left"
    whole: bool = True  # never wrapped or cut
    min_width: int = 8  # a wrapping column's narrowest width
    drop: int | None = None  # left out (lowest first) when the table does not fit; None: always shown
    cells: list[Any] = field(default_factory=list)

    def natural(self) -> int:
        widths = [cell_len(c.plain if isinstance(c, Text) else str(c)) for c in self.cells]
        return max([cell_len(self.header), *widths])

    def narrowest(self) -> int:
        return self.natural() if self.whole else min(self.natural(), self.min_width)


def fitting(columns: list[Column], width: int | None, per_column: int, frame: int) -> list[Column]:
    """``columns`` without those dropped to fit ``width`` (``None``: all); ``per_column`` and ``frame``
    are the padding and borders the table adds."""
    shown = list(columns)
    if width is None:
        return shown
    for column in sorted((c for c in columns if c.drop is not None), key=lambda c: c.drop or 0):
        if sum(c.narrowest() + per_column for c in shown) + frame <= width:
            break
        shown.remove(column)
    return shown


def fitted_table(columns: list[Column], width: int | None, *, boxed: bool, **options: Any) -> Table:
    """A rich table of the columns that fit ``width`` (``boxed``: with borders)."""
    shown = fitting(columns, width, per_column=3 if boxed else 2, frame=1 if boxed else 0)
    if not boxed:
        options.setdefault("box", None)
        options.setdefault("padding", (0, 1))
    table = Table(**options)
    for c in shown:
        if c.whole:
            table.add_column(c.header, justify=c.justify, no_wrap=True, min_width=c.natural())
        else:
            table.add_column(c.header, justify=c.justify, min_width=c.narrowest(), overflow="fold")
    rows = len(columns[0].cells) if columns else 0
    for i in range(rows):
        table.add_row(*(c.cells[i] for c in shown))
    return table
