"""Limits of the YAML loader (metricspec/loader/limits.py): alias expansion, values, text, nesting,
integer digits and encodings are refused with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from metricspec.errors import SpecError
from metricspec.loader.limits import MAX_ALIASES, MAX_CHARS, MAX_DEPTH, MAX_VALUES, decode
from metricspec.loader.reading import read_yaml


def _error(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "s.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(SpecError) as info:
        read_yaml(path)
    return str(info.value)


def test_values_cap_with_few_aliases(tmp_path: Path) -> None:
    big = "[" + ", ".join(["1"] * 1000) + "]"
    text = f"a: &a {big}\nb: [" + ", ".join(["*a"] * 150) + "]\n"
    assert f"expands to more than {MAX_VALUES:,} values" in _error(tmp_path, text)


def test_text_cap_with_few_aliases(tmp_path: Path) -> None:
    text = f"a: &a '{'x' * 100_000}'\nb: [" + ", ".join(["*a"] * 150) + "]\n"
    assert f"more than {MAX_CHARS:,} characters" in _error(tmp_path, text)


def test_alias_count_cap(tmp_path: Path) -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    message = _error(tmp_path, text)
    assert "too many alias uses" in message and "s.yaml:1:4" in message  # the anchored value


def test_ordinary_aliases_still_load(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("base: &b {connector: csv}\nx: {<<: *b, y: 1}\nz: [*b, *b]\n")
    value, _ = read_yaml(path)
    assert value["x"] == {"y": 1, "connector": "csv"} and value["z"] == [{"connector": "csv"}] * 2
    # a 30-key base merged into 200 mappings: 200 alias uses (its copied keys are values, not aliases)
    base = "{" + ", ".join(f"k{i}: {i}" for i in range(30)) + "}"
    path.write_text(f"base: &b {base}\n" + "".join(f"m{i}: {{<<: *b, own: {i}}}\n" for i in range(200)))
    value, _ = read_yaml(path)
    assert value["m199"]["k29"] == 29 and value["m199"]["own"] == 199


def test_nesting_cap(tmp_path: Path) -> None:
    ok = tmp_path / "ok.yaml"
    ok.write_text("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n")
    read_yaml(ok)
    assert "nested too deeply" in _error(tmp_path, "a: " + "{b: " * 100_000 + "1" + "}" * 100_000 + "\n")


@pytest.mark.parametrize("parser", ["libyaml", "pure-python", "libyaml-0.2.6"])
def test_nesting_message_is_metricspec_s_whichever_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           parser: str) -> None:
    """The contract (issue 25): too deep nesting is refused with metricspec's message and the place of the
    65th level, not with the words of whichever PyYAML/libyaml is installed. libyaml 0.2.6 (PyYAML 6.0.4)
    stops while scanning ahead ("exceeded maximum nesting depth"); that refusal is simulated here."""
    import yaml

    import metricspec.loader.reading as loader

    c_loader = getattr(yaml, "CSafeLoader", None)
    if parser != "pure-python" and c_loader is None:
        pytest.skip("PyYAML without libyaml")
    if parser == "pure-python":
        monkeypatch.setattr(loader, "_yaml", lambda: (yaml, yaml.SafeLoader))
    if parser == "libyaml-0.2.6":
        real_parse = yaml.parse

        def parse(text: str, Loader: type) -> object:
            if Loader is c_loader:
                mark = yaml.Mark("<unicode string>", 0, 1, 1005, None, None)
                raise yaml.scanner.ScannerError("while increasing flow level", mark,
                                                "exceeded maximum nesting depth", mark)
            return real_parse(text, Loader=Loader)

        monkeypatch.setattr(yaml, "parse", parse)
    message = _error(tmp_path, "name: x\ntags: " + "[" * 1000 + "]" * 1000 + "\n")
    assert f"s.yaml:2:{6 + MAX_DEPTH}: error: mappings and lists are nested too deeply (more than {MAX_DEPTH} " \
           "levels)" in message, message
    assert "exceeded" not in message


def test_integer_digits(tmp_path: Path) -> None:
    assert "number has 5,000 digits" in _error(tmp_path, "a: " + "9" * 5000 + "\n")
    path = tmp_path / "ok.yaml"
    path.write_text("a: " + "9" * 300 + "\n")
    assert read_yaml(path)[0]["a"] == int("9" * 300)


@pytest.mark.parametrize(("data", "fragment", "where"), [
    ("name: x\n".encode("utf-16-le"), "NUL byte at byte 1", "f.yaml:1:2"),  # UTF-16 without a BOM
    ("name: x\n".encode("utf-16"), "UTF-16 text", "f.yaml:1:1"),
    ("name: x\n".encode("utf-32"), "UTF-32 text", "f.yaml:1:1"),
    (b"name: x\ntitle: caf\xe9\n", "invalid byte 0xe9) at byte 18", "f.yaml:2:11"),
    (b"name: x\n\n  \x00", "NUL byte at byte 11", "f.yaml:3:3"),
])
def test_encodings(data: bytes, fragment: str, where: str) -> None:
    with pytest.raises(SpecError) as info:
        decode(data, "f.yaml")
    assert fragment in str(info.value) and where in str(info.value), str(info.value)


def test_utf8_with_bom_is_fine() -> None:
    assert decode("\ufeffname: é\n".encode(), "f.yaml") == "name: é\n"
