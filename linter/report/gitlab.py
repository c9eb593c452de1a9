"""`--format gitlab`: GitLab Code Quality, the part of the Code Climate issue format GitLab reads.

    [{"type": "issue", "check_name": "IMG002", "description": "IMG002 latest-tag: ...",
      "categories": ["Bug Risk"], "severity": "major", "fingerprint": "...",
      "location": {"path": "k8s/web.yaml", "lines": {"begin": 12, "end": 12}}}]

What GitLab does with it (`artifacts: reports: codequality:`), and how this file provides it:
- The merge request widget and the diff gutter show `description` at `location.path`, line
  `location.lines.begin`, with an icon for `severity` (info, minor, major, critical, blocker).
  Paths must be relative to the repository root, with `/`: run imglint from the root.
- GitLab compares the base and head pipelines' reports by `fingerprint` to list findings as new or
  resolved, and shows one finding per fingerprint. So the fingerprint hashes the finding's baseline
  identity (file, object, container, rule: never the line) and its occurrence number, so a finding
  that only moved lines keeps it, and two alike findings still get two.
- `type`, `categories` and `lines.end` are not read by GitLab but complete the Code Climate
  issue for other readers: "Security" for the supply-chain rules (those SARIF tags `security`),
  "Bug Risk" for the others.
- Input errors and unused suppressions are issues too (`imglint/input-error`, severity critical;
  `imglint/unused-suppression`, minor): a file that could not be read must not vanish from the
  widget. Notices and the registry summary have no place in the format and are left out.
Strings are made printable (control characters and undecodable file-name bytes as visible
escapes) and the JSON is ASCII, which every consumer's parser accepts.
"""

from __future__ import annotations

import hashlib

from imglint.baseline import key, normal_path
from imglint.findings import Finding, InputError, Severity, UnusedSuppression
from imglint.report import Report
from imglint.report.common import message_with_context, printable, write_json

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from typing import Any, TextIO

# Errors stop a rollout or a pull; warnings are risks; info is advice.
SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}
INPUT_ERROR_SEVERITY = "critical"  # a file imglint could not check at all
INPUT_ERROR = "imglint/input-error"
UNUSED_SUPPRESSION = "imglint/unused-suppression"


def render(report: Report, out: TextIO, *, color: bool = False, statistics: bool = False) -> None:
    write_json(issues(report), out)


def issues(report: Report) -> list[dict[str, Any]]:
    occurrences: dict[tuple[str, ...], int] = {}

    def fingerprint(identity: tuple[str, ...]) -> str:
        occurrences[identity] = occurrences.get(identity, 0) + 1
        text = "\0".join((*identity, str(occurrences[identity])))
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    security = {rule.code for rule in report.rules if rule.security}
    out = [
        _finding(f, fingerprint(("finding", *key(f))), f.code in security) for f in report.findings
    ]
    identity: tuple[str, ...]
    for error in report.errors:
        identity = ("input-error", normal_path(error.path), error.message)
        out.append(_input_error(error, fingerprint(identity)))
    for unused in report.unused_suppressions or ():
        identity = ("unused-suppression", normal_path(unused.path), *unused.codes)
        out.append(_unused(unused, fingerprint(identity)))
    return out


def _issue(
    check_name: str,
    description: str,
    severity: str,
    fingerprint: str,
    path: str,
    begin: int,
    end: int,
    category: str = "Bug Risk",
) -> dict[str, Any]:
    return {
        "type": "issue",
        "check_name": check_name,
        "description": printable(description),
        "categories": [category],
        "severity": severity,
        "fingerprint": fingerprint,
        "location": {
            "path": printable(normal_path(path)),
            "lines": {"begin": begin, "end": max(begin, end)},
        },
    }


def _finding(f: Finding, fingerprint: str, security: bool) -> dict[str, Any]:
    return _issue(
        f.code,
        f"{f.code} {f.name}: {message_with_context(f)}",
        SEVERITIES[f.severity],
        fingerprint,
        f.path,
        f.span.line,
        f.span.end_line,
        category="Security" if security else "Bug Risk",
    )


def _input_error(e: InputError, fingerprint: str) -> dict[str, Any]:
    line = e.line or 1  # the format needs a line: a whole-file error points at the first
    return _issue(
        INPUT_ERROR,
        f"imglint could not check this file: {e.message}",
        INPUT_ERROR_SEVERITY,
        fingerprint,
        e.path,
        line,
        line,
    )


def _unused(u: UnusedSuppression, fingerprint: str) -> dict[str, Any]:
    return _issue(
        UNUSED_SUPPRESSION,
        u.message,
        SEVERITIES[Severity.WARNING],
        fingerprint,
        u.path,
        u.line,
        u.line,
        category="Clarity",
    )
