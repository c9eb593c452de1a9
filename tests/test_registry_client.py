"""The registry client against the real CNCF distribution registry on loopback.

Every auth path (anonymous, htpasswd Basic, token service anonymous / user / reader / wrong
password, TLS with a CA file, SSL_CERT_FILE, insecure registries), the request count (one
manifest request per unique reference, counted with httpx event hooks), stale digests, the
platform check on an OCI index, a Docker manifest list and a single image, the cache, and the
network faults a real socket can produce (refused, silent, untrusted or misnamed certificate).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imglint.reference import parse
from imglint.registry.credentials import Credentials, CredentialStore
from tests.registry_runs import Counter, run
from tests.regserver import (
    PASSWORD,
    READER,
    READER_PASSWORD,
    USERNAME,
    RegistryServer,
    Seeded,
)
from tests.regserver.content import build_image

pytestmark = pytest.mark.registry


def docker_config(tmp_path: Path, auths: dict[str, dict[str, str]], **extra: Any) -> Path:
    path = tmp_path / "docker" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": auths, **extra}))
    return path


def auth_entry(username: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}


def store_with(tmp_path: Path, host: str, username: str, password: str) -> CredentialStore:
    return CredentialStore(files=[docker_config(tmp_path, {host: auth_entry(username, password)})])


# -- anonymous registry: every outcome ------------------------------------------------------------


def test_every_outcome_against_the_seeded_registry(seeded: Seeded) -> None:
    zero = "sha256:" + "0" * 64
    images = {
        "docker": seeded.ref("team/app:1.0"),
        "oci-index": seeded.ref("team/app:2.0"),
        "list": seeded.ref("library/nginx:1.25"),
        "arm-only": seeded.ref("team/armonly:1.0"),
        "no-tag": seeded.ref("team/app:9.9"),
        "no-repo": seeded.ref("team/nothing:1.0"),
        "no-digest": seeded.ref(f"team/app@{zero}"),
        "by-digest": seeded.ref(f"team/app@{seeded.app_1_0}"),
        "stale": seeded.ref(f"team/app:moving@{seeded.moving_old}"),
        "pinned": seeded.ref(f"team/app:moving@{seeded.moving_new}"),
        "gone-tag": seeded.ref(f"team/app:gone@{seeded.app_1_0}"),
        "stale-missing": seeded.ref(f"team/app:moving@{zero}"),
    }
    answers = run(list(images.values()))
    got = {name: answers[str(parse(image))] for name, image in images.items()}

    assert (got["docker"].status, got["docker"].digest) == ("ok", seeded.app_1_0)
    assert got["docker"].media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert got["docker"].platforms == ("linux/amd64",)  # from its config blob
    assert got["docker"].registry == seeded.registry.host
    assert (got["oci-index"].digest, got["oci-index"].platforms) == (
        seeded.app_2_0,
        ("linux/amd64", "linux/arm64"),
    )
    assert got["list"].platforms == ("linux/amd64", "linux/arm64/v8")
    assert got["arm-only"].platforms == ("linux/arm64",)
    assert got["no-tag"].status == "tag-not-found"
    assert (got["no-repo"].status, got["no-repo"].detail) == (
        "repository-not-found",
        "the registry answered NAME_UNKNOWN",
    )
    assert got["no-digest"].status == "digest-not-found"
    assert (got["by-digest"].status, got["by-digest"].digest) == ("ok", seeded.app_1_0)
    stale = got["stale"]
    assert (stale.status, stale.digest, stale.tag_digest) == (
        "ok",
        seeded.moving_old,
        seeded.moving_new,
    )
    pinned = got["pinned"]
    assert (pinned.status, pinned.digest, pinned.tag_digest) == (
        "ok",
        seeded.moving_new,
        seeded.moving_new,
    )
    gone = got["gone-tag"]
    assert (gone.status, gone.tag_digest, gone.detail) == (
        "ok",
        None,
        "the tag gone no longer exists",
    )
    # the pinned digest is gone; where the tag points now is still worth telling
    assert (got["stale-missing"].status, got["stale-missing"].tag_digest) == (
        "digest-not-found",
        seeded.moving_new,
    )


def test_tag_not_found_suggests_existing_tags(seeded: Seeded) -> None:
    answers = run([seeded.ref("team/app:1.00")])
    (result,) = answers.values()
    assert (result.status, result.detail) == ("tag-not-found", "closest tags: 1.0")


# -- request count --------------------------------------------------------------------------------


def test_one_manifest_request_per_unique_question(seeded: Seeded) -> None:
    host = seeded.registry.host
    images = [
        f"{host}/team/app:1.0",
        f"{host}/team/app:1.0",  # the same image in many files is asked once
        f"{host}/team/app:moving",
        f"{host}/library/nginx:1.25",
        f"{host}/team/app@{seeded.app_1_0}",
        # the tag points at the pin: no digest request, and the tag was asked already
        f"{host}/team/app:moving@{seeded.moving_new}",
        f"{host}/team/app:9.9",
    ]
    counter = Counter()
    answers = run(images, counter=counter, check_platforms=False)
    assert answers.stats.references == 6
    assert len(answers) == 6
    assert counter.manifests("GET") == []
    assert sorted(counter.manifests("HEAD")) == sorted(
        [
            "HEAD /v2/team/app/manifests/1.0",
            "HEAD /v2/team/app/manifests/moving",
            "HEAD /v2/library/nginx/manifests/1.25",
            f"HEAD /v2/team/app/manifests/{seeded.app_1_0}",
            "HEAD /v2/team/app/manifests/9.9",
        ]
    )
    assert answers.stats.manifest_requests == 5
    # one ping per registry host: HTTPS once, then plain HTTP as the host is loopback
    assert [r.url.scheme for r in counter.requests if r.url.path == "/v2/"] == ["https", "http"]
    assert counter.lines().count("GET /v2/team/app/tags/list") == 1  # only for the missing tag
    assert answers.stats.requests == len(counter.requests)


def test_platform_check_reads_each_manifest_once(seeded: Seeded) -> None:
    host = seeded.registry.host
    images = [
        f"{host}/team/app:2.0",
        f"{host}/team/app:2.0",
        f"{host}/library/nginx:1.25",
        f"{host}/team/app:1.0",  # a single manifest: its config blob names the platform
    ]
    counter = Counter()
    run(images, counter=counter)
    assert sorted(counter.manifests("GET")) == sorted(
        [
            f"GET /v2/team/app/manifests/{seeded.app_2_0}",
            f"GET /v2/library/nginx/manifests/{seeded.nginx_1_25}",
            f"GET /v2/team/app/manifests/{seeded.app_1_0}",
        ]
    )
    assert len(counter.manifests("HEAD")) == 3
    config = build_image("team/app:1.0").config.digest
    assert [line for line in counter.lines() if "/blobs/" in line] == [
        f"GET /v2/team/app/blobs/{config}"
    ]


def test_a_few_hundred_references_with_bounded_concurrency(seeded: Seeded) -> None:
    host = seeded.registry.host
    images = [f"{host}/team/app:1.0"] * 50 + [f"{host}/team/t{n}:1" for n in range(150)]
    counter = Counter()
    answers = run(images, counter=counter, jobs=8)
    assert answers.stats.references == 151
    assert len(counter.manifests("HEAD")) == 151
    statuses = [a.status for a in answers.values()]
    assert statuses.count("ok") == 1 and statuses.count("repository-not-found") == 150


# -- Basic auth -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def basic_image(basic_registry: RegistryServer) -> str:
    basic_registry.push_image("team/app", "1.0")
    return f"{basic_registry.host}/team/app:1.0"


def test_basic_auth_with_docker_config(
    basic_registry: RegistryServer, basic_image: str, tmp_path: Path
) -> None:
    counter = Counter()
    store = store_with(tmp_path, basic_registry.host, USERNAME, PASSWORD)
    answers = run([basic_image], store=store, counter=counter)
    assert answers[basic_image].status == "ok"
    expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    (head,) = [r for r in counter.requests if r.method == "HEAD"]
    assert head.headers["authorization"] == expected


def test_basic_auth_without_credentials(basic_registry: RegistryServer, basic_image: str) -> None:
    counter = Counter()
    answers = run([basic_image], counter=counter)
    result = answers[basic_image]
    assert result.status == "auth-failed"
    assert result.detail == (
        "the registry wants a username and password (Basic) and none are configured for "
        f"{basic_registry.host}"
    )
    assert counter.manifests() == []  # nothing sent once the ping showed it is pointless


def test_basic_auth_wrong_password(
    basic_registry: RegistryServer, basic_image: str, tmp_path: Path
) -> None:
    store = store_with(tmp_path, basic_registry.host, USERNAME, "wrong-password")
    answers = run([basic_image], store=store)
    result = answers[basic_image]
    assert result.status == "auth-failed"
    assert result.detail == (
        f"the registry refused the credentials of user {USERNAME!r} from "
        f"{tmp_path / 'docker' / 'config.json'}"
    )
    assert "wrong-password" not in repr(answers)


def test_basic_auth_through_a_credential_helper(
    basic_registry: RegistryServer,
    basic_image: str,
    tmp_path: Path,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-test"
    helper.write_text(
        "#!/bin/sh\nread url\n"
        f'printf \'{{"ServerURL":"%s","Username":"{USERNAME}","Secret":"{PASSWORD}"}}\' "$url"\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    config = docker_config(tmp_path, {}, credsStore="test")
    store = CredentialStore(
        env={"DOCKER_CONFIG": str(config.parent), "HOME": str(tmp_path), "PATH": str(bin_dir)}
    )
    answers = run([basic_image], store=store)
    assert answers[basic_image].status == "ok"
    assert answers.stats.warnings == []


def test_pull_secrets_decide_like_kubelet(basic_registry: RegistryServer, basic_image: str) -> None:
    wrong = Credentials(USERNAME, "nope", source="pull secret a")
    right = Credentials(USERNAME, PASSWORD, source="pull secret b")
    answers = run([basic_image], pull_secrets={basic_image: [[wrong, right]]})
    assert answers[basic_image].status == "ok"
    answers = run([basic_image], pull_secrets={basic_image: [[wrong]]})
    assert answers[basic_image].status == "auth-failed"
    answers = run([basic_image], pull_secrets={basic_image: [[]]})  # no secret matches: anonymous
    assert answers[basic_image].status == "auth-failed"


# -- token auth -----------------------------------------------------------------------------------


@pytest.fixture
def token_images(token_registry: RegistryServer) -> dict[str, str]:
    host = token_registry.host
    token_registry.push_image("library/nginx", "1.25")
    token_registry.push_image("team/app", "1.0")
    token_registry.push_index("team/app", "2.0")
    token_registry.push_image("team/other", "1.0")
    assert token_registry.token_service is not None
    token_registry.token_service.clear()
    return {
        "public": f"{host}/library/nginx:1.25",
        "private": f"{host}/team/app:1.0",
        "index": f"{host}/team/app:2.0",
        "other": f"{host}/team/other:1.0",
    }


def test_token_anonymous_public_and_private(
    token_registry: RegistryServer, token_images: dict[str, str]
) -> None:
    service = token_registry.token_service
    assert service is not None
    answers = run([token_images["public"], token_images["private"]])
    assert answers[token_images["public"]].status == "ok"
    private = answers[token_images["private"]]
    assert (private.status, private.detail) == (
        "auth-failed",
        f"the registry wants credentials and none are configured for {token_registry.host}",
    )
    assert sorted(r.scopes[0] for r in service.requests) == [
        "repository:library/nginx:pull",
        "repository:team/app:pull",
    ]
    assert {r.service for r in service.requests} == {service.service}
    assert not any(r.authorization for r in service.requests)


@pytest.mark.parametrize(
    ("username", "password"), [(USERNAME, PASSWORD), (READER, READER_PASSWORD)]
)
def test_token_with_credentials_one_token_per_scope(
    token_registry: RegistryServer,
    token_images: dict[str, str],
    tmp_path: Path,
    username: str,
    password: str,
) -> None:
    service = token_registry.token_service
    assert service is not None
    store = store_with(tmp_path, token_registry.host, username, password)
    counter = Counter()
    images = list(token_images.values())
    answers = run(images, store=store, counter=counter)
    assert {answers[i].status for i in images} == {"ok"}
    assert answers[token_images["index"]].platforms == ("linux/amd64", "linux/arm64")
    scopes = sorted(r.scopes[0] for r in service.requests)
    assert scopes == [
        "repository:library/nginx:pull",
        "repository:team/app:pull",
        "repository:team/other:pull",
    ]
    assert {(r.username, r.authorization) for r in service.requests} == {(username, True)}
    # tokens go to the registry, never the password
    for request in counter.requests:
        if request.url.port == token_registry.port and request.url.path != "/v2/":
            assert request.headers["authorization"].startswith("Bearer ")


def test_token_wrong_password(
    token_registry: RegistryServer, token_images: dict[str, str], tmp_path: Path
) -> None:
    store = store_with(tmp_path, token_registry.host, USERNAME, "not-the-password")
    answers = run([token_images["private"]], store=store)
    result = answers[token_images["private"]]
    assert result.status == "auth-failed"
    assert result.detail.startswith(
        f"the token service refused the credentials of user {USERNAME!r} from "
    )
    assert result.detail.endswith("(HTTP 401)")
    assert "not-the-password" not in repr(answers)


def test_token_answer_shapes(token_registry: RegistryServer, token_images: dict[str, str]) -> None:
    service = token_registry.token_service
    assert service is not None
    service.response_fields = ("access_token",)
    service.expires_in = None
    assert run([token_images["public"]])[token_images["public"]].status == "ok"
    service.response_fields = ("token",)
    assert run([token_images["public"]])[token_images["public"]].status == "ok"


def test_token_service_failure(
    token_registry: RegistryServer, token_images: dict[str, str]
) -> None:
    service = token_registry.token_service
    assert service is not None
    service.fail_status = 503
    answers = run([token_images["public"]], tries=2)
    result = answers[token_images["public"]]
    assert (result.status, result.detail) == (
        "unreachable",
        "token service: HTTP 503 Service Unavailable after 2 tries",
    )


def test_identity_token_falls_back_to_get(
    token_registry: RegistryServer, token_images: dict[str, str]
) -> None:
    service = token_registry.token_service
    assert service is not None
    # The test service answers the OAuth2 POST with 404: the GET with the token as password.
    image = token_images["private"]
    secrets = {image: [[Credentials(USERNAME, identity_token=PASSWORD, source="s")]]}
    answers = run([image], pull_secrets=secrets)
    assert answers[image].status == "ok"
    assert [r.method for r in service.requests] == ["POST", "GET"]


def test_token_registry_over_tls(tls_token_registry: RegistryServer, tmp_path: Path) -> None:
    tls_token_registry.push_image("team/app", "1.0")
    image = f"{tls_token_registry.host}/team/app:1.0"
    store = store_with(tmp_path, tls_token_registry.host, USERNAME, PASSWORD)
    assert tls_token_registry.ca_pem is not None
    answers = run([image], store=store, ca_file=str(tls_token_registry.ca_pem))
    assert answers[image].status == "ok"
    service = tls_token_registry.token_service
    assert service is not None and service.url.startswith("https://")


# -- TLS ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_image(tls_registry: RegistryServer) -> str:
    tls_registry.push_image("team/app", "1.0")
    return f"{tls_registry.host}/team/app:1.0"


def test_tls_untrusted_without_ca_file(tls_registry: RegistryServer, tls_image: str) -> None:
    counter = Counter()
    answers = run([tls_image], counter=counter)
    result = answers[tls_image]
    assert (result.status, result.detail) == (
        "unreachable",
        "TLS: certificate verify failed: unable to get local issuer certificate "
        "(a private CA? trust it with --ca-file FILE or SSL_CERT_FILE)",
    )
    # an untrusted certificate is never a reason to fall back to plain HTTP
    assert {r.url.scheme for r in counter.requests} == {"https"}


def test_tls_with_ca_file(tls_registry: RegistryServer, tls_image: str) -> None:
    assert tls_registry.ca_pem is not None
    localhost = tls_image.replace("127.0.0.1", "localhost")
    counter = Counter()
    answers = run([tls_image, localhost], counter=counter, ca_file=str(tls_registry.ca_pem))
    assert answers[tls_image].status == "ok"
    assert answers[localhost].status == "ok"
    assert {r.url.scheme for r in counter.requests} == {"https"}


def test_tls_with_ssl_cert_file(
    tls_registry: RegistryServer, tls_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tls_registry.ca_pem is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_registry.ca_pem))
    assert run([tls_image])[tls_image].status == "ok"


def test_tls_insecure_registry_skips_verification(
    tls_registry: RegistryServer, tls_image: str
) -> None:
    answers = run([tls_image], insecure_registries=(tls_registry.host,))
    assert answers[tls_image].status == "ok"


def test_tls_wrong_host_name(tls_wrong_name_registry: RegistryServer) -> None:
    image = f"{tls_wrong_name_registry.host}/team/app:1.0"
    assert tls_wrong_name_registry.ca_pem is not None
    answers = run([image], ca_file=str(tls_wrong_name_registry.ca_pem))
    result = answers[image]
    assert result.status == "unreachable"
    assert result.detail.startswith("TLS: certificate verify failed: ")
    assert "mismatch" in result.detail.lower()
    assert "--ca-file" not in result.detail  # no CA file mends a certificate for another name


def test_plain_http_loopback_registry(seeded: Seeded) -> None:
    counter = Counter()
    image = seeded.ref("team/app:1.0")
    assert run([image], counter=counter)[image].status == "ok"
    # HTTPS first (one try), then plain HTTP because the host is loopback
    assert [f"{r.url.scheme} {r.method} {r.url.path}" for r in counter.requests] == [
        "https GET /v2/",
        "http GET /v2/",
        "http HEAD /v2/team/app/manifests/1.0",
        f"http GET /v2/team/app/manifests/{seeded.app_1_0}",  # the platform check (IMG106)
        f"http GET /v2/team/app/blobs/{build_image('team/app:1.0').config.digest}",
    ]


# -- faults a real socket can produce -------------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


def test_connection_refused(closed_port: int) -> None:
    image = f"127.0.0.1:{closed_port}/team/app:1.0"
    result = run([image])[image]
    assert (result.status, result.detail) == ("unreachable", "connection refused")


def test_silent_server_times_out_within_the_deadline(silent_port: int) -> None:
    images = [f"127.0.0.1:{silent_port}/team/app:1.0", f"127.0.0.1:{silent_port}/team/b:1"]
    answers = run(images, request_timeout=0.3, tries=2, timeout=5.0)
    for image in images:
        result = answers[image]
        assert result.status == "unreachable"
        assert result.detail in (
            "timed out after 0.3 s connecting",
            "timed out after 0.3 s waiting for an answer",
        )


def test_a_silent_registry_is_waited_for_once(silent_port: int) -> None:
    """One deadline: a host that accepts and never answers costs the request timeout the
    message names, not a retry per try plus a plain-HTTP attempt after HTTPS."""
    image = f"127.0.0.1:{silent_port}/team/app:1.0"
    started = time.monotonic()
    answers = run([image], request_timeout=2.0, tries=3, timeout=60.0)
    elapsed = time.monotonic() - started
    assert (answers[image].status, answers[image].detail) == (
        "unreachable",
        "timed out after 2 s waiting for an answer",
    )
    assert elapsed < 5.0  # was 2 s over HTTPS, then 3 tries of 2 s over plain HTTP


def test_overall_deadline_with_a_silent_server(silent_port: int) -> None:
    image = f"127.0.0.1:{silent_port}/team/app:1.0"
    result = run([image], request_timeout=30.0, timeout=0.5)[image]
    assert (result.status, result.detail) == (
        "unreachable",
        "no answer within the deadline of 0.5 s",
    )


# -- cache ----------------------------------------------------------------------------------------


def test_warm_cache_sends_nothing(seeded: Seeded, tmp_path: Path) -> None:
    images = [seeded.ref(t) for t in ("team/app:1.0", "team/app:2.0", "library/nginx:1.25")]
    cold = Counter()
    first = run(images, counter=cold, use_cache=True, cache_dir=str(tmp_path))
    warm = Counter()
    second = run(images, counter=warm, use_cache=True, cache_dir=str(tmp_path))
    assert len(cold.requests) > 0 and warm.requests == []
    assert second.stats.from_cache == 3
    for image in images:
        a, b = first[str(parse(image))], second[str(parse(image))]
        assert (a.status, a.digest, a.platforms, a.tag_digest) == (
            b.status,
            b.digest,
            b.platforms,
            b.tag_digest,
        )
        assert (a.from_cache, b.from_cache) == (False, True)


def test_stale_digest_check_asks_the_tag_even_when_cached(seeded: Seeded, tmp_path: Path) -> None:
    """A tag's meaning is never taken from the cache for `tag@digest`: the stale-digest check
    (IMG104) would miss a push made within the tag TTL. The digest's facts stay cached."""
    pinned = seeded.ref(f"team/app:moving@{seeded.moving_old}")
    cache_dir = str(tmp_path)
    # the cache knows the tag and the digest
    run([seeded.ref("team/app:moving"), pinned], use_cache=True, cache_dir=cache_dir)
    warm = Counter()
    answers = run([pinned], counter=warm, use_cache=True, cache_dir=cache_dir)
    assert warm.without_pings() == ["HEAD /v2/team/app/manifests/moving"]
    result = answers[pinned]
    assert (result.status, result.tag_digest, result.from_cache) == (
        "ok",
        seeded.moving_new,
        False,
    )


