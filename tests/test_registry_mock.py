"""The registry client against httpx.MockTransport: only what no local registry can play.

Docker Hub's token service and rate-limit headers, 429 with Retry-After, hostile token realms,
broken answers, cross-host redirects, mirrors, identity tokens. Everything a real registry can
show lives in test_registry_client.py.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from imglint.reference import Reference, parse
from imglint.registry import Answers, Resolution, ResolveOptions, resolve_all
from imglint.registry.cache import ResolutionCache
from imglint.registry.client import Resolver
from imglint.registry.credentials import Credentials, CredentialStore
from imglint.registry.media import ACCEPT
from imglint.registry.model import HUB_MISSING_OR_PRIVATE
from tests.hostile_registry import names
from tests.regserver.content import build_image, build_multiarch

SECRET = "hunter2-very-secret"
HUB = "registry-1.docker.io"
HUB_REALM = "https://auth.docker.io/token"
HUB_CHALLENGE = f'Bearer realm="{HUB_REALM}",service="registry.docker.io"'
IMAGE = build_image("library/nginx:1.27", ("linux", "amd64"), "docker")
INDEX = build_multiarch("library/nginx:1.27", [("linux", "amd64"), ("linux", "arm64", "v8")])
DIGEST = IMAGE.digest
OTHER_DIGEST = "sha256:" + "e" * 64
# Config blobs the mock registries serve (the platform check reads a single image's config).
BLOBS = {blob.digest: blob.data for blob in [IMAGE.config, *(i.config for i in INDEX.images)]}
# Docker Hub answers a blob GET with a redirect to its CDN, as S3, GCS and others do elsewhere.
HUB_CDN = "production.cloudflare.docker.com"

Handler = Callable[[httpx.Request], httpx.Response]


def options(**overrides: Any) -> ResolveOptions:
    base: dict[str, Any] = {"use_cache": False, "backoff": 0.0, "timeout": 30.0}
    base.update(overrides)
    return ResolveOptions(**base)


class Recorder:
    """Wraps a handler; keeps every request (with its headers) for assertions."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.handler(request)

    def lines(self) -> list[str]:
        return [f"{r.method} {r.url.copy_with(query=None)}" for r in self.requests]

    def to(self, host: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == host]

    def manifest_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if "/manifests/" in r.url.path]


def resolve(
    images: Iterable[str],
    handler: Handler,
    *,
    credentials: Mapping[str, Credentials] | None = None,
    pull_secrets: Mapping[str, Sequence[Sequence[Credentials]]] | None = None,
    sleeps: list[float] | None = None,
    cache: ResolutionCache | None = None,
    **overrides: Any,
) -> tuple[Answers, Recorder]:
    recorder = Recorder(handler)
    store = FakeStore(credentials or {})

    async def fake_sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    resolver = Resolver(
        options(**overrides),
        transport=httpx.MockTransport(recorder),
        credentials=store,
        pull_secrets=pull_secrets,
        cache=cache,
        sleep=fake_sleep,
    )
    answers = asyncio.run(resolver.resolve([parse(i) for i in images]))
    return answers, recorder


class FakeStore(CredentialStore):
    """A credential store answering from a dict (host -> Credentials)."""

    def __init__(self, by_host: Mapping[str, Credentials]) -> None:
        super().__init__(files=[], env={})
        self.by_host = dict(by_host)

    def for_repository(self, host: str, path: str) -> Credentials | None:
        return self.by_host.get(host)


def only(answers: Answers) -> Resolution:
    assert len(answers) == 1
    return next(iter(answers.values()))


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def manifest_ok(body: bytes, media_type: str, digest: str | None, **headers: str) -> httpx.Response:
    all_headers = {"Content-Type": media_type, **headers}
    if digest:
        all_headers["Docker-Content-Digest"] = digest
    return httpx.Response(200, headers=all_headers, content=body)


