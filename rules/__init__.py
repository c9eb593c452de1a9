"""The rule catalogue: every rule declared in RULES below (no import-time discovery), each with
one module of its own that holds its documentation and its check.

RULES says what the engine, the configuration and the reports need without running a rule: code,
name, default severity, whether it is on by default and whether it needs the registry check, the
part of the reference it concerns... A rule's module is named after its code and name
(`img002_latest_tag.py` for IMG002 `latest-tag`) and is imported only when something reads its
documentation or runs its check (a run loads only the rules it runs). The module's docstring is
the rule's documentation (what it does, why it matters, example, use instead) and
`check(site, ctx) -> Iterator[str]` yields one message per finding. A rule about pull Secrets
rather than images is declared with `subject="pull-secret"` and defines
`check_pull_secret(secret, ctx)` instead; the engine runs it once per pull Secret of the set. A
rule about one part of the reference declares it, `concerns="tag"` (or "registry", "repository",
"digest"): on a site written as several keys (a Helm values mapping) its findings land on that
key. A check reads its settings with `ctx.settings_for(site)` (patterns already parsed by the
configuration) and the registry's typed answer with `ctx.answer_for(site)`; it never reads
configuration text or message text. A new rule takes the code reserved for it in RESERVED
below, if any. A rule whose findings are supply-chain risks also declares `security_severity`.
A rule that finds nothing until something is configured names those settings (`configured_by`,
fields of `RuleSettings`), and one that finds nothing without Secrets in the set says so
(`needs_secrets`): where they are missing (`may_report`), its check is not run, and a run that
never needs it never loads its module.
"""

from __future__ import annotations

import sys

from imglint.context import RuleSettings
from imglint.findings import Severity

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from imglint.context import Context, ObjectIndex, PullSecret
    from imglint.sites import Component, ImageSite

    CheckFunction = Callable[[ImageSite, Context], Iterable[str]]
    SecretCheckFunction = Callable[[PullSecret, Context], Iterable[str]]


def _no_image_check(site: ImageSite, ctx: Context) -> Iterable[str]:
    return ()


