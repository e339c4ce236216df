"""Attribution from aggregated path data (``attribution: {paths: …}``, ChannelAttribution's input format).

* ChannelAttribution's published numbers on its own path data (``tests/fixtures/attribution``, made by
  ``scripts/make_attribution_fixtures.py``): heuristics exactly, Markov within the simulation tolerance;
* both routes agree: touchpoint rows attributed directly, and the same rows aggregated to paths in plain
  Python then attributed from the paths (every model that can work from paths), on random data and on
  hypothesis-generated data; credits add up to the conversions and the value;
* the spec: `paths:` runs end to end, time decay / lookback / both inputs are refused with file:line, bad
  counts are a clear data error.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_attribution import MARKOV_PRECISE, at, credits_of, frames

from metricspec.engine.attribution import AttributionResult, ModelConfig, attribute, attribute_paths

FIXTURES = Path(__file__).parent / "fixtures" / "attribution"
PATH_KINDS = ["first_touch", "last_touch", "linear", "position_based", "markov", "shapley"]
MODELS = [ModelConfig(kind=k) for k in PATH_KINDS] + [
    ModelConfig(kind="markov", order=2, name="markov2"),
    ModelConfig(kind="position_based", first_weight=0.3, last_weight=0.5, name="pb35")]


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def aggregate(touches: Sequence[tuple[Any, ...]], convs: Sequence[tuple[Any, ...]], drop: Sequence[str] = (),
              sep: str = " > ") -> pl.DataFrame:
    """Plain Python: the touchpoint journeys (no lookback) as one row per path, ChannelAttribution's columns.

    Per person, in time order (touches before a conversion at the same instant, then by channel): a
    conversion takes the touches since the previous conversion instant (several conversions at one
    instant: the first by value takes them, the others have an empty path); touches after the last
    conversion are one non-converting path.
    """
    by_person: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for person, time, channel, *_ in touches:
        if channel not in drop:
            by_person[person].append((time, channel))
    conv_by: dict[str, list[tuple[Any, float]]] = defaultdict(list)
    for person, time, value in convs:
        conv_by[person].append((time, value))
    rows: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0])
    for person in sorted(set(by_person) | set(conv_by)):
        pending = sorted(by_person.get(person, []))
        last_instant = None
        for time, value in sorted(conv_by.get(person, [])):
            if time == last_instant:
                path: list[str] = []
            else:
                path = [c for t, c in pending if t <= time]
                pending = [(t, c) for t, c in pending if t > time]
            last_instant = time
            row = rows[sep.join(path)]
            row[0] += 1
            row[1] += value
        if pending:
            rows[sep.join(c for _, c in pending)][2] += 1
    return pl.DataFrame([(p, int(c), v, int(n)) for p, (c, v, n) in sorted(rows.items())],
                        schema={"path": pl.String, "conversions": pl.Int64, "value": pl.Float64, "nulls": pl.Int64},
                        orient="row")


def assert_same(rows: AttributionResult, paths: AttributionResult) -> None:
    """Every number of the paths route equals the touchpoint route's (floating-point sums in another order)."""
    for key in ("total_conversions", "attributed_conversions", "unattributed_conversions", "non_converting_paths"):
        assert getattr(rows, key) == getattr(paths, key), key
    for key in ("total_value", "attributed_value", "unattributed_value"):
        assert close(getattr(rows, key), getattr(paths, key)), key
    assert [m.name for m in rows.models] == [m.name for m in paths.models]
    for m in rows.models:
        a, b = credits_of(rows, m.name), credits_of(paths, m.name)
        assert list(a) == list(b), m.name
        for ch in a:
            assert close(a[ch][0], b[ch][0]) and close(a[ch][1], b[ch][1]), (m.name, ch, a[ch], b[ch])
        pa = next(x for x in paths.models if x.name == m.name)
        assert (m.conversion_probability is None) == (pa.conversion_probability is None)
        if m.conversion_probability is not None:
            assert close(m.conversion_probability, pa.conversion_probability or 0.0)
    assert list(rows.removal_effects) == list(paths.removal_effects)
    for name, effects in rows.removal_effects.items():
        for e, f in zip(effects, paths.removal_effects[name], strict=True):
            assert e.channel == f.channel
            for k in ("removal_effect", "normalised", "removal_effect_value", "normalised_value"):
                assert close(getattr(e, k), getattr(f, k)), (name, e.channel, k)
    assert [(p.path, p.conversions, p.non_conversions) for p in rows.paths_summary] == \
        [(p.path, p.conversions, p.non_conversions) for p in paths.paths_summary]
    for p, q in zip(rows.paths_summary, paths.paths_summary, strict=True):
        assert close(p.value, q.value)
    jr = {(j.initial, tuple(j.intermediate), j.converting): (j.conversions, j.value) for j in rows.journey_paths}
    jp = {(j.initial, tuple(j.intermediate), j.converting): (j.conversions, j.value) for j in paths.journey_paths}
    assert jr.keys() == jp.keys()
    for k, (c, v) in jr.items():
        assert c == jp[k][0] and close(v, jp[k][1]), k


