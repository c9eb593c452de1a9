"""`--format github`: GitHub Actions workflow commands, which the runner turns into annotations.

    ::error file=k8s/web.yaml,line=12,col=16,endLine=12,endColumn=28,title=IMG002 latest-tag::...

Escaping follows the runner's parser: in the message `%`, CR and LF become `%25`, `%0D`, `%0A`
(so a multi-line message stays one command and shows as several lines); property values also
escape `:` and `,`, which delimit properties. Other control characters are shown as visible
escapes (a manifest must not be able to smuggle a second workflow command or ANSI codes into the
log). Columns are only sent when the finding starts and ends on one line: GitHub rejects
`col`/`endColumn` on a multi-line annotation.
"""

from __future__ import annotations

from imglint.findings import Finding, InputError, Severity, UnusedSuppression
from imglint.report import Report
from imglint.report.common import message_with_context, printable, summary_line

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from typing import TextIO

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(report: Report, out: TextIO, *, color: bool = False, statistics: bool = False) -> None:
    lines = [_finding(f) for f in report.findings]
    lines.extend(_error(e) for e in report.errors)
    lines.extend(_unused(u) for u in report.unused_suppressions or ())
    lines.extend(command("notice", {"title": "imglint"}, n) for n in report.notices)
    if report.registry_summary:
        lines.append(f"registry: {printable(report.registry_summary)}")
    lines.append(summary_line(report))
    out.write("".join(line + "\n" for line in lines))


def escape_data(text: str) -> str:
    return (
        printable(text, keep="\r\n").replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    )


def escape_property(text: str) -> str:
    return (
        printable(text, keep="\r\n")
        .replace("%", "%25")
        .replace("\r", "%0D")
        .replace("\n", "%0A")
        .replace(":", "%3A")
        .replace(",", "%2C")
    )


def command(name: str, properties: dict[str, str | int | None], message: str) -> str:
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _finding(f: Finding) -> str:
    one_line = f.span.end_line == f.span.line
    properties: dict[str, str | int | None] = {
        "file": f.path,
        "line": f.span.line,
        "col": f.span.column if one_line else None,
        "endLine": f.span.end_line,
        "endColumn": f.span.end_column if one_line else None,
        "title": f"{f.code} {f.name}",
    }
    return command(COMMANDS[f.severity], properties, message_with_context(f))


def _error(e: InputError) -> str:
    properties: dict[str, str | int | None] = {
        "file": e.path,
        "line": e.line,
        "col": e.column if e.line is not None else None,
        "title": "imglint input error",
    }
    return command("error", properties, e.message)


def _unused(u: UnusedSuppression) -> str:
    properties: dict[str, str | int | None] = {
        "file": u.path,
        "line": u.line,
        "col": u.column,
        "title": "unused suppression",
    }
    return command("warning", properties, u.message)
