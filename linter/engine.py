"""Runs the selected rules over image sites and turns their messages into findings.

Everything the configuration says about findings is applied here, once: which sites are checked
(`ignore-images`, placeholders), which rules run, severity overrides, suppression comments and
annotations. Rules stay pure
functions of a site. The output is sorted (path, line, column, code, message), so a run's
findings never depend on file or rule order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from sys import intern

from imglint import rules
from imglint.config import Config, SiteChoice
from imglint.context import Context
from imglint.findings import Finding, Severity, UnusedSuppression
from imglint.sites import ImageSite, parse_image
from imglint.suppress import Located, Suppressions

INVALID_REFERENCE = "IMG001"  # drawn alone: other rules need a parsed reference


class LintResult:
    """The findings of a run. Unused suppressions are worked out only when asked for."""

    def __init__(
        self,
        findings: list[Finding],
        selected_codes: frozenset[str],
        suppressions: Suppressions,
        sites: Sequence[ImageSite],
        places: Sequence[Located] = (),
        ran_at: Callable[[str, str | None], frozenset[str]] | None = None,
    ) -> None:
        self.findings = findings
        self.selected_codes = selected_codes  # the rules that ran
        self._suppressions = suppressions
        self._sites = sites
        self._places = places  # the other objects checked (pull Secrets)
        self._ran_at = ran_at  # the rules that ran in a file and namespace, when they vary
        self._unused: list[UnusedSuppression] | None = None

    @property
    def unused_suppressions(self) -> list[UnusedSuppression]:
        if self._unused is None:
            self._unused = self._suppressions.unused(
                self.selected_codes, self._sites, self._places, self._ran_at
            )
        return self._unused


def active_rules(config: Config, ctx: Context) -> list[rules.Rule]:
    """The selected rules, in code order; registry rules only when the registry check ran.
    With overrides or nested configurations, a rule any of them selects is active; each site
    then runs its own."""
    registry = bool(ctx.answers)
    enabled = config.selected_anywhere()
    return [r for r in rules.RULES if r.code in enabled and (registry or not r.needs_registry)]


def lint(sites: Sequence[ImageSite], ctx: Context, config: Config) -> LintResult:
    """Lint a set of sites as a run does: `checked_sites`, then `run_rules`."""
    return run_rules(checked_sites(sites, config), ctx, config)


def checked_sites(sites: Iterable[ImageSite], config: Config) -> list[ImageSite]:
    """The sites imglint checks: not placeholders (`{{ .Values.image }}`, `${IMAGE}`: not a
    reference yet) unless a rule checks them whatever they hold (a kustomize entry that matches
    nothing), and not named by `ignore-images`. Each reference is parsed."""
    kept = [site for site in sites if site.placeholder is None or site.unmatched is not None]
    return not_ignored(kept, config)


def not_ignored(sites: list[ImageSite], config: Config) -> list[ImageSite]:
    """The sites `ignore-images` leaves to imglint (each reference parsed): no rule, registry
    request or rewrite for the rest. A run applies this once; its result goes to every later
    stage. Placeholders are no image to name, so they stay."""
    for site in sites:
        if site.placeholder is None and site.reference is None and site.error is None:
            parse_image(site)
    if not any(each.ignore_images for each in config.configurations()):
        return sites
    # each site's file's nearest configuration says (the run's own for all, without others)
    kept = []
    for site in sites:
        ignored = config.config_for(site.path).ignore_images
        if (
            site.placeholder is not None
            or not ignored
            or not ignored.matches(site.image, site.reference)
        ):
            kept.append(site)
    return kept


def run_rules(sites: Sequence[ImageSite], ctx: Context, config: Config) -> LintResult:
    """The selected rules over `sites` (already `checked_sites`), into sorted findings."""
    active = active_rules(config, ctx)
    severities = {r.code: config.severity_of(r) for r in active}
    secret_rules = [r for r in active if r.subject == "pull-secret"]
    active = [r for r in active if r.subject == "image"]
    # A rule that can report nothing with the run's settings and objects is not run (nor its
    # module loaded); where settings vary (overrides), each site's decide.
    varies = config.varies
    runs = active if varies else [r for r in active if r.may_report(ctx.settings, ctx.objects)]
    # Rules about the site itself (a kustomize entry that matches nothing) run whatever it holds.
    for_any = [r for r in runs if r.checks_placeholders]
    for_invalid = [r for r in runs if r.code == INVALID_REFERENCE] + for_any
    for_valid = [r for r in runs if r.code != INVALID_REFERENCE]
    suppressions = Suppressions()
    findings: list[Finding] = []
    linted: list[ImageSite] = []  # the references: where suppressions may be unused
    choices: dict[tuple[str, str | None], SiteChoice] = {}  # per file and namespace
    for site in sites:
        if site.placeholder is not None:
            chosen = for_any
        else:
            linted.append(site)
            chosen = for_invalid if site.error is not None else for_valid
        site_severity = severities
        if varies:
            key = (site.path, site.obj.namespace)
            choice = choices.get(key) or choices.setdefault(key, config.choice_for(site))
            settings = ctx.settings_for(site)
            chosen = [
                r
                for r in chosen
                if r.code in choice.enabled and r.may_report(settings, ctx.objects)
            ]
            site_severity = {r.code: choice.severity.get(r.code, r.severity) for r in chosen}
        for rule in chosen:
            for message in rule.check(site, ctx):
                # Looked up only when a rule fires, which keeps clean sites cheap.
                span = site.span_for(rule.concerns)
                if suppressions.suppressed(site, rule.code, span.line):
                    continue
                identity = site.identity
                findings.append(
                    Finding(
                        code=rule.code,
                        name=rule.name,
                        severity=site_severity[rule.code],
                        # A run's findings repeat their messages (an image used in many files):
                        # kept once each.
                        message=intern(message),
                        path=site.path,
                        span=span,
                        image=site.image,
                        kind=identity.kind,
                        namespace=identity.namespace,
                        object=identity.object,
                        container=identity.part,
                        label=site.label,
                        unnamed_container=site.unnamed_container,
                    )
                )

    def choose(path: str, namespace: str | None) -> SiteChoice:
        key = (path, namespace)
        return choices.get(key) or choices.setdefault(key, config.choice_for_file(path, namespace))

    places = _check_pull_secrets(
        secret_rules, ctx, severities, suppressions, findings, choose if varies else None
    )
    findings.sort(key=lambda f: (*f.sort_key, f.message))
    ran = frozenset(r.code for r in [*active, *secret_rules])

    def ran_at(path: str, namespace: str | None) -> frozenset[str]:
        """A suppression is judged by the rules that ran where it is."""
        return ran & choose(path, namespace).enabled

    return LintResult(findings, ran, suppressions, linted, places, ran_at if varies else None)


def _check_pull_secrets(
    secret_rules: Sequence[rules.Rule],
    ctx: Context,
    severities: dict[str, Severity],
    suppressions: Suppressions,
    findings: list[Finding],
    choose: Callable[[str, str | None], SiteChoice] | None = None,
) -> list[Located]:
    """Rules about pull Secrets, once per Secret of the set; the places they looked at.
    `choose`: what applies to a file and namespace, when that varies."""
    places: list[Located] = []
    if not secret_rules:
        return places
    for secret in sorted(ctx.objects.secrets.values(), key=lambda s: (s.path, s.line)):
        span = secret.problem
        place = Located(
            secret.path, secret.source_lines, span.line if span else secret.line, secret.obj
        )
        places.append(place)
        chosen, severity = secret_rules, severities
        if choose is not None:
            choice = choose(secret.path, secret.namespace)
            chosen = [r for r in secret_rules if r.code in choice.enabled]
            severity = {r.code: choice.severity.get(r.code, r.severity) for r in chosen}
        for rule in chosen:
            assert rule.check_pull_secret is not None  # a pull-secret rule defines it
            for message in rule.check_pull_secret(secret, ctx):
                if span is None or suppressions.suppressed_at(place, rule.code):
                    continue
                findings.append(
                    Finding(
                        code=rule.code,
                        name=rule.name,
                        severity=severity[rule.code],
                        message=message,
                        path=secret.path,
                        span=span,
                        image=None,
                        kind="Secret",
                        namespace=secret.namespace,
                        object=secret.name,
                    )
                )
    return places