def hub_handler(
    *,
    repositories: Mapping[str, Mapping[str, tuple[bytes, str]]] | None = None,
    users: Mapping[str, str] | None = None,
    ratelimit: str | None = "76;w=21600",
    token_body: Callable[[str], bytes] | None = None,
) -> Handler:
    """A small Docker Hub: registry-1.docker.io with tokens from auth.docker.io.

    repositories: path -> tag or digest -> (manifest bytes, media type). A missing or private
    repository answers 401, as Hub does. users: username -> password for the token service.
    Blob GETs (BLOBS) are redirected to HUB_CDN, which serves them to anyone, as Hub does.
    """
    repos = (
        repositories
        if repositories is not None
        else {"library/nginx": {"1.27": (IMAGE.manifest.data, IMAGE.manifest.media_type)}}
    )
    accounts = users or {}

    def handle(request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.host == "auth.docker.io":
            query = parse_qs(url.query.decode())
            assert query["service"] == ["registry.docker.io"]
            (scope,) = query["scope"]
            auth = request.headers.get("authorization")
            if auth is not None and auth not in {basic(u, p) for u, p in accounts.items()}:
                return httpx.Response(401, json={"details": "incorrect username or password"})
            if token_body is not None:
                return httpx.Response(200, content=token_body(scope))
            return httpx.Response(200, json={"token": f"tok:{scope}", "expires_in": 300})
        if url.host == HUB_CDN:
            data = BLOBS.get(url.path.split("/")[-2])
            return httpx.Response(404) if data is None else httpx.Response(200, content=data)
        assert url.host == HUB, url
        if url.path == "/v2/":
            return httpx.Response(401, headers={"WWW-Authenticate": HUB_CHALLENGE})
        kind = "/blobs/" if "/blobs/" in url.path else "/manifests/"
        path, _, ref = url.path[len("/v2/") :].rpartition(kind)
        scope = f"repository:{path}:pull"
        if request.headers.get("authorization") != f"Bearer tok:{scope}" or path not in repos:
            challenge = f'{HUB_CHALLENGE},scope="{scope}",error="insufficient_scope"'
            return httpx.Response(
                401,
                headers={"WWW-Authenticate": challenge},
                json={"errors": [{"code": "UNAUTHORIZED"}]},
            )
        if kind == "/blobs/":
            if ref not in BLOBS:
                return httpx.Response(404, json={"errors": [{"code": "BLOB_UNKNOWN"}]})
            cdn = f"https://{HUB_CDN}/registry-v2/blobs/{ref}/data?verify=signed"
            return httpx.Response(307, headers={"Location": cdn})
        headers = {"ratelimit-limit": "100;w=21600"}
        if ratelimit:
            headers["ratelimit-remaining"] = ratelimit
        found = repos[path].get(ref)
        if found is None:
            for body, media_type in repos[path].values():
                if ref == "sha256:" + hashlib.sha256(body).hexdigest():
                    found = (body, media_type)
        if found is None:
            return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
        body, media_type = found
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        response = manifest_ok(body if request.method == "GET" else b"", media_type, digest)
        response.headers.update(headers)
        return response

    return handle


# -- Docker Hub -----------------------------------------------------------------------------------


def test_docker_hub_token_flow_and_one_head() -> None:
    # IMG106 ignored: nothing but the HEAD, which Hub does not count as a pull
    answers, rec = resolve(["nginx:1.27"], hub_handler(), check_platforms=False)
    result = answers["docker.io/library/nginx:1.27"]
    assert (result.status, result.digest, result.media_type) == (
        "ok",
        DIGEST,
        IMAGE.manifest.media_type,
    )
    assert result.registry == HUB
    assert rec.lines() == [
        f"GET https://{HUB}/v2/",
        f"GET {HUB_REALM}",
        f"HEAD https://{HUB}/v2/library/nginx/manifests/1.27",
    ]
    token_query = parse_qs(rec.requests[1].url.query.decode())
    assert token_query == {
        "service": ["registry.docker.io"],
        "scope": ["repository:library/nginx:pull"],
    }
    assert "authorization" not in rec.requests[1].headers  # anonymous
    head = rec.requests[2]
    assert head.headers["accept"] == ACCEPT
    assert head.headers["authorization"] == "Bearer tok:repository:library/nginx:pull"
    assert answers.stats.manifest_requests == 1
    assert answers.stats.ratelimit_remaining == {HUB: "76;w=21600"}


def test_docker_hub_single_image_platform_one_manifest_get_and_a_cdn_blob_get() -> None:
    answers, rec = resolve(["nginx:1.27", "docker.io/library/nginx:1.27"], hub_handler())
    result = answers["docker.io/library/nginx:1.27"]
    assert (result.status, result.platforms, result.platform_error) == ("ok", ("linux/amd64",), "")
    assert rec.lines() == [
        f"GET https://{HUB}/v2/",
        f"GET {HUB_REALM}",
        f"HEAD https://{HUB}/v2/library/nginx/manifests/1.27",
        f"GET https://{HUB}/v2/library/nginx/manifests/{DIGEST}",  # a pull, for Hub
        f"GET https://{HUB}/v2/library/nginx/blobs/{IMAGE.config.digest}",  # not a pull
        f"GET https://{HUB_CDN}/registry-v2/blobs/{IMAGE.config.digest}/data",
    ]
    bearer = "Bearer tok:repository:library/nginx:pull"
    assert [r.headers.get("authorization") for r in rec.requests[2:]] == [bearer] * 3 + [None]
    assert answers.stats.manifest_requests == 2


def test_accept_lists_all_four_manifest_types() -> None:
    assert ACCEPT.split(", ") == [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]


def test_docker_hub_missing_repository_says_missing_or_private() -> None:
    answers, rec = resolve(["nginxx:1.27"], hub_handler())
    result = only(answers)
    assert result.status == "repository-not-found"
    assert result.detail == f"{HUB_MISSING_OR_PRIVATE} (anonymous access)"
    assert result.hub_missing_or_private == "anonymous access"  # typed, for IMG102
    # the 401 on HEAD is final once a fresh token was used: no retry loop
    assert len(rec.manifest_requests()) == 1


def test_docker_hub_missing_tag() -> None:
    answers, _ = resolve(["nginx:1.99"], hub_handler())
    assert only(answers).status == "tag-not-found"


def test_docker_hub_credentials_go_to_the_token_service_only() -> None:
    creds = {"docker.io": Credentials("alice", SECRET, source="config.json")}
    answers, rec = resolve(["nginx:1.27"], hub_handler(users={"alice": SECRET}), credentials=creds)
    assert only(answers).status == "ok"
    token_requests = rec.to("auth.docker.io")
    assert [r.headers.get("authorization") for r in token_requests] == [basic("alice", SECRET)]
    for request in rec.to(HUB):
        assert not request.headers.get("authorization", "").startswith("Basic")


def test_docker_hub_wrong_password_is_auth_failed_without_the_secret() -> None:
    creds = {"docker.io": Credentials("alice", SECRET, source="config.json")}
    answers, _ = resolve(["nginx:1.27"], hub_handler(users={"alice": "other"}), credentials=creds)
    result = only(answers)
    assert result.status == "auth-failed"
    assert result.detail == (
        "the token service refused the credentials of user 'alice' from config.json (HTTP 401)"
    )
    assert SECRET not in repr(answers)


def test_docker_hub_index_platforms_with_one_get_by_digest() -> None:
    repos = {"library/nginx": {"1.27": (INDEX.manifest.data, INDEX.manifest.media_type)}}
    answers, rec = resolve(
        ["nginx:1.27", "docker.io/library/nginx:1.27"], hub_handler(repositories=repos)
    )
    result = answers["docker.io/library/nginx:1.27"]
    assert result.platforms == ("linux/amd64", "linux/arm64/v8")
    assert [f"{r.method} {r.url.path}" for r in rec.manifest_requests()] == [
        "HEAD /v2/library/nginx/manifests/1.27",
        f"GET /v2/library/nginx/manifests/{INDEX.digest}",
    ]


def test_platform_check_off_means_no_get() -> None:
    repos = {"library/nginx": {"1.27": (INDEX.manifest.data, INDEX.manifest.media_type)}}
    answers, rec = resolve(["nginx:1.27"], hub_handler(repositories=repos), check_platforms=False)
    assert only(answers).platforms is None
    assert [r.method for r in rec.manifest_requests()] == ["HEAD"]


def test_ratelimit_header_absent_is_not_recorded() -> None:
    answers, _ = resolve(["nginx:1.27"], hub_handler(ratelimit=None))
    assert answers.stats.ratelimit_remaining == {}


def test_one_token_per_repository_scope() -> None:
    repos = {
        "library/nginx": {
            "1.27": (IMAGE.manifest.data, IMAGE.manifest.media_type),
            "1.26": (IMAGE.manifest.data, IMAGE.manifest.media_type),
        },
        "library/redis": {"7": (IMAGE.manifest.data, IMAGE.manifest.media_type)},
    }
    images = ["nginx:1.27", "nginx:1.26", "redis:7", "library/redis:7"]
    answers, rec = resolve(images, hub_handler(repositories=repos), jobs=4)
    assert {r.status for r in answers.values()} == {"ok"}
    scopes = sorted(parse_qs(r.url.query.decode())["scope"][0] for r in rec.to("auth.docker.io"))
    assert scopes == ["repository:library/nginx:pull", "repository:library/redis:pull"]
    heads = [r for r in rec.manifest_requests() if r.method == "HEAD"]
    assert len(heads) == 3  # redis:7 and library/redis:7 are one reference
    assert [r.url.path for r in rec.requests].count("/v2/") == 1


@pytest.mark.parametrize(
    "body",
    [
        {"access_token": "tok:repository:library/nginx:pull"},  # access_token only, no expiry
        {"token": "tok:repository:library/nginx:pull", "expires_in": 3},  # < 60 s: 60 s
        {"token": "tok:repository:library/nginx:pull", "issued_at": "2024-01-01T00:00:00Z"},
    ],
)
def test_token_answer_variants(body: dict[str, Any]) -> None:
    answers, _ = resolve(
        ["nginx:1.27"], hub_handler(token_body=lambda _: json.dumps(body).encode())
    )
    assert only(answers).status == "ok"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<html>oops</html>", "token service answered something that is not JSON"),
        (b'{"token": ""}', "token service answered without a token"),
        (b"[1, 2]", "token service answered JSON that is not an object"),
        (
            b'{"token": "' + b"x" * 70000 + b'"}',
            "token service: answer from auth.docker.io is larger than 64 KiB",
        ),
    ],
)
def test_broken_token_answers(body: bytes, detail: str) -> None:
    answers, _ = resolve(["nginx:1.27"], hub_handler(token_body=lambda _: body))
    result = only(answers)
    assert (result.status, result.detail) == ("unreachable", detail)


