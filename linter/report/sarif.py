"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning (and any other SARIF viewer).

What GitHub code scanning reads, and how this file provides it:
- `tool.driver.rules[]`: id (the code), name, shortDescription (the summary line),
  fullDescription ("What it does"; both capped at GitHub's 1024 characters), help text and
  markdown (the whole rule doc), `helpUri` (the rule's section of docs/rules.md, at this
  version's tag), the default level; shown at the top of an alert. `properties.tags` become
  the alert's tags (filterable). A rule tagged `security` also has `security-severity` (the
  rules whose findings are supply-chain risks, `Rule.security_severity`): GitHub files those
  alerts as security alerts, with a critical/high/medium/low severity from that score, and
  ignores the score on any rule not tagged `security`.
- `results[]`: ruleId + ruleIndex, level, message, and one location whose `artifactLocation.uri`
  is relative to the repository root (uriBaseId `%SRCROOT%`, as CodeQL writes it): GitHub
  resolves relative URIs against the checkout, so run imglint from the repository root.
- `partialFingerprints`: GitHub matches alerts across runs with them. `imglint/v1` hashes the
  file, rule and object/container (never the line), so an alert survives lines moving above it;
  upload-sarif adds its own line-content hash `primaryLocationLineHash` beside it.
- Columns count Unicode code points (`columnKind`), end columns are exclusive, as in SARIF.
- Input errors become `invocations[0].toolExecutionNotifications` (level error) and set
  `executionSuccessful` to false; notices and unused suppressions become notifications too.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
from collections.abc import Sequence
from pathlib import PurePath
from urllib.parse import quote

from imglint import __version__
from imglint.findings import Finding, Severity
from imglint.report import Report
from imglint.report.common import message_with_context, write_json

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from typing import Any, TextIO

    from imglint.rules import Rule

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
# The project's home page; shown by SARIF viewers as the tool's link.
INFORMATION_URI = "https://github.com/imglint/imglint"
# The rules' documentation as released with this version (`docs/rules.md#img002-latest-tag`).
RULES_DOC_URI = f"{INFORMATION_URI}/blob/v{__version__}/docs/rules.md"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "imglint/v1"
# GitHub code scanning accepts at most this many characters in a rule's short and full description.
DESCRIPTION_LIMIT = 1024

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}

_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def render(report: Report, out: TextIO, *, color: bool = False, statistics: bool = False) -> None:
    write_json(sarif_log(report), out)


def sarif_log(report: Report) -> dict[str, Any]:
    rule_index = {rule.code: i for i, rule in enumerate(report.rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "imglint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(rule) for rule in report.rules],
            }
        },
        "invocations": [invocation(report)],
        "columnKind": "unicodeCodePoints",
        "results": results(report.findings, rule_index),
        "properties": {
            "filesChecked": report.files_checked,
            "imagesChecked": report.images_checked,
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    doc = inspect.cleandoc(rule.doc) if rule.doc.strip() else ""
    summary = rule.summary or rule.name
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": cap(summary)},
        "fullDescription": {"text": cap(full_description(doc) or summary)},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "helpUri": help_uri(rule),
        "help": {"text": doc or summary, "markdown": doc or summary},
        "properties": {
            "tags": rule_tags(rule),
            "precision": "very-high",
            "defaultEnabled": rule.default_enabled,
            "needsRegistry": rule.needs_registry,
        },
    }
    if rule.security_severity is not None:
        descriptor["properties"]["security-severity"] = f"{rule.security_severity:.1f}"
    return descriptor


def help_uri(rule: Rule) -> str:
    return f"{RULES_DOC_URI}#{rule.anchor}"


def rule_tags(rule: Rule) -> list[str]:
    """What code scanning lets users filter alerts by; `security` makes an alert a security
    alert, so only supply-chain rules have it."""
    tags = ["kubernetes", "container-image"]
    if rule.needs_registry:
        tags.append("registry")
    if rule.security:
        tags += ["security", "supply-chain"]
    return tags


