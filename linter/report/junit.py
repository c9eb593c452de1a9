"""`--format junit`: JUnit XML, shaped for GitLab's unit test report (and Jenkins, Azure, ...).

One test case per finding, not per file, because of how GitLab reads the report:
- GitLab shows a test case's `classname` as its suite and `name` as the test, and shows only the
  text of one `<failure>` per case: a case per file would hide every finding but the first.
- A merge request compares test cases between the base and head pipelines by classname and
  name, listing "new failures" and "fixed". So the classname is the file and the name says what
  the finding is about without its line ("IMG002 latest-tag: Deployment prod/web, container
  app"): a finding that merely moved lines is not reported as fixed-and-new. GitLab drops
  duplicate names, so a repeat gets " #2".
Findings at or above `fail-on` are `<failure>`s; those below it do not fail the gate, so they
are passing cases that carry the finding in `<system-out>`. Input errors are `<error>` cases.
A clean run has one passing case, so the widget reads "0 failed of 1" rather than "no tests".

The XML is built with xml.etree (which escapes &, <, > and quotes), pure ASCII (other characters
as character references), and free of characters XML 1.0 forbids, whatever a manifest holds.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from imglint.findings import Finding, InputError
from imglint.report import Report
from imglint.report.common import finding_context, message_with_context, printable, summary_line

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from typing import TextIO


def render(report: Report, out: TextIO, *, color: bool = False, statistics: bool = False) -> None:
    out.write(to_xml(report))


def to_xml(report: Report) -> str:
    cases: list[ET.Element] = []
    names: dict[tuple[str, str], int] = {}
    failures = errors = 0

    def new_case(classname: str, name: str, path: str) -> ET.Element:
        key = (classname, name)
        names[key] = names.get(key, 0) + 1
        if names[key] > 1:
            name = f"{name} #{names[key]}"
        case = ET.Element("testcase", {"classname": _attr(classname), "name": _attr(name)})
        case.set("file", _attr(path))
        cases.append(case)
        return case

    for f in report.findings:
        case = new_case(f.path, _case_name(f), f.path)
        if f.severity >= report.fail_on:
            failures += 1
            failure = ET.SubElement(
                case, "failure", {"type": f.code, "message": _attr(message_with_context(f))}
            )
            failure.text = _text(_details(f, report))
        else:
            ET.SubElement(case, "system-out").text = _text(_details(f, report))

    for e in report.errors:
        errors += 1
        case = new_case(e.path, "input error", e.path)
        error = ET.SubElement(case, "error", {"type": "input-error", "message": _attr(e.message)})
        error.text = _text(_error_line(e))

    if not cases:
        case = ET.Element("testcase", {"classname": "imglint", "name": "all checks passed"})
        ET.SubElement(case, "system-out").text = _text(summary_line(report))
        cases.append(case)

    counts = {
        "tests": str(len(cases)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
    }
    root = ET.Element("testsuites", {"name": "imglint", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": "imglint", **counts})
    suite.extend(cases)
    suite_out = [printable(n) for n in report.notices]
    suite_out.extend(f"{u.path}:{u.line}: {u.message}" for u in report.unused_suppressions or ())
    if report.registry_summary:
        suite_out.append(f"registry: {report.registry_summary}")
    suite_out.append(summary_line(report))
    ET.SubElement(suite, "system-out").text = _text("\n".join(suite_out))
    ET.indent(root, space="  ")
    body: bytes = ET.tostring(root, encoding="us-ascii", xml_declaration=False)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body.decode("ascii") + "\n"


def _case_name(f: Finding) -> str:
    about = finding_context(f) or f.image or f"line {f.span.line}"
    return f"{f.code} {f.name}: {about}"


def _details(f: Finding, report: Report) -> str:
    lines = [
        f"{f.path}:{f.span.line}:{f.span.column}: {f.code} [{f.severity.label}] "
        + message_with_context(f)
    ]
    if f.image is not None:
        lines.append(f"image: {f.image}")
    rule = report.rule_for(f.code)
    if rule is not None and rule.summary:
        lines.append(f"{rule.code} {rule.name}: {rule.summary}")
    return "\n".join(lines)


def _error_line(e: InputError) -> str:
    return str(e)


def _attr(text: str) -> str:
    # Attribute values are one line: newlines and tabs become visible escapes, so they survive
    # attribute-value normalization the same way on every parser and Python version.
    return printable(text)


def _text(text: str) -> str:
    return printable(text.replace("\r\n", "\n").replace("\r", "\n"), keep="\n")
