"""Policies teams write (issue 16): tag rules (IMG012), denied and moved registries (IMG013,
`--fix`), exact allowed images (IMG008 with `allowed-images`), and pull policy Always (IMG014).

Each test's docstring names the peer case it mirrors. Exact lines of every rule on a workload
are in tests/fixtures/rules/policy.yaml (run by tests/test_rules.py::test_fixture).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imglint.config import from_mapping, load
from imglint.context import Context
from imglint.errors import ConfigError
from imglint.rules import (
    img008_disallowed_registry,
    img012_disallowed_tag,
    img013_denied_registry,
    img014_pull_policy_not_always,
)
from tests.cli_runner import run
from tests.factories import DIGEST, make_site


def settings(**config: Any) -> Context:
    mapping = {key.replace("_", "-"): value for key, value in config.items()}
    return Context(settings=from_mapping(mapping).rule_settings)


def messages(module: Any, image: str, ctx: Context, **site: Any) -> list[str]:
    return list(module.check(make_site(image, **site), ctx))


# --- IMG012 disallowed-tag --------------------------------------------------------------------


def test_denied_tags_name_the_entry_that_decided() -> None:
    """clusterlint #63: a user deployed `nightly`, which moves like `latest`; kube-linter #183:
    a block list of tags, globs for families such as `*-SNAPSHOT`."""
    ctx = settings(denied_tags=["nightly", "main", "edge", "*-SNAPSHOT"])
    assert messages(img012_disallowed_tag, "ghcr.io/acme/api:nightly", ctx) == [
        'image "ghcr.io/acme/api:nightly" uses the tag "nightly", denied by denied-tags '
        'entry "nightly"'
    ]
    assert messages(img012_disallowed_tag, "api:1.4.2-SNAPSHOT", ctx) == [
        'image "api:1.4.2-SNAPSHOT" uses the tag "1.4.2-SNAPSHOT", denied by denied-tags '
        'entry "*-SNAPSHOT"'
    ]
    # Globs match the whole tag, case-sensitively: `maintenance` and `Nightly` are other tags.
    assert messages(img012_disallowed_tag, "api:maintenance", ctx) == []
    assert messages(img012_disallowed_tag, "api:Nightly", ctx) == []


def test_allowed_tags_semantic_versions_only() -> None:
    """kube-linter #80 (only a chosen range of version tags is valid) and kube-linter #183's
    allow list (merged as the latest-tag template's allowList, kube-linter #199): a `re:`
    expression over the whole tag; a denied tag stays denied even when the allow list
    matches it (kube-linter's block list takes precedence too)."""
    ctx = settings(allowed_tags=[r"re:v?\d+\.\d+\.\d+"], denied_tags=[r"re:\d+\.\d+\.\d+-rc\d*"])
    assert messages(img012_disallowed_tag, "ghcr.io/acme/api:v2.4.1", ctx) == []
    assert messages(img012_disallowed_tag, "ghcr.io/acme/api:2.4", ctx) == [
        'image "ghcr.io/acme/api:2.4" uses the tag "2.4", which matches no allowed-tags '
        'entry for it ("re:v?\\d+\\.\\d+\\.\\d+")'
    ]
    # fullmatch: a version with a suffix is not a version.
    assert len(messages(img012_disallowed_tag, "ghcr.io/acme/api:2.4.1-debug", ctx)) == 1
    assert messages(img012_disallowed_tag, "api:1.0.0-rc1", ctx) == [
        'image "api:1.0.0-rc1" uses the tag "1.0.0-rc1", denied by denied-tags entry '
        '"re:\\d+\\.\\d+\\.\\d+-rc\\d*"'
    ]


def test_a_digest_pins_the_image_so_tag_rules_pass() -> None:
    """gatekeeper-library #120 (disallowedtags): a tag rule is about what moves; as IMG002
    does, `tag@digest` passes because the digest decides what runs. An image without a tag is
    missing-tag's (IMG003), not reported twice."""
    ctx = settings(denied_tags=["nightly"], allowed_tags=["1.*"])
    assert messages(img012_disallowed_tag, f"ghcr.io/acme/api:nightly@{DIGEST}", ctx) == []
    assert messages(img012_disallowed_tag, f"ghcr.io/acme/api@{DIGEST}", ctx) == []
    assert messages(img012_disallowed_tag, "ghcr.io/acme/api", ctx) == []


def test_tag_entries_scoped_to_registries_and_repositories() -> None:
    """gatekeeper-library #120: tag rules for some repositories only (dev builds may be used
    from the team's own registry path); the scope matches whole path components, as
    allowed-registries does (gatekeeper-library #529: prefixes must not match lookalikes)."""
    ctx = settings(
        denied_tags=[{"pattern": "dev-*", "registries": ["ghcr.io/acme"]}],
        allowed_tags=[{"pattern": "stable-*", "registries": ["quay.io/team"]}],
    )
    assert messages(img012_disallowed_tag, "ghcr.io/acme/api:dev-42", ctx) == [
        'image "ghcr.io/acme/api:dev-42" uses the tag "dev-42", denied by denied-tags entry '
        '"dev-*" (for ghcr.io/acme)'
    ]
    assert messages(img012_disallowed_tag, "ghcr.io/acme-evil/api:dev-42", ctx) == []
    assert messages(img012_disallowed_tag, "quay.io/team/proxy:canary", ctx) == [
        'image "quay.io/team/proxy:canary" uses the tag "canary", which matches no '
        'allowed-tags entry for it ("stable-*" (for quay.io/team))'
    ]
    # allowed-tags constrains only the images an entry applies to.
    assert messages(img012_disallowed_tag, "quay.io/other/proxy:canary", ctx) == []


def test_tag_rules_are_silent_until_configured() -> None:
    """kube-linter #183: the check fails only what the configured lists say."""
    assert messages(img012_disallowed_tag, "api:nightly", Context()) == []


# --- IMG013 denied-registry -------------------------------------------------------------------


def test_the_built_in_entry_moves_k8s_gcr_io() -> None:
    """kyverno/policies #1539 and kyverno's replace-image-registry sample (rules for
    k8s.gcr.io): images from the frozen k8s.gcr.io go to registry.k8s.io, path, tag and
    digest kept; matched by host label, never a lookalike host."""
    ctx = Context(settings=from_mapping({}).rule_settings)
    (message,) = messages(img013_denied_registry, "k8s.gcr.io/ingress-nginx/controller:v1.2.1", ctx)
    assert message.startswith(
        'image "k8s.gcr.io/ingress-nginx/controller:v1.2.1" comes from "k8s.gcr.io", which '
        'moved to "registry.k8s.io" (k8s.gcr.io is frozen since 2023-04-03'
    )
    assert message.endswith(
        ': use "registry.k8s.io/ingress-nginx/controller:v1.2.1" (imglint --fix rewrites it)'
    )
    assert messages(img013_denied_registry, "k8s.gcr.io.evil.example/pause:3.9", ctx) == []
    assert messages(img013_denied_registry, "registry.k8s.io/pause:3.9", ctx) == []


def test_denied_registries_with_and_without_replacement() -> None:
    """gatekeeper-library #120 (allowedrepos' inverse: registries that must not be used) and
    kyverno's replace-image-registry: a path prefix matches whole components; an entry of
    the configuration's own for k8s.gcr.io replaces the built-in one."""
    ctx = settings(
        denied_registries={
            "registry.example.com/old": "registry.example.com/new",
            "gcr.io/retired": None,
            "k8s.gcr.io": None,
        }
    )
    assert messages(img013_denied_registry, "registry.example.com/old/db:1", ctx) == [
        'image "registry.example.com/old/db:1" comes from "registry.example.com/old", which '
        'moved to "registry.example.com/new": use "registry.example.com/new/db:1" '
        "(imglint --fix rewrites it)"
    ]
    assert messages(img013_denied_registry, "registry.example.com/older/db:1", ctx) == []
    assert messages(img013_denied_registry, "gcr.io/retired/x:1", ctx) == [
        'image "gcr.io/retired/x:1" comes from "gcr.io/retired", which is in denied-registries'
    ]
    assert messages(img013_denied_registry, "k8s.gcr.io/pause:3.9", ctx) == [
        'image "k8s.gcr.io/pause:3.9" comes from "k8s.gcr.io", which is in denied-registries'
    ]


def test_fix_rewrites_a_moved_registry_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """kyverno/policies #1539: the move is made in the manifest itself, byte for byte
    elsewhere (a quoted value stays quoted, the digest stays, comments stay)."""
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        '    - name: a\n      image: "k8s.gcr.io/pause:3.9"  # keep me\n'
        f"    - name: b\n      image: k8s.gcr.io/etcd:3.5.6-0@{DIGEST}\n"
    )
    code, _, err = run(["--fix", "--select", "IMG013", str(manifest)], capsys)
    assert code == 0, err
    assert manifest.read_text() == (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        '    - name: a\n      image: "registry.k8s.io/pause:3.9"  # keep me\n'
        f"    - name: b\n      image: registry.k8s.io/etcd:3.5.6-0@{DIGEST}\n"
    )


def test_fix_leaves_moved_registries_alone_when_the_rule_is_not_selected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """kyverno/policies #1539: the move is a policy; a team that ignores IMG013 keeps what it
    wrote, and --fix still makes Docker Hub explicit (IMG004's fix)."""
    manifest = tmp_path / "pod.yaml"
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - name: a\n      image: k8s.gcr.io/pause:3.9\n"
        "    - name: b\n      image: busybox:1.36\n"
    )
    manifest.write_text(text)
    code, _, err = run(["--fix", "--ignore", "IMG013", str(manifest)], capsys)
    assert code == 0, err
    assert manifest.read_text() == text.replace("busybox", "docker.io/library/busybox")


