"""Registry faults against a real misbehaving server (tests/hostile_registry.py), end to end.

What MockTransport cannot show: real sockets, real TLS, real byte streams. Each fault runs
through `resolve_all` with a short deadline, and through the `imglint --resolve --timeout N`
command line (all command-line cases at once, in parallel processes). Each must end within the
deadline with IMG107 (or IMG103 for refused credentials) whose message names the cause: never a
traceback, never a hang. Runs are joined with a generous bound (a hang guard, not a speed test).

Credential routing: the servers record every Authorization header. Credentials for a registry
go to that registry, and to the token realm it names when check_realm accepts it (a realm on
the registry's own host, on a public host, as Docker Hub's auth.docker.io, or on another
internal host when the registry's own address is internal, as every server here is). They never
reach: a redirect target on another host (127.0.0.2, or `localhost` for 127.0.0.1: the host
differs), a plain-HTTP realm of an HTTPS registry (one with a name, not a loopback address:
loopback registries may speak plain HTTP, as in Docker), or the realm named by another host
that a redirect led to. An internal realm of a public registry is refused: no server here can
look public, so tests/test_registry_mock.py plays that with resolved names.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme

from imglint.reference import parse
from imglint.registry import Answers, Resolution, ResolveOptions, resolve_all
from imglint.registry.credentials import CredentialStore
from tests.hostile_registry import (
    HostileRegistry,
    blob,
    by_method,
    challenge,
    close,
    endless_body,
    hang,
    huge_body,
    huge_header,
    index,
    manifest,
    names,
    raw,
    redirect,
    reset_midway,
    respond,
    slowloris,
    status,
    token_json,
)

ROOT = Path(__file__).resolve().parent.parent
IMGLINT = str(Path(sys.executable).parent / "imglint")
MANIFESTS = "/v2/team/app/manifests/*"
USER, SECRET = "fault-user", "fault-secret-7b1e"
BASIC = "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
TOKEN = "hostile-token-value"
HANG_GUARD = 60.0  # seconds; only a run that hangs comes near it
CLI_RUNS_AT_ONCE = 4
CLI_TIMEOUT = 4  # --timeout of the command-line runs
# Names the in-process client (and the command-line launcher) resolve to loopback addresses;
# to imglint they are ordinary remote hosts: HTTPS only, realms judged by name.
NAMES = {"registry-a.test": "127.0.0.1", "cdn-b.test": "127.0.0.2", "auth-b.test": "127.0.0.2"}


# -- helpers ------------------------------------------------------------------------------------


Start = Callable[..., HostileRegistry]


@pytest.fixture
def servers() -> Iterator[Start]:
    """`servers(bind=..., ssl_context=..., close_on_accept=...)` starts a hostile registry in a
    background thread; all are stopped after the test."""
    started: list[HostileRegistry] = []

    def start(**kwargs: Any) -> HostileRegistry:
        server = HostileRegistry(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def tls_context(ca: trustme.CA, *hosts: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*hosts).configure_cert(context)
    return context


@pytest.fixture
def ca_file(registry_ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    registry_ca.cert_pem.write_to_path(str(path))
    return str(path)


def store_for(tmp_path: Path, host: str) -> CredentialStore:
    """A Docker config with USER/SECRET for `host` only."""
    path = tmp_path / f"config-{len(list(tmp_path.glob('config-*')))}.json"
    entry = {"auth": base64.b64encode(f"{USER}:{SECRET}".encode()).decode()}
    path.write_text(json.dumps({"auths": {host: entry}}))
    return CredentialStore(files=[path])


def guarded(run: Callable[[], Any]) -> Any:
    """Run in a thread, joined with HANG_GUARD: a hang fails the test instead of the suite."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = run()
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), "the registry check hung"
    if "error" in box:
        raise box["error"]
    return box["result"]


def resolve(images: list[str], store: CredentialStore | None = None, **overrides: Any) -> Answers:
    settings: dict[str, Any] = {
        "timeout": 4.0,
        "request_timeout": 1.0,
        "tries": 2,
        "backoff": 0.05,
        "use_cache": False,
    }
    settings.update(overrides)
    answers: Answers = guarded(
        lambda: resolve_all(
            [parse(image) for image in images],
            ResolveOptions(**settings),
            credentials=store or CredentialStore(files=[], env={}),
        )
    )
    for result in answers.values():
        assert "\n" not in result.detail and "Traceback" not in result.detail
        assert not result.detail.startswith("internal error")
    return answers


