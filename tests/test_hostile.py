"""The hostile-input corpus (tests/hostile/cases.yaml): each case gives its exit code and message,
names file:line where it says so, and never a traceback."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from metricspec.cli import main

HOSTILE = Path(__file__).parent / "hostile"
CASES: list[dict[str, Any]] = yaml.safe_load((HOSTILE / "cases.yaml").read_text(encoding="utf-8"))


def _id(case: dict[str, Any]) -> str:
    return f"{case.get('command', 'validate')}-{Path(case['spec']).stem}" + (f"-{case['id']}" if "id" in case else "")


def test_every_spec_in_the_corpus_has_a_case():
    used = {Path(c["spec"]).name for c in CASES}
    on_disk = {p.name for p in (HOSTILE / "specs").iterdir() if p.is_file()}
    assert on_disk <= used, f"corpus files without a case: {sorted(on_disk - used)}"
    assert len({_id(c) for c in CASES}) == len(CASES), "case ids must be unique"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_hostile_case(case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HOSTILE / "specs")
    monkeypatch.setenv("METRICSPEC_CHART_WORKERS", "1")
    out = tmp_path / "out"
    for name, text in case.get("files", {}).items():  # files the case needs beside its output
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    args = [str(a).replace("{out}", str(out)).replace("{tmp}", str(tmp_path)) for a in case.get("args", [])]
    command = case.get("command", "validate")
    result = CliRunner().invoke(main, [command, case["spec"], *args])
    output = result.output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == case["exit"], output
    for fragment in [case["expect"]] if isinstance(case["expect"], str) else case["expect"]:
        assert fragment in output, output
    if "at" in case:
        assert re.search(rf"{re.escape(case['at'])}\b", output), output
    if case["exit"] == 2:
        errors = [ln for ln in output.splitlines() if ": error: " in ln or ln.startswith("error: ")]
        assert errors, output


def test_markup_in_titles_and_data_is_escaped_on_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HOSTILE / "specs")
    monkeypatch.setenv("METRICSPEC_CHART_WORKERS", "1")
    out = tmp_path / "card.html"
    result = CliRunner().invoke(main, ["render", "svg_text_markup.yaml", "-o", str(out), "--as-of", "2026-03-01"])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "Learn javascript: demo sign-ups" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for raw in ("<script>alert(1)", "<img src=x", 'onerror="', 'href="javascript:'):
        assert raw not in page


def test_outputs_that_are_not_regular_files_are_written_in_place(tmp_path):
    """`-o /dev/null` once replaced the device with a file (the atomic write renames over the target):
    devices and named pipes are written in place, and a link to a file keeps pointing at it."""
    import os
    import stat
    import threading

    from metricspec.utils import atomic_write_text

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    atomic_write_text(fifo, "through the pipe")
    reader.join(timeout=10)
    assert got == [b"through the pipe"] and stat.S_ISFIFO(os.stat(fifo).st_mode)
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    before = os.stat("/dev/null")
    atomic_write_text("/dev/null", "discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and os.stat("/dev/null").st_ino == before.st_ino


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
@pytest.mark.parametrize("agg", ["min", "max"])
def test_min_or_max_of_a_date_is_refused_not_shown_as_days_since_1970(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      engine: str, agg: str) -> None:
    """The largest date is not a number: polars gave its days since 1970 as the KPI's value and the SQL
    backend crashed; both now stop with the column's place and the fix."""
    if engine == "duckdb":
        pytest.importorskip("duckdb")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text("day,shipped\n2026-01-05,2026-01-09\n2026-01-06,2026-01-12\n", encoding="utf-8")
    (tmp_path / "s.yaml").write_text(
        "name: s\nsources:\n  d: {connector: csv, options: {path: d.csv}, time_column: day, engine: " + engine + "}\n"
        f"kpis:\n  last_shipped: {{source: d, agg: {agg}, column: shipped}}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "s.yaml", "--as-of", "2026-01-31"])
    assert result.exit_code == 2, result.output
    assert "s.yaml:5" in result.output and "shipped" in result.output and "numeric" in result.output
    assert "Traceback" not in result.output


def _spec_with_includes(tmp_path: Path, includes: dict[str, list[str]]) -> Path:
    """``s.yaml`` including ``i0.yaml``; ``includes`` maps each file to the files it includes."""
    for name, targets in includes.items():
        (tmp_path / name).write_text(f"include: [{', '.join(targets)}]\n" if targets else "kpis: {}\n", encoding="utf-8")
    (tmp_path / "d.csv").write_text("day,n\n2026-01-05,1\n", encoding="utf-8")
    spec = tmp_path / "s.yaml"
    spec.write_text("name: s\ninclude: [i0.yaml]\nsources:\n  d: {connector: csv, options: {path: d.csv}, time_column: day}\n"
                    "kpis:\n  n: {source: d, agg: sum, column: n}\n", encoding="utf-8")
    return spec


def test_an_include_chain_1000_deep_is_refused_at_the_include_that_goes_too_deep(tmp_path: Path) -> None:
    """A RecursionError before; now the limit, at the include line of the 32nd file."""
    spec = _spec_with_includes(tmp_path, {f"i{k}.yaml": [f"i{k + 1}.yaml"] if k < 999 else [] for k in range(1000)})
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert re.search(r"i31\.yaml:1:\d+: error: includes are nested more than 32 files deep", result.output), result.output


def test_an_include_diamond_loads_each_file_once(tmp_path: Path) -> None:
    """2×24 files each including the next two: 2^24 paths, still running at 120 s before. Each file is
    merged once now, so a file two includes reach adds its KPIs once (no 'defined twice')."""
    import time

    files = {f"{side}{k}.yaml": [f"a{k + 1}.yaml", f"b{k + 1}.yaml"] if k < 23 else []
             for k in range(24) for side in "ab"}
    files["i0.yaml"] = ["a0.yaml", "b0.yaml"]
    spec = _spec_with_includes(tmp_path, files)
    (tmp_path / "a23.yaml").write_text("kpis:\n  rows: {source: d, agg: count}\n", encoding="utf-8")
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["run", str(spec), "--as-of", "2026-01-31", "--format", "json", "--quiet"])
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 30
    names = [k["name"] for k in __import__("json").loads(result.stdout)["kpis"]]
    assert sorted(names) == ["n", "rows"]


