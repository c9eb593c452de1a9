"""Pure pieces of the registry check: challenges, realms, tokens, media types, platforms."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from imglint.registry.auth import (
    DEFAULT_EXPIRES_IN,
    EXPIRY_MARGIN,
    Challenge,
    Token,
    TokenCache,
    check_realm,
    parse_challenges,
    parse_token,
    pick_challenge,
    token_request,
)
from imglint.registry.credentials import Credentials
from imglint.registry.media import body_media_type, header_digest, parse_platforms
from imglint.registry.model import (
    ProtocolError,
    RealmRejected,
    normalize_platform,
    platform_available,
)
from imglint.registry.transport import is_loopback, retry_after

# -- WWW-Authenticate -------------------------------------------------------------------------


def test_docker_hub_challenge() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:samalba/my-app:pull,push"'
    )
    assert parse_challenges([header]) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.docker.io/token",
                "service": "registry.docker.io",
                "scope": "repository:samalba/my-app:pull,push",  # the comma stays inside
            },
        )
    ]


def test_several_challenges_in_one_header() -> None:
    header = 'Basic realm="Registry Realm", Bearer realm="https://a/t", service="s",error="x"'
    assert parse_challenges([header]) == [
        Challenge("basic", {"realm": "Registry Realm"}),
        Challenge("bearer", {"realm": "https://a/t", "service": "s", "error": "x"}),
    ]


def test_challenges_across_headers_and_case() -> None:
    found = parse_challenges(["NEGOTIATE", 'BASIC Realm="r"'])
    assert found == [Challenge("negotiate"), Challenge("basic", {"realm": "r"})]
    assert pick_challenge(found) == Challenge("basic", {"realm": "r"})


def test_quoted_escapes_and_spaces_around_equals() -> None:
    header = r'Bearer realm = "https://a/t" , service="a \"quoted\" \\ name"'
    (challenge,) = parse_challenges([header])
    assert challenge.params == {"realm": "https://a/t", "service": 'a "quoted" \\ name'}


def test_token68_and_unquoted_values() -> None:
    assert parse_challenges(["Negotiate abc123==, Basic realm=simple"]) == [
        Challenge("negotiate", token68="abc123=="),
        Challenge("basic", {"realm": "simple"}),
    ]
    (bearer,) = parse_challenges(["Bearer realm=https://auth.example/token,service=svc"])
    assert bearer.params == {"realm": "https://auth.example/token", "service": "svc"}


def test_garbage_does_not_loop() -> None:
    assert parse_challenges(['=,,"', "", " , "]) == []
    assert parse_challenges(['Bearer realm="unterminated']) == [
        Challenge("bearer", {"realm": "unterminated"})
    ]


def test_first_param_wins() -> None:
    (challenge,) = parse_challenges(['Bearer realm="a", realm="b"'])
    assert challenge.realm == "a"


def test_pick_prefers_order_and_skips_unknown() -> None:
    found = parse_challenges(['Negotiate, Bearer realm="x", Basic realm="y"'])
    chosen = pick_challenge(found)
    assert chosen is not None and chosen.scheme == "bearer"
    assert pick_challenge(parse_challenges(["Negotiate"])) is None


# -- realms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("realm", "registry", "plain"),
    [
        ("https://auth.docker.io/token", "registry-1.docker.io", False),
        ("https://127.0.0.1:5001/token", "127.0.0.1:5000", False),  # the registry's own host
        ("http://127.0.0.1:5001/token", "127.0.0.1:5000", True),
        ("http://auth.internal/token", "registry.internal", True),  # insecure registry
        ("https://[::1]:5001/token", "[::1]:5000", False),
        ("https://10.0.0.8/token", "10.0.0.8:443", False),
        # a self-hosted registry on an internal address, its token service on another
        ("https://127.0.0.2/t", "127.0.0.1:5000", False),
        ("https://10.0.0.9/token", "10.0.0.8:443", False),
        ("https://[fd00::2]/token", "[fd00::1]:5000", False),
    ],
)
def test_accepted_realms(realm: str, registry: str, plain: bool) -> None:
    assert check_realm(realm, registry, registry_plain_http=plain) == realm


@pytest.mark.parametrize(
    ("realm", "registry", "plain", "message"),
    [
        ("http://auth.docker.io/token", "registry-1.docker.io", False, "is plain HTTP"),
        ("https://169.254.169.254/", "ghcr.io", False, "link-local address (169.254.169.254)"),
        ("https://169.254.169.254/", "10.0.0.8:443", False, "refused for any registry"),
        ("https://192.168.0.1/t", "ghcr.io", False, "private or loopback"),
        ("https://172.16.0.1/t", "ghcr.io", False, "private or loopback"),
        ("https://[fe80::1]/t", "ghcr.io", False, "link-local"),
        ("https://[fd00::1]/t", "ghcr.io", False, "private or loopback"),
        ("https://127.0.0.2/t", "ghcr.io", False, "while the registry ghcr.io is public"),
        ("https://app.localhost/t", "ghcr.io", False, "private or loopback"),
        ("gopher://auth.example/t", "ghcr.io", False, "is not an http(s) URL"),
        ("https:///t", "ghcr.io", False, "is not an http(s) URL"),
        ("", "ghcr.io", False, "is not an http(s) URL"),
        ("https://[::1/t", "ghcr.io", False, "is not a URL"),
    ],
)
def test_refused_realms(realm: str, registry: str, plain: bool, message: str) -> None:
    with pytest.raises(RealmRejected) as caught:
        check_realm(realm, registry, registry_plain_http=plain)
    assert message in str(caught.value)


def test_realm_host_names_are_judged_by_what_they_resolve_to() -> None:
    public, private = ["151.101.1.1"], ["10.0.0.5"]
    realm = "https://auth.example/token"
    # the SSRF case: a public registry names a realm that resolves into the user's network
    with pytest.raises(RealmRejected) as caught:
        check_realm(
            realm,
            "registry.example",
            registry_plain_http=False,
            realm_addresses=private,
            registry_addresses=public,
        )
    assert str(caught.value) == (
        "token realm 'https://auth.example/token' points at a private or loopback address "
        "(10.0.0.5) while the registry registry.example is public: refused, so that no "
        "credentials go into this network (list auth.example in trusted-realm-hosts if it is "
        "yours)"
    )
    # a registry on the private network itself: its token service may be there too
    assert (
        check_realm(
            realm,
            "registry.example",
            registry_plain_http=False,
            realm_addresses=private,
            registry_addresses=["10.0.0.4"],
        )
        == realm
    )
    # a host the configuration trusts
    assert (
        check_realm(
            realm,
            "registry.example",
            registry_plain_http=False,
            realm_addresses=private,
            registry_addresses=public,
            trusted_hosts=["auth.example"],
        )
        == realm
    )
    # a public realm for a public registry
    assert (
        check_realm(
            realm,
            "registry.example",
            registry_plain_http=False,
            realm_addresses=public,
            registry_addresses=public,
        )
        == realm
    )


# -- token requests and answers ----------------------------------------------------------------


BEARER = Challenge("bearer", {"realm": "https://auth.example/token?x=1", "service": "reg"})


def test_anonymous_token_request() -> None:
    request = token_request(BEARER, "repository:library/nginx:pull", None)
    assert request.method == "GET"
    parts = urlsplit(request.url)
    assert (parts.netloc, parts.path) == ("auth.example", "/token")
    assert parse_qs(parts.query) == {
        "x": ["1"],
        "service": ["reg"],
        "scope": ["repository:library/nginx:pull"],
    }
    assert request.headers == {}


def test_token_request_with_password() -> None:
    request = token_request(BEARER, "repository:a:pull", Credentials("u", "p:w"))
    assert request.headers == {"Authorization": "Basic " + base64.b64encode(b"u:p:w").decode()}
    assert "p:w" not in repr(request)


def test_token_request_without_service() -> None:
    request = token_request(
        Challenge("bearer", {"realm": "https://a/t"}), "repository:b:pull", None
    )
    assert request.url == "https://a/t?scope=repository%3Ab%3Apull"


def test_token_request_needs_a_realm() -> None:
    with pytest.raises(ProtocolError, match="without a realm"):
        token_request(Challenge("bearer", {}), "repository:a:pull", None)


def test_parse_token_fields() -> None:
    token = parse_token(json.dumps({"token": "t", "expires_in": 300}).encode(), now=1000.0)
    assert (token.value, token.expires_at) == ("t", 1300.0 - EXPIRY_MARGIN)
    token = parse_token(b'{"access_token": "a"}', now=0.0)
    assert (token.value, token.expires_at) == ("a", DEFAULT_EXPIRES_IN - EXPIRY_MARGIN)
    token = parse_token(b'{"token": "t", "access_token": "a", "expires_in": true}', now=0.0)
    assert (token.value, token.expires_at) == ("t", DEFAULT_EXPIRES_IN - EXPIRY_MARGIN)
    assert repr(Token("secret-token", 1.0)) == "Token(expires_at=1.0)"


def test_token_cache_expiry() -> None:
    cache = TokenCache()
    key = ("host", "repository:a:pull", 0)
    cache.put(key, Token("old", expires_at=-1.0))
    assert cache.get(key) is None
    cache.put(key, Token("new", expires_at=float("inf")))
    assert cache.get(key) == Token("new", float("inf"))
    assert repr(cache) == "TokenCache(1 tokens)"
    cache.drop(key)
    assert cache.get(key) is None


# -- media and platforms ------------------------------------------------------------------------


def test_parse_platforms_skips_attestations() -> None:
    index = {
        "manifests": [
            {"platform": {"os": "linux", "architecture": "amd64"}},
            {"platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
            {"platform": {"os": "unknown", "architecture": "unknown"}},
            {"platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": "no platform"},
            "junk",
        ]
    }
    assert parse_platforms(json.dumps(index).encode()) == ("linux/amd64", "linux/arm/v7")


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"manifests": {}}', b"[]"])
def test_parse_platforms_malformed(body: bytes) -> None:
    with pytest.raises(ProtocolError, match=r"^the image index is malformed$"):
        parse_platforms(body)


def test_header_digest_and_media_type() -> None:
    good = "sha256:" + "a" * 64
    assert header_digest(httpx.Headers({"Docker-Content-Digest": good})) == good
    assert header_digest(httpx.Headers({"Docker-Content-Digest": "../../etc"})) is None
    assert header_digest(httpx.Headers()) is None
    headers = httpx.Headers({"Content-Type": "application/json; charset=utf-8"})
    assert body_media_type(headers, b'{"mediaType": "x/y"}') == "x/y"
    oci = httpx.Headers({"Content-Type": "application/vnd.oci.image.index.v1+json"})
    assert (
        body_media_type(oci, b'{"mediaType": "x/y"}') == "application/vnd.oci.image.index.v1+json"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", ("linux", "amd64", "")),
        ("linux/arm64", ("linux", "arm64", "v8")),
        ("Linux/aarch64", ("linux", "arm64", "v8")),
        ("linux/arm", ("linux", "arm", "v7")),
        ("linux/x86_64", ("linux", "amd64", "")),
        ("linux/armel", ("linux", "arm", "v6")),
    ],
)
def test_normalize_platform(text: str, expected: tuple[str, str, str]) -> None:
    assert normalize_platform(text) == expected


@pytest.mark.parametrize(
    ("wanted", "available", "expected"),
    [
        ("linux/amd64", ("linux/amd64", "linux/arm64"), True),
        ("linux/arm64", ("linux/amd64", "linux/arm64/v8"), True),
        ("linux/arm64/v8", ("linux/arm64",), True),
        ("linux/arm64", ("linux/amd64",), False),
        ("linux/arm/v7", ("linux/arm/v6",), False),
        ("linux/arm/v6", ("linux/arm/v6",), True),
        ("linux/amd64", ("windows/amd64",), False),
        ("linux/amd64", ("linux/amd64/v3",), True),
        ("linux/amd64", (), False),
    ],
)
def test_platform_available(wanted: str, available: tuple[str, ...], expected: bool) -> None:
    assert platform_available(wanted, available) is expected


# -- transport helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("127.1.2.3", True),
        ("[::1]:5000", True),
        ("10.0.0.1:5000", False),
        ("registry.localhost", False),
        ("ghcr.io", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_retry_after_forms() -> None:
    assert retry_after("120") == 120.0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
