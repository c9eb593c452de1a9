"""The default, human format: one line per finding, then a summary line.

    k8s/web.yaml:12:16: IMG002 [error] image "nginx:latest" uses the latest tag (Deployment prod/web, container app)
    k8s/bad.yaml:3:1: error: could not parse YAML: ...
    3 findings (2 errors, 1 warning) in 12 files, 40 images; 1 input error

Every value that came from a manifest goes through `printable`, so a hostile image string cannot
move the cursor, forge a line or recolour the terminal.
"""  # noqa: E501

from __future__ import annotations

from imglint.findings import Finding, InputError, Severity, UnusedSuppression
from imglint.report import Report, rule_counts
from imglint.report.common import declared_words, finding_context, printable, summary_line

# typing itself is not imported at run time: it is a large module the start-up path can skip.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_RED = "\x1b[31m"
_GREEN = "\x1b[32m"
_YELLOW = "\x1b[33m"
_CYAN = "\x1b[36m"
_SEVERITY_COLOR = {Severity.ERROR: _RED, Severity.WARNING: _YELLOW, Severity.INFO: _CYAN}


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *codes: str) -> str:
        if not self.color or not codes:
            return text
        return "".join(codes) + text + _RESET


def render(report: Report, out: TextIO, *, color: bool = False, statistics: bool = False) -> None:
    style = _Style(color)
    lines: list[str] = []
    if statistics:
        lines.extend(_statistics(report, style))
    else:
        lines.extend(_finding(f, style) for f in report.findings)
    lines.extend(_error(e, style) for e in report.errors)
    lines.extend(_unused(u, style) for u in report.unused_suppressions or ())
    lines.extend(f"{style('note', _BOLD)}: {printable(n)}" for n in report.notices)
    if report.registry_summary:
        lines.append(f"{style('registry', _BOLD)}: {printable(report.registry_summary)}")
    lines.append(_summary(report, style))
    out.write("".join(line + "\n" for line in lines))


def _where(path: str, line: int | None, column: int | None, style: _Style) -> str:
    where = style(printable(path), _BOLD)
    if line is not None:
        where += style(f":{line}", _DIM)
        if column is not None:
            where += style(f":{column}", _DIM)
    return where + ":"


def _finding(f: Finding, style: _Style) -> str:
    color = _SEVERITY_COLOR[f.severity]
    text = (
        f"{_where(f.path, f.span.line, f.span.column, style)} "
        f"{style(f.code, _BOLD, color)} {style(f'[{f.severity.label}]', color)} "
        f"{printable(f.message)}"
    )
    context = finding_context(f)
    if context:
        text += " " + style(f"({printable(context)})", _DIM)
    declared = declared_words(f.declared_at)
    if declared:
        text += " " + style(f"({printable(declared)})", _DIM)
    return text


def _error(e: InputError, style: _Style) -> str:
    label = style("error", _BOLD, _RED)
    return f"{_where(e.path, e.line, e.column, style)} {label}: {printable(e.message)}"


def _unused(u: UnusedSuppression, style: _Style) -> str:
    return f"{_where(u.path, u.line, u.column, style)} {printable(u.message)}"


def _statistics(report: Report, style: _Style) -> list[str]:
    counts = rule_counts(report.findings)
    if not counts:
        return []
    count_width = max(len(str(c.count)) for c in counts)
    code_width = max(len(c.code) for c in counts)
    label_width = max(len(c.severity.label) for c in counts) + 2
    lines = []
    for c in counts:
        label = f"[{c.severity.label}]".ljust(label_width)
        lines.append(
            f"{str(c.count).rjust(count_width)}  "
            f"{style(c.code.ljust(code_width), _BOLD, _SEVERITY_COLOR[c.severity])}  "
            f"{style(label, _SEVERITY_COLOR[c.severity])}  {printable(c.name)}"
        )
    return lines


def _summary(report: Report, style: _Style) -> str:
    line = summary_line(report)
    if report.exit_code == 0:
        return style(line, _BOLD, _GREEN) if not report.findings else style(line, _BOLD)
    return style(line, _BOLD, _RED)