def test_charts_with_line_separators_and_control_characters_draw_in_the_browser(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The site embeds each chart's Vega-Lite spec for the browser: none holds a line break or a
    character XML cannot hold (U+2028 made the tooltip expression a parse error), and each draws."""
    import json

    vl_convert = pytest.importorskip("vl_convert")
    monkeypatch.chdir(HOSTILE / "specs")
    out = tmp_path / "site"
    result = CliRunner().invoke(main, ["build", "chart_text_breaks.yaml", "-o", str(out), "--as-of", "2026-03-01"])
    assert result.exit_code == 0, result.output
    blocks = [block for page in sorted(out.rglob("*.html")) for block in re.findall(
        r'<script type="application/json" data-chart-for="[^"]*">(.*?)</script>', page.read_text(encoding="utf-8"), re.S)]
    texts = []
    for block in blocks:
        embedded = json.loads(block)
        text = json.dumps(embedded["spec"], ensure_ascii=False)
        assert not re.search("[\u2028\u2029\x00\x1b\x85]|\\\\[nru]", text), text
        vl_convert.vegalite_to_svg(embedded["spec"])
        texts.append(text)
    assert any("Impressions (all) per month" in t for t in texts), texts


def test_outputs_refuse_inputs_through_links_and_the_baseline_update_target(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A hard link or a symbolic link to a data file is that file; `baseline update --baseline` over an
    included file would replace it."""
    import os

    monkeypatch.chdir(tmp_path)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "k.yaml").write_text("kpis:\n  rows: {source: d, agg: count}\n", encoding="utf-8")
    (tmp_path / "d.csv").write_text("day,n\n2026-01-05,1\n", encoding="utf-8")
    (tmp_path / "s.yaml").write_text("name: s\ninclude: [shared/k.yaml]\nsources:\n  d: {connector: csv, options: "
                                     "{path: d.csv}, time_column: day}\n", encoding="utf-8")
    os.link(tmp_path / "d.csv", tmp_path / "hard.csv")
    (tmp_path / "soft.csv").symlink_to(tmp_path / "d.csv")
    for name in ("hard.csv", "soft.csv"):
        result = CliRunner().invoke(main, ["run", "s.yaml", "-o", name, "--as-of", "2026-01-31"])
        assert result.exit_code == 2 and "is an input of this command" in result.output, result.output
    result = CliRunner().invoke(main, ["baseline", "update", "s.yaml", "--baseline", "shared/k.yaml", "--force"])
    assert result.exit_code == 2 and "is an input of this command" in result.output, result.output
    assert (tmp_path / "d.csv").read_text(encoding="utf-8") == "day,n\n2026-01-05,1\n"
    assert (tmp_path / "shared" / "k.yaml").read_text(encoding="utf-8").startswith("kpis:")


