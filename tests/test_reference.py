"""The image reference parser against the upstream test tables and the spec's edge cases.

Upstream: github.com/distribution/reference v0.6.x, files reference_test.go, normalize_test.go
and regexp_test.go (ported case by case, same inputs, same expectations unless a comment says
why not). Upstream's tests only check that invalid input fails; here each invalid case also
pins the exact reason the runtime gives, worked out from reference.go / normalize.go / go-digest.

About sha512: reference_test.go's test binary imports crypto/sha256 and crypto/sha512, exactly
like kubelet's pkg/util/parsers, so upstream and kubelet agree that sha512 digests parse; no
upstream expectation has to change for it.
"""

from __future__ import annotations

import pytest

from imglint import records
from imglint.reference import (
    DOMAIN_RE,
    ERR_DIGEST_INVALID_FORMAT,
    ERR_DIGEST_INVALID_LENGTH,
    ERR_DIGEST_SHAPE,
    ERR_DIGEST_UNSUPPORTED,
    ERR_NAME_CONTAINS_UPPERCASE,
    ERR_NAME_EMPTY,
    ERR_NAME_TOO_LONG,
    ERR_REFERENCE_INVALID_FORMAT,
    ERR_TAG_INVALID_FORMAT,
    IDENTIFIER_RE,
    NAME_RE,
    REFERENCE_RE,
    InvalidReference,
    Reference,
    parse,
    parse_unnormalized,
    split_name,
)

F64 = "f" * 64
SHA_F = "sha256:" + F64
SHA512_F = "sha512:" + "f" * 128
IDENT = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"
DBCC = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"
BE17 = "sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912"
E669 = "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"
# the 37-hex "digest" upstream's WithTag/WithDigest tests use
SHORT_DIGEST = "sha256:1234567890098765432112345667890098765"
LONG_NAMESPACE = "_".join(
    ["this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255"] * 4
)


def hexname(text: str) -> str:
    return f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"


def uppercase(remote: str) -> str:
    return f"invalid reference format: repository name ({remote}) must be lowercase"


def reason_of(text: str) -> str:
    with pytest.raises(InvalidReference) as info:
        parse(text)
    return info.value.reason


def fields(ref: Reference) -> tuple[str, str, str | None, str | None]:
    return ref.domain, ref.path, ref.tag, ref.digest


# ---------------------------------------------------------------------------------------------
# reference_test.go TestReferenceParse: Go's Parse (no normalization).
# (input, domain, path, tag, digest); the domain is "" where Parse finds none.

PARSE_VALID = [
    ("test_com", "", "test_com", None, None),
    ("test.com:tag", "", "test.com", "tag", None),
    ("test.com:5000", "", "test.com", "5000", None),
    ("test.com/repo:tag", "test.com", "repo", "tag", None),
    ("test:5000/repo", "test:5000", "repo", None, None),
    ("test:5000/repo:tag", "test:5000", "repo", "tag", None),
    (f"test:5000/repo@{SHA_F}", "test:5000", "repo", None, SHA_F),
    (f"test:5000/repo:tag@{SHA_F}", "test:5000", "repo", "tag", SHA_F),
    ("test:5000/repo", "test:5000", "repo", None, None),  # listed twice upstream
    ("lowercase:Uppercase", "", "lowercase", "Uppercase", None),
    (
        "a/" * 127 + "a:tag-puts-this-over-max",
        "a",
        "a/" * 126 + "a",
        "tag-puts-this-over-max",
        None,
    ),
    ("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", None, None),
    (
        "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
        "sub-dom1.foo.com",
        "bar/baz/quux",
        "some-long-tag",
        None,
    ),
    (
        "b.gcr.io/test.example.com/my-app:test.example.com",
        "b.gcr.io",
        "test.example.com/my-app",
        "test.example.com",
        None,
    ),
    ("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", None),
    (
        f"xn--7o8h.com/myimage:xn--7o8h.com@{SHA512_F}",
        "xn--7o8h.com",
        "myimage",
        "xn--7o8h.com",
        SHA512_F,
    ),
    ("foo_bar.com:8080", "", "foo_bar.com", "8080", None),
    ("foo/foo_bar.com:8080", "foo", "foo_bar.com", "8080", None),
    ("192.168.1.1", "", "192.168.1.1", None, None),
    ("192.168.1.1:tag", "", "192.168.1.1", "tag", None),
    ("192.168.1.1:5000", "", "192.168.1.1", "5000", None),
    ("192.168.1.1/repo", "192.168.1.1", "repo", None, None),
    ("192.168.1.1:5000/repo", "192.168.1.1:5000", "repo", None, None),
    ("192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", None),
    ("[2001:db8::1]/repo", "[2001:db8::1]", "repo", None, None),
    ("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", None),
    ("[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo", None, None),
    ("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag", None),
    (f"[2001:db8::1]:5000/repo@{SHA_F}", "[2001:db8::1]:5000", "repo", None, SHA_F),
    (f"[2001:db8::1]:5000/repo:tag@{SHA_F}", "[2001:db8::1]:5000", "repo", "tag", SHA_F),
    ("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", None, None),
    ("[::1]:5000/repo", "[::1]:5000", "repo", None, None),
    ("example.com/" + "a" * 255 + ":tag", "example.com", "a" * 255, "tag", None),
]

