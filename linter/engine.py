"""Runs the selected rules over image sites and turns their messages into findings.

Everything the configuration says about findings is applied here, once: which rules run,
`ignore-images`, severity overrides, suppression comments and annotations. Rules stay pure
functions of a site. The output is sorted (path, line, column, code, message), so a run's
findings never depend on file or rule order.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Sequence

from imglint import rules
from imglint.config import Config
from imglint.context import Context
from imglint.findings import Finding, UnusedSuppression
from imglint.sites import ImageSite, parse_image
from imglint.suppress import Suppressions

INVALID_REFERENCE = "IMG001"  # drawn alone: other rules need a parsed reference


class LintResult:
    """The findings of a run. Unused suppressions are worked out only when asked for."""

    def __init__(
        self,
        findings: list[Finding],
        selected_codes: frozenset[str],
        suppressions: Suppressions,
        sites: Sequence[ImageSite],
    ) -> None:
        self.findings = findings
        self.selected_codes = selected_codes  # the rules that ran
        self._suppressions = suppressions
        self._sites = sites
        self._unused: list[UnusedSuppression] | None = None

    @property
    def unused_suppressions(self) -> list[UnusedSuppression]:
        if self._unused is None:
            self._unused = self._suppressions.unused(self.selected_codes, self._sites)
        return self._unused


def active_rules(config: Config, ctx: Context) -> list[rules.Rule]:
    """The selected rules, in code order; registry rules only when the registry check ran."""
    registry = bool(ctx.answers)
    return [
        r for r in rules.RULES if r.code in config.enabled and (registry or not r.needs_registry)
    ]


def lint(sites: Sequence[ImageSite], ctx: Context, config: Config) -> LintResult:
    active = active_rules(config, ctx)
    # Rules about the site itself (a kustomize entry that matches nothing) run whatever it holds.
    for_any = [r for r in active if r.checks_placeholders]
    for_invalid = [r for r in active if r.code == INVALID_REFERENCE] + for_any
    for_valid = [r for r in active if r.code != INVALID_REFERENCE]
    severities = {r.code: config.severity_of(r) for r in active}
    ignored = image_matcher(config.ignore_images)
    suppressions = Suppressions()
    findings: list[Finding] = []
    linted: list[ImageSite] = []
    for site in sites:
        if site.placeholder is not None:
            # `{{ .Values.image }}`, `${IMAGE}`: not a reference yet
            if site.unmatched is None or not for_any:
                continue
            chosen = for_any
        else:
            if site.reference is None and site.error is None:
                parse_image(site)
            if ignored is not None and ignored(site):
                continue
            linted.append(site)
            chosen = for_invalid if site.error is not None else for_valid
        for rule in chosen:
            for message in rule.check(site, ctx):
                # Looked up only when a rule fires, which keeps clean sites cheap.
                if suppressions.suppressed(site, rule.code):
                    continue
                identity = site.identity
                findings.append(
                    Finding(
                        code=rule.code,
                        name=rule.name,
                        severity=severities[rule.code],
                        message=message,
                        path=site.path,
                        span=site.span_for(rule.concerns),
                        image=site.image,
                        kind=identity.kind,
                        namespace=identity.namespace,
                        object=identity.object,
                        container=identity.part,
                    )
                )
    findings.sort(key=lambda f: (*f.sort_key, f.message))
    return LintResult(findings, frozenset(r.code for r in active), suppressions, linted)


def image_matcher(globs: Iterable[str]) -> Callable[[ImageSite], bool] | None:
    """A test for `ignore-images`: globs (`*` spans `/`) against the image as written, its
    normalized name (`docker.io/library/nginx`) and its normalized reference (with tag/digest)."""
    patterns = list(globs)
    if not patterns:
        return None
    regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))
    cache: dict[str, bool] = {}

    def ignored(site: ImageSite) -> bool:
        found = cache.get(site.image)
        if found is None:
            candidates = [site.image]
            if site.reference is not None:
                candidates += [site.reference.name, str(site.reference)]
            found = any(regex.match(c) is not None for c in candidates)
            cache[site.image] = found
        return found

    return ignored