def one(image: str, store: CredentialStore | None = None, **overrides: Any) -> Resolution:
    return resolve([image], store, **overrides)[image]


def app(server: HostileRegistry | str) -> str:
    host = server if isinstance(server, str) else server.host
    return f"{host}/team/app:1.0"


# -- the fault matrix through resolve_all -------------------------------------------------------


DEADLINE_CASES = {
    # HTTP/1.1 200 OK... trickled 4 bytes a second: httpx's per-read timeout never fires, the
    # bound on the whole exchange does
    "slowloris": (slowloris(interval=0.25), "timed out after 1 s waiting for an answer"),
    "never answers": (hang(), "timed out after 1 s waiting for an answer"),
}


@pytest.mark.parametrize("case", list(DEADLINE_CASES))
def test_slow_answers_time_out(servers: Start, case: str) -> None:
    behaviour, detail = DEADLINE_CASES[case]
    server = servers()
    server.route(MANIFESTS, behaviour)
    result = one(app(server), tries=1)
    assert (result.status, result.detail) == ("unreachable", detail)
    assert server.lines() == ["GET /v2/", "HEAD /v2/team/app/manifests/1.0"]


def test_slowloris_is_bounded_by_the_overall_deadline(servers: Start) -> None:
    server = servers()
    server.route(MANIFESTS, slowloris(interval=0.25))
    result = one(app(server), request_timeout=30.0, timeout=1.5)
    assert (result.status, result.detail) == (
        "unreachable",
        "no answer within the deadline of 1.5 s",
    )


def test_many_references_against_a_silent_server_end_at_the_deadline(servers: Start) -> None:
    server = servers()
    server.route("/v2/*", hang())
    images = [f"{server.host}/team/app{n}:1.0" for n in range(20)]
    answers = resolve(images, jobs=4, request_timeout=30.0, timeout=1.5)
    assert {(r.status, r.detail) for r in answers.values()} == {
        ("unreachable", "no answer within the deadline of 1.5 s")
    }


PROTOCOL_CASES = {
    "1 MB header line": (huge_header(), "answer headers larger than 100 KiB", 2),
    "redirect loop": (redirect("/v2/team/app/manifests/1.0"), "more than 5 redirects", 6),
    "reset mid-headers": (reset_midway(), "connection reset by the server", 2),
    "closed before answering": (close(), "Server disconnected without sending a response.", 2),
    "malformed status line": (raw(b"HTTP/1.1 abc\r\n\r\n"), "illegal status line", 2),
    "illegal header line": (
        raw(b"HTTP/1.1 200 OK\r\n" + b"x" * 5000 + b"\r\n\r\n"),
        "illegal header line",
        2,
    ),
    "500": (status(500), "unexpected answer HTTP 500", 1),
    "500 with Retry-After": (status(500, "1"), "unexpected answer HTTP 500", 1),
    "502": (status(502), "HTTP 502 Bad Gateway after 2 tries", 2),
    "503 with Retry-After": (status(503, "1"), "HTTP 503 Service Unavailable after 2 tries", 2),
    "429 Retry-After past the deadline": (
        status(429, "10"),
        "HTTP 429 Too Many Requests; no time left to retry before the deadline",
        1,
    ),
    "429 Retry-After over the limit": (
        status(429, "3600"),
        "HTTP 429 Too Many Requests; Retry-After 3600 s is too long to wait",
        1,
    ),
    "manifest GET that never ends (after 405)": (
        # (64 KiB chunks: 4,096 chunks of 1 KiB could take longer than the 1 s request
        # timeout on a loaded machine, and the case then reads as that timeout)
        by_method(HEAD=respond(405), GET=endless_body(interval=0.0, chunk=b" " * 65536)),
        "answer from 127.0.0.1 is larger than 4096 KiB",
        1,
    ),
}


