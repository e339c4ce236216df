"""The CLI end to end on the example specs and a scaffolded project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from metricspec.cli import main

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "specs" / "examples"
AS_OF = "2026-11-01"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_help_on_every_command():
    result = invoke("--help")
    assert result.exit_code == 0, result.output
    for name in main.commands:
        sub = invoke(name, "--help")
        assert sub.exit_code == 0, sub.output
        assert "Example" in sub.output, f"`{name} --help` shows no example"


def test_validate_examples():
    result = invoke("validate", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_validate_examples_with_data():
    result = invoke("validate", str(EXAMPLES), "--data")
    assert result.exit_code == 0, result.output


def test_init_then_run(tmp_path):
    target = tmp_path / "proj"
    result = invoke("init", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "metrics.yaml").exists()
    again = invoke("init", str(target))
    assert again.exit_code == 2 and "already exist" in again.output
    run = invoke("run", str(target / "metrics.yaml"), "--format", "json")
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)  # the summary line goes to stderr
    assert data["spec"]["name"] == "starter"
    assert {g["id"] for o in data["objectives"] for g in o["goals"]} == {"clicks_h1", "shares"}


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "table"])
def test_run_formats_are_deterministic(tmp_path, fmt):
    spec = str(EXAMPLES / "x_brand_awareness.yaml")
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        result = invoke("run", spec, "--as-of", AS_OF, "--format", fmt, "-o", str(out))
        assert result.exit_code == 0, result.output
    assert a.read_bytes() == b.read_bytes()


def test_run_all_examples_json():
    result = invoke("run", str(EXAMPLES), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    docs = json.loads(result.stdout)
    names = {d["spec"]["name"] for d in docs}
    assert {"x-brand-awareness", "trade-fair-campaign", "multi-network", "marketing-plan-2026", "customer-value",
            "facebook-cosmetics"} <= names
    for d in docs:
        for o in d["objectives"]:
            for g in o["goals"]:
                assert g["status"] != "no_data", (d["spec"]["name"], g["id"])


def test_bad_as_of_is_a_usage_error():
    result = invoke("run", str(EXAMPLES / "x_brand_awareness.yaml"), "--as-of", "yesterday-ish")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_missing_path():
    result = invoke("run", "no/such/spec.yaml")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_output_is_atomic_on_failure(tmp_path):
    out = tmp_path / "results.json"
    out.write_text("previous")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nkpiz: {}\n")
    result = invoke("run", str(bad), "-o", str(out))
    assert result.exit_code == 2
    assert out.read_text() == "previous"


def test_plugins_lists_builtin_and_first_party():
    result = invoke("plugins")
    assert result.exit_code == 0, result.output
    assert "csv" in result.output
    assert "x_analytics" in result.output and "shortlinks" in result.output


def test_polars_engine_choice_gives_identical_results(tmp_path, monkeypatch):
    """METRICSPEC_POLARS_ENGINE picks polars' engine; every engine gives byte-identical JSON."""
    outputs = {}
    for engine in ("in-memory", "streaming", "auto"):
        monkeypatch.setenv("METRICSPEC_POLARS_ENGINE", engine)
        out = tmp_path / f"{engine}.json"
        result = invoke("run", str(EXAMPLES), "--as-of", AS_OF, "--format", "json", "-o", str(out))
        assert result.exit_code == 0, result.output
        outputs[engine] = out.read_bytes()
    assert outputs["in-memory"] == outputs["streaming"] == outputs["auto"]


def test_unknown_polars_engine_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("METRICSPEC_POLARS_ENGINE", "gpu-please")
    result = invoke("run", str(EXAMPLES / "x_brand_awareness.yaml"), "--as-of", AS_OF)
    assert result.exit_code == 2
    assert "METRICSPEC_POLARS_ENGINE='gpu-please' is not a polars engine" in result.output
    assert "in-memory, streaming, auto" in result.output
    assert "Traceback" not in result.output


def test_csv_is_to_polars_then_the_goals(tmp_path: Path) -> None:
    """Issue 25: ``run --format csv`` had no spec column (two specs' rows were identical), no unit,
    currency or goals; its rows are now ``Results.to_polars()``'s, then one per goal (docs/python-api.md)."""
    import datetime as dt

    import polars as pl

    import metricspec
    from metricspec.render.csv import COLUMNS

    names = ["trade_fair_campaign.yaml", "x_brand_awareness.yaml"]
    out = tmp_path / "all.csv"
    result = CliRunner().invoke(main, ["run", *(str(EXAMPLES / n) for n in names), "--as-of", "2026-11-01",
                                       "--format", "csv", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out, try_parse_dates=True, infer_schema_length=None,
                        schema_overrides={"segment_value": pl.String, "label": pl.String})
    assert frame.columns == COLUMNS
    runs = [metricspec.evaluate(EXAMPLES / n, as_of=dt.date(2026, 11, 1)) for n in names]
    kpis = frame.filter(pl.col("kind") != "goal").select(runs[0].to_polars().columns)
    expected = pl.concat([r.to_polars() for r in runs])
    assert kpis.height == expected.height and kpis.columns == expected.columns
    for name in expected.columns:  # same values, as read back from text
        got, want = kpis[name].to_list(), expected[name].to_list()
        if name == "value":
            assert all((a is None and b is None) or abs(a - b) <= 1e-11 * max(1.0, abs(b)) for a, b in
                       zip(got, want, strict=True))
        else:
            assert [None if v == "" else v for v in got] == want, name
    goals = frame.filter(kind="goal")
    want_goals = pl.concat([r.goals_to_polars() for r in runs])
    assert goals["spec"].to_list() == want_goals["spec"].to_list()
    assert goals["goal"].to_list() == want_goals["goal"].to_list()
    assert goals["status"].to_list() == want_goals["status"].to_list()
    assert goals["target"].to_list() == want_goals["target"].to_list()
    assert set(frame["spec"]) == {r.spec.name for r in runs}
