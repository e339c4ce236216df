"""The KPI kinds registry: one module per kind, and what reads it.

Every kind is a model listed in :data:`metricspec.kinds.KINDS`; the spec's ``kpis:`` values are the
union of them, told apart by the key each carries. These tests check the registry's contract and the
errors a user gets when a KPI names no kind, two kinds, or a key of another kind.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from metricspec.errors import SpecError
from metricspec.kinds import BY_FORM, KINDS, AggregateKPI, KPIBase
from metricspec.loader import load_spec

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parent.parent / "specs" / "examples"


def test_every_kind_is_a_model_with_its_own_key() -> None:
    forms = [k.FORM for k in KINDS]
    assert len(forms) == len(set(forms)), forms
    for kind in KINDS:
        assert issubclass(kind, KPIBase) and kind is not KPIBase
        assert kind.FORM in kind.model_fields, f"{kind.__name__} has no `{kind.FORM}` key"
        assert kind.SUMMARY[0] and kind.SUMMARY[1] and kind.DOCS, kind.__name__
        assert kind.model_config.get("extra") == "forbid"
    assert BY_FORM["agg"] is AggregateKPI


def test_the_registry_holds_every_kind_under_its_own_key() -> None:
    """Kinds are imported on first use by key (``_MODULES``): each key names the class whose ``FORM`` it is,
    in its own module, and every kind class in the package is registered."""
    import importlib
    import pkgutil

    import metricspec.kinds as kinds

    assert list(BY_FORM) == list(kinds.FORMS) == [k.FORM for k in KINDS]
    for form in kinds.FORMS:
        assert form == kinds.kind_for(form).FORM and BY_FORM[form] is kinds.kind_for(form)
    with pytest.raises(KeyError):
        BY_FORM["ratoi"]
    defined = set()
    for info in pkgutil.walk_packages(kinds.__path__, "metricspec.kinds."):
        module = importlib.import_module(info.name)
        defined |= {c for c in vars(module).values() if isinstance(c, type) and issubclass(c, KPIBase)
                    and c is not KPIBase and c.__module__ == info.name}
    assert defined == set(KINDS), f"kinds not in metricspec/kinds/__init__.py's _MODULES: {defined - set(KINDS)}"


def _load(tmp_path: Path, kpis: str) -> SpecError:
    (tmp_path / "d.csv").write_text("t,x\n2026-01-01,1\n")
    (tmp_path / "s.yaml").write_text("name: s\nsources:\n  d: {connector: csv, options: {path: d.csv}, "
                                     "time_column: t}\nkpis:\n" + textwrap.indent(textwrap.dedent(kpis), "  "))
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "s.yaml")
    return info.value


@pytest.mark.parametrize(("kpis", "line", "message", "hint"), [
    ("a:\n  source: d\n  ratoi: {numerator: a, denominator: a}\n", 7, "unknown key 'ratoi'",
     "did you mean 'ratio'?"),
    ("a: {ratio: {numerator: b, denominator: b}, formula: b + 1}\nb: {source: d, agg: count}\n", 5,
     "a KPI has exactly one form, got ratio, formula", "split it into two KPIs"),
    ("a: {ratio: {numerator: b, denominator: b}, column: x}\nb: {source: d, agg: count}\n", 5,
     "column belongs to agg KPIs", "a ratio KPI reads other KPIs"),
    ("a: {title: Nothing}\n", 5, "a KPI needs one of: agg (with source), ratio, formula", "agg: count"),
    ("a: {source: d, agg: sum, colum: x}\n", 5, "unknown key 'colum'", "did you mean 'column'?"),
    ("a: {growth: b, segment: [x]}\nb: {source: d, agg: count}\n", 5, "unknown key 'segment'",
     "did you mean 'segments'?"),
    ("a: {moving_average: {kpi: b, windw: 3}}\nb: {source: d, agg: count}\n", 5, "unknown key 'windw'",
     "did you mean 'window'?"),
])
def test_a_kpi_of_no_kind_or_two_kinds_gets_a_clear_error(tmp_path: Path, kpis: str, line: int, message: str,
                                                          hint: str) -> None:
    issues = _load(tmp_path, kpis).issues()
    assert len(issues) == 1 or message.startswith("unknown key 'windw'"), [i.format() for i in issues]
    issue = next(i for i in issues if message in i.message)
    assert issue.where is not None and issue.where.line == line, issue.format()
    assert hint in (issue.hint or ""), issue.format()


def test_did_you_mean_reads_the_kpis_own_kind(tmp_path: Path) -> None:
    """A typo on a funnel is matched against the funnel's keys, not every kind's."""
    issues = _load(tmp_path, "a:\n  funnel: {steps: [], window_days: 3}\n  segmnts: [x]\n").issues()
    assert any(i.message == "unknown key 'segmnts'" and i.hint == "did you mean 'segments'?" for i in issues)


def test_kind_behaviour_is_declared_by_the_kind() -> None:
    from metricspec.kinds import CumulativeKPI, RatioKPI
    from metricspec.kinds.ratio import RatioSpec

    total = AggregateKPI(source="s", agg="sum", column="x")
    last = AggregateKPI(source="s", agg="last", column="x")
    assert (total.additive, total.default_measure, total.snapshot) == (True, "total", False)
    assert (last.additive, last.default_measure, last.snapshot) == (False, "latest", True)
    assert CumulativeKPI(cumulative="x").additive and CumulativeKPI(cumulative="x").default_measure == "latest"
    ratio = RatioKPI(ratio=RatioSpec(numerator="a", denominator="b"))
    assert [r.name for r in ratio.inputs()] == ["a", "b"] and not ratio.additive


def test_definition_fingerprints_of_the_examples_are_stable() -> None:
    """A KPI's fingerprint (what baselines record to detect a redefined KPI) did not change when the
    kinds were split into modules: every example KPI keeps the fingerprint it had before."""
    from metricspec.check.specdiff import kpi_fingerprint

    expected = json.loads((FIXTURES / "kpi_fingerprints.json").read_text(encoding="utf-8"))
    got = {}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        spec = load_spec(path).spec
        got.update({f"{path.name}:{name}": kpi_fingerprint(spec, name) for name in spec.kpis})
    missing = sorted(set(expected) - set(got))
    assert not missing, missing
    assert {k: got[k] for k in expected} == expected