# -- retries, Retry-After, rate limits ------------------------------------------------------------


def simple_registry(
    manifest: Callable[[httpx.Request, int], httpx.Response], host: str = "registry.example"
) -> Handler:
    """An anonymous registry whose manifest endpoint is `manifest(request, call_number)`."""
    calls = {"n": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.host == host
        if request.url.path == "/v2/":
            return httpx.Response(200)
        if "/manifests/" in request.url.path:
            calls["n"] += 1
            return manifest(request, calls["n"])
        data = BLOBS.get(request.url.path.rpartition("/blobs/")[2])
        if data is not None:
            return httpx.Response(200, content=data)
        if request.url.path.endswith("/tags/list"):
            return httpx.Response(200, json={"name": "app", "tags": ["1.0", "1.1", "2.0"]})
        return httpx.Response(404)

    return handle


def ok_head(request: httpx.Request, _: int = 0) -> httpx.Response:
    body = IMAGE.manifest.data if request.method == "GET" else b""
    return manifest_ok(body, IMAGE.manifest.media_type, DIGEST)


def test_429_with_retry_after_then_ok() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        if n < 3:
            return httpx.Response(429, headers={"Retry-After": "2"})
        return ok_head(request)

    sleeps: list[float] = []
    answers, rec = resolve(
        ["registry.example/app:1.0"],
        simple_registry(manifest),
        sleeps=sleeps,
        check_platforms=False,
    )
    assert only(answers).status == "ok"
    assert sleeps == [2.0, 2.0]
    assert len(rec.manifest_requests()) == 3


def test_429_after_all_tries_is_unreachable() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "1"})

    sleeps: list[float] = []
    answers, _rec = resolve(["registry.example/app:1.0"], simple_registry(manifest), sleeps=sleeps)
    result = only(answers)
    assert (result.status, result.detail) == (
        "unreachable",
        "HTTP 429 Too Many Requests after 3 tries",
    )
    assert sleeps == [1.0, 1.0]