PARSE_INVALID = [
    ("", ERR_NAME_EMPTY),
    (":justtag", ERR_REFERENCE_INVALID_FORMAT),
    (f"@{SHA_F}", ERR_REFERENCE_INVALID_FORMAT),
    ("repo@sha256:" + "f" * 34, ERR_DIGEST_INVALID_LENGTH),
    (f"validname@invaliddigest:{F64}", ERR_DIGEST_UNSUPPORTED),
    ("Uppercase:tag", ERR_NAME_CONTAINS_UPPERCASE),
    ("test:5000/Uppercase/lowercase:tag", ERR_NAME_CONTAINS_UPPERCASE),
    ("domain/" + "a" * 256 + ":tag", ERR_NAME_TOO_LONG),
    ("aa/asdf$$^/aa", ERR_REFERENCE_INVALID_FORMAT),
    ("[2001:db8::1]", ERR_REFERENCE_INVALID_FORMAT),
    ("[2001:db8::1]:5000", ERR_REFERENCE_INVALID_FORMAT),
    ("[2001:db8::1]:tag", ERR_REFERENCE_INVALID_FORMAT),
    ("[fe80::1%eth0]:5000/repo", ERR_REFERENCE_INVALID_FORMAT),
    ("[fe80::1%@invalidzone]:5000/repo", ERR_REFERENCE_INVALID_FORMAT),
]


