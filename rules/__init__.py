"""The rule catalogue: one module per rule, listed explicitly below (no import-time discovery).

Each rule module defines CODE, NAME, SEVERITY, DEFAULT_ENABLED, NEEDS_REGISTRY, a docstring that is
its documentation (what it does, why it matters, example, use instead), and
`check(site, ctx) -> Iterator[str]` yielding one message per finding. A rule about pull Secrets
rather than images says `SUBJECT = "pull-secret"` and defines `check_pull_secret(secret, ctx)`
instead; the engine runs it once per pull Secret of the set. A rule about one part of
the reference declares it, `CONCERNS = "tag"` (or "registry", "repository", "digest"): on a site
written as several keys (a Helm values mapping) its findings land on that key. A check reads its
settings with `ctx.settings_for(site)` (patterns already parsed by the configuration) and the
registry's typed answer with `ctx.answer_for(site)`; it never reads configuration text or message
text. A new rule takes the code reserved for it in RESERVED below, if any. A rule whose findings are
supply-chain risks also defines SECURITY_SEVERITY (see `Rule.security_severity`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import ModuleType

from imglint.context import Context, PullSecret
from imglint.findings import Severity
from imglint.records import dataclass
from imglint.rules import (
    img001_invalid_reference,
    img002_latest_tag,
    img003_missing_tag,
    img004_implicit_registry,
    img005_unpinned_image,
    img006_missing_pull_secret,
    img007_pull_secret_registry_mismatch,
    img008_disallowed_registry,
    img009_docker_hub_anonymous,
    img010_pull_policy_mutable_tag,
    img011_invalid_pull_secret,
    img012_disallowed_tag,
    img013_denied_registry,
    img014_pull_policy_not_always,
    img015_unused_image_override,
    img101_tag_not_found,
    img102_repository_not_found,
    img103_registry_auth_failed,
    img104_stale_digest,
    img105_digest_not_found,
    img106_platform_missing,
    img107_registry_unreachable,
    img108_image_too_old,
)
from imglint.sites import ImageSite

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from imglint.sites import Component

CheckFunction = Callable[[ImageSite, Context], Iterable[str]]
SecretCheckFunction = Callable[[PullSecret, Context], Iterable[str]]


def _no_image_check(site: ImageSite, ctx: Context) -> Iterable[str]:
    return ()


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    default_enabled: bool
    needs_registry: bool
    doc: str  # the module docstring: first line is the summary
    check: CheckFunction
    concerns: Component | None = None  # the part of the reference its findings are about
    # Also checks sites that hold no reference (a kustomize entry that matches nothing).
    checks_placeholders: bool = False
    # Set only for rules whose findings are supply-chain risks (an image that may not be the one
    # reviewed, or that comes from outside the trusted registries): SARIF tags them `security`
    # and GitHub code scanning files them as security alerts with this score (CVSS-like, 0-10:
    # 7.0 and up is "high", 4.0 up to 7.0 "medium").
    security_severity: float | None = None
    # What the rule looks at: "image" (each image site) or "pull-secret" (each pull Secret).
    subject: str = "image"
    check_pull_secret: SecretCheckFunction | None = None

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""

    @property
    def security(self) -> bool:
        return self.security_severity is not None

    @property
    def anchor(self) -> str:
        """The fragment of the rule's section in docs/rules.md, as GitHub names it."""
        return f"{self.code}-{self.name}".lower()


def _rule(module: ModuleType) -> Rule:
    return Rule(
        code=module.CODE,
        name=module.NAME,
        severity=module.SEVERITY,
        default_enabled=module.DEFAULT_ENABLED,
        needs_registry=module.NEEDS_REGISTRY,
        doc=module.__doc__ or "",
        check=getattr(module, "check", _no_image_check),
        concerns=getattr(module, "CONCERNS", None),
        checks_placeholders=getattr(module, "CHECKS_PLACEHOLDERS", False),
        security_severity=getattr(module, "SECURITY_SEVERITY", None),
        subject=getattr(module, "SUBJECT", "image"),
        check_pull_secret=getattr(module, "check_pull_secret", None),
    )


# Rule modules are added here, in code order.
_MODULES: tuple[ModuleType, ...] = (
    img001_invalid_reference,
    img002_latest_tag,
    img003_missing_tag,
    img004_implicit_registry,
    img005_unpinned_image,
    img006_missing_pull_secret,
    img007_pull_secret_registry_mismatch,
    img008_disallowed_registry,
    img009_docker_hub_anonymous,
    img010_pull_policy_mutable_tag,
    img011_invalid_pull_secret,
    img012_disallowed_tag,
    img013_denied_registry,
    img014_pull_policy_not_always,
    img015_unused_image_override,
    img101_tag_not_found,
    img102_repository_not_found,
    img103_registry_auth_failed,
    img104_stale_digest,
    img105_digest_not_found,
    img106_platform_missing,
    img107_registry_unreachable,
    img108_image_too_old,
)