def test_fix_moves_a_kustomize_entry_through_its_new_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """kyverno/policies #1539, where users write the image: a kustomization `images:` entry
    is rewritten by its own keys (newName); the base's `pause`, which the entry renames, is
    left as it is with the reason when IMG004's fix would name Docker Hub there (the kustomize
    guard: renaming it would unhook the entry)."""
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [pod.yaml]\nimages:\n  - name: pause\n    newName: k8s.gcr.io/pause\n"
        "    newTag: '3.9'\n"
    )
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - name: a\n      image: pause\n"
    )
    code, out, _ = run(["--fix", "--select", "IMG013,IMG004", str(tmp_path)], capsys)
    assert code == 2
    assert "pod.yaml:7:14: error: cannot rewrite pause safely: renaming it would unhook" in out
    assert "image: pause\n" in (tmp_path / "pod.yaml").read_text()
    assert "    newName: registry.k8s.io/pause\n" in (tmp_path / "kustomization.yaml").read_text()


# --- allowed-images with allowed-registries (IMG008) -----------------------------------------


def test_allowed_images_are_exact_repositories_and_images() -> None:
    """gatekeeper-library #616 (k8sallowedreposv2, after #529): exact repositories and exact
    images with globs, so `ubuntu` does not allow `ubuntu-evil` nor a repository's sub-paths;
    when either list is set an image passes if an entry of either allows it."""
    ctx = settings(
        allowed_registries=["registry.example.com"],
        allowed_images=["ghcr.io/acme/api", "ubuntu:20.04", "ghcr.io/tools/*:1.*"],
    )
    assert messages(img008_disallowed_registry, "ghcr.io/acme/api:2.0", ctx) == []
    assert messages(img008_disallowed_registry, "registry.example.com/x/y:1", ctx) == []
    assert messages(img008_disallowed_registry, "ubuntu:20.04", ctx) == []
    assert messages(img008_disallowed_registry, "docker.io/library/ubuntu:20.04", ctx) == []
    assert messages(img008_disallowed_registry, "ghcr.io/tools/jq:1.7", ctx) == []
    assert messages(img008_disallowed_registry, "ghcr.io/acme/api/debug:2.0", ctx) == [
        'image "ghcr.io/acme/api/debug:2.0" comes from registry "ghcr.io", which is not in '
        "allowed-registries, and ghcr.io/acme/api/debug is not in allowed-images"
    ]
    assert len(messages(img008_disallowed_registry, "ubuntu:22.04", ctx)) == 1
    assert len(messages(img008_disallowed_registry, "ubuntu-evil:20.04", ctx)) == 1
    assert len(messages(img008_disallowed_registry, "ghcr.io/tools/a/b:1.0", ctx)) == 1
    only_images = settings(allowed_images=["nginx"])
    assert messages(img008_disallowed_registry, "nginx:1.27", only_images) == []
    assert messages(img008_disallowed_registry, "quay.io/nginx/nginx:1", only_images) == [
        'image "quay.io/nginx/nginx:1" (quay.io/nginx/nginx) is not in allowed-images'
    ]