def test_build_keeps_the_files_it_did_not_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`build -o site` over an earlier site removed a CNAME (GitHub Pages) and a robots.txt the user had
    added. The site's marker now lists what the build wrote; everything else is kept, a file of the
    user's at a page's path is refused (replaced with --force), and a site of an earlier version
    (no manifest) is refused with the files that would go."""
    from metricspec.render.site_files import SITE_MARKER

    monkeypatch.chdir(HOSTILE / "specs")
    monkeypatch.setenv("METRICSPEC_CHART_WORKERS", "1")
    site = tmp_path / "site"

    def build(*extra: str) -> Any:
        return CliRunner().invoke(main, ["build", "future_row.yaml", "-o", str(site), "--as-of", "2026-03-01", *extra])

    assert build().exit_code == 0
    (site / "CNAME").write_text("metrics.example.com\n", encoding="utf-8")
    (site / "robots.txt").write_text("User-agent: *\n", encoding="utf-8")
    (site / "notes").mkdir()
    (site / "notes" / "a.md").write_text("mine", encoding="utf-8")
    stale = site / "scorecards" / "gone.html"  # a page an earlier build wrote and this one does not
    stale.write_text("old page", encoding="utf-8")
    marker = site / SITE_MARKER
    marker.write_text(marker.read_text(encoding="utf-8") + "scorecards/gone.html\n", encoding="utf-8")
    result = build()
    assert result.exit_code == 0, result.output
    assert (site / "CNAME").read_text(encoding="utf-8") == "metrics.example.com\n"
    assert (site / "robots.txt").exists() and (site / "notes" / "a.md").read_text(encoding="utf-8") == "mine"
    assert not stale.exists(), "pages the build wrote before are replaced, not kept"
    listed = marker.read_text(encoding="utf-8").splitlines()[1:]
    assert "index.html" in listed and "CNAME" not in listed and SITE_MARKER in listed
    # a file of the user's where the build writes a page
    marker.write_text("\n".join(ln for ln in marker.read_text(encoding="utf-8").splitlines() if ln != "index.html")
                      + "\n", encoding="utf-8")
    (site / "index.html").write_text("my own page", encoding="utf-8")
    refused = build()
    assert refused.exit_code == 2 and "index.html" in refused.output and "no metricspec build wrote" in refused.output
    assert (site / "index.html").read_text(encoding="utf-8") == "my own page"
    assert build("--force").exit_code == 0 and "<!DOCTYPE html>" in (site / "index.html").read_text(encoding="utf-8")
    assert (site / "CNAME").exists()
    # a site built before the manifest
    marker.write_text("A site written by metricspec build; the next build replaces it.\n", encoding="utf-8")
    legacy = build()
    assert legacy.exit_code == 2 and "CNAME" in legacy.output and "robots.txt" in legacy.output, legacy.output
    assert (site / "CNAME").exists()


@pytest.mark.parametrize("name", ["a.b", "x[0]", "back\\slash", 'q"uote', "it's", 'a["b"].c', "line\u2028sep", "nul\x00"])
def test_crafted_field_names_draw_in_vega(name: str) -> None:
    """A field name with dots, brackets, quotes or a backslash is an access path to Vega-Lite
    ("Access path missing closing quote"); escaped, it names the column, and the chart draws the same
    marks as with a plain name."""
    pytest.importorskip("vl_convert")
    from metricspec.render.chart_text import field_name
    from metricspec.render.charts import _draw_one, _spec, chart_key

    def drawn(column: str) -> str:
        spec = _spec({"data": {"values": [{column: 1, "p": "Jan"}, {column: 3, "p": "Feb"}]},
                      "mark": {"type": "line", "point": True},
                      "encoding": {"x": {"field": "p", "type": "ordinal"},
                                   "y": {"field": field_name(column), "type": "quantitative", "title": column},
                                   "tooltip": [{"field": field_name(column), "type": "quantitative", "title": column}]}})
        return _draw_one(chart_key(spec))

    plain = drawn("plain")
    crafted = drawn(name)
    assert crafted.count("<path") == plain.count("<path") and crafted.count("<circle") == plain.count("<circle")