# Codes promised to rules being written, so that parallel work never takes one twice. A new rule
# module uses its reserved code and name (tests/test_rules.py checks it); its entry then leaves
# this table only in wording, never in meaning: a code is never reused.
RESERVED: dict[str, str] = {
    "IMG011": "invalid-pull-secret",
    "IMG012": "disallowed-tag",
    "IMG013": "denied-registry",
    "IMG014": "pull-policy-not-always",
    "IMG015": "unused-image-override",
    "IMG108": "image-too-old",
}

RULES: tuple[Rule, ...] = tuple(_rule(m) for m in _MODULES)
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}


def lookup(code_or_name: str) -> Rule | None:
    key = code_or_name.strip()
    return BY_CODE.get(key.upper()) or BY_NAME.get(key.lower())


def describe(rule: Rule) -> str:
    """One line of metadata: `error, on by default, needs --resolve`."""
    parts = [rule.severity.label, "on by default" if rule.default_enabled else "opt-in"]
    if rule.needs_registry:
        parts.append("needs the registry check")
    if rule.security:
        parts.append("supply-chain security")
    return ", ".join(parts)


def _body(rule: Rule) -> list[str]:
    """The docstring after its summary line, dedented (module docstrings are flush left)."""
    lines = rule.doc.strip().splitlines()[1:]
    while lines and not lines[0].strip():
        lines.pop(0)
    return lines


def render_explain(rule: Rule) -> str:
    """The text `imglint --explain CODE` prints: header, summary, then the documentation."""
    head = f"{rule.code} {rule.name} ({describe(rule)})"
    return "\n".join([head, "", rule.summary, "", *_body(rule)]).rstrip() + "\n"


def _demoted(lines: list[str]) -> list[str]:
    """Docstring `## Section` headings become `### Section` under a rule's `##` heading."""
    out = []
    fenced = False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            line = "#" + line
        out.append(line)
    return out


def _reserved_lines(rules: tuple[Rule, ...]) -> list[str]:
    """The intro's line naming the codes reserved for rules not written yet (none: no line)."""
    written = {rule.code for rule in rules}
    pending = [f"{code} `{name}`" for code, name in RESERVED.items() if code not in written]
    if not pending:
        return []
    return [f"Reserved for rules in progress: {', '.join(pending)}.", ""]


def render_markdown(rules: tuple[Rule, ...] | None = None) -> str:
    """docs/rules.md, generated from the rule modules: `python -m imglint.rules > docs/rules.md`."""
    rules = RULES if rules is None else rules
    out = [
        "# imglint rules",
        "",
        "<!-- Generated from the rule docstrings by `python -m imglint.rules > docs/rules.md`;",
        "     edit the rule modules in rules/, not this file. -->",
        "",
        "Codes are stable and never reused. Opt-in rules run only when selected (`select`,",
        "`extend-select`); rules that need the registry run only with the registry check.",
        "",
        "A finding can be silenced where it is made, by code or name:",
        "",
        "- `# imglint: ignore[IMG002]` (or `ignore[IMG002,implicit-registry]`) at the end of the",
        "  image's line or on a comment line directly above it; `# imglint: ignore` silences all;",
        "- `# imglint: ignore-file[IMG004]` anywhere in a file (bare `ignore-file`: every rule);",
        '- the annotation `imglint.dev/ignore: "IMG004,IMG005"` (or `all`) on the object.',
        "",
        "Prefer the annotation for manifests that pass through kustomize or `kubectl`: they",
        "re-serialize YAML and drop comments, but keep annotations (a Helm chart can also set",
        "the annotation from its values; `helm template` passes template comments through).",
        "`--report-unused-suppressions` lists suppressions that silence nothing.",
        "",
        "Rules marked *security* report supply-chain risks: an image that is not pinned to the",
        "exact content someone reviewed, or that comes from outside the registries your",
        "organisation trusts. In SARIF they carry the `security` tag and a `security-severity`",
        "score, so GitHub code scanning files their findings as security alerts; every other",
        "rule's findings are ordinary code scanning alerts. `latest-tag` and `missing-tag` are not",
        "marked: their fix, a version tag, is still mutable, so the supply-chain finding for",
        "those images is `unpinned-image`'s, and marking them would file one problem twice. Nor",
        "are the rules about pulls failing (secrets, rate limits, a tag or platform that does not",
        "exist): they break a rollout, they do not let a different image in.",
        "",
        *_reserved_lines(rules),
        "| Code | Name | Severity | Default | Summary |",
        "|---|---|---|---|---|",
    ]
    for rule in rules:
        default = "on" if rule.default_enabled else "opt-in"
        if rule.needs_registry:
            default += ", registry"
        if rule.security:
            default += ", security"
        out.append(
            f"| [{rule.code}](#{rule.anchor}) | `{rule.name}` | {rule.severity.label} | {default} "
            f"| {rule.summary} |"
        )
    for rule in rules:
        out += ["", f"## {rule.code} `{rule.name}`", "", f"*{describe(rule)}*", "", rule.summary]
        out += ["", *_demoted(_body(rule))]
    return "\n".join(line.rstrip() for line in out).rstrip() + "\n"
