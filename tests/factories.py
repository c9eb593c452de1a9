"""Build image sites and contexts directly (no manifest files) for rule, engine and
suppression tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from imglint.config import Config, from_mapping
from imglint.context import Context, ObjectIndex, PullSecret, RuleSettings
from imglint.engine import lint
from imglint.findings import Span
from imglint.manifests import load
from imglint.patterns import registry_patterns
from imglint.sites import ImageSite, K8sObject, PullSecretHolder, parse_image
from imglint.sources import collect

DIGEST = "sha256:" + "0123456789abcdef" * 4


def make_site(
    image: str,
    *,
    pull_secrets: Sequence[str] = (),
    service_account: str | None = None,
    namespace: str | None = "apps",
    pull_policy: str | None = None,
    annotations: dict[str, str] | None = None,
    path: str = "deploy.yaml",
    line: int = 1,
    column: int = 14,
    lines: list[str] | None = None,
    container: str | None = "app",
    obj: K8sObject | None = None,
) -> ImageSite:
    if obj is None:
        obj = K8sObject(
            kind="Deployment",
            api_version="apps/v1",
            name="web",
            namespace=namespace,
            annotations=dict(annotations or {}),
            path=path,
            line=1,
        )
    pod = PullSecretHolder(
        obj=obj,
        image_pull_secrets=tuple(pull_secrets),
        service_account=service_account,
        line=1,
    )
    site = ImageSite(
        path=path,
        span=Span(line, column, line, column + len(image), 0, len(image)),
        image=image,
        holder=pod,
        container=container,
        field="containers",
        pull_policy=pull_policy,
        source_lines=lines if lines is not None else [],
    )
    parse_image(site)
    return site


def pull_secret(name: str, *keys: str, namespace: str | None = "apps") -> PullSecret:
    return PullSecret(
        name=name,
        namespace=namespace,
        type="kubernetes.io/dockerconfigjson",
        path="secrets.yaml",
        line=1,
        keys=keys,
    )


def make_context(
    *,
    secrets: Iterable[PullSecret] = (),
    service_accounts: dict[tuple[str | None, str], list[str]] | None = None,
    other_secrets: dict[tuple[str | None, str], str] | None = None,
    private_registries: tuple[str, ...] = (),
    allowed_registries: tuple[str, ...] | None = None,
) -> Context:
    index = ObjectIndex(
        service_accounts=dict(service_accounts or {}),
        secrets={(s.namespace, s.name): s for s in secrets},
        other_secrets=dict(other_secrets or {}),
    )
    settings = RuleSettings(
        private_registries=registry_patterns(private_registries),
        allowed_registries=None
        if allowed_registries is None
        else registry_patterns(allowed_registries),
    )
    return Context(objects=index, settings=settings)


# --- fixture files: tests/fixtures/rules/*.yaml -------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
_CONFIG_MARK = "# test-config:"
_EXPECT_MARK = "# expect:"


def fixture_config(text: str) -> Config:
    """The `# test-config: {...}` first line of a fixture (flow YAML), as a Config."""
    first = text.splitlines()[0]
    assert first.startswith(_CONFIG_MARK), "a rule fixture starts with # test-config: {...}"
    return from_mapping(yaml.safe_load(first[len(_CONFIG_MARK) :]) or {}, "test-config")


def expected_findings(text: str) -> list[tuple[int, str]]:
    """(line, code) for every `# expect: CODE ...` marker, in file order."""
    out: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if _EXPECT_MARK in line:
            codes = line.split(_EXPECT_MARK, 1)[1].split()
            out.extend((number, code) for code in sorted(codes))
    return out


def lint_fixture(path: Path, config: Config | None = None) -> tuple[Config, list[tuple[int, str]]]:
    text = path.read_text(encoding="utf-8")
    config = config or fixture_config(text)
    collected = collect([str(path)])
    manifests = load(collected.sources)
    assert not collected.errors and not manifests.errors
    ctx = Context(objects=manifests.objects, settings=config.rule_settings)
    result = lint(manifests.sites, ctx, config)
    return config, [(f.span.line, f.code) for f in result.findings]