def test_retry_after_longer_than_allowed_is_not_waited_for() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "3600"})

    sleeps: list[float] = []
    answers, rec = resolve(["registry.example/app:1.0"], simple_registry(manifest), sleeps=sleeps)
    assert only(answers).detail == (
        "HTTP 429 Too Many Requests; Retry-After 3600 s is too long to wait"
    )
    assert sleeps == []
    assert len(rec.manifest_requests()) == 1


def test_retry_after_past_the_deadline_is_not_waited_for() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "20"})

    sleeps: list[float] = []
    answers, _ = resolve(
        ["registry.example/app:1.0"], simple_registry(manifest), sleeps=sleeps, timeout=5.0
    )
    assert only(answers).detail == (
        "HTTP 503 Service Unavailable; no time left to retry before the deadline"
    )
    assert sleeps == []


def test_exponential_backoff_without_retry_after() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(502) if n < 3 else ok_head(request)

    sleeps: list[float] = []
    answers, _ = resolve(
        ["registry.example/app:1.0"], simple_registry(manifest), sleeps=sleeps, backoff=0.25
    )
    assert only(answers).status == "ok"
    assert sleeps == [0.25, 0.5]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_exhaust_to_unreachable(status: int) -> None:
    answers, rec = resolve(
        ["registry.example/app:1.0"],
        simple_registry(lambda r, n: httpx.Response(status)),
        tries=2,
    )
    result = only(answers)
    assert result.status == "unreachable"
    assert result.detail == f"HTTP {status} {httpx.codes.get_reason_phrase(status)} after 2 tries"
    assert len(rec.manifest_requests()) == 2


def test_500_is_not_retried() -> None:
    answers, rec = resolve(
        ["registry.example/app:1.0"], simple_registry(lambda r, n: httpx.Response(500))
    )
    assert only(answers).detail == "unexpected answer HTTP 500"
    assert len(rec.manifest_requests()) == 1


def test_connection_errors_are_retried() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            raise httpx.ConnectError("connection reset", request=request)
        return ok_head(request)

    answers, _ = resolve(["registry.example/app:1.0"], simple_registry(manifest))
    assert only(answers).status == "ok"


def test_dns_failure_is_named() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    answers, rec = resolve(["registry.example/app:1.0"], handle)
    assert only(answers).detail == "DNS: cannot resolve the host"
    assert len(rec.requests) == 3  # the ping, tried three times; no manifest request after


def test_read_timeout_is_named() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    answers, _ = resolve(["registry.example/app:1.0"], handle, request_timeout=7.0)
    assert only(answers).detail == "timed out after 7 s waiting for an answer"


def test_overall_deadline_cancels_hanging_requests() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3600)
        raise AssertionError("not reached")

    store = FakeStore({})
    resolver = Resolver(
        options(timeout=0.2, request_timeout=30.0),
        transport=httpx.MockTransport(hang),
        credentials=store,
    )
    answers = asyncio.run(resolver.resolve([parse("registry.example/app:1.0")]))
    result = only(answers)
    assert result.status == "unreachable"
    assert result.detail == "no answer within the deadline of 0.2 s"


# -- fallbacks to GET -----------------------------------------------------------------------------


def test_head_405_falls_back_to_get() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(405)
        return manifest_ok(IMAGE.manifest.data, IMAGE.manifest.media_type, DIGEST)

    answers, rec = resolve(["registry.example/app:1.0"], simple_registry(manifest))
    assert (only(answers).status, only(answers).digest) == ("ok", DIGEST)
    # the platform check reads the manifest the GET brought: only the config blob is added
    assert [r.method for r in rec.manifest_requests()] == ["HEAD", "GET"]
    assert only(answers).platforms == ("linux/amd64",)
    assert rec.lines()[-1] == f"GET https://registry.example/v2/app/blobs/{IMAGE.config.digest}"