def random_data(seed: int, people: int, chans: list[str]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Several conversions per person, ties between touches and with conversions, repeated channels."""
    rng = random.Random(seed)
    touches, convs = [], []
    for i in range(people):
        person = f"p{i:04d}"
        for _ in range(rng.randint(0, 7)):
            touches.append((person, at(rng.randint(0, 30)), rng.choice(chans)))
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            convs.append((person, at(rng.randint(0, 32)), float(rng.randint(0, 90))))
    return touches, convs


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("drop_direct", [False, True])
def test_paths_equal_touchpoint_rows(seed: int, drop_direct: bool) -> None:
    touches, convs = random_data(seed, 300, ["x", "instagram", "linkedin", "email", "direct", "tiktok"])
    tp, cv = frames(touches, convs)
    rows = attribute(tp, cv, models=MODELS, lookback_days=None, drop_direct=drop_direct)
    paths = aggregate(touches, convs)  # drop_direct is applied by the paths route
    got = attribute_paths(paths, models=MODELS, drop_direct=drop_direct)
    assert rows.attributed_conversions > 0 and rows.non_converting_paths > 0
    assert_same(rows, got)


def test_paths_equal_touchpoint_rows_with_spend_and_other_separator() -> None:
    touches, convs = random_data(7, 200, ["x", "instagram", "email"])
    spend = pl.DataFrame({"channel": ["x", "email", "youtube"], "amount": [120.0, 30.0, 5.0]})
    tp, cv = frames(touches, convs)
    rows = attribute(tp, cv, models=MODELS, lookback_days=None, spend=spend)
    got = attribute_paths(aggregate(touches, convs, sep="|"), models=MODELS, separator="|", spend=spend)
    assert_same(rows, got)
    yt = next(c for c in credits_of(got, "linear").items() if c[0] == "youtube")
    assert yt[1] == (0.0, 0.0)  # a channel with spend and no touches still gets its row
    lin = next(m for m in got.models if m.name == "linear")
    x = next(c for c in lin.credits if c.channel == "x")
    assert x.spend == 120.0 and close(x.cac or 0.0, 120.0 / x.conversions)


def test_duplicate_paths_spaces_and_missing_numbers() -> None:
    """Equal paths in several rows add up; steps are stripped; missing counts are 0; no value: 1 each."""
    df = pl.DataFrame({"path": ["a > b", " a >b ", "b", None, "a > > b"], "conversions": [2, 1, None, 3, 1],
                       "nulls": [1, None, 4, 0, 0]})
    got = attribute_paths(df, models=[ModelConfig(kind="linear"), ModelConfig(kind="first_touch")])
    assert got.total_conversions == 7 and got.attributed_conversions == 4 and got.unattributed_conversions == 3
    assert got.non_converting_paths == 5
    assert got.total_value == 7.0 and got.attributed_value == 4.0
    assert credits_of(got, "linear") == {"a": (2.0, 2.0), "b": (2.0, 2.0)}
    assert credits_of(got, "first_touch") == {"a": (4.0, 4.0), "b": (0.0, 0.0)}
    assert got.journeys == []


def test_channelattribution_published_numbers() -> None:
    """ChannelAttribution's heuristic_models and markov_model results on its own (path) input."""
    reference = json.loads((FIXTURES / "reference.json").read_text())
    df = pl.read_csv(FIXTURES / "paths.csv").rename(
        {"total_conversions": "conversions", "total_conversion_value": "value", "total_null": "nulls"})
    res = attribute_paths(df, models=[ModelConfig(kind=k) for k in ("first_touch", "last_touch", "linear",
                                                                     "markov")])
    ref = {r["channel_name"]: r for r in reference["heuristic_models"]["result"]}
    for ours, theirs in (("first_touch", "first_touch"), ("last_touch", "last_touch"), ("linear", "linear_touch")):
        got = credits_of(res, ours)
        assert set(got) == set(ref)
        for ch, (conv, value) in got.items():
            assert close(conv, ref[ch][f"{theirs}_conversions"]), (ours, ch)
            assert close(value, ref[ch][f"{theirs}_value"]), (ours, ch)
    run = next(r for r in reference["markov_model"] if r["label"] == "precise")
    re_ref = {r["channel_name"]: r for r in run["removal_effects"]}
    res_ref = {r["channel_name"]: r for r in run["result"]}
    credit = credits_of(res, "markov")
    for e in res.removal_effects["markov"]:
        assert abs(e.removal_effect - re_ref[e.channel]["removal_effects_conversion"]) <= MARKOV_PRECISE["re_abs"]
        assert abs(e.removal_effect_value - re_ref[e.channel]["removal_effects_conversion_value"]) \
            <= MARKOV_PRECISE["re_abs"]
        assert close(credit[e.channel][0], res_ref[e.channel]["total_conversions"], rel=MARKOV_PRECISE["credit_rel"])
        assert close(credit[e.channel][1], res_ref[e.channel]["total_conversion_value"],
                     rel=MARKOV_PRECISE["credit_rel"])
    assert res.total_conversions == int(df["conversions"].sum())


def test_engine_refusals() -> None:
    df = pl.DataFrame({"path": ["a"], "conversions": [1.5]})
    with pytest.raises(ValueError, match="conversions must be whole numbers"):
        attribute_paths(df, models=[ModelConfig(kind="linear")])
    with pytest.raises(ValueError, match="whole numbers of at least 0; row 2 has -1"):
        attribute_paths(pl.DataFrame({"path": ["a", "b"], "conversions": [1, 0], "nulls": [0, -1]}),
                        models=[ModelConfig(kind="linear")])
    with pytest.raises(ValueError, match="time_decay needs the time"):
        attribute_paths(pl.DataFrame({"path": ["a"], "conversions": [1]}), models=[ModelConfig(kind="time_decay")])
    with pytest.raises(ValueError, match="value without conversions"):
        attribute_paths(pl.DataFrame({"path": ["a"], "conversions": [0], "value": [3.0], "nulls": [1]}),
                        models=[ModelConfig(kind="linear")])
    many = pl.DataFrame({"path": [" > ".join(f"c{i}" for i in range(16))], "conversions": [1]})
    with pytest.raises(ValueError, match="at most 15 channels"):
        attribute_paths(many, models=[ModelConfig(kind="shapley")])


CH = ["x", "ig", "email", "direct"]
touch_st = st.tuples(st.sampled_from(["p1", "p2", "p3"]), st.integers(0, 40).map(at), st.sampled_from(CH))
conv_st = st.tuples(st.sampled_from(["p1", "p2", "p3", "p4"]), st.integers(0, 40).map(at),
                    st.integers(0, 100).map(float))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(touch_st, max_size=25), st.lists(conv_st, max_size=8), st.booleans())
