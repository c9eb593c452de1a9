"""The rule catalogue: one module per rule, listed explicitly below (no import-time discovery).

Each rule module defines CODE, NAME, SEVERITY, DEFAULT_ENABLED, NEEDS_REGISTRY, a docstring that is
its documentation (what it does, why it matters, example, use instead), and
`check(site, ctx) -> Iterator[str]` yielding one message per finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType

from imglint.context import Context
from imglint.findings import Severity
from imglint.manifests import ImageSite

CheckFunction = Callable[[ImageSite, Context], Iterable[str]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    default_enabled: bool
    needs_registry: bool
    doc: str  # the module docstring: first line is the summary
    check: CheckFunction

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""


def _rule(module: ModuleType) -> Rule:
    return Rule(
        code=module.CODE,
        name=module.NAME,
        severity=module.SEVERITY,
        default_enabled=module.DEFAULT_ENABLED,
        needs_registry=module.NEEDS_REGISTRY,
        doc=module.__doc__ or "",
        check=module.check,
    )


# Rule modules are added here, in code order.
_MODULES: tuple[ModuleType, ...] = ()

RULES: tuple[Rule, ...] = tuple(_rule(m) for m in _MODULES)
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}


def lookup(code_or_name: str) -> Rule | None:
    key = code_or_name.strip()
    return BY_CODE.get(key.upper()) or BY_NAME.get(key.lower())