@pytest.mark.parametrize(("text", "domain", "path", "tag", "digest"), PARSE_VALID)
def test_upstream_parse_valid(
    text: str, domain: str, path: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_unnormalized(text)
    assert fields(ref) == (domain, path, tag, digest)
    assert str(ref) == text


@pytest.mark.parametrize(("text", "reason"), PARSE_INVALID)
def test_upstream_parse_invalid(text: str, reason: str) -> None:
    with pytest.raises(InvalidReference) as info:
        parse_unnormalized(text)
    assert info.value.reason == reason


def test_parse_limit_is_path_only_since_v0_6() -> None:
    # reference v0.5.0's table had "a/"*128 + "a:tag" -> ErrNameTooLong (limit on the whole
    # name); from v0.6.0 the domain "a" no longer counts and the 255-character path is fine.
    ref = parse_unnormalized("a/" * 128 + "a:tag")
    assert (ref.domain, len(ref.path), ref.tag) == ("a", 255, "tag")


# reference_test.go TestWithNameFailure and TestDomainAndPath: Go's WithName.

WITH_NAME_INVALID = [
    ("", ERR_REFERENCE_INVALID_FORMAT),
    (":justtag", ERR_REFERENCE_INVALID_FORMAT),
    (f"@{SHA_F}", ERR_REFERENCE_INVALID_FORMAT),
    (f"validname@invaliddigest:{F64}", ERR_REFERENCE_INVALID_FORMAT),
    ("example.com/repo:tag", ERR_REFERENCE_INVALID_FORMAT),
    ("example.com/" + "a" * 256, ERR_NAME_TOO_LONG),
    ("aa/asdf$$^/aa", ERR_REFERENCE_INVALID_FORMAT),
]

DOMAIN_AND_PATH = [
    ("test.com/foo", "test.com", "foo"),
    ("test_com/foo", "", "test_com/foo"),
    ("test:8080/foo", "test:8080", "foo"),
    ("test.com:8080/foo", "test.com:8080", "foo"),
    ("test-com:8080/foo", "test-com:8080", "foo"),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
]


@pytest.mark.parametrize(("text", "reason"), WITH_NAME_INVALID)
def test_upstream_with_name_failure(text: str, reason: str) -> None:
    with pytest.raises(InvalidReference) as info:
        split_name(text)
    assert info.value.reason == reason


@pytest.mark.parametrize(("text", "domain", "path"), DOMAIN_AND_PATH)
def test_upstream_domain_and_path(text: str, domain: str, path: str) -> None:
    assert split_name(text) == (domain, path)


# reference_test.go TestSerialization: a reference survives text round trips.

SERIALIZATION = [
    ("example.com:8000/named", "example.com:8000/named", None, None),
    ("example.com:8000/named:tagged", "example.com:8000/named", "tagged", None),
    (
        "other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112",
        "other.com/named",
        None,
        "sha256:1234567890098765432112345667890098765432112345667890098765432112",
    ),
]


@pytest.mark.parametrize(("text", "name", "tag", "digest"), SERIALIZATION)
def test_upstream_serialization(text: str, name: str, tag: str | None, digest: str | None) -> None:
    ref = parse_unnormalized(text)
    assert (ref.name, ref.tag, ref.digest) == (name, tag, digest)
    assert str(ref) == text


def test_upstream_serialization_empty() -> None:
    with pytest.raises(InvalidReference) as info:
        parse_unnormalized("")
    assert info.value.reason == ERR_NAME_EMPTY


# reference_test.go TestWithTag and TestWithDigest. Upstream's digest there is 37 hex digits:
# Go's WithDigest checks only the digest's shape. Ours validates it as Parse would (so a pinned
# reference always parses back), rejects the short one, and builds the same strings from a
# full-length digest instead.

WITH_TAG = [
    ("test.com/foo", None, "tag", "test.com/foo:tag"),
    ("foo", None, "tag2", "foo:tag2"),
    ("test.com:8000/foo", None, "tag4", "test.com:8000/foo:tag4"),
    ("test.com:8000/foo", None, "TAG5", "test.com:8000/foo:TAG5"),
    ("test.com:8000/foo", SHORT_DIGEST, "TAG5", f"test.com:8000/foo:TAG5@{SHORT_DIGEST}"),
]

WITH_DIGEST = [
    ("test.com/foo", None, f"test.com/foo@{SHORT_DIGEST}"),
    ("foo", None, f"foo@{SHORT_DIGEST}"),
    ("test.com:8000/foo", None, f"test.com:8000/foo@{SHORT_DIGEST}"),
    ("test.com:8000/foo", "latest", f"test.com:8000/foo:latest@{SHORT_DIGEST}"),
]


@pytest.mark.parametrize(("name", "digest", "tag", "combined"), WITH_TAG)
def test_upstream_with_tag(name: str, digest: str | None, tag: str, combined: str) -> None:
    ref = parse_unnormalized(name)
    if digest is not None:
        with pytest.raises(InvalidReference) as info:
            ref.with_digest(digest)
        assert info.value.reason == ERR_DIGEST_INVALID_LENGTH
        ref = ref.with_digest(SHA_F)
        combined = combined.replace(digest, SHA_F)
    assert str(ref.with_tag(tag)) == combined


@pytest.mark.parametrize(("name", "tag", "combined"), WITH_DIGEST)
def test_upstream_with_digest(name: str, tag: str | None, combined: str) -> None:
    ref = parse_unnormalized(name)
    if tag is not None:
        ref = ref.with_tag(tag)
    with pytest.raises(InvalidReference) as info:
        ref.with_digest(SHORT_DIGEST)
    assert info.value.reason == ERR_DIGEST_INVALID_LENGTH
    assert str(ref.with_digest(SHA_F)) == combined.replace(SHORT_DIGEST, SHA_F)


# reference_test.go TestParseNamed: ParseNamed = ParseNormalizedNamed + "already canonical".

PARSE_NAMED = [
    ("test.com/foo", "test.com", "foo", True),
    ("test:8080/foo", "test:8080", "foo", True),
    ("test_com/foo", "docker.io", "test_com/foo", False),
    ("test.com", "docker.io", "library/test.com", False),
    ("foo", "docker.io", "library/foo", False),
    ("library/foo", "docker.io", "library/foo", False),
    ("docker.io/library/foo", "docker.io", "library/foo", True),
    ("docker.io/foo", "docker.io", "library/foo", False),  # ambiguous: library/ is added
]


@pytest.mark.parametrize(("text", "domain", "path", "canonical"), PARSE_NAMED)
def test_upstream_parse_named(text: str, domain: str, path: str, canonical: bool) -> None:
    ref = parse(text)
    assert (ref.domain, ref.path) == (domain, path)
    assert (str(ref) == text) is canonical


# ---------------------------------------------------------------------------------------------
# normalize_test.go TestValidateReferenceName and TestValidateRemoteName: ParseNormalizedNamed.

NORMALIZED_VALID = [
    ("docker/docker", "docker.io", "docker/docker", None),
    ("library/debian", "docker.io", "library/debian", None),
    ("debian", "docker.io", "library/debian", None),
    ("docker.io/docker/docker", "docker.io", "docker/docker", None),
    ("docker.io/library/debian", "docker.io", "library/debian", None),
    ("docker.io/debian", "docker.io", "library/debian", None),
    ("index.docker.io/docker/docker", "docker.io", "docker/docker", None),
    ("index.docker.io/library/debian", "docker.io", "library/debian", None),
    ("index.docker.io/debian", "docker.io", "library/debian", None),
    ("127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker", None),
    ("127.0.0.1:5000/library/debian", "127.0.0.1:5000", "library/debian", None),
    ("127.0.0.1:5000/debian", "127.0.0.1:5000", "debian", None),
    ("192.168.0.1", "docker.io", "library/192.168.0.1", None),
    ("192.168.0.1:80", "docker.io", "library/192.168.0.1", "80"),
    ("192.168.0.1:8/debian", "192.168.0.1:8", "debian", None),
    ("192.168.0.2:25000/debian", "192.168.0.2:25000", "debian", None),
    (
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "docker.io",
        "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        None,
    ),
    ("[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", None),
    ("[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker", None),
    (
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        "[fc00:1:2:3:4:5:6:7]:5000",
        "library/debian",
        None,
    ),
    # valid with a host: no ambiguity with an identifier
    (f"docker.io/{IDENT}", "docker.io", f"library/{IDENT}", None),
    ("Docker/docker", "Docker", "docker", None),
    ("DOCKER/docker", "DOCKER", "docker", None),
    # TestValidateRemoteName's valid list (docker/docker and the 64-char name are above)
    ("docker-rules/docker", "docker.io", "docker-rules/docker", None),
    ("docker---rules/docker", "docker.io", "docker---rules/docker", None),
    ("doc/docker", "docker.io", "doc/docker", None),
    ("d/docker", "docker.io", "d/docker", None),
    ("jess/t", "docker.io", "jess/t", None),
    ("dock__er/docker", "docker.io", "dock__er/docker", None),
]

NORMALIZED_INVALID = [
    ("https://github.com/docker/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("docker/Docker", uppercase("docker/Docker")),
    ("-docker", ERR_REFERENCE_INVALID_FORMAT),
    ("-docker/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("-docker.io/docker/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("docker///docker", ERR_REFERENCE_INVALID_FORMAT),
    ("docker.io/docker/Docker", uppercase("docker/Docker")),
    ("docker.io/docker///docker", ERR_REFERENCE_INVALID_FORMAT),
    ("[fc00::1]", ERR_REFERENCE_INVALID_FORMAT),
    ("[fc00::1]:5000", ERR_REFERENCE_INVALID_FORMAT),
    ("fc00::1:5000/debian", ERR_REFERENCE_INVALID_FORMAT),
    ("[fe80::1%eth0]:5000/debian", ERR_REFERENCE_INVALID_FORMAT),
    ("[2001:db8:3:4::192.0.2.33]:5000/debian", ERR_REFERENCE_INVALID_FORMAT),
    (IDENT, hexname(IDENT)),
    # TestValidateRemoteName's invalid list (docker/Docker, docker///docker, the identifier
    # and -docker/docker are above)
    ("docker-/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("-docker-/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("____/____", ERR_REFERENCE_INVALID_FORMAT),
    ("_docker/_docker", ERR_REFERENCE_INVALID_FORMAT),
    ("dock..er/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("dock_.er/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("dock-.er/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("docker/", ERR_REFERENCE_INVALID_FORMAT),
    (LONG_NAMESPACE + "/docker", ERR_NAME_TOO_LONG),
    # TestInvalidReferenceComponents
    ("-foo", ERR_REFERENCE_INVALID_FORMAT),
]


@pytest.mark.parametrize(("text", "domain", "path", "tag"), NORMALIZED_VALID)
def test_upstream_normalized_valid(text: str, domain: str, path: str, tag: str | None) -> None:
    assert fields(parse(text)) == (domain, path, tag, None)


@pytest.mark.parametrize(("text", "reason"), NORMALIZED_INVALID)
def test_upstream_normalized_invalid(text: str, reason: str) -> None:
    assert reason_of(text) == reason


# normalize_test.go TestParseRepositoryInfo: every spelling of a repository normalizes alike.
# (familiar name, full name, ambiguous spelling or "", domain, remote name)

REPOSITORY_INFO = [
    ("fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar", "docker.io", "fooo/bar"),
    ("ubuntu", "docker.io/library/ubuntu", "library/ubuntu", "docker.io", "library/ubuntu"),
    ("nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "", "docker.io", "nonlibrary/ubuntu"),
    ("other/library", "docker.io/other/library", "", "docker.io", "other/library"),
    (
        "127.0.0.1:8000/private/moonbase",
        "127.0.0.1:8000/private/moonbase",
        "",
        "127.0.0.1:8000",
        "private/moonbase",
    ),
    (
        "127.0.0.1:8000/privatebase",
        "127.0.0.1:8000/privatebase",
        "",
        "127.0.0.1:8000",
        "privatebase",
    ),
    (
        "example.com/private/moonbase",
        "example.com/private/moonbase",
        "",
        "example.com",
        "private/moonbase",
    ),
    ("example.com/privatebase", "example.com/privatebase", "", "example.com", "privatebase"),
    (
        "example.com:8000/private/moonbase",
        "example.com:8000/private/moonbase",
        "",
        "example.com:8000",
        "private/moonbase",
    ),
    (
        "example.com:8000/privatebasee",
        "example.com:8000/privatebasee",
        "",
        "example.com:8000",
        "privatebasee",
    ),
    (
        "ubuntu-12.04-base",
        "docker.io/library/ubuntu-12.04-base",
        "index.docker.io/library/ubuntu-12.04-base",
        "docker.io",
        "library/ubuntu-12.04-base",
    ),
    ("foo", "docker.io/library/foo", "docker.io/foo", "docker.io", "library/foo"),
    ("library/foo/bar", "docker.io/library/foo/bar", "", "docker.io", "library/foo/bar"),
    ("store/foo/bar", "docker.io/store/foo/bar", "", "docker.io", "store/foo/bar"),
    ("Foo/bar", "Foo/bar", "", "Foo", "bar"),
    ("FOO/bar", "FOO/bar", "", "FOO", "bar"),
]

REPOSITORY_INFO_CASES = [
    pytest.param(text, familiar, full, domain, remote, id=text)
    for familiar, full, ambiguous, domain, remote in REPOSITORY_INFO
    for text in (familiar, full, ambiguous)
    if text
]


@pytest.mark.parametrize(("text", "familiar", "full", "domain", "remote"), REPOSITORY_INFO_CASES)
def test_upstream_repository_info(
    text: str, familiar: str, full: str, domain: str, remote: str
) -> None:
    ref = parse(text)
    assert ref.familiar_name == familiar
    assert str(ref) == full
    assert ref.domain == domain
    assert ref.path == remote


def test_upstream_reference_with_tag_and_digest() -> None:
    digest = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
    short = f"busybox:latest@{digest}"
    ref = parse(short)
    assert str(ref) == "docker.io/library/" + short
    assert (ref.tag, ref.digest) == ("latest", digest)
    assert ref.familiar == short


def test_upstream_invalid_reference_components() -> None:
    # "-foo" is in NORMALIZED_INVALID; these are WithTag("-foo") and WithDigest("foo").
    ref = parse("busybox")
    with pytest.raises(InvalidReference) as tag_error:
        ref.with_tag("-foo")
    assert tag_error.value.reason == ERR_TAG_INVALID_FORMAT
    with pytest.raises(InvalidReference) as digest_error:
        ref.with_digest("foo")
    assert digest_error.value.reason == ERR_DIGEST_SHAPE


# normalize_test.go TestParseAnyReference, through ParseNormalizedNamed (what kubelet calls).

ANY_REFERENCE = [
    ("redis", "docker.io/library/redis"),
    ("redis:latest", "docker.io/library/redis:latest"),
    ("docker.io/library/redis:latest", "docker.io/library/redis:latest"),
    (f"redis@sha256:{DBCC}", f"docker.io/library/redis@sha256:{DBCC}"),
    (f"docker.io/library/redis@sha256:{DBCC}", f"docker.io/library/redis@sha256:{DBCC}"),
    ("dmcgowan/myapp", "docker.io/dmcgowan/myapp"),
    ("dmcgowan/myapp:latest", "docker.io/dmcgowan/myapp:latest"),
    ("docker.io/mcgowan/myapp:latest", "docker.io/mcgowan/myapp:latest"),
    (f"dmcgowan/myapp@sha256:{DBCC}", f"docker.io/dmcgowan/myapp@sha256:{DBCC}"),
    (f"docker.io/dmcgowan/myapp@sha256:{DBCC}", f"docker.io/dmcgowan/myapp@sha256:{DBCC}"),
    (DBCC[:-1], f"docker.io/library/{DBCC[:-1]}"),
    ("dbcc1", "docker.io/library/dbcc1"),
    # ParseAnyReference reads this as a bare digest; ParseNormalizedNamed (kubelet) reads an
    # image "sha256" with a 64-hex tag.
    (f"sha256:{DBCC}", f"docker.io/library/sha256:{DBCC}"),
]


@pytest.mark.parametrize(("text", "equivalent"), ANY_REFERENCE)
def test_upstream_any_reference(text: str, equivalent: str) -> None:
    ref = parse(text)
    assert str(ref) == equivalent
    assert fields(parse_unnormalized(equivalent)) == fields(ref)


def test_upstream_any_reference_identifier() -> None:
    # ParseAnyReference turns a bare identifier into "sha256:<id>"; ParseNormalizedNamed, which
    # kubelet uses, refuses it.
    assert reason_of(DBCC) == hexname(DBCC)


# normalize_test.go TestNormalizedSplitHostname

NORMALIZED_SPLIT = [
    ("test.com/foo", "test.com", "foo"),
    ("test_com/foo", "docker.io", "test_com/foo"),
    ("docker/migrator", "docker.io", "docker/migrator"),
    ("test.com:8080/foo", "test.com:8080", "foo"),
    ("test-com:8080/foo", "test-com:8080", "foo"),
    ("foo", "docker.io", "library/foo"),
    ("xn--n3h.com/foo", "xn--n3h.com", "foo"),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
    ("docker.io/foo", "docker.io", "library/foo"),
    ("docker.io/library/foo", "docker.io", "library/foo"),
    ("docker.io/library/foo/bar", "docker.io", "library/foo/bar"),
]


@pytest.mark.parametrize(("text", "domain", "path"), NORMALIZED_SPLIT)
def test_upstream_normalized_split_hostname(text: str, domain: str, path: str) -> None:
    ref = parse(text)
    assert (ref.domain, ref.path) == (domain, path)


# normalize_test.go TestParseDockerRef. ParseDockerRef adds ":latest" and drops the tag of a
# "name:tag@digest"; ParseNormalizedNamed (kubelet) does neither. kubelet then reports the tag
# "latest" when there is neither tag nor digest, which is `kubelet_tag`.
# (input, expected ParseDockerRef string, kubelet's tag)

DOCKER_REF = [
    ("busybox", "docker.io/library/busybox:latest", "latest"),
    ("busybox:latest", "docker.io/library/busybox:latest", "latest"),
    (f"busybox@{E669}", f"docker.io/library/busybox@{E669}", None),
    ("library/busybox", "docker.io/library/busybox:latest", "latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest", "latest"),
    ("docker.io/library/busybox", "docker.io/library/busybox:latest", "latest"),
    ("docker.io/busybox:latest", "docker.io/library/busybox:latest", "latest"),
    ("library/busybox:latest", "docker.io/library/busybox:latest", "latest"),
    ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "latest"),
    ("gcr.io/library/busybox", "gcr.io/library/busybox:latest", "latest"),
    (
        f"gcr.io/library/busybox:latest@{E669}",
        f"gcr.io/library/busybox@{E669}",
        "latest",
    ),
]


@pytest.mark.parametrize(("text", "docker_ref", "kubelet_tag"), DOCKER_REF)
def test_upstream_parse_docker_ref(text: str, docker_ref: str, kubelet_tag: str | None) -> None:
    ref = parse(text)
    expected = parse_unnormalized(docker_ref)
    assert (ref.domain, ref.path, ref.digest) == (expected.domain, expected.path, expected.digest)
    assert ref.kubelet_tag == kubelet_tag
    as_docker_ref = ref.without_tag() if ref.digest else ref.with_tag(ref.kubelet_tag or "")
    assert str(as_docker_ref) == docker_ref


# ---------------------------------------------------------------------------------------------
# regexp_test.go: the regular expressions themselves.

DOMAIN_MATCHES = [
    ("test.com", True),
    ("test.com:10304", True),
    ("test.com:http", False),
    ("localhost", True),
    ("localhost:8080", True),
    ("a", True),
    ("a.b", True),
    ("ab.cd.com", True),
    ("a-b.com", True),
    ("-ab.com", False),
    ("ab-.com", False),
    ("ab.c-om", True),
    ("ab.-com", False),
    ("ab.com-", False),
    ("0101.com", True),
    ("001a.com", True),
    ("b.gbc.io:443", True),
    ("b.gbc.io", True),
    ("xn--n3h.com", True),
    ("Asdf.com", True),
    ("192.168.1.1:75050", True),
    ("192.168.1.1:750050", True),  # the port is not range-checked
    ("[fd00:1:2::3]:75050", True),
    ("[fd00:1:2::3]75050", False),
    ("[fd00:1:2::3]::75050", False),
    ("[fd00:1:2::3%eth0]:75050", False),
    ("[fd00123123123]:75050", True),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050", True),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505", True),
    ("fd00:1:2::3:75050", False),
]


@pytest.mark.parametrize(("text", "match"), DOMAIN_MATCHES)
def test_upstream_domain_regexp(text: str, match: bool) -> None:
    assert (DOMAIN_RE.fullmatch(text) is not None) is match


# (input, (domain, path)) or (input, None) for no match; Go reports an absent group as "".
FULL_NAME_MATCHES: list[tuple[str, tuple[str, str] | None]] = [
    ("", None),
    ("short", ("", "short")),
    ("simple/name", ("simple", "name")),
    ("library/ubuntu", ("library", "ubuntu")),
    ("docker/stevvooe/app", ("docker", "stevvooe/app")),
    (
        "aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb",
        ("aa", "aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb"),
    ),
    ("aa/aa/bb/bb/bb", ("aa", "aa/bb/bb/bb")),
    ("a/a/a/a", ("a", "a/a/a")),
    ("a/a/a/a/", None),
    ("a//a/a", None),
    ("a", ("", "a")),
    ("a/aa", ("a", "aa")),
    ("a/aa/a", ("a", "aa/a")),
    ("foo.com", ("", "foo.com")),
    ("foo.com/", None),
    ("foo.com:8080/bar", ("foo.com:8080", "bar")),
    ("foo.com:http/bar", None),
    ("foo.com/bar", ("foo.com", "bar")),
    ("foo.com/bar/baz", ("foo.com", "bar/baz")),
    ("localhost:8080/bar", ("localhost:8080", "bar")),
    ("sub-dom1.foo.com/bar/baz/quux", ("sub-dom1.foo.com", "bar/baz/quux")),
    ("blog.foo.com/bar/baz", ("blog.foo.com", "bar/baz")),
    ("a^a", None),
    ("aa/asdf$$^/aa", None),
    ("asdf$$^/aa", None),
    ("aa-a/a", ("aa-a", "a")),
    ("a/" * 128 + "a", ("a", "a/" * 127 + "a")),
    ("a-/a/a/a", None),
    ("foo.com/a-/a/a", None),
    ("-foo/bar", None),
    ("foo/bar-", None),
    ("foo-/bar", None),
    ("foo/-bar", None),
    ("_foo/bar", None),
    ("foo_bar", ("", "foo_bar")),
    ("foo_bar.com", ("", "foo_bar.com")),
    ("foo_bar.com:8080", None),
    ("foo_bar.com:8080/app", None),
    ("foo.com/foo_bar", ("foo.com", "foo_bar")),
    ("____/____", None),
    ("_docker/_docker", None),
    ("docker_/docker_", None),
    ("b.gcr.io/test.example.com/my-app", ("b.gcr.io", "test.example.com/my-app")),
    ("xn--n3h.com/myimage", ("xn--n3h.com", "myimage")),
    ("xn--7o8h.com/myimage", ("xn--7o8h.com", "myimage")),
    ("example.com/xn--7o8h.com/myimage", ("example.com", "xn--7o8h.com/myimage")),
    (
        "example.com/some_separator__underscore/myimage",
        ("example.com", "some_separator__underscore/myimage"),
    ),
    ("example.com/__underscore/myimage", None),
    ("example.com/..dots/myimage", None),
    ("example.com/.dots/myimage", None),
    ("example.com/nodouble..dots/myimage", None),
    ("example.com/nodouble..dots/myimage", None),  # listed twice upstream
    ("docker./docker", None),
    (".docker/docker", None),
    ("docker-/docker", None),
    ("-docker/docker", None),
    ("do..cker/docker", None),
    ("do__cker:8080/docker", None),
    ("do__cker/docker", ("", "do__cker/docker")),
    ("b.gcr.io/test.example.com/my-app", ("b.gcr.io", "test.example.com/my-app")),  # twice
    (
        "registry.io/foo/project--id.module--name.ver---sion--name",
        ("registry.io", "foo/project--id.module--name.ver---sion--name"),
    ),
    ("Asdf.com/foo/bar", ("Asdf.com", "foo/bar")),  # upstream checks the match only
    ("Foo/FarB", None),
]


@pytest.mark.parametrize(("text", "subs"), FULL_NAME_MATCHES)
def test_upstream_full_name_regexp(text: str, subs: tuple[str, str] | None) -> None:
    match = NAME_RE.fullmatch(text)
    if subs is None:
        assert match is None
    else:
        assert match is not None
        assert tuple(group or "" for group in match.groups()) == subs


# (input, (name, tag, digest)) or (input, None)
REFERENCE_MATCHES: list[tuple[str, tuple[str, str, str] | None]] = [
    ("registry.com:8080/myapp:tag", ("registry.com:8080/myapp", "tag", "")),
    (f"registry.com:8080/myapp@{BE17}", ("registry.com:8080/myapp", "", BE17)),
    (f"registry.com:8080/myapp:tag2@{BE17}", ("registry.com:8080/myapp", "tag2", BE17)),
    ("registry.com:8080/myapp@sha256:badbadbadbad", None),
    ("registry.com:8080/myapp:invalid~tag", None),
    ("bad_hostname.com:8080/myapp:tag", None),
    # localhost is the name here and 8080 its tag
    (f"localhost:8080@{BE17}", ("localhost", "8080", BE17)),
    (f"localhost:8080/name@{BE17}", ("localhost:8080/name", "", BE17)),
    (f"localhost:http/name@{BE17}", None),
    (f"localhost@{BE17}", ("localhost", "", BE17)),
    ("registry.com:8080/myapp@bad", None),
    ("registry.com:8080/myapp@2bad", None),
]


@pytest.mark.parametrize(("text", "subs"), REFERENCE_MATCHES)
def test_upstream_reference_regexp(text: str, subs: tuple[str, str, str] | None) -> None:
    match = REFERENCE_RE.fullmatch(text)
    if subs is None:
        assert match is None
    else:
        assert match is not None
        assert tuple(group or "" for group in match.groups()) == subs


IDENTIFIER_MATCHES = [
    ("da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821", True),
    ("7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C", False),
    ("da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf", False),
    ("sha256:da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821", False),
    ("da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf98218482", False),
]


@pytest.mark.parametrize(("text", "match"), IDENTIFIER_MATCHES)
def test_upstream_identifier_regexp(text: str, match: bool) -> None:
    assert (IDENTIFIER_RE.fullmatch(text) is not None) is match


UPSTREAM_CASES = (
    len(PARSE_VALID)
    + len(PARSE_INVALID)
    + 1  # the v0.5 length case
    + len(WITH_NAME_INVALID)
    + len(DOMAIN_AND_PATH)
    + len(SERIALIZATION)
    + 1  # serialization of ""
    + len(WITH_TAG)
    + len(WITH_DIGEST)
    + len(PARSE_NAMED)
    + len(NORMALIZED_VALID)
    + len(NORMALIZED_INVALID)
    + len(REPOSITORY_INFO_CASES)
    + 1  # reference with tag and digest
    + 2  # invalid reference components (with_tag, with_digest)
    + len(ANY_REFERENCE)
    + 1  # the bare identifier of TestParseAnyReference
    + len(NORMALIZED_SPLIT)
    + len(DOCKER_REF)
    + len(DOMAIN_MATCHES)
    + len(FULL_NAME_MATCHES)
    + len(REFERENCE_MATCHES)
    + len(IDENTIFIER_MATCHES)
)


def test_upstream_case_count() -> None:
    # Guards against a table silently losing rows; update when porting new upstream cases.
    assert UPSTREAM_CASES == 320


# ---------------------------------------------------------------------------------------------
# Spec section 2: edge cases.

EDGE_VALID = [
    # localhost is a host only before a "/"; alone, or with ":5000", it is a Hub image
    ("localhost:5000/foo", "localhost:5000", "foo", None, None),
    ("localhost:5000", "docker.io", "library/localhost", "5000", None),
    ("localhost", "docker.io", "library/localhost", None, None),
    ("foo:5000/bar", "foo:5000", "bar", None, None),
    ("foo/bar:5000", "docker.io", "foo/bar", "5000", None),
    ("[::1]:5000/foo", "[::1]:5000", "foo", None, None),
    # an uppercase first component is a host; hosts keep their case
    ("Docker/docker", "Docker", "docker", None, None),
    ("LOCALDOMAIN/debian", "LOCALDOMAIN", "debian", None, None),
    ("Docker.io/nginx", "Docker.io", "nginx", None, None),
    ("nginx:" + "a" * 128, "docker.io", "library/nginx", "a" * 128, None),
    ("nginx:_tag", "docker.io", "library/nginx", "_tag", None),
    # an image called "sha256" with a 64-hex tag
    (f"sha256:{F64}", "docker.io", "library/sha256", F64, None),
    (f"nginx@{SHA512_F}", "docker.io", "library/nginx", None, SHA512_F),
    (
        "nginx@sha384:" + "a" * 96,  # kubelet links crypto/sha512, which also registers SHA-384
        "docker.io",
        "library/nginx",
        None,
        "sha384:" + "a" * 96,
    ),
    ("index.docker.io/library/nginx", "docker.io", "library/nginx", None, None),
    ("docker.io/nginx", "docker.io", "library/nginx", None, None),
    ("library/nginx", "docker.io", "library/nginx", None, None),
    ("nginx", "docker.io", "library/nginx", None, None),
    # only index.docker.io is rewritten
    ("registry-1.docker.io/x", "registry-1.docker.io", "x", None, None),
]

EDGE_INVALID = [
    ("::1/foo", ERR_REFERENCE_INVALID_FORMAT),
    ("[::1]:5000", ERR_REFERENCE_INVALID_FORMAT),
    ("[fe80::1%eth0]:5000/repo", ERR_REFERENCE_INVALID_FORMAT),
    ("NGINX", uppercase("library/NGINX")),
    ("docker.io/Nginx", uppercase("library/Nginx")),
    ("example.com/App", uppercase("App")),
    ("nginx:" + "a" * 129, ERR_REFERENCE_INVALID_FORMAT),
    ("nginx:-tag", ERR_REFERENCE_INVALID_FORMAT),
    ("nginx:.tag", ERR_REFERENCE_INVALID_FORMAT),
    (f"@{SHA_F}", ERR_REFERENCE_INVALID_FORMAT),
    (F64, hexname(F64)),
    ("nginx@sha256:" + "a" * 63, ERR_DIGEST_INVALID_LENGTH),
    ("nginx@sha256:" + "A" * 64, ERR_DIGEST_INVALID_FORMAT),
    ("nginx@md5:" + "a" * 32, ERR_DIGEST_UNSUPPORTED),
    ("nginx@sha512:" + "a" * 64, ERR_DIGEST_INVALID_LENGTH),
    # shorter than 32 hex digits: not even the reference grammar's digest
    ("nginx@sha256:" + "a" * 31, ERR_REFERENCE_INVALID_FORMAT),
    # an uppercase algorithm fits the grammar but not go-digest's algorithm shape
    ("nginx:v1@SHA256:" + "a" * 64, ERR_DIGEST_INVALID_FORMAT),
    # without a tag the lowercase check reads the "remote name" up to the first ":"
    ("nginx@SHA256:" + "a" * 64, uppercase("library/nginx@SHA256")),
]


@pytest.mark.parametrize(("text", "domain", "path", "tag", "digest"), EDGE_VALID)
def test_edge_valid(text: str, domain: str, path: str, tag: str | None, digest: str | None) -> None:
    assert fields(parse(text)) == (domain, path, tag, digest)


@pytest.mark.parametrize(("text", "reason"), EDGE_INVALID)
def test_edge_invalid(text: str, reason: str) -> None:
    assert reason_of(text) == reason


def test_edge_host_and_port() -> None:
    ref = parse("foo:5000/bar")
    assert (ref.host, ref.port) == ("foo", "5000")
    ipv6 = parse("[::1]:5000/foo")
    assert (ipv6.host, ipv6.port) == ("[::1]", "5000")
    assert (parse("[::1]/foo").host, parse("[::1]/foo").port) == ("[::1]", None)
    assert (parse("nginx").host, parse("nginx").port) == ("docker.io", None)


def test_edge_uppercase_hub_host_is_not_docker_hub() -> None:
    assert not parse("Docker.io/nginx").is_docker_hub
    assert parse("Docker.io/nginx").familiar_name == "Docker.io/nginx"


# ---------------------------------------------------------------------------------------------
# Spec section 7: surprises.


@pytest.mark.parametrize("text", ["localhost:5000", "example.com:5000", "foo:5000"])
def test_surprise_host_port_without_slash_is_a_hub_tag(text: str) -> None:
    ref = parse(text)
    assert (ref.domain, ref.path, ref.tag) == ("docker.io", f"library/{text[:-5]}", "5000")
    assert not ref.explicit_domain


def test_surprise_sha256_image_name() -> None:
    ref = parse(f"sha256:{DBCC}")
    assert (ref.familiar_name, ref.tag, ref.digest) == ("sha256", DBCC, None)


@pytest.mark.parametrize("text", ["foo_bar.com/app", "a.b-c_d__e---f/g", "foo_bar.com/app:v1"])
def test_surprise_invalid_host_stays_in_the_path(text: str) -> None:
    # The normalizer takes the first component for a host, but it is no valid host, so the
    # grammar matches it all as a path and the reference has no domain at all.
    ref = parse(text)
    assert ref.domain == ""
    assert ref.path == text.partition(":")[0]
    assert ref.explicit_domain
    assert not ref.is_docker_hub
    assert ref.name == ref.familiar_name == ref.path


def test_surprise_port_on_invalid_host_is_invalid() -> None:
    assert reason_of("foo_bar.com:8080/app") == ERR_REFERENCE_INVALID_FORMAT


def test_surprise_uppercase_invalid_host_says_lowercase() -> None:
    # "Foo_bar" is taken for a host (uppercase), is no valid host, and lowercased the whole
    # reference would parse: Parse's own "must be lowercase", without the name.
    assert reason_of("Foo_bar/app") == ERR_NAME_CONTAINS_UPPERCASE


def test_surprise_go_lowercases_dotted_capital_i_to_ascii() -> None:
    # Go's strings.ToLower maps U+0130 to "i"; the lowercased text then parses.
    assert reason_of("\u0130/foo") == ERR_NAME_CONTAINS_UPPERCASE
    assert reason_of("\u0130\u0130/foo") == ERR_NAME_CONTAINS_UPPERCASE
    assert reason_of("\u00c9/foo") == ERR_REFERENCE_INVALID_FORMAT


def test_surprise_path_limit_and_longest_hub_name() -> None:
    assert parse("a" * 247).path == "library/" + "a" * 247  # 255 characters
    assert reason_of("a" * 248) == ERR_NAME_TOO_LONG
    # the domain does not count
    assert len(parse("example.com/" + "a" * 255).path) == 255
    assert reason_of("example.com/" + "a" * 256) == ERR_NAME_TOO_LONG
    assert len(parse("a/" * 127 + "a").path) == 255
    assert reason_of("a/" * 127 + "aa") == ERR_NAME_TOO_LONG


@pytest.mark.parametrize(
    "text",
    ["nginx\n", "nginx:v1\n", "nginx:v\u00e9", "ngin\u00e9", "nginx:\u0661", " nginx", "nginx "],
)
def test_surprise_python_dollar_and_word_class(text: str) -> None:
    # Python's $ matches before a final newline and its \w matches any letter; Go's do not.
    assert reason_of(text) == ERR_REFERENCE_INVALID_FORMAT


def test_surprise_latest_with_digest_keeps_the_tag() -> None:
    ref = parse(f"nginx:latest@{SHA_F}")
    assert (ref.tag, ref.kubelet_tag, ref.digest) == ("latest", "latest", SHA_F)


def test_empty_image_is_invalid_format() -> None:
    # ParseNormalizedNamed("") parses "docker.io/library/", so the runtime says "invalid
    # reference format", not Parse's "must have at least one component".
    assert reason_of("") == ERR_REFERENCE_INVALID_FORMAT


# ---------------------------------------------------------------------------------------------
# The Reference interface.


def test_reference_properties() -> None:
    ref = parse("nginx:1.25")
    assert ref.original == "nginx:1.25"
    assert ref.name == "docker.io/library/nginx"
    assert ref.familiar_name == "nginx"
    assert ref.familiar == "nginx:1.25"
    assert str(ref) == "docker.io/library/nginx:1.25"
    assert ref.is_docker_hub
    assert not ref.explicit_domain
    assert ref.kubelet_tag == "1.25"


@pytest.mark.parametrize(
    ("text", "explicit"),
    [
        ("nginx", False),
        ("library/nginx", False),
        ("team/app", False),
        ("docker.io/nginx", True),
        ("index.docker.io/nginx", True),
        ("localhost/app", True),
        ("ghcr.io/org/app", True),
        ("Registry/app", True),
        ("foo:5000/app", True),
    ],
)
def test_explicit_domain(text: str, explicit: bool) -> None:
    assert parse(text).explicit_domain is explicit


def test_familiar_name_keeps_nested_library_paths() -> None:
    assert parse("library/foo/bar").familiar_name == "library/foo/bar"
    assert parse("docker.io/library/foo").familiar_name == "foo"
    assert parse("ghcr.io/library/foo").familiar_name == "ghcr.io/library/foo"


def test_kubelet_tag() -> None:
    assert parse("nginx").kubelet_tag == "latest"
    assert parse(f"nginx@{SHA_F}").kubelet_tag is None
    assert parse(f"nginx:1@{SHA_F}").kubelet_tag == "1"


def test_derived_references() -> None:
    ref = parse("ghcr.io/org/app:v1")
    pinned = ref.with_digest(SHA_F)
    assert str(pinned) == f"ghcr.io/org/app:v1@{SHA_F}"
    assert str(pinned.without_tag()) == f"ghcr.io/org/app@{SHA_F}"
    assert str(pinned.without_digest()) == "ghcr.io/org/app:v1"
    assert pinned.original == ref.original  # derived references keep the text they came from
    assert fields(parse(str(pinned))) == fields(pinned)


def test_with_digest_validates_like_parse() -> None:
    ref = parse("nginx")
    for digest, reason in [
        ("sha256:" + "A" * 64, ERR_DIGEST_INVALID_FORMAT),
        ("md5:" + "a" * 32, ERR_DIGEST_UNSUPPORTED),
        ("sha256:abc", ERR_DIGEST_SHAPE),
        ("", ERR_DIGEST_SHAPE),
    ]:
        with pytest.raises(InvalidReference) as info:
            ref.with_digest(digest)
        assert info.value.reason == reason


def test_reference_is_frozen_and_cached() -> None:
    ref = parse("busybox:1.36")
    assert parse("busybox:1.36") is ref
    with pytest.raises(records.FrozenInstanceError):
        ref.tag = "x"  # type: ignore[misc]


def test_cached_failures_raise_fresh_errors() -> None:
    with pytest.raises(InvalidReference) as first:
        parse("Bad")
    with pytest.raises(InvalidReference) as second:
        parse("Bad")
    assert first.value is not second.value
    assert first.value.reason == second.value.reason == uppercase("library/Bad")
    assert isinstance(first.value, ValueError)
    assert str(first.value) == first.value.reason
