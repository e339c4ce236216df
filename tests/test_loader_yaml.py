"""read_yaml: values, positions, quoting, timestamps, duplicates, aliases and syntax errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from metricspec.errors import Location, SpecError
from metricspec.loader.reading import read_yaml

# columns counted by hand, 1-based
SPEC = (
    "name: demo\n"                 # 1
    "kpis:\n"                      # 2
    "  posts:\n"                   # 3
    '    source: "posts"\n'        # 4
    "    segments: [a, 'b']\n"     # 5
    "    items:\n"                 # 6
    "      - 1\n"                  # 7
    "      - x: 2\n"               # 8
    "start: 2026-04-20\n"          # 9
    "at: 2026-04-20 10:00:00\n"    # 10
    "flags: [true, null, 1.5, ~]\n"  # 11
)


def _write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _pos(loc: Location) -> tuple[int | None, int | None]:
    return loc.line, loc.column


def test_values(tmp_path: Path) -> None:
    value, _ = read_yaml(_write(tmp_path, SPEC))
    assert value == {
        "name": "demo",
        "kpis": {"posts": {"source": "posts", "segments": ["a", "b"], "items": [1, {"x": 2}]}},
        "start": "2026-04-20",
        "at": "2026-04-20 10:00:00",
        "flags": [True, None, 1.5, None],
    }
    assert type(value["kpis"]["posts"]["items"][0]) is int
    assert type(value["flags"][0]) is bool


def test_positions_of_keys_values_and_items(tmp_path: Path) -> None:
    p = _write(tmp_path, SPEC)
    _, pos = read_yaml(p)
    assert pos.values[()].file.endswith("spec.yaml")
    keys = {k: _pos(v) for k, v in pos.keys.items()}
    values = {k: _pos(v) for k, v in pos.values.items()}
    assert keys == {
        ("name",): (1, 1),
        ("kpis",): (2, 1),
        ("kpis", "posts"): (3, 3),
        ("kpis", "posts", "source"): (4, 5),
        ("kpis", "posts", "segments"): (5, 5),
        ("kpis", "posts", "items"): (6, 5),
        ("kpis", "posts", "items", 1, "x"): (8, 9),
        ("start",): (9, 1),
        ("at",): (10, 1),
        ("flags",): (11, 1),
    }
    assert values == {
        (): (1, 1),
        ("name",): (1, 7),
        ("kpis",): (3, 3),
        ("kpis", "posts"): (4, 5),
        ("kpis", "posts", "source"): (4, 13),
        ("kpis", "posts", "segments"): (5, 15),
        ("kpis", "posts", "segments", 0): (5, 16),
        ("kpis", "posts", "segments", 1): (5, 19),
        ("kpis", "posts", "items"): (7, 7),
        ("kpis", "posts", "items", 0): (7, 9),
        ("kpis", "posts", "items", 1): (8, 9),
        ("kpis", "posts", "items", 1, "x"): (8, 12),
        ("start",): (9, 8),
        ("at",): (10, 5),
        ("flags",): (11, 8),
        ("flags", 0): (11, 9),
        ("flags", 1): (11, 15),
        ("flags", 2): (11, 21),
        ("flags", 3): (11, 26),
    }
    assert all(loc.file == pos.values[()].file for loc in pos.values.values())
    assert pos.where(("kpis", "posts", "source", "nope")) == pos.values[("kpis", "posts", "source")]


def test_quoted(tmp_path: Path) -> None:
    _, pos = read_yaml(_write(tmp_path, SPEC + "n: '12'\nm: \"x\"\nplain: 12\nblock: |\n  text\n"))
    assert pos.quoted == {
        ("kpis", "posts", "source"),
        ("kpis", "posts", "segments", 1),
        ("n",),
        ("m",),
    }


def test_timestamps_stay_text_and_keys_are_str(tmp_path: Path) -> None:
    value, _ = read_yaml(_write(tmp_path, "2026-01-01: a\n1: b\nd: [2026-01-01, 2026-01-01T10:00:00Z]\nbad: 2026-13-45\n"))
    assert value == {"2026-01-01": "a", "1": "b", "d": ["2026-01-01", "2026-01-01T10:00:00Z"], "bad": "2026-13-45"}


@pytest.mark.parametrize(
    ("text", "key", "line", "column"),
    [
        ("a: 1\nb: 2\na: 3\n", "a", 3, 1),
        ("k:\n  x: 1\n  y: {p: 1, p: 2}\n", "p", 3, 13),
        ("k:\n  x: 1\n  'x': 2\n", "x", 3, 3),
    ],
)
def test_duplicate_keys(tmp_path: Path, text: str, key: str, line: int, column: int) -> None:
    with pytest.raises(SpecError) as info:
        read_yaml(_write(tmp_path, text))
    (issue,) = info.value.issues()
    assert issue.message == f"YAML syntax error: found duplicate key '{key}'"
    assert _pos(issue.where) == (line, column)
    assert issue.hint == "each key may appear once in a mapping; remove or rename one"


def test_aliases_and_merge_keys(tmp_path: Path) -> None:
    text = (
        "base: &base {source: posts, agg: sum}\n"       # 1
        "extra: &extra {agg: count, unit: count}\n"     # 2
        "kpis:\n"                                       # 3
        "  a: *base\n"                                  # 4
        "  b:\n"                                        # 5
        "    <<: *base\n"                               # 6
        "    column: clicks\n"                          # 7
        "  c:\n"                                        # 8
        "    <<: [*base, *extra]\n"                     # 9
        "    agg: max\n"                                # 10
        "names: [&n posts, *n]\n"                       # 11
    )
    value, pos = read_yaml(_write(tmp_path, text))
    assert value["kpis"] == {
        "a": {"source": "posts", "agg": "sum"},
        "b": {"column": "clicks", "source": "posts", "agg": "sum"},
        "c": {"agg": "max", "source": "posts", "unit": "count"},
    }
    assert value["names"] == ["posts", "posts"]
    # an alias is a separate copy, not the same object
    value["kpis"]["a"]["agg"] = "changed"
    assert value["base"]["agg"] == "sum"
    assert _pos(pos.values[("kpis", "a")]) == (1, 7)  # the anchored node
    assert _pos(pos.keys[("kpis", "b", "column")]) == (7, 5)
    assert _pos(pos.where(("kpis", "b", "source"), key=True)) == (5, 3)  # merged: falls back to the parent
    assert "<<" not in value["kpis"]["b"]


def test_bad_merge_and_recursive_alias(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="merge key"):
        read_yaml(_write(tmp_path, "a:\n  <<: 5\n"))
    with pytest.raises(SpecError, match="recursive alias"):
        read_yaml(_write(tmp_path, "a: &a [1, *a]\n"))


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("name: x\nkpis:\n\tposts: {}\n", 3, 1, "found character '\\t' that cannot start any token"),
        ("a:\n  b: 1\n c: 2\n", 3, 2, "expected <block end>"),
        ("a: b: c\n", 1, 5, "mapping values are not allowed here"),
        ("a: [1, 2\n", 2, 1, "expected ',' or ']'"),
        ("a: *nope\n", 1, 4, "found undefined alias 'nope'"),
    ],
)
def test_syntax_errors(tmp_path: Path, text: str, line: int, column: int, words: str) -> None:
    with pytest.raises(SpecError) as info:
        read_yaml(_write(tmp_path, text))
    (issue,) = info.value.issues()
    assert issue.message.startswith("YAML syntax error: ")
    assert words in issue.message
    assert _pos(issue.where) == (line, column)
    assert issue.hint


def test_empty_and_scalar_documents(tmp_path: Path) -> None:
    assert read_yaml(_write(tmp_path, "# nothing\n"))[0] is None
    assert read_yaml(_write(tmp_path, ""))[0] is None
    assert read_yaml(_write(tmp_path, "- 1\n- two\n"))[0] == [1, "two"]


def test_ruamel_not_imported() -> None:
    code = (
        "import sys, pathlib, tempfile\n"
        "from metricspec.loader.reading import read_yaml\n"
        "p = pathlib.Path(tempfile.mkdtemp()) / 's.yaml'\n"
        "p.write_text('a: [1, 2]\\n')\n"
        "assert read_yaml(p)[0] == {'a': [1, 2]}\n"
        "print(sorted(m for m in sys.modules if m.startswith('ruamel')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plain_scalars_follow_the_yaml_1_2_core_schema(tmp_path):
    """`no` (Norway), `on`, `012` and `1:30` stay text; `1e3` is a number; dates stay text."""
    p = tmp_path / "core.yaml"
    p.write_text("a: no\nb: on\nc: 012\nd: 1e3\ne: true\nf: 2026-01-01\ng: ~\nh: 1:30\ni: 'yes'\nj: -5\n"
                 "k: 0.5\nl: 0x1F\nm: [1, x, null]\nn:\n")
    value, _ = read_yaml(p)
    assert value == {"a": "no", "b": "on", "c": 12, "d": 1000.0, "e": True, "f": "2026-01-01", "g": None,
                     "h": "1:30", "i": "yes", "j": -5, "k": 0.5, "l": 31, "m": [1, "x", None], "n": None}