@pytest.mark.parametrize("case", list(PROTOCOL_CASES))
def test_broken_answers_are_unreachable_with_the_cause(servers: Start, case: str) -> None:
    behaviour, detail, manifest_requests = PROTOCOL_CASES[case]
    server = servers()
    server.route(MANIFESTS, behaviour)
    result = one(app(server))
    assert (result.status, result.detail) == ("unreachable", detail)
    sent = [line for line in server.lines() if "/manifests/" in line]
    assert len(sent) == (manifest_requests + 1 if "after 405" in case else manifest_requests)


def test_connection_reset_mid_body(servers: Start) -> None:
    server = servers()
    server.route(MANIFESTS, by_method(HEAD=respond(405), GET=reset_midway()))
    result = one(app(server), tries=1)
    assert (result.status, result.detail) == ("unreachable", "connection reset by the server")


def test_server_that_accepts_and_closes(servers: Start) -> None:
    server = servers(close_on_accept=True)
    result = one(app(server))
    assert result.status == "unreachable"
    # the client sees either the FIN or, writing its request into a closed socket, the RST
    assert result.detail in (
        "connection reset by the server",
        "Server disconnected without sending a response.",
    )
    assert server.requests == [] and server.connections >= 2


def test_retry_after_is_honoured_within_the_deadline(servers: Start) -> None:
    server = servers()
    server.route(MANIFESTS, status(503, "1"))
    result = one(app(server), tries=3, timeout=10.0)
    assert result.detail == "HTTP 503 Service Unavailable after 3 tries"


PLATFORM_CASES = {
    "index GET that never ends": (
        endless_body(interval=0.2),
        "could not read the image index: timed out after 1 s waiting for an answer",
    ),
    "1 GiB index": (
        huge_body(),
        "could not read the image index: answer from 127.0.0.1 is larger than 4096 KiB",
    ),
    "index GET reset": (
        reset_midway(),
        "could not read the image index: connection reset by the server",
    ),
    "index GET 500": (status(500), "could not read the image index (HTTP 500)"),
    "index that is not one": (manifest(b'{"manifests": 7}'), "the image index is malformed"),
}


@pytest.mark.parametrize("case", list(PLATFORM_CASES))
def test_platform_check_faults_keep_the_answer_and_say_why(servers: Start, case: str) -> None:
    behaviour, why = PLATFORM_CASES[case]
    server = servers()
    server.route(MANIFESTS, by_method(HEAD=index(), GET=behaviour))
    result = one(app(server), tries=1)
    assert (result.status, result.platforms, result.platform_error) == ("ok", None, why)
    assert server.lines()[:2] == ["GET /v2/", "HEAD /v2/team/app/manifests/1.0"]
    assert server.lines()[2].startswith("GET /v2/team/app/manifests/sha256:")


def test_ping_that_never_answers(servers: Start) -> None:
    server = servers()
    server.route("/v2/", hang())
    result = one(app(server), tries=1)
    assert (result.status, result.detail) == (
        "unreachable",
        "timed out after 1 s waiting for an answer",
    )
    assert server.lines() == ["GET /v2/"]  # no manifest request to a host that did not answer


# -- TLS ------------------------------------------------------------------------------------------


def test_tls_certificate_for_another_name(
    servers: Start, registry_ca: trustme.CA, ca_file: str
) -> None:
    server = servers(ssl_context=tls_context(registry_ca, "wrong-host.invalid"))
    result = one(app(server), ca_file=ca_file)
    assert result.status == "unreachable"
    assert result.detail.startswith("TLS: certificate verify failed: IP address mismatch")
    assert server.requests == []  # nothing, credentials included, went over that connection


def test_tls_untrusted_certificate(servers: Start, registry_ca: trustme.CA) -> None:
    server = servers(ssl_context=tls_context(registry_ca, "127.0.0.1"))
    result = one(app(server))
    assert (result.status, result.detail) == (
        "unreachable",
        "TLS: certificate verify failed: unable to get local issuer certificate "
        "(a private CA? trust it with --ca-file FILE or SSL_CERT_FILE)",
    )


# -- token services -------------------------------------------------------------------------------


def bearer(server: HostileRegistry, realm: str) -> None:
    """The registry's API wants a Bearer token TOKEN from `realm`."""
    server.route(
        "/v2/*",
        challenge(f'Bearer realm="{realm}",service="hostile"', f"Bearer {TOKEN}", manifest()),
    )


