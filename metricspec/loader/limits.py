"""Limits on what a spec file may make the YAML loader do (issue 11: hostile input).

* :func:`decode` reads a file's bytes as UTF-8 text, or names the byte offset and line where it
  is not (UTF-16, NUL bytes, binary files).
* :class:`Budget` caps what loading may expand to: YAML aliases (``*name``) copy a value each
  time they are used, so a 398-byte file of nested aliases ("billion laughs") would expand to
  gigabytes.
* :func:`check_nesting` caps nesting from the parser's events before the document is composed
  (libyaml's composer recurses in C: 100,000 nested mappings crash the process).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from metricspec.errors import Issue, Level, Location, SpecError

MAX_FILE_BYTES = 10_000_000
"""Largest spec file read (10 MB)."""
MAX_ALIASES = 1_000
"""Most alias uses (``*name``, ``<<: *name``) one file may expand (the values an alias copies count
towards :data:`MAX_VALUES`, not here)."""
MAX_VALUES = 100_000
"""Most values (mappings, lists, scalars) a file may expand to, aliases included."""
MAX_CHARS = 10_000_000
"""Most characters of scalar text a file may expand to, aliases included."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists."""
MAX_INT_DIGITS = 400
"""Longest integer literal (digits); longer ones are not numbers a spec can mean."""

_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"),
         (b"\xfe\xff", "UTF-16"))


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, len(data[start:offset].decode("utf-8", errors="replace")) + 1


def _refuse(name: str, data: bytes, offset: int, problem: str, hint: str) -> SpecError:
    line, col = _line_col(data, offset)
    return SpecError([Issue(Level.ERROR, f"{problem} at byte {offset}", Location(name, line, col), hint)])


def decode(data: bytes, name: str) -> str:
    """The UTF-8 text of a spec file's bytes (a UTF-8 byte order mark is allowed)."""
    hint = "save the file as UTF-8 text"
    if len(data) > MAX_FILE_BYTES:
        raise SpecError([Issue(Level.ERROR, f"file is too large ({len(data):,} bytes; at most {MAX_FILE_BYTES:,})",
                               Location(name), "a spec is a small text file; split it with include:")])
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise _refuse(name, data, 0, f"file is {encoding} text, not UTF-8", hint)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(name, data, exc.start, "file is not UTF-8 text (invalid byte "
                      f"0x{data[exc.start]:02x})", hint + "; is it a binary file?") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _refuse(name, data, nul, "file contains a NUL byte", hint + "; is it a binary file?")
    return text


def check_nesting(yaml: Any, loader: Any, text: str, name: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` from the parser's event stream, before the
    document is composed: libyaml's composer recurses in C and crashes the process (a segmentation
    fault) on some 100,000 nested mappings. The event parser keeps its own stack, so this walk is safe."""
    depth = 0
    start = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    end = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, start):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise SpecError([Issue(Level.ERROR, f"mappings and lists are nested too deeply (more than {MAX_DEPTH} "
                                       "levels)", Location(name, mark.line + 1, mark.column + 1),
                                       "a spec needs only a few levels; flatten this value")])
        elif isinstance(event, end):
            depth -= 1


def check_expansion(root: Any, name: str) -> None:
    """Refuse a composed document whose aliases would expand past :data:`MAX_VALUES` values or
    :data:`MAX_CHARS` characters, or that uses more than :data:`MAX_ALIASES` aliases — computed on
    the node graph (each shared node sized once), so a billion-laughs file is refused at once."""
    size: dict[int, tuple[int, int]] = {}
    refs: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    on_path: set[int] = set()
    nodes: dict[int, Any] = {}
    culprit: Any = None
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            values, chars = 1, 0
            for child in _children(node):
                child_values, child_chars = size.get(id(child), (0, 0))  # (0, 0): a recursive alias
                values, chars = values + child_values, chars + child_chars
            size[key] = (min(values, MAX_VALUES + 1), min(chars, MAX_CHARS + 1))
            if culprit is None and (values > MAX_VALUES or chars > MAX_CHARS):
                culprit = node  # the innermost value that expands past a limit
            continue
        refs[key] = refs.get(key, 0) + 1
        nodes[key] = node
        if key in size or key in on_path:
            continue
        if node.id == "scalar":
            size[key] = (1, len(node.value))
            continue
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    values, chars = size.get(id(root), (0, 0))
    aliases = sum(n - 1 for n in refs.values())
    budget = Budget(name)
    if aliases > MAX_ALIASES:
        most = nodes[max(refs, key=lambda k: refs[k])]  # the anchored value aliased most
        raise budget._error(f"too many alias uses (more than {MAX_ALIASES:,} `*name` expansions)", most.start_mark,
                            "use fewer anchors and aliases; an alias copies its whole value each time")
    mark = getattr(culprit if culprit is not None else root, "start_mark", None)
    if values > MAX_VALUES:
        raise budget._error(f"the file expands to more than {MAX_VALUES:,} values", mark,
                            "aliases nested inside aliases multiply; write the values out or use fewer")
    if chars > MAX_CHARS:
        raise budget._error(f"the file expands to more than {MAX_CHARS:,} characters of text", mark,
                            "aliases nested inside aliases multiply; use fewer")


def _children(node: Any) -> list[Any]:
    if node.id == "sequence":
        return list(node.value)
    if node.id == "mapping":
        return [part for pair in node.value for part in pair]
    return []


@dataclass
class Budget:
    """Counts what walking one composed YAML document expands to; raises past the limits."""

    name: str
    aliases: int = 0
    values: int = 0
    chars: int = 0

    def _error(self, problem: str, mark: object, hint: str) -> SpecError:
        line = getattr(mark, "line", None)
        column = getattr(mark, "column", None)
        where = Location(self.name, line + 1, column + 1) if line is not None and column is not None \
            else Location(self.name)
        return SpecError([Issue(Level.ERROR, problem, where, hint)])

    def value(self, node: object, depth: int, *, alias: bool) -> None:
        """Account for one value about to be built (``alias``: a node already built once)."""
        mark = getattr(node, "start_mark", None)
        self.values += 1
        if alias:
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise self._error(f"too many alias uses (more than {MAX_ALIASES:,} `*name` expansions)", mark,
                                  "use fewer anchors and aliases; an alias copies its whole value each time")
        if self.values > MAX_VALUES:
            raise self._error(f"the file expands to more than {MAX_VALUES:,} values", mark,
                              "aliases nested inside aliases multiply; write the values out or use fewer")
        if depth > MAX_DEPTH:
            raise self._error(f"mappings and lists are nested too deeply (more than {MAX_DEPTH} levels)", mark,
                              "a spec needs only a few levels; flatten this value")
        text = getattr(node, "value", None)
        if isinstance(text, str):
            self.chars += len(text)
            if self.chars > MAX_CHARS:
                raise self._error(f"the file expands to more than {MAX_CHARS:,} characters of text", mark,
                                  "aliases nested inside aliases multiply; use fewer")

    def integer(self, text: str, node: object) -> None:
        digits = len(text.lstrip("+-"))
        if digits > MAX_INT_DIGITS:
            raise self._error(f"number has {digits:,} digits (at most {MAX_INT_DIGITS})",
                              getattr(node, "start_mark", None), "write a plain number such as 1200 or 0.05")