def test_missing_digest_header_computes_the_digest_from_the_body() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        body = IMAGE.manifest.data if request.method == "GET" else b""
        return manifest_ok(body, "application/json", None)

    answers, rec = resolve(["registry.example/app:1.0"], simple_registry(manifest))
    result = only(answers)
    assert (result.digest, result.media_type) == (DIGEST, IMAGE.manifest.media_type)
    assert [r.method for r in rec.manifest_requests()] == ["HEAD", "GET"]


def test_malformed_index_keeps_the_answer_but_says_why() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        body = b'{"manifests": "nope"}' if request.method == "GET" else b""
        return manifest_ok(body, "application/vnd.oci.image.index.v1+json", OTHER_DIGEST)

    answers, _ = resolve(["registry.example/app:1.0"], simple_registry(manifest))
    result = only(answers)
    assert (result.status, result.platforms) == ("ok", None)
    assert result.detail == "the image index is malformed"


def test_manifest_larger_than_4_mib_is_refused() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(405)
        return manifest_ok(b" " * (4 * 1024 * 1024 + 1), "application/json", DIGEST)

    answers, _ = resolve(["registry.example/app:1.0"], simple_registry(manifest))
    assert only(answers).detail == "answer from registry.example is larger than 4096 KiB"


def test_broken_http_answer_is_unreachable() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        raise httpx.RemoteProtocolError("illegal status line", request=request)

    answers, _ = resolve(["registry.example/app:1.0"], simple_registry(manifest))
    assert (only(answers).status, only(answers).detail) == ("unreachable", "illegal status line")


def test_tag_not_found_suggests_close_tags() -> None:
    answers, _rec = resolve(
        ["registry.example/app:1.01"],
        simple_registry(lambda r, n: httpx.Response(404, json={"errors": []})),
    )
    result = only(answers)
    assert (result.status, result.detail) == ("tag-not-found", "closest tags: 1.1, 1.0")


# -- redirects ------------------------------------------------------------------------------------


def test_redirect_to_another_host_drops_authorization() -> None:
    creds = {"registry.example": Credentials("bob", SECRET)}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.example":
            return simple_registry(ok_head, host="cdn.example")(request)
        if request.url.path == "/v2/":
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="x"'})
        assert request.headers["authorization"] == basic("bob", SECRET)
        location = f"https://cdn.example{request.url.path}?sig=1"
        return httpx.Response(307, headers={"Location": location})

    answers, rec = resolve(["registry.example/app:1.0"], handle, credentials=creds)
    assert (only(answers).status, only(answers).platforms) == ("ok", ("linux/amd64",))
    cdn = rec.to("cdn.example")
    # the HEAD, the manifest GET and the config blob GET of the platform check
    assert [f"{r.method} {r.url.path}" for r in cdn] == [
        "HEAD /v2/app/manifests/1.0",
        f"GET /v2/app/manifests/{DIGEST}",
        f"GET /v2/app/blobs/{IMAGE.config.digest}",
    ]
    assert not any("authorization" in r.headers for r in cdn)


def test_redirect_to_plain_http_is_refused() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://registry.example/elsewhere"})

    answers, rec = resolve(["registry.example/app:1.0"], simple_registry(manifest))
    assert only(answers).detail == "redirect from HTTPS to plain HTTP (registry.example) refused"
    assert all(r.url.scheme == "https" for r in rec.requests)


def test_redirect_loop_ends() -> None:
    def manifest(request: httpx.Request, n: int) -> httpx.Response:
        return httpx.Response(307, headers={"Location": request.url.path})

    answers, rec = resolve(["registry.example/app:1.0"], simple_registry(manifest), tries=1)
    assert only(answers).detail == "more than 5 redirects"
    assert len(rec.manifest_requests()) == 6


# -- hostile token realms -------------------------------------------------------------------------


def realm_registry(realm: str, host: str = "registry.example") -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host != host or not request.url.path.startswith("/v2/"):
            return httpx.Response(200, json={"token": "t"})
        if request.headers.get("authorization") == "Bearer t":
            return ok_head(request)
        challenge = f'Bearer realm="{realm}",service="svc"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    return handle


@pytest.mark.parametrize(
    ("realm", "why"),
    [
        ("http://auth.example/token", "is plain HTTP; only HTTPS is accepted"),
        ("https://169.254.169.254/latest/meta-data", "points at a link-local address"),
        ("https://10.0.0.7/token", "points at a private or loopback address"),
        ("https://127.0.0.1:8080/token", "points at a private or loopback address"),
        ("https://[::1]/token", "points at a private or loopback address"),
        ("https://[::ffff:192.168.1.1]/token", "points at a private or loopback address"),
        ("https://localhost/token", "points at a private or loopback address"),
        ("https://0.0.0.0/token", "points at a unspecified address"),
        ("file:///etc/passwd", "is not an http(s) URL"),
        ("/token", "is not an http(s) URL"),
    ],
)
def test_hostile_realms_are_refused(realm: str, why: str) -> None:
    creds = {"registry.example": Credentials("bob", SECRET)}
    answers, rec = resolve(["registry.example/app:1.0"], realm_registry(realm), credentials=creds)
    result = only(answers)
    assert result.status == "auth-failed"
    assert result.detail.startswith(f"token realm {realm!r}") and why in result.detail
    assert {r.url.host for r in rec.requests} == {"registry.example"}  # nothing sent elsewhere