def test_property_paths_equal_rows_and_credits_add_up(touches: list[Any], convs: list[Any], drop: bool) -> None:
    tp, cv = frames(touches, convs)
    rows = attribute(tp, cv, models=MODELS, lookback_days=None, drop_direct=drop)
    got = attribute_paths(aggregate(touches, convs), models=MODELS, drop_direct=drop)
    assert_same(rows, got)
    for m in got.models:
        assert close(sum(c.conversions for c in m.credits), got.attributed_conversions), m.name
        assert close(sum(c.value for c in m.credits), got.attributed_value), m.name


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(CH), max_size=5), st.integers(0, 5), st.integers(0, 5),
                          st.integers(0, 50)), max_size=12))
def test_property_credits_sum_to_conversions_and_value(rows: list[tuple[list[str], int, int, int]]) -> None:
    df = pl.DataFrame([(" > ".join(p), c, float(v) if c else 0.0, n) for p, c, n, v in rows],
                      schema={"path": pl.String, "conversions": pl.Int64, "value": pl.Float64, "nulls": pl.Int64},
                      orient="row")
    got = attribute_paths(df, models=MODELS)
    assert got.total_conversions == sum(c for _, c, _, _ in rows)
    assert got.attributed_conversions == sum(c for p, c, _, _ in rows if p)
    assert close(got.attributed_value, sum(float(v) for p, c, _, v in rows if p and c))
    for m in got.models:
        assert close(sum(c.conversions for c in m.credits), got.attributed_conversions), m.name
        assert close(sum(c.value for c in m.credits), got.attributed_value), m.name
        if m.kind != "markov":
            assert all(c.conversions >= 0 for c in m.credits)


