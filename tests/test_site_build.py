"""Site builds: charts drawn by the browser from embedded Vega-Lite (the default), or drawn as static SVG
in one batch (``static_charts``): valid Vega-Lite, the same bytes from worker processes as from one
process, cached on disk across builds, clear errors when drawing fails."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import OrderedDict
from pathlib import Path

import pytest

from metricspec.errors import UsageError
from metricspec.render import chart_cache, chart_processes, charts

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
AS_OF = dt.date(2026, 11, 1)
STUB_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><g id="x"></g></svg>'


@pytest.fixture(scope="module")
def example_results():
    from metricspec.cli.runner import run_specs

    return run_specs([EXAMPLES], as_of=AS_OF).results


@pytest.fixture
def fresh_cache(monkeypatch):
    """Nothing drawn yet in this process (other tests fill the cache), and no disk cache."""
    monkeypatch.setattr(charts, "_drawn", OrderedDict())
    monkeypatch.setenv(chart_cache.CACHE_VARIABLE, "off")


def chart_keys(results, tmp_path, monkeypatch, lang: str = "en") -> list[charts.Key]:
    """Every chart a site build asks for, in order (drawn as stubs: vl-convert is not run)."""
    from metricspec.render.site import build_site

    asked: list[charts.Key] = []

    def stub_draw(keys, workers=None, progress=None):
        keys = list(keys)
        asked.extend(keys)
        return dict.fromkeys(keys, STUB_SVG)

    with monkeypatch.context() as m:
        m.setattr(charts, "draw", stub_draw)
        build_site(results, tmp_path / f"site-{lang}", lang, static_charts=True)
    return asked


def test_every_example_chart_is_valid_vega_lite(example_results, tmp_path, monkeypatch):
    """Charts are written as plain dicts without altair's validation: validate them all against its schema."""
    import altair as alt
    import jsonschema
    from altair.vegalite.v6.schema import load_schema

    schema = load_schema()  # the Vega-Lite schema altair validates with (one validator: altair's own is slow)
    validator = jsonschema.validators.validator_for(schema)(schema)
    specs = {spec for spec, _ in chart_keys(example_results, tmp_path, monkeypatch)}
    assert len(specs) > 300  # every example spec, every kind of chart
    kinds = set()
    for spec_json in sorted(specs):
        spec = json.loads(spec_json)
        assert spec["$schema"] == alt.SCHEMA_URL, "charts declare the Vega-Lite version they are validated with"
        validator.validate(spec)  # raises on the first invalid chart
        kinds.update(layer["mark"]["type"] for layer in spec.get("layer", [spec]))
    # lines with their points, rules (targets), bars, the band (rect) and label (text) of unfinished periods;
    # sparklines are inline SVG, not Vega-Lite
    assert kinds == {"line", "rule", "point", "rect", "text", "bar"}

    broken = json.loads(min(specs))
    broken["layer" if "layer" in broken else "encoding"] = "nonsense"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


def test_charts_are_drawn_once_per_build(example_results, tmp_path, monkeypatch):
    calls = []
    real_draw = charts.draw
    monkeypatch.setattr(charts, "draw", lambda keys, workers=None, progress=None:
                        calls.append(1) or real_draw(keys, workers, progress))
    monkeypatch.setattr(charts, "_draw_one", lambda key: STUB_SVG)
    monkeypatch.setattr(charts, "_drawn", OrderedDict())
    monkeypatch.setenv(chart_processes.WORKERS_VARIABLE, "1")
    monkeypatch.setenv(chart_cache.CACHE_VARIABLE, "off")
    from metricspec.render.site import build_site

    build_site(example_results, tmp_path / "site", "en", static_charts=True)
    assert len(calls) == 1, "one batch for the whole site"
    pages = list((tmp_path / "site").rglob("*.html"))
    assert all('id="x"' not in p.read_text() for p in pages), "every chart has its own id prefix"


def test_worker_processes_build_the_same_site(example_results, tmp_path, monkeypatch, fresh_cache):
    from metricspec.render.site import build_site

    small = [r for r in example_results if r.spec.name == min(r.spec.name for r in example_results)]
    keys = set(chart_keys(small, tmp_path, monkeypatch))
    assert chart_processes.chart_workers(len(keys), 2) == 2, "enough charts for two worker processes"

    build_site(small, tmp_path / "parallel", "en", chart_workers=2, static_charts=True)
    monkeypatch.setattr(charts, "_drawn", OrderedDict())
    build_site(small, tmp_path / "sequential", "en", chart_workers=1, static_charts=True)
    files = sorted(p.relative_to(tmp_path / "parallel") for p in (tmp_path / "parallel").rglob("*.html"))
    assert files
    for rel in files:
        assert (tmp_path / "parallel" / rel).read_bytes() == (tmp_path / "sequential" / rel).read_bytes(), rel