@pytest.mark.parametrize(
    ("addresses", "trusted", "status"),
    [
        # the SSRF case: a public registry, a realm name that resolves into the network
        ({"registry.example": "151.101.1.1", "auth.example": "10.0.0.5"}, (), "auth-failed"),
        # self-hosted on a private network: the token service on another private host
        ({"registry.example": "10.0.0.4", "auth.example": "10.0.0.5"}, (), "ok"),
        # trusted by the configuration
        (
            {"registry.example": "151.101.1.1", "auth.example": "10.0.0.5"},
            ("auth.example",),
            "ok",
        ),
    ],
)
def test_realm_names_are_resolved_before_credentials_go_there(
    addresses: dict[str, str], trusted: tuple[str, ...], status: str
) -> None:
    creds = {"registry.example": Credentials("bob", SECRET)}
    with names(addresses):
        answers, rec = resolve(
            ["registry.example/app:1.0"],
            realm_registry("https://auth.example/token"),
            credentials=creds,
            trusted_realm_hosts=trusted,
        )
    result = only(answers)
    assert result.status == status
    sent_to = {r.url.host for r in rec.requests}
    if status == "ok":
        assert sent_to == {"registry.example", "auth.example"}
    else:
        assert sent_to == {"registry.example"}
        assert result.detail == (
            "token realm 'https://auth.example/token' points at a private or loopback address "
            "(10.0.0.5) while the registry registry.example is public: refused, so that no "
            "credentials go into this network (list auth.example in trusted-realm-hosts if it "
            "is yours)"
        )


def test_realm_on_the_registrys_own_private_host_is_fine() -> None:
    host = "10.1.2.3:5000"
    answers, _rec = resolve(
        [f"{host}/app:1.0"],
        realm_registry("https://10.1.2.3:5001/token", host="10.1.2.3"),
    )
    assert only(answers).status == "ok"


def test_plain_http_realm_allowed_for_an_insecure_registry() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            raise httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number")
        return realm_registry("http://auth.internal/token", host="registry.internal")(request)

    answers, rec = resolve(
        ["registry.internal/app:1.0"], handle, insecure_registries=("registry.internal",)
    )
    assert only(answers).status == "ok"
    assert "GET http://auth.internal/token" in rec.lines()


def test_token_service_redirect_to_internal_address_is_refused() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example":
            return httpx.Response(302, headers={"Location": "https://169.254.169.254/x"})
        return realm_registry("https://auth.example/token")(request)

    answers, rec = resolve(["registry.example/app:1.0"], handle)
    assert only(answers).status == "auth-failed"
    assert "169.254.169.254" not in {r.url.host for r in rec.requests}


def test_token_service_redirect_elsewhere_drops_credentials() -> None:
    creds = {"registry.example": Credentials("bob", SECRET)}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example":
            return httpx.Response(307, headers={"Location": "https://auth2.example/token"})
        return realm_registry("https://auth.example/token")(request)

    answers, rec = resolve(["registry.example/app:1.0"], handle, credentials=creds)
    assert only(answers).status == "ok"
    (first,) = rec.to("auth.example")
    (second,) = rec.to("auth2.example")
    assert first.headers["authorization"] == basic("bob", SECRET)
    assert "authorization" not in second.headers


# -- plain HTTP policy, Basic, identity tokens ----------------------------------------------------


def test_remote_registry_is_never_asked_over_plain_http() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number")

    answers, rec = resolve(["registry.example/app:1.0"], handle)
    assert only(answers).detail == (
        "[SSL: WRONG_VERSION_NUMBER] wrong version number (does the registry speak plain HTTP? "
        "list it in insecure-registries)"
    )
    assert {r.url.scheme for r in rec.requests} == {"https"}


def test_insecure_registry_falls_back_to_plain_http() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            raise httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number")
        return simple_registry(ok_head, host="registry.internal")(request)

    answers, rec = resolve(
        ["registry.internal:5000/app:1.0"], handle, insecure_registries=("registry.internal",)
    )
    assert only(answers).status == "ok"
    assert rec.lines() == [
        "GET https://registry.internal:5000/v2/",  # one try only: plain HTTP may follow
        "GET http://registry.internal:5000/v2/",
        "HEAD http://registry.internal:5000/v2/app/manifests/1.0",
        f"GET http://registry.internal:5000/v2/app/manifests/{DIGEST}",
        f"GET http://registry.internal:5000/v2/app/blobs/{IMAGE.config.digest}",
    ]