TOKEN_CASES = {
    "never answers": (hang(), "token service: timed out after 1 s waiting for an answer", 1),
    "invalid JSON": (
        token_json(b"<html>busy</html>"),
        "token service answered something that is not JSON",
        1,
    ),
    "empty token": (token_json({"token": ""}), "token service answered without a token", 1),
    "JSON list": (token_json([TOKEN]), "token service answered JSON that is not an object", 1),
    "503": (status(503), "token service: HTTP 503 Service Unavailable after 2 tries", 2),
    "huge answer": (huge_body(), "token service: answer from 127.0.0.1 is larger than 64 KiB", 1),
}


@pytest.mark.parametrize("case", list(TOKEN_CASES))
def test_token_service_faults(servers: Start, tmp_path: Path, case: str) -> None:
    behaviour, detail, token_requests = TOKEN_CASES[case]
    server = servers()
    bearer(server, f"{server.url}/token")
    server.route("/token", behaviour)
    result = one(
        app(server), store_for(tmp_path, server.host), tries=1 if token_requests == 1 else 2
    )
    assert (result.status, result.detail) == ("unreachable", detail)
    assert server.lines() == ["GET /v2/"] + ["GET /token"] * token_requests
    # the realm is the registry's own host: it may have the credentials, nothing else may
    assert set(server.authorizations()) == {BASIC}


def test_token_service_refusing_the_credentials_is_img103(servers: Start, tmp_path: Path) -> None:
    server = servers()
    bearer(server, f"{server.url}/token")
    server.route("/token", status(401))
    result = one(app(server), store_for(tmp_path, server.host))
    assert result.status == "auth-failed"
    assert result.detail.startswith(f"the token service refused the credentials of user {USER!r}")
    assert SECRET not in result.detail


def test_basic_credentials_refused_is_img103(servers: Start, tmp_path: Path) -> None:
    server = servers()
    server.route("/v2/*", challenge('Basic realm="r"', "Basic bm9ib2R5OmF0YWxs", manifest()))
    result = one(app(server), store_for(tmp_path, server.host))
    assert result.status == "auth-failed"
    assert result.detail.startswith(f"the registry refused the credentials of user {USER!r}")
    assert server.authorizations() == [BASIC]  # asked once with them, not again


# -- where credentials go -------------------------------------------------------------------------


def test_realm_on_another_loopback_address_of_a_loopback_registry_is_used(
    servers: Start, tmp_path: Path
) -> None:
    # The registry's own address is internal: its token service may live on another internal
    # host (self-hosted GitLab, Harbor). The SSRF case, a public registry naming an internal
    # realm, is refused: tests/test_registry_mock.py plays it with resolved names.
    server, other = servers(), servers(bind="127.0.0.2")
    bearer(server, f"{other.url}/token")
    other.route("/token", token_json({"token": TOKEN}))
    result = one(app(server), store_for(tmp_path, server.host))
    assert result.status == "ok"
    assert other.authorizations() == [BASIC]


def test_realm_named_localhost_of_a_loopback_registry_is_used(
    servers: Start, tmp_path: Path
) -> None:
    server = servers()
    bearer(server, f"http://localhost:{server.port}/token")  # the same socket, another name
    server.route("/token", token_json({"token": TOKEN}))
    assert one(app(server), store_for(tmp_path, server.host)).status == "ok"


def test_realm_on_the_registrys_own_host_other_port_gets_the_credentials(
    servers: Start, tmp_path: Path
) -> None:
    # The registry's own host (ports aside) is where its token service usually lives.
    server, realm = servers(), servers()
    bearer(server, f"{realm.url}/token")
    realm.route("/token", token_json({"token": TOKEN}))
    assert one(app(server), store_for(tmp_path, server.host)).status == "ok"
    assert realm.authorizations() == [BASIC]
    # one token for the HEAD and the platform check's manifest and config blob GETs
    assert server.authorizations() == [f"Bearer {TOKEN}"] * 3


