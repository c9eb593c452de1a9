"""Renderers: turn what a run found into text, JSON, SARIF, GitHub annotations, JUnit XML or
GitLab Code Quality.

Every renderer is a pure function of a `Report` (and writes to a text stream), so the same report
always gives the same bytes. Each format lives in its own module and is imported only when it is
asked for, which keeps `json` and `xml` off the start-up path of a plain text run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from imglint.findings import Finding, InputError, Severity, UnusedSuppression, exit_code
from imglint.records import dataclass, field

# typing itself is not imported at run time: it is a large module the start-up path can skip.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from imglint.registry.model import RegistrySummary
    from imglint.report.inventory import Inventory
    from imglint.rules import Rule
    from imglint.sites import ImageSite

FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")
INVENTORY_FORMATS = ("text", "json", "cyclonedx")
# Inventory formats that a lint run may write beside its report (`--report`): the image
# inventory of the same read (text and json would be ambiguous there: they are the report's).
INVENTORY_ONLY_FORMATS = ("cyclonedx",)


@dataclass
class Report:
    """Everything one run has to say. Findings arrive sorted; renderers keep their order."""

    findings: list[Finding]
    errors: list[InputError]
    files_checked: int
    images_checked: int
    rules: Sequence[Rule]  # the rules that ran: SARIF lists them, JUnit quotes their summary
    fail_on: Severity = Severity.ERROR
    notices: list[str] = field(default_factory=list)  # non-error notes (skipped chart templates)
    registry: RegistrySummary | None = None  # what the registry check did (with --resolve)
    # None: unused suppressions were not looked for (so renderers say nothing about them).
    unused_suppressions: list[UnusedSuppression] | None = None
    # Image values that are placeholders (`{{ .Values.image }}`, `$(params.image)`): not checked.
    placeholders: int = 0

    @property
    def registry_summary(self) -> str | None:
        """The registry check's summary line (None without --resolve)."""
        return self.registry.text() if self.registry is not None else None

    @property
    def exit_code(self) -> int:
        """0 clean, 1 a finding at or above `fail_on`, 2 an input error (2 wins over 1)."""
        return exit_code(self.findings, self.errors, self.fail_on)

    def severity_counts(self) -> dict[Severity, int]:
        """Findings per severity, most severe first, every severity present."""
        counts = {s: 0 for s in sorted(Severity, reverse=True)}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def rule_for(self, code: str) -> Rule | None:
        for rule in self.rules:
            if rule.code == code:
                return rule
        return None


@dataclass(frozen=True)
class RuleCount:
    """One line of `--statistics`."""

    code: str
    name: str
    severity: Severity
    count: int


def rule_counts(findings: Sequence[Finding]) -> list[RuleCount]:
    """Findings per rule, most frequent first, then by code (deterministic)."""
    by_code: dict[str, RuleCount] = {}
    for f in findings:
        seen = by_code.get(f.code)
        if seen is None:
            by_code[f.code] = RuleCount(f.code, f.name, f.severity, 1)
        else:
            # Severities of one rule only differ if a caller overrode some; show the worst.
            severity = max(seen.severity, f.severity)
            by_code[f.code] = RuleCount(f.code, f.name, severity, seen.count + 1)
    return sorted(by_code.values(), key=lambda c: (-c.count, c.code))


def render(
    fmt: str, report: Report, out: TextIO, *, color: bool = False, statistics: bool = False
) -> None:
    """Write `report` to `out` in format `fmt` (one of FORMATS).

    `color` only affects text; `statistics` replaces the findings list with per-rule counts in
    text and json (the CI formats have fixed shapes and ignore it).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    # (`__import__`, not importlib.import_module: importing importlib loads warnings too)
    name = f"imglint.report.{fmt}"
    __import__(name)
    module = sys.modules[name]
    module.render(report, out, color=color, statistics=statistics)


def render_inventory(fmt: str, inventory: Inventory | Sequence[ImageSite], out: TextIO) -> None:
    """Write the image inventory (`--list-images`): every image site, valid or not, and with
    --resolve the registry's answer for each (an `Inventory`; plain sites are listed as written).
    """
    if fmt not in INVENTORY_FORMATS:
        choices = ", ".join(INVENTORY_FORMATS)
        raise ValueError(f"unknown inventory format {fmt!r} (choose from {choices})")
    from imglint.report import inventory as module

    if not isinstance(inventory, module.Inventory):
        inventory = module.Inventory.of(inventory)
    if fmt == "cyclonedx":
        from imglint.report.cyclonedx import render as render_cyclonedx

        render_cyclonedx(inventory, out)
    elif fmt == "json":
        module.render_json(inventory, out)
    else:
        module.render_text(inventory, out)