def test_a_chart_vl_convert_cannot_draw_is_named(fresh_cache):
    good = [charts.sparkline(f"s{i}", "t", "d", [1.0, float(i)]).key for i in range(40)]
    bad = (json.dumps({"mark": "bogus", "title": "Broken chart"}), json.dumps("en-GB"))
    with pytest.raises(charts.ChartDrawError, match="Broken chart"):
        charts.draw([bad], workers=1)
    with pytest.raises(charts.ChartDrawError, match="Broken chart"):
        charts.draw([*good, bad], workers=2)


def _die(key: charts.Key) -> str:
    """A worker that crashes (imported by name in the spawned worker process)."""
    os._exit(3)


def test_a_dying_worker_is_an_error_not_a_hang(fresh_cache, monkeypatch):
    monkeypatch.setattr(charts, "_draw_one", _die)
    keys = [charts.sparkline(f"s{i}", "t", "d", [1.0, float(i)]).key for i in range(40)]
    with pytest.raises(charts.ChartDrawError, match="stopped unexpectedly") as err:
        charts.draw(keys, workers=2)
    assert chart_processes.WORKERS_VARIABLE in str(err.value)


def test_how_many_workers(monkeypatch):
    monkeypatch.delenv(chart_processes.WORKERS_VARIABLE, raising=False)
    per = chart_processes.MIN_CHARTS_PER_WORKER
    assert chart_processes.chart_workers(per - 1, 8) == 1  # a few charts: no pool
    assert chart_processes.chart_workers(3 * per, 8) == 3
    assert chart_processes.chart_workers(100 * per, 2) == 2
    assert chart_processes.chart_workers(100 * per) == 1, "the library starts no worker processes unless asked"
    assert chart_processes.auto_workers() == max(1, chart_processes._cpu_count()), "the command line asks for one per CPU"
    monkeypatch.setenv(chart_processes.WORKERS_VARIABLE, "3")
    assert chart_processes.chart_workers(100 * per) == 3 and chart_processes.auto_workers() == 3
    monkeypatch.setenv(chart_processes.WORKERS_VARIABLE, "1")
    assert chart_processes.chart_workers(100 * per) == 1
    monkeypatch.setenv(chart_processes.WORKERS_VARIABLE, "two")
    with pytest.raises(UsageError, match=chart_processes.WORKERS_VARIABLE):
        chart_processes.chart_workers(100 * per)


def test_python_m_metricspec_is_safe_for_spawned_workers():
    """Spawned chart workers import the main module as ``__mp_main__``: under ``python -m metricspec``
    that must not run the CLI again (it would start a build in every worker)."""
    import subprocess
    import sys

    code = "import runpy; runpy.run_module('metricspec', run_name='__mp_main__'); print('imported')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported"


SCRIPT_FROM_STDIN = """
import sys
from pathlib import Path

import metricspec
from metricspec.render import chart_processes
from metricspec.render.html import render_scorecard
from metricspec.render.site import build_site

results = metricspec.evaluate(Path(sys.argv[1]), as_of="2026-11-01")
html = render_scorecard(results)
asked = chart_processes.chart_workers(1000, 2)  # asked for two, but a spawned worker could not re-run <stdin>
files = build_site([results], Path(sys.argv[2]), chart_workers=2)
print(asked, int(html.startswith("<!DOCTYPE html>")), len(files))
"""


def test_a_script_from_stdin_can_render_and_build(tmp_path):
    """``python - <<EOF``: no worker processes unless asked, and none that would die when asked."""
    import subprocess
    import sys

    spec = EXAMPLES / "trade_fair_campaign.yaml"
    env = {k: v for k, v in os.environ.items() if k != chart_processes.WORKERS_VARIABLE}
    done = subprocess.run([sys.executable, "-", str(spec), str(tmp_path / "site")], input=SCRIPT_FROM_STDIN,
                          capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    asked, is_page, files = done.stdout.split()
    assert asked == "1" and is_page == "1" and int(files) > 5
    assert "Traceback" not in done.stderr
    assert (tmp_path / "site" / "index.html").exists()