def test_plain_http_realm_of_a_loopback_https_registry_is_allowed(
    servers: Start, registry_ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    # Loopback registries may be spoken to in plain HTTP (Docker, crane), so may their realm.
    server = servers(ssl_context=tls_context(registry_ca, "127.0.0.1"))
    realm = servers()
    bearer(server, f"{realm.url}/token")
    realm.route("/token", token_json({"token": TOKEN}))
    assert one(app(server), store_for(tmp_path, server.host), ca_file=ca_file).status == "ok"


def test_plain_http_realm_of_an_https_registry_is_refused(
    servers: Start, registry_ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    server = servers(ssl_context=tls_context(registry_ca, "registry-a.test"))
    realm = servers(bind="127.0.0.2")
    realm.route("/token", token_json({"token": TOKEN}))
    host = f"registry-a.test:{server.port}"
    bearer(server, f"http://auth-b.test:{realm.port}/token")
    with names(NAMES):
        result = one(app(host), store_for(tmp_path, host), ca_file=ca_file)
    assert result.status == "auth-failed"
    assert result.detail.endswith("is plain HTTP; only HTTPS is accepted")
    assert realm.requests == []


def test_https_realm_on_a_public_host_gets_the_credentials_the_token_stays(
    servers: Start, registry_ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    # As Docker Hub sends them to auth.docker.io: the realm the registry names is its auth.
    server = servers(ssl_context=tls_context(registry_ca, "registry-a.test"))
    realm = servers(bind="127.0.0.2", ssl_context=tls_context(registry_ca, "auth-b.test"))
    realm.route("/token", token_json({"token": TOKEN}))
    host = f"registry-a.test:{server.port}"
    bearer(server, f"https://auth-b.test:{realm.port}/token")
    with names(NAMES):
        assert one(app(host), store_for(tmp_path, host), ca_file=ca_file).status == "ok"
    assert realm.authorizations() == [BASIC]
    assert server.authorizations() == [f"Bearer {TOKEN}"] * 3  # the token only to the registry


@pytest.mark.parametrize("target", ["127.0.0.2", "localhost", "other port"])
def test_redirect_to_another_host_carries_no_credentials(
    servers: Start, tmp_path: Path, target: str
) -> None:
    server = servers()
    cdn = servers(bind="127.0.0.2") if target == "127.0.0.2" else servers()
    location = {
        "127.0.0.2": f"{cdn.url}/blob",
        "localhost": f"http://localhost:{cdn.port}/blob",
        "other port": f"{cdn.url}/blob",
    }[target]
    redirect_with_basic(server, cdn, location.removesuffix("/blob"))
    result = one(app(server), store_for(tmp_path, server.host))
    assert (result.status, result.platforms, result.platform_error) == ("ok", ("linux/amd64",), "")
    # the HEAD, and the platform check's manifest GET and config blob GET
    assert server.authorizations() == [BASIC] * 3
    assert [r.line() for r in cdn.requests] == ["HEAD /blob", "GET /blob", "GET /config"]
    assert cdn.authorizations() == []


def redirect_with_basic(server: HostileRegistry, cdn: HostileRegistry, base: str) -> None:
    """`server` wants BASIC, then redirects manifests to `base`/blob and the config blob (the
    platform check reads it) to `base`/config, which `cdn` serves."""
    server.route("/v2/*", challenge('Basic realm="r"', BASIC, redirect(f"{base}/blob")))
    server.route(
        "/v2/team/app/blobs/*", challenge('Basic realm="r"', BASIC, redirect(f"{base}/config"))
    )
    cdn.route("/blob", manifest())
    cdn.route("/config", blob())


def test_redirect_target_asking_for_credentials_does_not_get_them(
    servers: Start, registry_ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    # A redirects to B; B answers 401 with a realm of its own. Meeting B's challenge with A's
    # credentials would hand them to B's realm (a bug fixed in linter/registry/endpoint.py).
    server = servers(ssl_context=tls_context(registry_ca, "registry-a.test"))
    cdn = servers(bind="127.0.0.2", ssl_context=tls_context(registry_ca, "cdn-b.test"))
    host, cdn_host = f"registry-a.test:{server.port}", f"cdn-b.test:{cdn.port}"
    server.route(MANIFESTS, redirect(f"https://{cdn_host}/blob"))
    cdn.route(
        "/blob", challenge(f'Bearer realm="https://{cdn_host}/token"', "Bearer t", manifest())
    )
    cdn.route("/token", token_json({"token": "t"}))
    with names(NAMES):
        result = one(app(host), store_for(tmp_path, host), ca_file=ca_file)
    assert (result.status, result.detail) == (
        "auth-failed",
        f"the registry redirected to {cdn_host}, which wants credentials; credentials for "
        f"{host} are never sent to another host",
    )
    assert [r.line() for r in cdn.requests] == ["HEAD /blob"]
    assert cdn.authorizations() == []


# -- the command line ------------------------------------------------------------------------------


@dataclass
class CliCase:
    name: str
    setup: Callable[[Start, trustme.CA], str]  # configures servers, returns the image
    code: int  # expected exit status
    finding: str  # "IMG107", "IMG103" or "" (none)
    message: str  # the message after 'image "<image>": '
    args: list[str] = field(default_factory=list)
    credentials: bool = False  # a Docker config with USER/SECRET for the image's registry
    named: bool = False  # run through the launcher that resolves NAMES


@dataclass
class CliRun:
    case: CliCase
    image: str
    folder: Path
    servers: list[HostileRegistry]  # the registry first
    code: int = -1
    stdout: str = ""
    stderr: str = ""

    @property
    def host(self) -> str:
        return self.image.split("/", 1)[0]


def simple(behaviour: Any, path: str = MANIFESTS) -> Callable[[Start, trustme.CA], str]:
    def setup(start: Start, _ca: trustme.CA) -> str:
        server = start()
        server.route(path, behaviour)
        return app(server)

    return setup


def closing(start: Start, _ca: trustme.CA) -> str:
    return app(start(close_on_accept=True))


def wrong_name(start: Start, ca: trustme.CA) -> str:
    return app(start(ssl_context=tls_context(ca, "wrong-host.invalid")))


def token_setup(behaviour: Any) -> Callable[[Start, trustme.CA], str]:
    def setup(start: Start, _ca: trustme.CA) -> str:
        server = start()
        bearer(server, f"{server.url}/token")
        server.route("/token", behaviour)
        return app(server)

    return setup


def http_realm_named(start: Start, ca: trustme.CA) -> str:
    server = start(ssl_context=tls_context(ca, "registry-a.test"))
    realm = start(bind="127.0.0.2")
    realm.route("/token", token_json({"token": TOKEN}))
    bearer(server, f"http://auth-b.test:{realm.port}/token")
    return app(f"registry-a.test:{server.port}")


def redirect_elsewhere(start: Start, _ca: trustme.CA) -> str:
    server, cdn = start(), start(bind="127.0.0.2")
    redirect_with_basic(server, cdn, cdn.url)
    return app(server)


def redirect_to_challenge(start: Start, ca: trustme.CA) -> str:
    server = start(ssl_context=tls_context(ca, "registry-a.test"))
    cdn = start(bind="127.0.0.2", ssl_context=tls_context(ca, "cdn-b.test"))
    cdn_host = f"cdn-b.test:{cdn.port}"
    server.route(MANIFESTS, redirect(f"https://{cdn_host}/blob"))
    cdn.route(
        "/blob", challenge(f'Bearer realm="https://{cdn_host}/token"', "Bearer t", manifest())
    )
    cdn.route("/token", token_json({"token": "t"}))
    return app(f"registry-a.test:{server.port}")


DEADLINE = f"no answer within the deadline of {CLI_TIMEOUT} s"
ASK = "could not ask {host}: "
CLI_CASES = [
    CliCase("slowloris, 1 byte/s", simple(slowloris(interval=1.0)), 0, "IMG107", ASK + DEADLINE),
    CliCase(
        "slowloris, --fail-on warning",
        simple(slowloris(interval=1.0)),
        1,
        "IMG107",
        ASK + DEADLINE,
        args=["--fail-on", "warning"],
    ),
    CliCase("never answers", simple(hang()), 0, "IMG107", ASK + DEADLINE),
    CliCase(
        "index GET never ends",
        simple(by_method(HEAD=index(), GET=endless_body(interval=0.2))),
        0,
        "IMG107",
        f"the platform check failed on {{host}}: could not read the image index: {DEADLINE}",
    ),
    CliCase(
        "1 GiB index",
        simple(by_method(HEAD=index(), GET=huge_body())),
        0,
        "IMG107",
        "the platform check failed on {host}: could not read the image index: answer from "
        "127.0.0.1 is larger than 4096 KiB",
    ),
    CliCase(
        "1 MB header line",
        simple(huge_header()),
        0,
        "IMG107",
        "could not ask {host}: answer headers larger than 100 KiB",
    ),
    CliCase(
        "redirect loop",
        simple(redirect("/v2/team/app/manifests/1.0")),
        0,
        "IMG107",
        "could not ask {host}: more than 5 redirects",
    ),
    CliCase(
        "redirect to 127.0.0.2 (no credentials there)",
        redirect_elsewhere,
        0,
        "",
        "",
        credentials=True,
    ),
    CliCase(
        "redirect, then the target's challenge",
        redirect_to_challenge,
        1,
        "IMG103",
        "{host} refused access to team/app: the registry redirected to cdn-b.test:{cdn_port}, "
        "which wants credentials; credentials for {host} are never sent to another host",
        credentials=True,
        named=True,
    ),
    CliCase(
        "plain-HTTP realm, HTTPS registry",
        http_realm_named,
        1,
        "IMG103",
        "{host} refused access to team/app: token realm 'http://auth-b.test:{other_port}/token' "
        "is plain HTTP; only HTTPS is accepted",
        credentials=True,
        named=True,
    ),
    CliCase(
        "TLS certificate for another name",
        wrong_name,
        0,
        "IMG107",
        "could not ask {host}: TLS: certificate verify failed: IP address mismatch, certificate "
        "is not valid for '127.0.0.1'.",
    ),
    CliCase(
        "token service never answers",
        token_setup(hang()),
        0,
        "IMG107",
        f"could not ask {{host}}: token service: {DEADLINE}",
        credentials=True,
    ),
    CliCase(
        "token service answers HTML",
        token_setup(token_json(b"<html>")),
        0,
        "IMG107",
        "could not ask {host}: token service answered something that is not JSON",
        credentials=True,
    ),
    CliCase(
        "token service answers an empty token",
        token_setup(token_json({"token": ""})),
        0,
        "IMG107",
        "could not ask {host}: token service answered without a token",
        credentials=True,
    ),
    CliCase(
        "token service refuses the credentials",
        token_setup(status(401)),
        1,
        "IMG103",
        f"{{host}} refused access to team/app: the token service refused the credentials of "
        f"user {USER!r} from {{config}} (HTTP 401)",
        credentials=True,
    ),
    CliCase(
        "connection reset mid-answer",
        simple(reset_midway()),
        0,
        "IMG107",
        "could not ask {host}: connection reset by the server",
    ),
    CliCase(
        "500", simple(status(500)), 0, "IMG107", "could not ask {host}: unexpected answer HTTP 500"
    ),
    CliCase(
        "502",
        simple(status(502)),
        0,
        "IMG107",
        "could not ask {host}: HTTP 502 Bad Gateway after 3 tries",
    ),
    CliCase(
        "503, Retry-After: 1",
        simple(status(503, "1")),
        0,
        "IMG107",
        "could not ask {host}: HTTP 503 Service Unavailable after 3 tries",
    ),
    CliCase(
        "429, Retry-After past the deadline",
        simple(status(429, "20")),
        0,
        "IMG107",
        "could not ask {host}: HTTP 429 Too Many Requests; no time left to retry before the "
        "deadline",
    ),
    CliCase(
        "accepts, then closes",
        closing,
        0,
        "IMG107",
        "could not ask {host}: ",  # reset or disconnected: see test_server_that_accepts_and_closes
    ),
    CliCase(
        "malformed status line",
        simple(raw(b"HTTP/1.1 abc\r\n\r\n")),
        0,
        "IMG107",
        "could not ask {host}: illegal status line",
    ),
]


def pod_manifest(image: str) -> str:
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ns\nspec:\n"
        f"  containers:\n    - name: c\n      image: {image}\n"
    )


def cli_env(home: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR")
    }
    env.update(
        HOME=str(home / "home"),
        DOCKER_CONFIG=str(home / "docker"),
        XDG_CACHE_HOME=str(home / "cache"),
        NO_COLOR="1",
    )
    return env


def launch(case: CliCase, image: str, folder: Path, ca_file: str) -> subprocess.Popen[str]:
    folder.mkdir(parents=True)
    (folder / "pod.yaml").write_text(pod_manifest(image))
    if case.credentials:
        host = image.split("/", 1)[0]
        config = {"auths": {host: {"auth": base64.b64encode(f"{USER}:{SECRET}".encode()).decode()}}}
        (folder / "docker").mkdir()
        (folder / "docker" / "config.json").write_text(json.dumps(config))
    args = [
        "--resolve",
        "--timeout",
        str(CLI_TIMEOUT),
        "--ca-file",
        ca_file,
        "--format",
        "json",
        *case.args,
        str(folder / "pod.yaml"),
    ]
    if case.named:
        mapping = [f"{name}={address}" for name, address in NAMES.items()]
        command = [sys.executable, "-m", "tests.hostile_registry", *mapping, "--", *args]
    else:
        command = [IMGLINT, *args]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=cli_env(folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Starter:
    """The `start` a CLI case's setup gets: remembers the servers it started."""

    def __init__(self) -> None:
        self.servers: list[HostileRegistry] = []

    def __call__(self, **kwargs: Any) -> HostileRegistry:
        server = HostileRegistry(**kwargs).start()
        self.servers.append(server)
        return server


def finish(run: CliRun, ca_file: str) -> CliRun:
    process = launch(run.case, run.image, run.folder, ca_file)
    try:
        run.stdout, run.stderr = process.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        process.kill()
        run.stdout, run.stderr = process.communicate()
        run.stderr += "\nHUNG"
    run.code = process.returncode
    return run


@pytest.fixture(scope="module")
def cli_runs(
    registry_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, CliRun]]:
    """Every CLI_CASES run at once, each against servers of its own."""
    root = tmp_path_factory.mktemp("cli-faults")
    ca_file = str(root / "ca.pem")
    registry_ca.cert_pem.write_to_path(ca_file)
    runs: list[CliRun] = []
    try:
        for n, case in enumerate(CLI_CASES):
            start = Starter()
            image = case.setup(start, registry_ca)
            runs.append(CliRun(case, image, root / f"case{n}", start.servers))
        # A few at a time: 22 imglint processes started at once on a 2-core machine spent
        # seconds of their 4 s deadline waiting for a core, and cases that end well within it
        # (a retry after 1 s, an empty token) read as deadline failures.
        with ThreadPoolExecutor(max_workers=CLI_RUNS_AT_ONCE) as pool:
            list(pool.map(lambda run: finish(run, ca_file), runs))
        yield {run.case.name: run for run in runs}
    finally:
        for run in runs:
            for server in run.servers:
                server.stop()


@pytest.mark.parametrize("name", [case.name for case in CLI_CASES])
def test_cli_fault(cli_runs: dict[str, CliRun], name: str) -> None:
    run = cli_runs[name]
    case = run.case
    assert not run.stderr.endswith("HUNG"), "imglint hung"
    assert "Traceback" not in run.stderr + run.stdout
    report = json.loads(run.stdout)
    assert report["errors"] == []
    findings = [(f["code"], f["message"]) for f in report["findings"]]
    if not case.finding:
        assert findings == []
    else:
        other = run.servers[-1]
        expected = case.message.format(
            host=run.host,
            config=run.folder / "docker" / "config.json",
            cdn_port=other.port,
            other_port=other.port,
        )
        prefix = f'image "{run.image}": '
        if case.name == "accepts, then closes":
            causes = [
                "connection reset by the server",
                "Server disconnected without sending a response.",
            ]
            assert findings in [[(case.finding, prefix + expected + cause)] for cause in causes]
        else:
            assert findings == [(case.finding, prefix + expected)]
    assert run.code == case.code, run.stderr
    assert SECRET not in run.stdout + run.stderr and BASIC not in run.stdout + run.stderr
    # the registry (first server) may have had the credentials; no other host ever does
    for server in run.servers[1:]:
        assert server.authorizations() == [], server.host
