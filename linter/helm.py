"""Point findings in `helm template` output at the chart templates they came from.

Helm writes `# Source: CHART/templates/FILE.yaml` at the top of every rendered document. A finding
at line L of stdin is shown at that template path, at its line inside the rendered document (the
line after the comment is line 1), which is where a chart author goes to fix it.

Helm's paths start at the chart's name, not at the repository root, so GitHub annotations and
code scanning could not place them. When stdin is named after the chart's folder
(`helm template charts/shop | imglint --stdin-filename charts/shop -`, a folder holding a
Chart.yaml), the chart name is replaced by that folder: `charts/shop/templates/deployment.yaml`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import lru_cache

from imglint import records
from imglint.findings import Finding, Span
from imglint.sources import Source

_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$")
_SEPARATOR = re.compile(r"^---(\s|$)")


def map_helm_sources(
    findings: Sequence[Finding], sources: Sequence[Source], chart_dir: str | None = None
) -> list[Finding]:
    """Findings with stdin positions moved to their `# Source:` templates, resorted.

    `chart_dir`: the stdin name; if it is a chart's folder, template paths are placed in it.
    """
    by_path = {s.path: s for s in sources if s.real_path is None}
    root = (
        chart_dir if chart_dir and os.path.isfile(os.path.join(chart_dir, "Chart.yaml")) else None
    )
    mapped: list[Finding] = []
    for finding in findings:
        source = by_path.get(finding.path)
        origin = _origin(source.text, finding.span.line) if source is not None else None
        if origin is None:
            mapped.append(finding)
            continue
        template, comment_line = origin
        if root is not None:
            template = _in_chart(root, template)
        span = finding.span
        moved = Span(
            line=span.line - comment_line,
            column=span.column,
            end_line=span.end_line - comment_line,
            end_column=span.end_column,
            start=span.start,
            end=span.end,
        )
        extra = {**finding.extra, "rendered_path": finding.path, "rendered_line": str(span.line)}
        mapped.append(records.replace(finding, path=template, span=moved, extra=extra))
    return sorted(mapped, key=lambda f: f.sort_key)


def _in_chart(root: str, template: str) -> str:
    """`shop/templates/x.yaml` placed in the chart folder `charts/shop` (whatever its name)."""
    _chart, _, rest = template.partition("/")
    return os.path.join(root, rest) if rest else template


def _origin(text: str, line: int) -> tuple[str, int] | None:
    """The `# Source:` template of the document holding 1-based `line`, and the comment's line."""
    for comment_line, template in reversed(_markers(text)):
        if comment_line < line:
            return (template, comment_line) if template else None
    return None


@lru_cache(maxsize=8)
def _markers(text: str) -> tuple[tuple[int, str], ...]:
    """Per document separator and `# Source:` comment, in order: (1-based line, template or "")."""
    markers: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if _SEPARATOR.match(line):
            markers.append((number, ""))  # a new document: no template until a comment says so
            continue
        match = _SOURCE.match(line)
        if match:
            markers.append((number, match.group(1)))
    return tuple(markers)