def test_basic_challenge_without_credentials() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="Registry"'})

    answers, rec = resolve(["registry.example/app:1.0"], handle)
    result = only(answers)
    assert result.status == "auth-failed"
    assert result.detail == (
        "the registry wants a username and password (Basic) and none are configured for "
        "registry.example"
    )
    assert rec.manifest_requests() == []


def test_identity_token_uses_the_oauth2_post() -> None:
    creds = {"myacr.azurecr.io": Credentials("00000000", identity_token=SECRET)}
    forms: list[dict[str, list[str]]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            assert request.method == "POST"
            forms.append(parse_qs(request.content.decode()))
            return httpx.Response(200, json={"access_token": "t"})
        return realm_registry("https://myacr.azurecr.io/oauth2/token", "myacr.azurecr.io")(request)

    answers, _ = resolve(["myacr.azurecr.io/app:1.0"], handle, credentials=creds)
    assert only(answers).status == "ok"
    assert forms == [
        {
            "service": ["svc"],
            "scope": ["repository:app:pull"],
            "grant_type": ["refresh_token"],
            "refresh_token": [SECRET],
            "client_id": ["imglint"],
        }
    ]


def test_identity_token_falls_back_to_get_when_post_is_unsupported() -> None:
    creds = {"registry.example": Credentials("u", identity_token=SECRET)}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example":
            if request.method == "POST":
                return httpx.Response(404)
            assert request.headers["authorization"] == basic("u", SECRET)
            return httpx.Response(200, json={"token": "t"})
        return realm_registry("https://auth.example/token")(request)

    answers, rec = resolve(["registry.example/app:1.0"], handle, credentials=creds)
    assert only(answers).status == "ok"
    assert [r.method for r in rec.to("auth.example")] == ["POST", "GET"]


def test_cached_token_refused_is_renewed_once() -> None:
    issued = {"n": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example":
            issued["n"] += 1
            return httpx.Response(200, json={"token": f"t{issued['n']}"})
        challenge = 'Bearer realm="https://auth.example/token",service="svc"'
        if request.url.path == "/v2/" or request.headers.get("authorization") != "Bearer t2":
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        return ok_head(request)

    # two tags of one repository: the second reuses t1, which the registry now refuses
    answers, _rec = resolve(
        ["registry.example/app:1.0", "registry.example/app:2.0"], handle, jobs=1
    )
    assert [r.status for r in answers.values()] == ["auth-failed", "ok"]
    assert issued["n"] == 2


# -- mirrors and pull secrets ---------------------------------------------------------------------


def test_mirror_answers_first() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return simple_registry(ok_head, host="mirror.example")(request)

    answers, rec = resolve(["nginx:1.27"], handle, mirrors={"docker.io": ("mirror.example",)})
    result = only(answers)
    assert (result.status, result.registry) == ("ok", "mirror.example")
    assert "HEAD https://mirror.example/v2/library/nginx/manifests/1.27" in rec.lines()
    # the platform is read where the answer came from
    assert result.platforms == ("linux/amd64",)
    assert {r.url.host for r in rec.requests} == {"mirror.example"}


def test_mirror_miss_falls_back_to_upstream_with_its_own_credentials() -> None:
    hub = hub_handler(users={"alice": SECRET})

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "mirror.example":
            assert "authorization" not in request.headers  # Hub credentials stay with Hub
            return simple_registry(lambda r, n: httpx.Response(404), "mirror.example")(request)
        return hub(request)

    creds = {"docker.io": Credentials("alice", SECRET)}
    answers, _rec = resolve(
        ["nginx:1.27"], handle, mirrors={"docker.io": ("mirror.example",)}, credentials=creds
    )
    assert (only(answers).status, only(answers).registry) == ("ok", HUB)


def test_pull_secrets_tried_in_order_like_kubelet() -> None:
    hub = hub_handler(users={"good": "pw"})
    one_pod = [
        Credentials("bad", SECRET, source="pull secret a"),
        Credentials("good", "pw", source="pull secret b"),
    ]
    answers, rec = resolve(
        ["nginx:1.27"], hub, pull_secrets={"docker.io/library/nginx:1.27": [one_pod]}
    )
    assert only(answers).status == "ok"
    assert [r.headers.get("authorization") for r in rec.to("auth.docker.io")] == [
        basic("bad", SECRET),
        basic("good", "pw"),
    ]


def test_pull_secrets_all_refused() -> None:
    secrets = {"docker.io/library/nginx:1.27": [[Credentials("bad", SECRET, source="s")]]}
    answers, _ = resolve(["nginx:1.27"], hub_handler(), pull_secrets=secrets)
    result = only(answers)
    assert result.status == "auth-failed"
    assert result.detail == (
        "the token service refused the credentials of user 'bad' from s (HTTP 401)"
    )


def test_empty_pull_secret_list_means_anonymous() -> None:
    hub = hub_handler()
    answers, rec = resolve(["nginx:1.27"], hub, pull_secrets={"docker.io/library/nginx:1.27": [[]]})
    assert only(answers).status == "ok"
    assert "authorization" not in rec.to("auth.docker.io")[0].headers


def test_pods_with_different_secrets_keep_the_worst_answer() -> None:
    hub = hub_handler(users={"good": "pw"})
    pods = [[Credentials("good", "pw", source="a")], [Credentials("bad", "x", source="b")]]
    answers, rec = resolve(["nginx:1.27"], hub, pull_secrets={"docker.io/library/nginx:1.27": pods})
    result = only(answers)
    assert result.status == "auth-failed"
    assert "user 'bad' from b" in result.detail
    assert len(rec.to("auth.docker.io")) == 2
    assert answers.stats.references == 2  # one per distinct set of secrets


# -- odds and ends --------------------------------------------------------------------------------


def test_reference_without_domain() -> None:
    answers, rec = resolve(["foo_bar.com/app:1"], simple_registry(ok_head))
    assert (only(answers).status, only(answers).detail) == (
        "unreachable",
        "the reference names no registry host",
    )
    assert rec.requests == []


def test_same_reference_spelled_differently_is_asked_once() -> None:
    images = ["nginx", "nginx:latest", "docker.io/library/nginx:latest", "index.docker.io/nginx"]
    repos = {"library/nginx": {"latest": (IMAGE.manifest.data, IMAGE.manifest.media_type)}}
    answers, rec = resolve(images, hub_handler(repositories=repos))
    assert sorted(answers) == ["docker.io/library/nginx", "docker.io/library/nginx:latest"]
    assert {a.status for a in answers.values()} == {"ok"}
    # one HEAD, and one GET for the platform check
    assert [r.method for r in rec.manifest_requests()] == ["HEAD", "GET"]
    assert answers.stats.references == 1


def test_progress_callback() -> None:
    seen: list[tuple[int, int]] = []
    recorder = Recorder(simple_registry(ok_head))
    resolve_all(
        [parse("registry.example/a:1"), parse("registry.example/b:1")],
        options(),
        transport=httpx.MockTransport(recorder),
        credentials=FakeStore({}),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(1, 2), (2, 2)]


def test_event_hooks_see_every_request() -> None:
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.method)

    resolve_all(
        [parse("registry.example/a:1")],
        options(),
        transport=httpx.MockTransport(simple_registry(ok_head)),
        credentials=FakeStore({}),
        event_hooks={"request": [hook]},
    )
    assert seen == ["GET", "HEAD", "GET", "GET"]  # ping, HEAD, manifest and config GETs


def test_internal_error_does_not_escape(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(Resolver, "_fetch_manifest", broken)
    answers, _ = resolve(["registry.example/a:1"], simple_registry(ok_head))
    assert (only(answers).status, only(answers).detail) == (
        "unreachable",
        "internal error: KeyError: 'bug'",
    )


def test_credentials_never_logged_cached_or_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="imglint")
    cache = ResolutionCache(tmp_path)
    creds = {"docker.io": Credentials("alice", SECRET, source="config.json")}
    hub = hub_handler(
        users={"alice": SECRET}, token_body=lambda s: json.dumps({"token": f"tok:{s}"}).encode()
    )
    answers, _rec = resolve(
        ["nginx:1.27", "nginx:1.99", "nginxx:1"], hub, credentials=creds, cache=cache
    )
    assert [a.status for a in answers.values()] == [
        "ok",
        "tag-not-found",
        "repository-not-found",
    ]
    encoded = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    token = "tok:repository:library/nginx:pull"
    cache_text = "".join(p.read_text(errors="replace") for p in tmp_path.iterdir())
    for text in (caplog.text, repr(answers), repr(answers.stats), cache_text):
        assert SECRET not in text and encoded not in text and token not in text
    assert "HEAD https://registry-1.docker.io/v2/library/nginx/manifests/1.27 -> 200" in caplog.text


def test_unreadable_ca_file_is_an_option_error(tmp_path: Path) -> None:
    from imglint.registry import RegistryError

    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(RegistryError, match=r"^cannot use CA file .*ca\.pem: "):
        resolve_all([], options(ca_file=str(bad)), credentials=FakeStore({}))
    with pytest.raises(RegistryError, match=r"^CA file .*missing\.pem does not exist$"):
        resolve_all([], options(ca_file=str(tmp_path / "missing.pem")), credentials=FakeStore({}))


def test_reference_protocol_accepts_the_parser_type() -> None:
    ref: Reference = parse("ghcr.io/org/app:1")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == ("ghcr.io", "org/app", "1", None)


def test_insecure_ip_range_allows_plain_http_for_addresses_in_it() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            raise httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number")
        return manifest_ok(IMAGE.manifest.data, IMAGE.manifest.media_type, DIGEST)

    inside = "10.1.2.3:5000/app:1.0"
    answers, _ = resolve([inside], handle, insecure_registries=("10.0.0.0/8",))
    assert only(answers).status == "ok"
    # A name is never trusted through the addresses it might resolve to, nor an address outside.
    for image in ("registry.internal:5000/app:1.0", "192.168.1.9:5000/app:1.0"):
        answers, _ = resolve([image], handle, insecure_registries=("10.0.0.0/8",))
        assert only(answers).status == "unreachable"
