"""`--format json`: one document, stable key order, two-space indent.

    {"schema_version": 2, "findings": [...], "errors": [...], "notices": [...], "summary": {...}}

`schema_version` changes when a key changes meaning or shape (2: `summary.registry` became an
object: images, answers, found, missing, refused, unreachable, from_cache, requests, seconds,
rate_limit_left; it was a sentence; `build_time_unknown`, the images whose build time
`max-image-age` could not judge, null when no build time was read, came later).
`--list-images --format json` carries the same version.

Keys are always present (empty list or null rather than missing) so consumers need no guards;
`unused_suppressions` appears only when they were looked for. Output is ASCII (non-ASCII as
`\\uXXXX` escapes): valid JSON whatever encoding the output stream has.
"""

from __future__ import annotations

from collections.abc import Sequence

from imglint.findings import Declaration, Finding, InputError, Severity, UnusedSuppression
from imglint.registry.model import RegistrySummary, rate_limit_fields
from imglint.report import Report, rule_counts
from imglint.report.common import SCHEMA_VERSION, JsonArray, write_json

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from typing import Any, TextIO


def render(report: Report, out: TextIO, *, color: bool = False, statistics: bool = False) -> None:
    document: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if statistics:
        document["statistics"] = [
            {"code": c.code, "name": c.name, "severity": c.severity.label, "count": c.count}
            for c in rule_counts(report.findings)
        ]
    else:
        document["findings"] = JsonArray(report.findings, finding_dict)
    document["errors"] = [error_dict(e) for e in report.errors]
    if report.unused_suppressions is not None:
        document["unused_suppressions"] = [unused_dict(u) for u in report.unused_suppressions]
    document["notices"] = list(report.notices)
    document["summary"] = summary_dict(report)
    write_json(document, out)


def finding_dict(f: Finding) -> dict[str, Any]:
    found = {
        "code": f.code,
        "name": f.name,
        "severity": _SEVERITY_LABELS[f.severity],
        "path": f.path,
        "line": f.span.line,
        "column": f.span.column,
        "end_line": f.span.end_line,
        "end_column": f.span.end_column,
        "image": f.image,
        "message": f.message,
        "kind": f.kind,
        "namespace": f.namespace,
        "object": f.object,
        "container": f.container,
        "label": f.label,
    }
    # Rendered Helm output traced to its values (--values): the key that declared the image,
    # or every candidate when the values declare the same image twice.
    if f.declared_at:
        found.update(declared_at_dict(f.declared_at))
    return found


# (An enum member's `name` is a slow property: once per severity, not once per finding.)
_SEVERITY_LABELS = {severity: severity.label for severity in Severity}


def declaration_dict(d: Declaration) -> dict[str, Any]:
    return {"path": d.path, "line": d.line, "column": d.column, "field": d.field}


def declared_at_dict(declared_at: Sequence[Declaration]) -> dict[str, Any]:
    """`declared_at` (one values key declared the image), `declared_at_candidates` (the values
    declare it more than once), or nothing (not traced)."""
    if len(declared_at) == 1:
        return {"declared_at": declaration_dict(declared_at[0])}
    if declared_at:
        return {"declared_at_candidates": [declaration_dict(d) for d in declared_at]}
    return {}


def error_dict(e: InputError) -> dict[str, Any]:
    return {"path": e.path, "line": e.line, "column": e.column, "message": e.message}


def unused_dict(u: UnusedSuppression) -> dict[str, Any]:
    return {
        "path": u.path,
        "line": u.line,
        "column": u.column,
        "codes": list(u.codes),
        "message": u.message,
    }


def registry_dict(registry: RegistrySummary | None) -> dict[str, Any] | None:
    """`summary.registry`: the registry check's numbers (null without --resolve)."""
    if registry is None:
        return None
    return {
        "images": registry.images,
        "answers": registry.answers,
        "found": registry.found,
        "missing": registry.missing,
        "refused": registry.refused,
        "unreachable": registry.unreachable,
        "from_cache": registry.from_cache,
        "requests": registry.requests,
        "seconds": round(registry.seconds, 3),
        "rate_limit_left": [
            {"host": host, "remaining": left, "window_seconds": window, "header": header}
            for host, header in registry.rate_limit_left
            for left, window in [rate_limit_fields(header)]
        ],
        "build_time_unknown": registry.build_time_unknown,
    }


def summary_dict(report: Report) -> dict[str, Any]:
    return {
        "files": report.files_checked,
        "images": report.images_checked,
        "placeholders": report.placeholders,
        "findings": len(report.findings),
        "by_severity": {s.label: n for s, n in report.severity_counts().items()},
        "input_errors": len(report.errors),
        "fail_on": report.fail_on.label,
        "exit_code": report.exit_code,
        "registry": registry_dict(report.registry),
    }
