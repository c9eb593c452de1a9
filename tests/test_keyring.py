"""kubelet keyring matching: cases ported from kubernetes' keyring_test.go and the images docs."""

from __future__ import annotations

import pytest

from imglint.keyring import (
    is_default_registry_match,
    key_matches,
    matching_entries,
    matching_keys,
    normalize_key,
)


@pytest.mark.parametrize(
    ("key", "entry"),
    [
        ("https://index.docker.io/v1/", "index.docker.io"),
        ("index.docker.io/v1/", "index.docker.io"),
        ("https://index.docker.io/v1", "index.docker.io/v1"),  # no trailing slash: not stripped
        ("http://registry.example:5000/v2/", "registry.example:5000"),
        ("registry.example/v2/team", "registry.example/team"),
        ("registry.example/v1/team/app", "registry.example/team/app"),
        ("my-registry.example/images", "my-registry.example/images"),
        ("ghcr.io/", "ghcr.io"),
        ("ghcr.io", "ghcr.io"),
        ("*.gcr.io", "*.gcr.io"),
        ("[::1]:5000", "[::1]:5000"),
        ("registry.example:abc", None),  # Go's url.Parse: invalid port
        ("registry example", None),
        ("registry.example/team?x=1#frag", "registry.example/team"),
        ("[::1", None),
    ],
)
def test_normalize_key(key: str, entry: str | None) -> None:
    assert normalize_key(key) == entry


# keyring_test.go TestURLsMatch: (glob, target, expected)
URLS_MATCH = [
    ("*.kubernetes.io", "prefix.kubernetes.io", True),
    ("prefix.*.io", "prefix.kubernetes.io", True),
    ("prefix.kubernetes.*", "prefix.kubernetes.io", True),
    ("*-good.kubernetes.io", "prefix-good.kubernetes.io", True),
    ("*.kubernetes.io/blah", "prefix.kubernetes.io/blah", True),
    ("prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", True),
    ("*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", True),
    ("prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", True),
    ("*.kubernetes.io", "kubernetes.io", False),
    ("*.*.kubernetes.io", "prefix.kubernetes.io", False),
    ("*.*.kubernetes.io", "kubernetes.io", False),
    ("kubernetes.io", "kubernetes.com", False),
    ("k*.io", "quay.io", False),
    ("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", False),
    ("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", False),
]


@pytest.mark.parametrize(("glob", "target", "expected"), URLS_MATCH)
def test_urls_match(glob: str, target: str, expected: bool) -> None:
    assert key_matches(glob, target) is expected


# keyring_test.go TestDockerKeyringForGlob: the key matches target + "/foo/bar"
FOR_GLOB = [
    ("https://hello.kubernetes.io", "hello.kubernetes.io"),
    ("https://*.docker.io", "prefix.docker.io"),
    ("https://prefix.*.io", "prefix.docker.io"),
    ("https://prefix.docker.*", "prefix.docker.io"),
    ("https://*.docker.io/path", "prefix.docker.io/path"),
    ("https://prefix.*.io/path", "prefix.docker.io/path/subpath"),
    ("https://prefix.docker.*/path", "prefix.docker.io/path"),
    ("https://*.docker.io:8888", "prefix.docker.io:8888"),
    ("https://prefix.*.io:8888", "prefix.docker.io:8888"),
    ("https://prefix.docker.*:8888", "prefix.docker.io:8888"),
    ("https://*.docker.io/path:1111", "prefix.docker.io/path:1111"),
    ("https://*.docker.io/v1/", "prefix.docker.io/path:1111"),
    ("https://*.docker.io/v2/", "prefix.docker.io/path:1111"),
    ("https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111"),
    ("prefix.docker.io:1111", "prefix.docker.io:1111/path"),
    ("*.docker.io:1111", "prefix.docker.io:1111/path"),
]


@pytest.mark.parametrize(("key", "target"), FOR_GLOB)
def test_keyring_for_glob(key: str, target: str) -> None:
    assert matching_keys([key], target + "/foo/bar") == [key]


# keyring_test.go TestKeyringMiss: the key does not match lookup + "/foo/bar"
MISSES = [
    ("https://hello.kubernetes.io", "world.mesos.org"),
    ("https://*.docker.com", "prefix.docker.io"),
    ("https://suffix.*.io", "prefix.docker.io"),
    ("https://prefix.docker.c*", "prefix.docker.io"),
    ("https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"),
    ("suffix.*.io", "prefix.docker.io"),
]


@pytest.mark.parametrize(("key", "lookup"), MISSES)
def test_keyring_miss(key: str, lookup: str) -> None:
    assert matching_keys([key], lookup + "/foo/bar") == []


HUB_KEY = "https://index.docker.io/v1/"


def test_docker_hub_key_does_not_match_other_registries() -> None:
    assert matching_keys([HUB_KEY], "world.mesos.org/foo/bar") == []


