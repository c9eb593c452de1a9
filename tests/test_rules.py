"""The offline rules IMG001-IMG010: fixture files with expectations beside the lines, then the
exact message of every rule and the edge cases of their shared helpers."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imglint import records, rules
from imglint.context import Context, ObjectIndex, RuleSettings
from imglint.findings import Severity
from imglint.manifests import load
from imglint.patterns import RegistryPattern
from imglint.reference import parse
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
)
from imglint.sources import collect
from tests.factories import (
    DIGEST,
    FIXTURES,
    expected_findings,
    fixture_config,
    lint_fixture,
    make_context,
    make_site,
    pull_secret,
)

OFFLINE = [r for r in rules.RULES if r.code <= "IMG010"]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.name)
def test_fixture(path: Path) -> None:
    _, found = lint_fixture(path)
    assert found == expected_findings(path.read_text(encoding="utf-8"))


def test_the_fixtures_exercise_every_offline_rule() -> None:
    seen: set[str] = set()
    for path in FIXTURES.glob("*.yaml"):
        seen.update(code for _, code in expected_findings(path.read_text(encoding="utf-8")))
    assert seen >= {r.code for r in OFFLINE}


# --- the catalogue -----------------------------------------------------------------------------


def test_catalogue_metadata() -> None:
    assert [r.code for r in OFFLINE] == [f"IMG{n:03d}" for n in range(1, 11)]
    assert len({r.code for r in rules.RULES}) == len(rules.RULES)
    assert len({r.name for r in rules.RULES}) == len(rules.RULES)
    assert [r.code for r in rules.RULES] == sorted(r.code for r in rules.RULES)
    defaults = {r.code for r in OFFLINE if r.default_enabled}
    assert defaults == {"IMG001", "IMG002", "IMG003", "IMG004", "IMG006", "IMG007", "IMG008"}
    assert not any(r.needs_registry for r in OFFLINE)
    assert {r.code for r in OFFLINE if r.severity is Severity.WARNING} == {
        "IMG004",
        "IMG005",
        "IMG009",
        "IMG010",
    }


def test_rule_modules_are_named_after_their_code_and_name() -> None:
    """Each module in rules/ is the module of one declared rule, named after its code and
    name, and gives it its documentation and its check (none is left out of RULES)."""
    folder = Path(rules.__file__).parent
    assert sorted(p.stem for p in folder.glob("img*.py")) == [
        f"{r.code.lower()}_{r.name.replace('-', '_')}" for r in rules.RULES
    ]
    for rule in rules.RULES:
        module = importlib.import_module(rule.module_name)
        assert rule.doc == module.__doc__
        check = "check_pull_secret" if rule.subject == "pull-secret" else "check"
        assert getattr(rule, check) is getattr(module, check)


def test_a_rules_module_is_imported_only_when_its_check_or_doc_is_read() -> None:
    probe = (
        "import sys; from imglint import rules; "
        "loaded = lambda: sorted(m for m in sys.modules if m.startswith('imglint.rules.img')); "
        "before = loaded(); rules.BY_CODE['IMG002'].check; rules.BY_CODE['IMG011'].doc; "
        "print(before, loaded())"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == (
        "[] ['imglint.rules.img002_latest_tag', 'imglint.rules.img011_invalid_pull_secret']"
    )


def test_what_a_rule_needs_to_report_names_real_settings() -> None:
    settings = {spec.name for spec in records.fields(RuleSettings)}
    for rule in rules.RULES:
        assert set(rule.configured_by) <= settings, rule.code


# The fixtures' objects and sites: pull Secrets, ServiceAccounts, allowed and denied images.
_QUIET_CASES = [
    *sorted((FIXTURES.parent / "rules").glob("*.yaml")),
    FIXTURES.parent / "workloads" / "all-kinds.yaml",
]


@pytest.mark.parametrize("path", _QUIET_CASES, ids=lambda p: p.name)
def test_a_rule_that_may_not_report_finds_nothing(path: Path) -> None:
    """`may_report` False (nothing it needs configured, no Secret in the set) means the check
    finds nothing there: the engine skips only checks that would report nothing."""
    text = path.read_text(encoding="utf-8")
    configured = fixture_config(text).rule_settings if text.startswith("# test-config:") else None
    collected = collect([str(path)])
    manifests = load(collected.sources)
    without_secrets = ObjectIndex(service_accounts=manifests.objects.service_accounts)
    quiet_checked = set()
    for settings, objects in (
        (RuleSettings(), manifests.objects),
        (configured or RuleSettings(), without_secrets),
        (RuleSettings(), without_secrets),
    ):
        ctx = Context(objects=objects, settings=settings)
        for rule in rules.RULES:
            if rule.subject != "image" or rule.may_report(settings, objects):
                continue
            quiet_checked.add(rule.code)
            for site in manifests.sites:
                if site.placeholder is None and site.error is None:
                    assert list(rule.check(site, ctx)) == [], (rule.code, site.image)
    assert quiet_checked >= {"IMG006", "IMG007", "IMG008", "IMG012", "IMG108"}


def test_a_rule_is_read_only() -> None:
    with pytest.raises(AttributeError):
        rules.BY_CODE["IMG002"].severity = Severity.INFO


def test_reserved_codes_are_kept_for_the_rules_they_name() -> None:
    """A rule written for a reserved code takes its reserved name; no other rule takes either."""
    # the claims made on the board, as "CODE name"
    claimed = "IMG011 invalid-pull-secret, IMG012 disallowed-tag, IMG013 denied-registry, "
    claimed += "IMG014 pull-policy-not-always, IMG015 unused-image-override, IMG108 image-too-old"
    assert [f"{code} {name}" for code, name in rules.RESERVED.items()] == claimed.split(", ")
    for rule in rules.RULES:
        if rule.code in rules.RESERVED:
            assert rule.name == rules.RESERVED[rule.code], f"{rule.code} is reserved"
        else:
            assert rule.name not in rules.RESERVED.values(), f"{rule.name} is reserved"
    pending = [code for code in rules.RESERVED if code not in rules.BY_CODE]
    intro = rules.render_markdown().split("| Code |", 1)[0]
    assert all(f"{code} `{rules.RESERVED[code]}`" in intro for code in pending)


@pytest.mark.parametrize("rule", OFFLINE, ids=lambda r: r.code)
def test_rule_documentation_has_every_section(rule: rules.Rule) -> None:
    headings = re.findall(r"^## (.+)$", rule.doc, re.MULTILINE)
    assert headings == ["What it does", "Why is this bad?", "Example", "Use instead"]
    assert rule.summary.endswith(".") or rule.summary.endswith(")")
    assert re.search(r"InvalidImageName|ErrImagePull|ImagePullBackOff|ErrImageNeverPull", rule.doc)
    assert "```yaml" in rule.doc


def test_lookup_by_code_or_name() -> None:
    assert rules.lookup("img002") is rules.BY_CODE["IMG002"]
    assert rules.lookup(" Latest-Tag ") is rules.BY_CODE["IMG002"]
    assert rules.lookup("IMG999") is None


def test_render_explain() -> None:
    text = rules.render_explain(rules.BY_CODE["IMG005"])
    assert text.startswith(
        "IMG005 unpinned-image (warning, opt-in, supply-chain security)\n\n"
        "The image is not pinned by digest, so the tag can move under you.\n\n"
        "## What it does\n"
    )
    assert text.endswith("```\n")


# --- messages ----------------------------------------------------------------------------------


def messages(module: object, site: object, ctx: Context | None = None) -> list[str]:
    return list(module.check(site, ctx or Context()))  # type: ignore[attr-defined]


def test_img001_uses_the_runtimes_reason() -> None:
    assert messages(img001_invalid_reference, make_site("busyBOX")) == [
        'invalid image reference "busyBOX": invalid reference format: repository name '
        "(library/busyBOX) must be lowercase (the kubelet reports InvalidImageName)"
    ]
    assert messages(img001_invalid_reference, make_site("nginx:1.25")) == []


def test_img001_hints_at_placeholders_and_empty_images() -> None:
    assert messages(img001_invalid_reference, make_site("gcr.io/PROJECT_ID/app:1")) == [
        'invalid image reference "gcr.io/PROJECT_ID/app:1": invalid reference format: '
        "repository name (PROJECT_ID/app) must be lowercase "
        "(the kubelet reports InvalidImageName - an unreplaced placeholder?)"
    ]
    assert messages(img001_invalid_reference, make_site("<your-image>")) == [
        'invalid image reference "<your-image>": invalid reference format '
        "(the kubelet reports InvalidImageName - an unreplaced placeholder?)"
    ]
    assert messages(img001_invalid_reference, make_site("")) == [
        "the image is empty: no pod can run it (a value that was never filled in?)"
    ]


def test_img002_latest_tag() -> None:
    assert messages(img002_latest_tag, make_site("ghcr.io/a/b:latest")) == [
        'image "ghcr.io/a/b:latest" uses the tag "latest", which moves: '
        "pin a version tag or a digest"
    ]
    assert messages(img002_latest_tag, make_site(f"ghcr.io/a/b:latest@{DIGEST}")) == []
    assert messages(img002_latest_tag, make_site("ghcr.io/a/b")) == []


def test_img003_missing_tag_port_is_not_a_tag() -> None:
    assert messages(img003_missing_tag, make_site("registry.example.com:5000/team/api")) == [
        'image "registry.example.com:5000/team/api" has no tag, so the runtime pulls "latest": '
        "pin a version tag or a digest"
    ]
    assert messages(img003_missing_tag, make_site("registry.example.com:5000/team/api:1")) == []
    assert messages(img003_missing_tag, make_site(f"ghcr.io/a/b@{DIGEST}")) == []


def test_img004_names_the_normalized_reference() -> None:
    assert messages(img004_implicit_registry, make_site("nginx:1.25")) == [
        'image "nginx:1.25" names no registry, so it is pulled from Docker Hub as '
        '"docker.io/library/nginx:1.25"'
    ]
    assert messages(img004_implicit_registry, make_site("bitnami/nginx")) == [
        'image "bitnami/nginx" names no registry, so it is pulled from Docker Hub as '
        '"docker.io/bitnami/nginx"'
    ]
    assert messages(img004_implicit_registry, make_site("registry.local:5000")) == [
        'image "registry.local:5000" names no registry, so it is pulled from Docker Hub as '
        '"docker.io/library/registry.local:5000" '
        '(a registry needs a repository path: "registry.local:5000/<repository>")'
    ]
    for explicit in ("docker.io/nginx", "index.docker.io/library/nginx", "localhost/app"):
        assert messages(img004_implicit_registry, make_site(explicit)) == []


def test_img005_unpinned() -> None:
    assert messages(img005_unpinned_image, make_site("ghcr.io/a/b:1")) == [
        'image "ghcr.io/a/b:1" is not pinned by digest'
    ]
    assert messages(img005_unpinned_image, make_site(f"ghcr.io/a/b:1@{DIGEST}")) == []


def test_img006_messages() -> None:
    private = ("registry.example.com",)
    image = "registry.example.com/team/api:1"
    unknown_sa = make_site(image, service_account="deployer")
    assert messages(
        img006_missing_pull_secret, unknown_sa, make_context(private_registries=private)
    ) == [
        '"registry.example.com" is a private registry but the pod lists no imagePullSecrets '
        'and its ServiceAccount "deployer" is not in the linted files'
    ]
    ctx = make_context(private_registries=private, service_accounts={("apps", "default"): []})
    assert messages(img006_missing_pull_secret, make_site(image), ctx) == [
        '"registry.example.com" is a private registry but neither the pod nor its '
        'ServiceAccount "default" lists imagePullSecrets'
    ]


def test_img006_only_for_configured_private_registries() -> None:
    # ECR/GAR/ACR images on managed clusters get credentials from kubelet credential providers.
    site = make_site("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1")
    assert messages(img006_missing_pull_secret, site, make_context()) == []
    ctx = make_context(private_registries=("*.dkr.ecr.*.amazonaws.com",))
    assert len(messages(img006_missing_pull_secret, site, ctx)) == 1


def test_img006_any_listed_secret_is_enough() -> None:
    site = make_site("registry.example.com/team/api:1", pull_secrets=["anything"])
    ctx = make_context(private_registries=("registry.example.com",))
    assert messages(img006_missing_pull_secret, site, ctx) == []


def test_img006_service_account_secrets_apply_only_when_the_pod_lists_none() -> None:
    ctx = make_context(
        private_registries=("registry.example.com",),
        service_accounts={("apps", "builder"): ["regcred"]},
    )
    site = make_site("registry.example.com/team/api:1", service_account="builder")
    assert messages(img006_missing_pull_secret, site, ctx) == []
    secrets = ctx.objects.pod_secrets(site)
    assert (secrets.names, secrets.service_account, secrets.known) == (
        ("regcred",),
        "builder",
        True,
    )
    own = ctx.objects.pod_secrets(make_site("x", service_account="builder", pull_secrets=["own"]))
    assert (own.names, own.service_account) == (("own",), None)


def test_img007_message_names_the_keys_and_ignored_types() -> None:
    ctx = make_context(
        secrets=[pull_secret("regcred", "registry.example.com", "ghcr.io")],
        other_secrets={("apps", "token"): "Opaque"},
    )
    site = make_site("registry.example.com:5000/team/api:1", pull_secrets=["regcred", "token"])
    assert messages(img007_pull_secret_registry_mismatch, site, ctx) == [
        "no pull secret from the pod's imagePullSecrets has credentials for "
        '"registry.example.com:5000/team/api": "regcred" (keys "registry.example.com", '
        '"ghcr.io"), "token" (type Opaque, ignored by the kubelet)'
    ]


def test_img007_from_service_account() -> None:
    ctx = make_context(
        secrets=[pull_secret("empty")],
        service_accounts={("apps", "default"): ["empty"]},
        private_registries=("ghcr.io/acme",),
    )
    assert messages(img007_pull_secret_registry_mismatch, make_site("ghcr.io/acme/x:1"), ctx) == [
        'no pull secret from ServiceAccount "default" has credentials for "ghcr.io/acme/x": '
        '"empty" (no keys)'
    ]


@pytest.mark.parametrize(
    ("key", "image", "reported"),
    [
        ("registry.example.com", "registry.example.com/a/b:1", False),  # matches
        ("https://registry.example.com/v1/", "registry.example.com/a/b:1", False),  # matches
        ("registry.example.com", "registry.example.com:5000/a/b:1", True),  # port
        ("registry.example.com:5000", "registry.example.com/a/b:1", True),  # port
        ("Registry.Example.com", "registry.example.com/a/b:1", True),  # letter case
        ("*.example.com", "example.com/a/b:1", True),  # glob misses the apex
        ("ghcr.io/acme", "ghcr.io/other/tool:1", False),  # scoped key, public image
        ("ghcr.io", "quay.io/prometheus/node-exporter:v1", False),  # public image elsewhere
        ("ghcr.io", "busybox:1.36", False),  # public Docker Hub image
        ("registry-1.docker.io", "redis:7", True),  # never used for Docker Hub
        ("https://index.docker.io/v1/", "redis:7", False),  # the Docker Hub key
        ("docker.io", "redis:7", False),
    ],
)
def test_img007_reports_only_keys_meant_for_the_registry(
    key: str, image: str, reported: bool
) -> None:
    ctx = make_context(secrets=[pull_secret("s", key)])
    site = make_site(image, pull_secrets=["s"])
    assert bool(messages(img007_pull_secret_registry_mismatch, site, ctx)) is reported


def test_img007_silent_when_anything_is_unknown() -> None:
    private = ("ghcr.io",)
    known = pull_secret("known", "quay.io")
    site = make_site("ghcr.io/a/b:1", pull_secrets=["known", "missing"])
    ctx = make_context(secrets=[known], private_registries=private)
    assert messages(img007_pull_secret_registry_mismatch, site, ctx) == []
    broken = records.replace(known, keys=(), error=".dockercfg is not valid base64")
    ctx = make_context(secrets=[broken], private_registries=private)
    site = make_site("ghcr.io/a/b:1", pull_secrets=["known"])
    assert messages(img007_pull_secret_registry_mismatch, site, ctx) == []
    # No pod secrets and an unknown ServiceAccount: IMG006's business, not a mismatch.
    assert messages(img007_pull_secret_registry_mismatch, make_site("ghcr.io/a/b:1"), ctx) == []
    ctx = make_context(secrets=[known], private_registries=private)
    site = make_site("ghcr.io/a/b:1", pull_secrets=["known"])
    assert len(messages(img007_pull_secret_registry_mismatch, site, ctx)) == 1


def test_img008_message() -> None:
    ctx = make_context(allowed_registries=("ghcr.io",))
    assert messages(img008_disallowed_registry, make_site("quay.io/a/b:1"), ctx) == [
        'image "quay.io/a/b:1" comes from registry "quay.io", which is not in allowed-registries'
    ]
    assert messages(img008_disallowed_registry, make_site("nginx:1"), ctx) == [
        'image "nginx:1" comes from registry "docker.io" (implicitly Docker Hub), '
        "which is not in allowed-registries"
    ]
    assert messages(img008_disallowed_registry, make_site("quay.io/a/b:1"), Context()) == []
    nothing = make_context(allowed_registries=())
    assert len(messages(img008_disallowed_registry, make_site("ghcr.io/a/b:1"), nothing)) == 1


def test_img009_message() -> None:
    assert messages(img009_docker_hub_anonymous, make_site("redis:7")) == [
        'Docker Hub image "redis:7" is pulled anonymously: no pull secret from '
        'ServiceAccount "default" has Docker Hub credentials, and anonymous pulls share a '
        "per-IP rate limit"
    ]
    ctx = make_context(secrets=[pull_secret("hub", "https://index.docker.io/v1/")])
    assert (
        messages(img009_docker_hub_anonymous, make_site("redis:7", pull_secrets=["hub"]), ctx) == []
    )
    unknown = make_site("redis:7", pull_secrets=["somewhere-else"])
    assert messages(img009_docker_hub_anonymous, unknown, ctx) == []
    assert messages(img009_docker_hub_anonymous, make_site("ghcr.io/a/b:1")) == []


def test_img010_messages() -> None:
    latest = make_site("ghcr.io/a/b:latest", pull_policy="IfNotPresent")
    assert messages(img010_pull_policy_mutable_tag, latest) == [
        'imagePullPolicy IfNotPresent on image "ghcr.io/a/b:latest" with the mutable tag '
        '"latest": nodes keep whichever image they pulled first'
    ]
    untagged = make_site("ghcr.io/a/b", pull_policy="Never")
    assert messages(img010_pull_policy_mutable_tag, untagged) == [
        'imagePullPolicy Never on image "ghcr.io/a/b" with no tag (so "latest"): '
        "nodes keep whichever image they pulled first"
    ]
    # Kubernetes validates the value exactly; a lower-case policy is another error.
    assert (
        messages(img010_pull_policy_mutable_tag, make_site("a:latest", pull_policy="never")) == []
    )


def test_rules_say_nothing_about_invalid_references() -> None:
    site = make_site("Nginx:latest", pull_policy="IfNotPresent")
    ctx = make_context(private_registries=("docker.io",), allowed_registries=("ghcr.io",))
    for rule in OFFLINE:
        if rule.code != "IMG001":
            assert list(rule.check(site, ctx)) == []


# --- registry patterns -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "image", "matches"),
    [
        ("ghcr.io", "ghcr.io/a/b", True),
        ("ghcr.io", "ghcr.io.evil.example/a/b", False),
        ("ghcr.io", "evil-ghcr.io/a/b", False),
        ("GHCR.io", "ghcr.io/a/b", True),
        ("*.example.com", "eu.example.com/a", True),
        ("*.example.com", "example.com/a", False),
        ("*.example.com", "a.b.example.com/a", False),
        ("*.dkr.ecr.*.amazonaws.com", "1234.dkr.ecr.eu-west-1.amazonaws.com/a", True),
        ("registry.local:5000", "registry.local:5000/a", True),
        ("registry.local:5000", "registry.local/a", False),
        ("registry.local", "registry.local:5000/a", False),
        ("docker.io", "nginx", True),
        ("docker.io", "docker.io/library/nginx", True),
        ("index.docker.io", "bitnami/redis", True),
        ("docker.io/library", "nginx", True),
        ("docker.io/library", "bitnami/redis", False),
        ("ghcr.io/acme", "ghcr.io/acme/api", True),
        ("ghcr.io/acme", "ghcr.io/acme/team/api", True),
        ("ghcr.io/acme", "ghcr.io/acme-evil/api", False),
        ("ghcr.io/acme/", "ghcr.io/acme/api", True),
        ("ghcr.io/*/public", "ghcr.io/acme/public/api", True),
        ("[::1]:5000", "[::1]:5000/a", True),
        ("[::1]:5000", "[::2]:5000/a", False),
    ],
)
def test_registry_pattern(pattern: str, image: str, matches: bool) -> None:
    assert RegistryPattern.parse(pattern).matches(parse(image)) is matches


_PATTERNS = [
    "ghcr.io",
    "GHCR.io",
    "k8s.gcr.io",
    "registry.local:5000",
    "registry.local",
    "docker.io",
    "index.docker.io",
    "docker.io:5000",
    "ghcr.io/acme",
    "*.example.com",
    "[::1]:5000",
    "localhost",
    "localhost:5000",
]
_IMAGES = [
    "ghcr.io/acme/api",
    "GHCR.IO/acme/api",
    "Ghcr.Io:443/acme/api",
    "ghcr.io.evil.example/a",
    "k8s.gcr.io/pause:3.9",
    "K8S.GCR.IO/pause",
    "registry.local:5000/a",
    "REGISTRY.local:5000/a",
    "registry.local:50000/a",
    "registry.local/a",
    "nginx",
    "docker.io/library/nginx",
    "index.docker.io/library/nginx",
    "docker.io:5000/a",
    "eu.example.com/a",
    "[::1]:5000/a",
    "[::1]/a",
    "localhost/a",
    "localhost:5000/a",
]


@pytest.mark.parametrize("pattern", _PATTERNS)
def test_a_plain_registry_pattern_matches_as_label_by_label(pattern: str) -> None:
    """A pattern whose host has no glob (and is no IPv6 address) compares a reference's whole
    domain at once: what comparing its host label by label, and its port, concludes."""
    parsed = RegistryPattern.parse(pattern)
    label_by_label = records.replace(parsed, plain_domain=None)
    for image in _IMAGES:
        ref = parse(image)
        assert parsed.matches(ref) is label_by_label.matches(ref), (pattern, image)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "empty registry pattern"),
        ("https://ghcr.io", "'https://ghcr.io': write a registry host, not a URL"),
        ("ghcr.io/a@sha256", "'ghcr.io/a@sha256' is not a registry host pattern"),
        ("ghcr io", "'ghcr io' is not a registry host pattern"),
        ("ghcr.io:http", "'ghcr.io:http' is not a registry host pattern (host[:port][/path])"),
        ("ghcr..io", "'ghcr..io' has an empty host label"),
    ],
)
def test_registry_pattern_errors(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        RegistryPattern.parse(pattern)
    assert str(info.value) == reason


def test_an_object_named_without_a_namespace_is_the_first_of_its_name_in_the_set() -> None:
    # A pod that names no namespace may run beside any object of the name it asks for: the
    # first of the set is taken (in the order read), also once more objects are added, and
    # whatever its latest value is (the last file that names it wins).
    index = ObjectIndex()
    index.service_accounts[("team-a", "builder")] = ["a-pull"]
    index.service_accounts[("team-b", "builder")] = ["b-pull"]
    assert index.service_account(None, "builder") == ["a-pull"]
    assert index.service_account("team-b", "builder") == ["b-pull"]
    assert index.service_account(None, "deployer") is None
    index.service_accounts[(None, "deployer")] = ["d-pull"]
    index.service_accounts[("team-c", "runner")] = ["c-pull"]
    assert index.service_account(None, "deployer") == ["d-pull"]
    assert index.service_account(None, "runner") == ["c-pull"]
    index.service_accounts[("team-a", "builder")] = ["a-pull-2"]
    assert index.service_account(None, "builder") == ["a-pull-2"]


def test_looking_up_by_name_is_not_a_walk_through_every_object() -> None:
    # 20,000 pods asking for a ServiceAccount by name among 20,000: counted dictionary reads,
    # not timed (a walk per pod made this quadratic in the input's size).
    class Counting(dict[tuple[str | None, str], list[str]]):
        walks = 0

        def __iter__(self) -> Iterator[tuple[str | None, str]]:
            Counting.walks += 1
            return super().__iter__()

        def items(self) -> Any:
            Counting.walks += 1
            return super().items()

    accounts = Counting({(f"ns{i}", f"account{i}"): [f"s{i}"] for i in range(20_000)})
    index = ObjectIndex(service_accounts=accounts)
    for i in range(20_000):
        assert index.service_account(None, f"account{i}") == [f"s{i}"]
    assert Counting.walks == 1


def test_an_index_read_back_from_a_pickle_finds_objects_by_name_as_before() -> None:
    # What the name lookup remembers is keyed by table, not by object identity: an index that
    # travelled (pickled after a lookup) still answers for its own tables.
    import pickle

    index = ObjectIndex()
    index.service_accounts[("team-a", "builder")] = ["a-pull"]
    assert index.service_account(None, "builder") == ["a-pull"]
    travelled = pickle.loads(pickle.dumps(index))
    travelled.service_accounts[("team-b", "runner")] = ["b-pull"]
    assert travelled.service_account(None, "runner") == ["b-pull"]
    assert travelled.service_account(None, "builder") == ["a-pull"]