class _FromModule:
    """A rule's attribute that its module defines (`doc`, `check`, `check_pull_secret`). The
    module is imported the first time one of them is read; the rule then holds all three as
    plain attributes, so the engine's many later reads cost nothing more."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, rule: Rule | None, owner: type | None = None) -> object:
        if rule is None:
            return self
        rule._load_module()
        return rule.__dict__[self.name]


class Rule:
    """One rule: its metadata, and (from its module, or given in place) its documentation and
    checks. Read-only once made."""

    if TYPE_CHECKING:
        doc: str  # the module docstring: first line is the summary
        check: CheckFunction
        check_pull_secret: SecretCheckFunction | None
    else:
        doc = _FromModule()
        check = _FromModule()
        check_pull_secret = _FromModule()

    def __init__(
        self,
        code: str,
        name: str,
        severity: Severity,
        default_enabled: bool,
        needs_registry: bool,
        doc: str | None = None,
        check: CheckFunction | None = None,
        concerns: Component | None = None,
        checks_placeholders: bool = False,
        security_severity: float | None = None,
        subject: str = "image",
        check_pull_secret: SecretCheckFunction | None = None,
        configured_by: tuple[str, ...] = (),
        needs_secrets: bool = False,
    ) -> None:
        """`doc`, `check` and `check_pull_secret` come from the rule's module unless one of them
        is given (a rule made in place, as tests make them: the others are then empty)."""
        values = self.__dict__
        values["code"] = code
        values["name"] = name
        values["severity"] = severity
        values["default_enabled"] = default_enabled
        values["needs_registry"] = needs_registry
        # the part of the reference its findings are about
        values["concerns"] = concerns
        # Also checks sites that hold no reference (a kustomize entry that matches nothing).
        values["checks_placeholders"] = checks_placeholders
        # Set only for rules whose findings are supply-chain risks (an image that may not be
        # the one reviewed, or that comes from outside the trusted registries): SARIF tags them
        # `security` and GitHub code scanning files them as security alerts with this score
        # (CVSS-like, 0-10: 7.0 and up is "high", 4.0 up to 7.0 "medium").
        values["security_severity"] = security_severity
        # What the rule looks at: "image" (each image site) or "pull-secret" (each pull Secret).
        values["subject"] = subject
        # The settings (`RuleSettings` fields) without which it reports nothing: with each of
        # them as an empty configuration leaves it, its check would find nothing to report.
        values["configured_by"] = configured_by
        # It reports nothing when the linted set holds no Secret (of any type).
        values["needs_secrets"] = needs_secrets
        if doc is not None or check is not None or check_pull_secret is not None:
            values["doc"] = doc or ""
            values["check"] = check or _no_image_check
            values["check_pull_secret"] = check_pull_secret

    if TYPE_CHECKING:
        code: str
        name: str
        severity: Severity
        default_enabled: bool
        needs_registry: bool
        concerns: Component | None
        checks_placeholders: bool
        security_severity: float | None
        subject: str
        configured_by: tuple[str, ...]
        needs_secrets: bool

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Rule is read-only: cannot set {name!r}")

    def __repr__(self) -> str:
        return f"Rule({self.code!r}, {self.name!r})"

    @property
    def module_name(self) -> str:
        """Where its documentation and check live: `imglint.rules.img002_latest_tag`."""
        return f"imglint.rules.{self.code.lower()}_{self.name.replace('-', '_')}"

    def _load_module(self) -> None:
        name = self.module_name
        __import__(name)
        module = sys.modules[name]
        self.__dict__.update(
            doc=module.__doc__ or "",
            check=getattr(module, "check", _no_image_check),
            check_pull_secret=getattr(module, "check_pull_secret", None),
        )

    def may_report(self, settings: RuleSettings, objects: ObjectIndex) -> bool:
        """Whether the check can report anything with these settings and this object index
        (False: running it would find nothing, so it need not run, nor its module load)."""
        if self.needs_secrets and not (objects.secrets or objects.other_secrets):
            return False
        return not self.configured_by or any(
            getattr(settings, name) != getattr(_UNCONFIGURED, name) for name in self.configured_by
        )

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


# The settings of an empty configuration (what `configured_by` compares with).
_UNCONFIGURED = RuleSettings()
ERROR, WARNING = Severity.ERROR, Severity.WARNING

# The rules, in code order. A rule's module is `img<code>_<name>.py` (tests/test_rules.py checks
# that every module in rules/ is one of these).
RULES: tuple[Rule, ...] = (
    Rule("IMG001", "invalid-reference", ERROR, default_enabled=True, needs_registry=False),
    Rule("IMG002", "latest-tag", ERROR, default_enabled=True, needs_registry=False, concerns="tag"),
    Rule(
        "IMG003", "missing-tag", ERROR, default_enabled=True, needs_registry=False, concerns="tag"
    ),
    Rule(
        "IMG004",
        "implicit-registry",
        WARNING,
        default_enabled=True,
        needs_registry=False,
        concerns="registry",
    ),
    Rule(
        "IMG005",
        "unpinned-image",
        WARNING,
        default_enabled=False,
        needs_registry=False,
        concerns="digest",
        # A supply-chain risk: what runs may change without review (a security alert, medium).
        security_severity=5.0,
    ),
    Rule(
        "IMG006",
        "missing-pull-secret",
        ERROR,
        default_enabled=True,
        needs_registry=False,
        configured_by=("private_registries",),
    ),
    Rule(
        "IMG007",
        "pull-secret-registry-mismatch",
        ERROR,
        default_enabled=True,
        needs_registry=False,
        concerns="registry",
        needs_secrets=True,
    ),
    Rule(
        "IMG008",
        "disallowed-registry",
        ERROR,
        default_enabled=True,
        needs_registry=False,
        concerns="registry",
        configured_by=("allowed_registries", "allowed_images"),
        # A supply-chain risk: the image comes from outside the trusted registries (a security
        # alert, high).
        security_severity=7.5,
    ),
    Rule(
        "IMG009",
        "docker-hub-anonymous",
        WARNING,
        default_enabled=False,
        needs_registry=False,
        concerns="registry",
    ),
    Rule(
        "IMG010",
        "pull-policy-mutable-tag",
        WARNING,
        default_enabled=False,
        needs_registry=False,
        concerns="tag",
    ),
    Rule(
        "IMG011",
        "invalid-pull-secret",
        ERROR,
        default_enabled=True,
        needs_registry=False,
        subject="pull-secret",
    ),
    Rule(
        "IMG012",
        "disallowed-tag",
        ERROR,
        default_enabled=True,  # silent until denied-tags or allowed-tags is configured
        needs_registry=False,
        concerns="tag",
        configured_by=("denied_tags", "allowed_tags"),
    ),
    Rule(
        "IMG013",
        "denied-registry",
        ERROR,
        default_enabled=True,
        needs_registry=False,
        concerns="registry",
    ),
    Rule("IMG014", "pull-policy-not-always", WARNING, default_enabled=False, needs_registry=False),
    Rule(
        "IMG015",
        "unused-image-override",
        WARNING,
        default_enabled=True,
        needs_registry=False,
        # Runs on sites that are no reference yet too: an entry that matches nothing has none.
        checks_placeholders=True,
    ),
    Rule(
        "IMG101", "tag-not-found", ERROR, default_enabled=True, needs_registry=True, concerns="tag"
    ),
    Rule(
        "IMG102",
        "repository-not-found",
        ERROR,
        default_enabled=True,
        needs_registry=True,
        concerns="repository",
    ),
    Rule("IMG103", "registry-auth-failed", ERROR, default_enabled=True, needs_registry=True),
    Rule(
        "IMG104",
        "stale-digest",
        WARNING,
        default_enabled=True,
        needs_registry=True,
        concerns="digest",
    ),
    Rule(
        "IMG105",
        "digest-not-found",
        ERROR,
        default_enabled=True,
        needs_registry=True,
        concerns="digest",
    ),
    Rule("IMG106", "platform-missing", WARNING, default_enabled=True, needs_registry=True),
    Rule("IMG107", "registry-unreachable", WARNING, default_enabled=True, needs_registry=True),
    Rule(
        "IMG108",
        "image-too-old",
        WARNING,
        default_enabled=True,  # reports nothing until max-image-age is configured
        needs_registry=True,
        configured_by=("max_image_age",),
    ),
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