@pytest.mark.parametrize(
    "image",
    [
        "google/docker-registry",  # unqualified
        "jenkins",  # unqualified library image
        "index.docker.io/google/docker-registry",  # qualified with the legacy host
        "docker.io/library/nginx",  # what imglint passes: the normalized name
    ],
)
def test_docker_hub_fallback(image: str) -> None:
    assert matching_keys([HUB_KEY], image) == [HUB_KEY]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("foo/bar", True),
        ("docker.io/foo/bar", True),
        ("index.docker.io/foo/bar", True),
        ("foo", True),
        ("", False),
        ("registry.tld/foo/bar", False),
        ("registry:5000/foo/bar", False),
        ("myhostdocker.io/foo/bar", False),
    ],
)
def test_is_default_registry_match(image: str, expected: bool) -> None:
    assert is_default_registry_match(image) is expected


# kubernetes.io/docs/concepts/containers/images, "Interpretation of config.json"
@pytest.mark.parametrize(
    ("key", "image", "expected"),
    [
        ("*.kubernetes.io", "abc.kubernetes.io/img", True),
        ("*.kubernetes.io", "kubernetes.io/img", False),
        ("*.*.kubernetes.io", "abc.kubernetes.io/img", False),
        ("*.*.kubernetes.io", "abc.def.kubernetes.io/img", True),
        ("prefix.*.io", "prefix.kubernetes.io/img", True),
        ("*-good.kubernetes.io", "prefix-good.kubernetes.io/img", True),
        ("my-registry.example/images", "my-registry.example/images/my-image", True),
        ("*.my-registry.example/images", "sub.my-registry.example/images/my-image", True),
        ("*.my-registry.example/images", "a.sub.my-registry.example/images/my-image", False),
        ("my-registry.example/images", "a.sub.my-registry.example/images/my-image", False),
    ],
)
def test_docs_examples(key: str, image: str, expected: bool) -> None:
    assert key_matches(key, image) is expected


def test_docs_example_both_keys_tried_in_order() -> None:
    keys = ["*.my-registry.example/images", "my-registry.example/images"]
    assert matching_keys(keys, "my-registry.example/images/my-image") == [
        "my-registry.example/images"
    ]
    assert matching_keys(keys, "sub.my-registry.example/images/my-image") == [
        "*.my-registry.example/images"
    ]
    assert matching_keys(keys, "a.sub.my-registry.example/images/my-image") == []


def test_more_specific_keys_first() -> None:
    keys = ["quay.io", "quay.io/coreos", "https://quay.io/v1/coreos/etcd"]
    assert matching_keys(keys, "quay.io/coreos/etcd") == [
        "https://quay.io/v1/coreos/etcd",
        "quay.io/coreos",
        "quay.io",
    ]


def test_path_is_a_plain_string_prefix() -> None:
    assert key_matches("registry.example/images", "registry.example/imagesfoo/app")
    assert not key_matches("registry.example/images/", "registry.example/imagesfoo/app")


def test_ports_must_be_equal() -> None:
    assert not key_matches("registry.example", "registry.example:5000/app")
    assert not key_matches("registry.example:5000", "registry.example/app")
    assert key_matches("localhost:5000", "localhost:5000/app")
    assert key_matches("[::1]:5000", "[::1]:5000/app")


def test_hub_keys_derived() -> None:
    # A key `docker.io` matches normalized Hub names directly; `registry-1.docker.io` never does.
    assert matching_keys(["docker.io"], "docker.io/library/nginx") == ["docker.io"]
    assert matching_keys(["registry-1.docker.io"], "docker.io/library/nginx") == []
    # The fallback only applies when nothing else matched.
    assert matching_keys(["docker.io", HUB_KEY], "docker.io/library/nginx") == ["docker.io"]


def test_duplicate_keys_keep_every_value_in_order() -> None:
    entries = [
        ("https://ghcr.io", "first"),
        ("ghcr.io", "second"),
        ("ghcr.io/org", "specific"),
        ("quay.io", "other"),
    ]
    assert matching_entries(entries, "ghcr.io/org/app") == ["specific", "first", "second"]


@pytest.mark.parametrize(
    ("pattern", "label", "expected"),
    [
        ("g[a-c]r", "gbr", True),
        ("g[a-c]r", "gdr", False),
        ("g[z-a]r", "gar", False),  # reversed range: legal in Go, matches nothing
        ("*cr", "gcr", True),
        ("g*", "gcr", True),
        # Go's url.Parse ends the host at `?`, rejects `^` and `\\` in a host, and reads a
        # leading `[` as an IPv6 literal: these globs can never match in kubelet.
        ("g?r", "gcr", False),
        ("g[^a]r", "gbr", False),
        ("\\*cr", "*cr", False),
        ("[a-c]cr", "bcr", False),
        ("g[r", "g[r", False),  # malformed class
        ("g[]r", "g]r", False),
        ("g[-a]r", "g-r", False),
    ],
)
def test_go_glob_semantics(pattern: str, label: str, expected: bool) -> None:
    assert key_matches(f"{pattern}.io", f"{label}.io/app") is expected


def test_case_sensitive_like_go() -> None:
    assert not key_matches("GHCR.io", "ghcr.io/app")