# ---------------------------------------------------------------- the spec


SPEC = """\
name: paths
sources:
  paths: {{connector: csv, options: {{path: paths.csv}}}}
  spend: {{connector: csv, options: {{path: spend.csv}}, columns: {{month: date}}}}
kpis:
  spend_total: {{source: spend, agg: sum, column: amount, grains: [month], time_column: month}}
attribution:
  title: From paths
{attribution}
"""
PATHS_BLOCK = """\
  paths: {source: paths, path: path, conversions: total_conversions, value: total_conversion_value,
          nulls: total_null, separator: " > "}
  spend: {source: spend, channel: channel, amount: amount}
"""


def write_spec(tmp_path: Path, attribution: str, paths_csv: str | None = None) -> Path:
    if paths_csv is None:
        paths_csv = (FIXTURES / "paths.csv").read_text()
    (tmp_path / "paths.csv").write_text(paths_csv)
    (tmp_path / "spend.csv").write_text("month,channel,amount\n2026-01-01,instagram,900\n2026-01-01,x,400\n")
    (tmp_path / "s.yaml").write_text(SPEC.format(attribution=attribution))
    return tmp_path / "s.yaml"


def test_spec_paths_run_end_to_end_and_render(tmp_path: Path) -> None:
    import datetime as dt

    from metricspec.engine.run import evaluate
    from metricspec.loader import load_spec
    from metricspec.render.html import render_scorecard as render_html

    loaded = load_spec(write_spec(tmp_path, PATHS_BLOCK))
    res = evaluate(loaded, as_of=dt.date(2026, 2, 1))
    att = res.attribution
    assert att is not None
    assert [m.name for m in att.models] == ["first_touch", "last_touch", "linear", "position_based",
                                            "markov"]  # the default models but time decay
    df = pl.read_csv(FIXTURES / "paths.csv").rename(
        {"total_conversions": "conversions", "total_conversion_value": "value", "total_null": "nulls"})
    spend = pl.DataFrame({"channel": ["instagram", "x"], "amount": [900.0, 400.0]})
    direct = attribute_paths(df, models=[ModelConfig(kind=k) for k in PATH_KINDS[:-1]], spend=spend)
    assert att.models == direct.models
    assert att.journeys == [] and att.journeys_total == 0 and att.lookback_days is None
    assert att.total_conversions == int(df["conversions"].sum())
    html = render_html(res)
    assert "From paths" in html and "instagram" in html
    again = evaluate(load_spec(tmp_path / "s.yaml"), as_of=dt.date(2026, 2, 1))
    assert again.to_json() == res.to_json() and render_html(again) == html