def test_pull_secrets_bypass_the_cache(seeded: Seeded, tmp_path: Path) -> None:
    image = seeded.ref("team/app:1.0")
    run([image], use_cache=True, cache_dir=str(tmp_path))
    counter = Counter()
    answers = run(
        [image],
        counter=counter,
        use_cache=True,
        cache_dir=str(tmp_path),
        pull_secrets={image: [[]]},
    )
    assert answers[image].from_cache is False
    assert counter.manifests("HEAD") == ["HEAD /v2/team/app/manifests/1.0"]


# -- secrecy --------------------------------------------------------------------------------------


def test_no_credential_in_logs_answers_or_cache(
    basic_registry: RegistryServer,
    basic_image: str,
    token_registry: RegistryServer,
    token_images: dict[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="imglint")
    config = docker_config(
        tmp_path,
        {
            basic_registry.host: auth_entry(USERNAME, PASSWORD),
            token_registry.host: auth_entry(READER, READER_PASSWORD),
        },
    )
    images = [basic_image, *token_images.values(), f"{basic_registry.host}/team/nope:1"]
    answers = run(
        images,
        store=CredentialStore(files=[config]),
        use_cache=True,
        cache_dir=str(tmp_path / "cache"),
    )
    assert answers[basic_image].status == "ok"
    cache_text = "".join(p.read_text(errors="replace") for p in (tmp_path / "cache").iterdir())
    secrets = [PASSWORD, READER_PASSWORD]
    secrets += [
        base64.b64encode(f"{u}:{p}".encode()).decode()
        for u, p in [(USERNAME, PASSWORD), (READER, READER_PASSWORD)]
    ]
    for text in (caplog.text, repr(answers), repr(answers.stats), cache_text):
        for secret in secrets:
            assert secret not in text
    assert "Bearer" not in caplog.text and "eyJ" not in caplog.text  # no token either
    # the answers, and the key of their credentials' fingerprints, for this user's eyes only
    assert sorted(os.listdir(tmp_path / "cache")) == ["key", "registry-v2.json"]
    assert stat.S_IMODE((tmp_path / "cache" / "key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