def cap(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """`text` cut to `limit` characters at a word boundary, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "\u2026"


def full_description(doc: str) -> str:
    """The "What it does" section of a rule doc, as one paragraph; else the first paragraph
    after the summary line."""
    lines = doc.splitlines()[1:]
    section: list[str] | None = None
    for line in lines:
        heading = _HEADING.match(line)
        if heading:
            if section is not None:
                break
            if heading.group(1).rstrip(":").strip().lower() == "what it does":
                section = []
            continue
        if section is not None:
            section.append(line)
    if section is None:
        section = []
        for line in lines:
            if _HEADING.match(line):
                break
            section.append(line)
    paragraph: list[str] = []
    for line in section:
        if line.strip():
            paragraph.append(line.strip())
        elif paragraph:
            break
    return " ".join(paragraph)


def results(findings: Sequence[Finding], rule_index: dict[str, int]) -> list[dict[str, Any]]:
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        result: dict[str, Any] = {"ruleId": f.code}
        if f.code in rule_index:
            result["ruleIndex"] = rule_index[f.code]
        result["level"] = LEVELS[f.severity]
        result["message"] = {"text": message_with_context(f)}
        region = {
            "startLine": f.span.line,
            "startColumn": f.span.column,
            "endLine": f.span.end_line,
            "endColumn": f.span.end_column,
        }
        result["locations"] = [{"physicalLocation": physical_location(f.path, region)}]
        if f.declared_at:
            result["relatedLocations"] = [
                {
                    "id": number,
                    "physicalLocation": physical_location(
                        d.path, {"startLine": d.line, "startColumn": d.column}
                    ),
                    "message": {"text": f"the values key {d.field} declares this image"},
                }
                for number, d in enumerate(f.declared_at, start=1)
            ]
        # Two findings with the same identity (a rule reporting one site twice) still need
        # distinct fingerprints, or GitHub would fold them into one alert.
        identity = fingerprint(f)
        seen[identity] = seen.get(identity, 0) + 1
        result["partialFingerprints"] = {FINGERPRINT_KEY: f"{identity}:{seen[identity]}"}
        result["properties"] = {
            "image": f.image,
            "kind": f.kind,
            "namespace": f.namespace,
            "object": f.object,
            "container": f.container,
        }
        out.append(result)
    return out


def fingerprint(f: Finding) -> str:
    """A hash of what the finding is about, not where the line happens to be."""
    parts = (artifact_uri(f.path)[0], f.code, f.kind, f.namespace, f.object, f.container)
    text = "\0".join(part or "" for part in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def physical_location(path: str, region: dict[str, int] | None) -> dict[str, Any]:
    uri, base = artifact_uri(path)
    artifact: dict[str, Any] = {"uri": uri}
    if base:
        artifact["uriBaseId"] = base
    location: dict[str, Any] = {"artifactLocation": artifact}
    if region:
        location["region"] = region
    return location


def artifact_uri(path: str) -> tuple[str, str | None]:
    """The URI of a displayed path: relative paths stay relative to %SRCROOT% (the repository
    root GitHub checks out), absolute ones become file: URIs."""
    native = PurePath(path)
    if native.is_absolute():
        return _quote(native.as_posix(), absolute=True), None
    posix = path.replace(os.sep, "/") if os.sep != "/" else path
    while posix.startswith("./"):
        posix = posix[2:].lstrip("/")
    return _quote(posix, absolute=False), SRCROOT


def _quote(posix: str, *, absolute: bool) -> str:
    try:
        # A file-name byte that was not UTF-8 (surrogateescape) goes back to that byte.
        raw = posix.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = posix.encode("utf-8", "surrogatepass")
    if absolute:
        # ":" may stay in an absolute path (Windows drives); in a relative one it would read
        # as a URI scheme, so there it is escaped.
        quoted = quote(raw, safe="/:")
        return "file://" + (quoted if quoted.startswith("/") else "/" + quoted)
    return quote(raw, safe="/")


def _located_notification(
    level: str, message: str, path: str, line: int | None, column: int | None
) -> dict[str, Any]:
    region: dict[str, int] | None = None
    if line is not None:
        region = {"startLine": line}
        if column is not None:
            region["startColumn"] = column
    return {
        "level": level,
        "message": {"text": message},
        "locations": [{"physicalLocation": physical_location(path, region)}],
    }


def invocation(report: Report) -> dict[str, Any]:
    notifications = [
        _located_notification("error", e.message, e.path, e.line, e.column) for e in report.errors
    ]
    notifications += [
        _located_notification("warning", u.message, u.path, u.line, u.column)
        for u in report.unused_suppressions or ()
    ]
    for notice in report.notices:
        notifications.append({"level": "note", "message": {"text": notice}})
    if report.registry_summary:
        notifications.append({"level": "note", "message": {"text": report.registry_summary}})
    result: dict[str, Any] = {"executionSuccessful": not report.errors}
    if notifications:
        result["toolExecutionNotifications"] = notifications
    return result