@pytest.mark.parametrize(("block", "line", "message"), [
    (PATHS_BLOCK + "  models: [linear, {kind: time_decay, half_life_days: 3}]\n", 8,
     "time_decay needs the time of each touch"),
    (PATHS_BLOCK + "  lookback_days: 14\n", 8, "`lookback_days` applies to touchpoint rows"),
    (PATHS_BLOCK + "  level: campaign\n", 8, "`level` applies to touchpoint rows"),
    (PATHS_BLOCK + "  conversions: {source: paths, person: p, time: t}\n", 8, "either `paths` or `touchpoints`"),
    ("  spend: {source: spend, channel: channel, amount: amount}\n", 8, "needs `touchpoints` and `conversions`"),
    ("  paths: {source: paths, path: path, conversions: total_conversions, separator: ''}\n", 9,
     "at least 1 character"),
    ("  paths: {source: paths, path: path, conversion: total_conversions}\n", 9, "unknown key 'conversion'"),
])
def test_spec_errors_have_file_line(tmp_path: Path, block: str, line: int, message: str) -> None:
    from metricspec.errors import SpecError
    from metricspec.loader import load_spec

    with pytest.raises(SpecError) as info:
        load_spec(write_spec(tmp_path, block))
    issues = info.value.issues()
    issue = next((i for i in issues if message in i.message), None)
    assert issue is not None, [i.format() for i in issues]
    assert issue.where is not None and issue.where.line == line, issue.format()


def test_spec_unknown_source_and_missing_column(tmp_path: Path) -> None:
    import datetime as dt

    from metricspec.engine.run import evaluate
    from metricspec.errors import MetricSpecError, SpecError
    from metricspec.loader import load_spec

    with pytest.raises(SpecError) as info:
        load_spec(write_spec(tmp_path, PATHS_BLOCK.replace("source: paths", "source: pahts")))
    assert any("pahts" in i.message and i.where is not None and i.where.line == 9 for i in info.value.issues())
    loaded = load_spec(write_spec(tmp_path, PATHS_BLOCK.replace("total_null", "total_nul")))
    with pytest.raises(MetricSpecError) as err:
        evaluate(loaded, as_of=dt.date(2026, 2, 1))
    assert "total_nul" in str(err.value)


@pytest.mark.parametrize(("csv", "message"), [
    ("path,total_conversions,total_conversion_value,total_null\na > b,1.5,3,0\n",
     "column 'total_conversions' must be whole numbers of at least 0; row 1 has 1.5"),
    ("path,total_conversions,total_conversion_value,total_null\na > b,1,3,0\nb,0,2,1\n",
     "column 'total_conversion_value' has a value on a path with 0 'total_conversions': row 2"),
])
def test_spec_bad_counts_are_a_data_error(tmp_path: Path, csv: str, message: str) -> None:
    import datetime as dt

    from metricspec.engine.run import evaluate
    from metricspec.errors import DataError
    from metricspec.loader import load_spec

    loaded = load_spec(write_spec(tmp_path, PATHS_BLOCK, csv))
    with pytest.raises(DataError) as err:
        evaluate(loaded, as_of=dt.date(2026, 2, 1))
    assert message in str(err.value) and "source 'paths'" in str(err.value)
