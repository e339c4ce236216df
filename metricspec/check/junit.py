"""JUnit XML for CI systems other than GitHub (GitLab, Jenkins, Azure, CircleCI, ...).

One ``<testsuite>`` per spec; in it one ``<testcase>`` per goal (classname
``metricspec.<spec>.<objective>``), one per spec-regression finding (classname
``metricspec.<spec>.spec``) and one per other results finding that is not about a
current goal (KPIs, control groups, removed goals). Failing findings become
``<failure>``; warnings and info go to ``<system-out>``. Valid against the common
Jenkins/Ant ``junit-10.xsd``. ``metricspec validate --junit`` writes the same layout with one
test case per spec file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from metricspec.check.findings import CheckReport, Finding, SpecCheck, sort_findings
from metricspec.envsecrets import mask
from metricspec.utils import atomic_write_text

if TYPE_CHECKING:
    from metricspec.validation.report import ValidationReport

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("", text)


def _case(suite: ET.Element, classname: str, name: str, findings: list[Finding], report: CheckReport,
          *, extra_out: list[str] | None = None) -> int:
    case = ET.SubElement(suite, "testcase", {"classname": _clean(classname), "name": _clean(name), "time": "0"})
    failed = 0
    out = list(extra_out or [])
    for f in findings:
        if report.fails(f):
            failed = 1
            el = ET.SubElement(case, "failure", {"message": _clean(f.message), "type": f.rule})
            el.text = _clean(_detail(f))
        else:
            out.append(f"{f.severity}: {f.message}" + (f" [{f.where}]" if f.where else ""))
    if out:
        ET.SubElement(case, "system-out").text = _clean("\n".join(out))
    return failed


def _v(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "none" if value is None else str(value)


def _detail(f: Finding) -> str:
    lines = [f.message]
    if f.where:
        lines.append(f"at {f.where}")
    if f.old is not None or f.new is not None:
        lines.append(f"old: {_v(f.old)}")
        lines.append(f"new: {_v(f.new)}")
    return "\n".join(lines)


def _suite(root: ET.Element, spec: SpecCheck, report: CheckReport) -> tuple[int, int]:
    suite = ET.SubElement(root, "testsuite", {"name": spec.name, "tests": "0", "failures": "0", "errors": "0",
                                              "skipped": "0", "time": "0"})
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "path", "value": spec.path})
    if spec.as_of:
        ET.SubElement(props, "property", {"name": "as_of", "value": spec.as_of})
    if report.baseline:
        ET.SubElement(props, "property", {"name": "baseline", "value": report.baseline})
    if spec.compared_with_ref:
        ET.SubElement(props, "property", {"name": "against", "value": spec.compared_with_ref})
    findings = sort_findings(spec.findings)
    goal_keys = {g.key for g in spec.goals}
    tests = failures = 0
    for g in spec.goals:
        objective = g.key.split("/", 1)[0]
        mine = [f for f in findings if f.category == "results" and f.goal == g.key]
        status = [f"status {g.status}: current {_v(g.current)}, target {_v(g.target)}" + (f" [{g.where}]" if g.where else "")]
        failures += _case(suite, f"metricspec.{spec.name}.{objective}", g.key.split("/", 1)[-1], mine, report,
                          extra_out=status)
        tests += 1
    for f in findings:
        if f.category == "results" and f.goal in goal_keys:
            continue
        group = "spec" if f.category == "spec" else "results"
        failures += _case(suite, f"metricspec.{spec.name}.{group}", f"{f.rule}: {f.subject}", [f], report)
        tests += 1
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    return tests, failures


def _document(root: ET.Element, tests: int, failures: int) -> str:
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def junit_xml(report: CheckReport) -> str:
    root = ET.Element("testsuites", {"name": "metricspec check"})
    tests = failures = 0
    for spec in report.specs:
        t, f = _suite(root, spec, report)
        tests += t
        failures += f
    return _document(root, tests, failures)


def write_junit(path: str | Path, report: CheckReport) -> None:
    atomic_write_text(path, mask(junit_xml(report)))


# ----------------------------------------------------------------- metricspec validate


def validation_junit_xml(report: ValidationReport) -> str:
    """``metricspec validate --junit``: one suite, one test case per spec file (or missing path);
    errors (and warnings under ``--strict``) are ``<failure>``s, other warnings go to ``<system-out>``."""
    root = ET.Element("testsuites", {"name": "metricspec validate"})
    suite = ET.SubElement(root, "testsuite", {"name": "metricspec validate", "tests": "0", "failures": "0",
                                              "errors": "0", "skipped": "0", "time": "0"})
    failures = 0
    for checked in report.files:
        case = ET.SubElement(suite, "testcase", {"classname": "metricspec.validate", "name": _clean(checked.path),
                                                 "time": "0"})
        failing = [i for i in checked.issues if report.fails(i)]
        for issue in failing:
            ET.SubElement(case, "failure", {"message": _clean(issue.message), "type": issue.level.value}
                          ).text = _clean(issue.format())
        rest = [i.format() for i in checked.issues if not report.fails(i)]
        if rest:
            ET.SubElement(case, "system-out").text = _clean("\n".join(rest))
        failures += 1 if failing else 0
    suite.set("tests", str(len(report.files)))
    suite.set("failures", str(failures))
    return _document(root, len(report.files), failures)


def write_validation_junit(path: str | Path, report: ValidationReport) -> None:
    """Write the report; values taken from the environment are masked in its messages as on the terminal."""
    atomic_write_text(path, mask(validation_junit_xml(report)))