# --- IMG014 pull-policy-not-always -------------------------------------------------------------


def test_pull_policy_not_always_uses_the_effective_policy() -> None:
    """polaris #638 (pullPolicyNotAlways, which Polaris, kube-score and Checkov report): the
    policy Kubernetes applies when none is written counts (Always only for :latest or no
    tag); polaris #1058 asks to spare digests, which is why the rule is opt-in here."""
    ctx = Context()
    rule = img014_pull_policy_not_always
    assert messages(rule, "nginx:1.27", ctx, pull_policy="IfNotPresent") == [
        'image "nginx:1.27" has imagePullPolicy IfNotPresent: set imagePullPolicy: Always'
    ]
    assert messages(rule, "nginx:1.27", ctx) == [
        'image "nginx:1.27" has no imagePullPolicy, so Kubernetes uses IfNotPresent: set '
        "imagePullPolicy: Always"
    ]
    assert messages(rule, f"nginx@{DIGEST}", ctx) != []
    assert messages(rule, "nginx:latest", ctx) == []
    assert messages(rule, "nginx", ctx) == []
    assert messages(rule, "nginx:1.27", ctx, pull_policy="Always") == []


# --- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "denied-tags:\n  - nightly\n  - 're:v(1'\n",
            ".imglint.yaml:3: denied-tags[1]: 're:v(1' is not a regular expression: "
            "missing ), unterminated subpattern at position 1",
        ),
        (
            "allowed-tags:\n  - pattern: 'v*'\n    registries: [https://ghcr.io]\n",
            ".imglint.yaml:3: allowed-tags[0].registries[0]: 'https://ghcr.io': write a "
            "registry host, not a URL",
        ),
        (
            "allowed-tags:\n  - {tag: 'v*'}\n",
            ".imglint.yaml:2: allowed-tags[0] must be a pattern or a mapping with `pattern` "
            "and optionally `registries`, not 'tag'",
        ),
        ("denied-tags: nightly\n", ".imglint.yaml:1: denied-tags must be a list of tag patterns"),
        (
            "denied-tags: ['a:b']\n",
            ".imglint.yaml:1: denied-tags[0]: 'a:b' is not a tag or tag glob",
        ),
        (
            "denied-registries:\n  k8s.gcr.io: registry.k8s.io\n  'gcr.io/*': other.io\n",
            ".imglint.yaml:3: denied-registries.gcr.io/*: a registry with a replacement "
            "cannot be a glob",
        ),
        (
            "denied-registries:\n  quay.io: https://mirror.example\n",
            ".imglint.yaml:2: denied-registries.quay.io: replacement 'https://mirror.example': "
            "write a registry host, not a URL",
        ),
        (
            "denied-registries: quay.io\n",
            ".imglint.yaml:1: denied-registries must map registries to their replacement (or null)",
        ),
        (
            "allowed-images:\n  - ubuntu:20.04\n  - ghcr.io/Acme/api\n",
            ".imglint.yaml:3: allowed-images[1]: 'ghcr.io/Acme/api' is not an image or "
            "repository: ",
        ),
    ],
)
def test_new_keys_are_validated_at_their_line(tmp_path: Path, text: str, message: str) -> None:
    """Every policy key fails as one line naming the file and line (kube-linter validates a
    check's parameters once, when the check is built)."""
    (tmp_path / ".imglint.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load(None, str(tmp_path))
    assert str(info.value).startswith(message)


def test_denied_registries_list_form_and_builtin() -> None:
    """The list form (`[quay.io, {old.io: new.io}]`) is accepted; the built-in entry stays
    unless the configuration names k8s.gcr.io itself."""
    config = from_mapping({"denied-registries": ["quay.io", {"old.io": "new.io"}]})
    texts = [(e.pattern.text, e.replacement) for e in config.denied_registries]
    assert texts == [("quay.io", None), ("old.io", "new.io"), ("k8s.gcr.io", "registry.k8s.io")]
