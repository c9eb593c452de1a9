"""The local registry fixtures work in every mode (tests/regserver/)."""

from __future__ import annotations

import base64
import gzip
import io
import json
import ssl
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from tests.regserver import (
    MANIFEST_ACCEPT,
    PASSWORD,
    READER,
    READER_PASSWORD,
    USERNAME,
    RegistryServer,
    RegistryServerError,
    Seeded,
    TokenService,
    build_image,
    build_index,
    seed,
)
from tests.regserver.client import basic_header, parse_challenge
from tests.regserver.content import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    sha256_digest,
)
from tests.regserver.fixtures import start_or_fail

pytestmark = pytest.mark.registry

ACCEPT = {"Accept": MANIFEST_ACCEPT}


def head(server: RegistryServer, repo: str, ref: str, **headers: str) -> httpx.Response:
    with server.client(authenticated=False) as client:
        return client.head(f"/v2/{repo}/manifests/{ref}", headers={**ACCEPT, **headers})


def get_token(server: RegistryServer, scope: str, auth: tuple[str, str] | None = None) -> str:
    assert server.token_service is not None
    headers = {"Authorization": basic_header(*auth)} if auth else {}
    response = httpx.get(
        server.token_service.url,
        params={"service": server.token_service.service, "scope": scope},
        headers=headers,
        verify=server.ssl_context(),
    )
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    assert isinstance(token, str)
    return token


def jwt_part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


# -- content ---------------------------------------------------------------------------------


def test_content_is_deterministic_and_real() -> None:
    image = build_image("team/app:1.0", ("linux", "arm64", "v8"), "docker")
    assert build_image("team/app:1.0", ("linux", "arm64", "v8"), "docker") == image
    assert build_image("team/app:1.1", ("linux", "arm64", "v8"), "docker").digest != image.digest
    config = json.loads(image.config.data)
    assert (config["os"], config["architecture"], config["variant"]) == ("linux", "arm64", "v8")
    tar_bytes = gzip.decompress(image.layer.data)
    assert config["rootfs"]["diff_ids"] == [sha256_digest(tar_bytes)]
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        assert tar.getnames() == ["etc/imglint-test"]
    manifest = json.loads(image.manifest.data)
    assert manifest["mediaType"] == DOCKER_MANIFEST
    assert manifest["config"] == image.config.descriptor()
    assert manifest["layers"] == [image.layer.descriptor()]


def test_index_lists_each_platform() -> None:
    images = [build_image("x", ("linux", arch), "oci") for arch in ("amd64", "arm64")]
    index = build_index(images)
    doc = json.loads(index.manifest.data)
    assert doc["mediaType"] == OCI_INDEX
    assert [m["platform"] for m in doc["manifests"]] == [
        {"os": "linux", "architecture": "amd64"},
        {"os": "linux", "architecture": "arm64"},
    ]
    assert [m["digest"] for m in doc["manifests"]] == [i.digest for i in images]


# -- anonymous registry ----------------------------------------------------------------------


def test_anonymous_push_and_head(registry: RegistryServer) -> None:
    digest = registry.push_image("regserver/anon", "v1")
    assert digest == build_image("regserver/anon:v1").digest
    response = head(registry, "regserver/anon", "v1")
    assert response.status_code == 200
    assert response.headers["Docker-Content-Digest"] == digest
    assert response.headers["Content-Type"] == DOCKER_MANIFEST
    assert registry.host.startswith("127.0.0.1:")
    assert registry.url == f"http://{registry.host}"
    assert (registry.username, registry.password, registry.ca_pem) == (None, None, None)


def test_push_blob_then_fetch(registry: RegistryServer) -> None:
    digest = registry.push_blob("regserver/blob", b"hello blob")
    assert digest == sha256_digest(b"hello blob")
    with registry.client() as client:
        assert client.get(f"/v2/regserver/blob/blobs/{digest}").content == b"hello blob"


def test_oci_image_and_manifest_body(registry: RegistryServer) -> None:
    digest = registry.push_image("regserver/oci", "v1", oci=True, platform=("linux", "s390x"))
    expected = build_image("regserver/oci:v1", ("linux", "s390x"), "oci")
    with registry.client() as client:
        response = client.get("/v2/regserver/oci/manifests/v1", headers=ACCEPT)
    assert (response.status_code, digest) == (200, expected.digest)
    assert response.headers["Content-Type"] == OCI_MANIFEST
    assert response.content == expected.manifest.data


def test_retag_and_delete(registry: RegistryServer) -> None:
    first = registry.push_image("regserver/retag", "a", label="first")
    second = registry.push_image("regserver/retag", "b", label="second")
    assert first != second
    assert registry.retag("regserver/retag", "a", second) == second
    assert head(registry, "regserver/retag", "a").headers["Docker-Content-Digest"] == second
    registry.delete_manifest("regserver/retag", first)
    assert head(registry, "regserver/retag", first).status_code == 404
    assert head(registry, "regserver/retag", second).status_code == 200


def test_seeded_set(seeded: Seeded, registry: RegistryServer) -> None:
    for repo_and_tag, digest in seeded.tags.items():
        repo, tag = repo_and_tag.split(":")
        response = head(registry, repo, tag)
        assert (repo_and_tag, response.status_code) == (repo_and_tag, 200)
        assert response.headers["Docker-Content-Digest"] == digest
    assert head(registry, "team/app", seeded.moving_old).status_code == 200
    assert seeded.moving_old != seeded.moving_new
    assert head(registry, "library/nginx", "1.25").headers["Content-Type"] == DOCKER_MANIFEST_LIST
    assert head(registry, "team/app", "2.0").headers["Content-Type"] == OCI_INDEX
    assert sorted(seeded.app_2_0_children) == ["linux/amd64", "linux/arm64"]
    with registry.client() as client:
        armonly = client.get("/v2/team/armonly/manifests/1.0", headers=ACCEPT).json()
    assert [m["platform"]["architecture"] for m in armonly["manifests"]] == ["arm64"]
    assert seeded.ref("team/app:1.0") == f"{registry.host}/team/app:1.0"


def test_seeding_twice_gives_the_same_digests(seeded: Seeded, registry: RegistryServer) -> None:
    again = seed(registry)
    assert again.tags == seeded.tags
    assert (again.moving_old, again.app_2_0_children) == (
        seeded.moving_old,
        seeded.app_2_0_children,
    )


def test_seeded_detects_and_repairs_changes(seeded: Seeded, registry: RegistryServer) -> None:
    registry.retag("team/app", "moving", seeded.moving_old)
    assert not seeded.intact()
    assert seed(registry) == seeded
    assert seeded.intact()


def test_access_log_records_requests(registry: RegistryServer) -> None:
    registry.push_image("regserver/logged", "v1")
    head(registry, "regserver/logged", "v1")
    entries = registry.access_log()
    assert entries[-1].method == "HEAD"
    assert entries[-1].path == "/v2/regserver/logged/manifests/v1"
    assert entries[-1].status == 200


# -- htpasswd --------------------------------------------------------------------------------


def test_basic_auth(basic_registry: RegistryServer) -> None:
    digest = basic_registry.push_image("regserver/basic", "v1")
    anonymous = head(basic_registry, "regserver/basic", "v1")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="imglint-test-realm"'
    authorized = head(
        basic_registry, "regserver/basic", "v1", Authorization=basic_header(USERNAME, PASSWORD)
    )
    assert authorized.status_code == 200
    assert authorized.headers["Docker-Content-Digest"] == digest
    wrong = head(basic_registry, "regserver/basic", "v1", Authorization=basic_header(USERNAME, "x"))
    assert wrong.status_code == 401
    assert (basic_registry.username, basic_registry.password) == (USERNAME, PASSWORD)


# -- token -----------------------------------------------------------------------------------


def test_token_challenge_without_credentials(token_registry: RegistryServer) -> None:
    service = token_registry.token_service
    assert service is not None
    token_registry.push_image("team/private", "v1")
    response = head(token_registry, "team/private", "v1")
    assert response.status_code == 401
    scheme, params = parse_challenge(response.headers["WWW-Authenticate"])
    assert scheme == "bearer"
    assert params == {
        "realm": service.url,
        "service": "imglint-test-registry",
        "scope": "repository:team/private:pull",
    }
    assert service.url == f"http://127.0.0.1:{service.port}/token"


def test_token_flow_with_credentials(token_registry: RegistryServer) -> None:
    service = token_registry.token_service
    assert service is not None
    digest = token_registry.push_image("team/private", "v1")
    service.clear()
    token = get_token(token_registry, "repository:team/private:pull", (USERNAME, PASSWORD))
    response = head(token_registry, "team/private", "v1", Authorization=f"Bearer {token}")
    assert response.status_code == 200
    assert response.headers["Docker-Content-Digest"] == digest
    [request] = service.requests
    assert (request.method, request.path, request.status) == ("GET", "/token", 200)
    assert (request.authorization, request.username) == (True, USERNAME)
    assert request.scopes == ["repository:team/private:pull"]
    assert request.service == "imglint-test-registry"


def test_token_is_an_x5c_rs256_jwt(token_registry: RegistryServer) -> None:
    service = token_registry.token_service
    assert service is not None
    token = get_token(token_registry, "repository:team/app:pull,push", (USERNAME, PASSWORD))
    header, claims = jwt_part(token, 0), jwt_part(token, 1)
    assert (header["alg"], header["typ"]) == ("RS256", "JWT")
    der = base64.b64decode(header["x5c"][0])
    assert der == ssl.PEM_cert_to_DER_cert(service.signing_key.certificate_pem.decode())
    assert sorted(claims) == ["access", "aud", "exp", "iat", "iss", "jti", "nbf", "sub"]
    assert (claims["iss"], claims["aud"], claims["sub"]) == (
        service.issuer,
        service.service,
        USERNAME,
    )
    assert claims["exp"] - claims["iat"] == 300
    assert claims["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull", "push"]}
    ]


def test_token_grants_the_intersection(token_registry: RegistryServer) -> None:
    reader = get_token(token_registry, "repository:team/app:pull,push", (READER, READER_PASSWORD))
    assert jwt_part(reader, 1)["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull"]}
    ]
    anonymous_private = get_token(token_registry, "repository:team/app:pull")
    assert jwt_part(anonymous_private, 1)["access"] == [
        {"type": "repository", "name": "team/app", "actions": []}
    ]
    anonymous_public = get_token(token_registry, "repository:library/nginx:pull,push")
    assert jwt_part(anonymous_public, 1)["access"] == [
        {"type": "repository", "name": "library/nginx", "actions": ["pull"]}
    ]
    assert jwt_part(anonymous_public, 1)["sub"] == ""


def test_anonymous_token_pulls_public_only(token_registry: RegistryServer) -> None:
    public = token_registry.push_image("library/nginx", "regserver")
    token_registry.push_image("team/private", "v1")
    nginx_token = get_token(token_registry, "repository:library/nginx:pull")
    response = head(
        token_registry, "library/nginx", "regserver", Authorization=f"Bearer {nginx_token}"
    )
    assert (response.status_code, response.headers["Docker-Content-Digest"]) == (200, public)
    private_token = get_token(token_registry, "repository:team/private:pull")
    denied = head(token_registry, "team/private", "v1", Authorization=f"Bearer {private_token}")
    assert denied.status_code == 401
    _, params = parse_challenge(denied.headers["WWW-Authenticate"])
    assert params["error"] == "insufficient_scope"


def test_registry_rejects_a_token_from_another_signer(token_registry: RegistryServer) -> None:
    token_registry.push_image("team/private", "v1")
    assert token_registry.token_service is not None
    impostor = TokenService(
        service=token_registry.token_service.service, issuer=token_registry.token_service.issuer
    )
    token = impostor.issue(USERNAME, ["repository:team/private:pull"])
    response = head(token_registry, "team/private", "v1", Authorization=f"Bearer {token}")
    assert response.status_code == 401


def test_token_service_refusals(token_registry: RegistryServer) -> None:
    service = token_registry.token_service
    assert service is not None
    scope = {"service": service.service, "scope": "repository:team/app:pull"}
    wrong = httpx.get(service.url, params=scope, auth=(USERNAME, "wrong"))
    assert (wrong.status_code, wrong.json()) == (401, {"details": "incorrect username or password"})
    no_service = httpx.get(service.url, params={"scope": "repository:team/app:pull"})
    assert no_service.status_code == 400
    post = httpx.post(service.url, data={**scope, "grant_type": "password"})
    assert post.status_code == 404
    assert [(r.method, r.status, r.username) for r in service.requests] == [
        ("GET", 401, USERNAME),
        ("GET", 400, None),
        ("POST", 404, None),
    ]


def test_token_service_knobs(token_registry: RegistryServer) -> None:
    service = token_registry.token_service
    assert service is not None
    params = {"service": service.service, "scope": "repository:team/app:pull"}
    service.response_fields = ("access_token",)
    service.expires_in = None
    body = httpx.get(service.url, params=params).json()
    assert sorted(body) == ["access_token", "issued_at"]
    assert body["issued_at"].endswith("Z")
    service.oauth_post = True
    form = {**params, "grant_type": "password", "username": USERNAME, "password": PASSWORD}
    posted = httpx.post(service.url, data=form)
    assert posted.status_code == 200
    assert service.requests[-1].username == USERNAME
    assert service.requests[-1].scopes == ["repository:team/app:pull"]
    service.fail_status = 503
    assert httpx.get(service.url, params=params).status_code == 503


def test_token_registry_resets_between_tests(token_registry: RegistryServer) -> None:
    service = token_registry.token_service
    assert service is not None
    assert service.requests == []
    assert (service.expires_in, service.response_fields, service.oauth_post) == (
        300,
        ("token", "access_token"),
        False,
    )


# -- TLS -------------------------------------------------------------------------------------


def test_tls_with_the_ca(tls_registry: RegistryServer) -> None:
    digest = tls_registry.push_index("regserver/tls", "v1")
    assert tls_registry.url == f"https://{tls_registry.host}"
    assert tls_registry.ca_pem is not None
    with httpx.Client(verify=ssl.create_default_context(cafile=str(tls_registry.ca_pem))) as c:
        response = c.head(f"{tls_registry.url}/v2/regserver/tls/manifests/v1", headers=ACCEPT)
    assert (response.status_code, response.headers["Docker-Content-Digest"]) == (200, digest)


def test_tls_certificate_names_localhost(tls_registry: RegistryServer) -> None:
    assert tls_registry.ca_pem is not None
    context = ssl.create_default_context(cafile=str(tls_registry.ca_pem))
    response = httpx.get(f"https://localhost:{tls_registry.port}/v2/", verify=context)
    assert response.status_code == 200


def test_tls_without_the_ca_fails(tls_registry: RegistryServer) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_registry.url}/v2/")


def test_tls_wrong_name_fails_hostname_check(tls_wrong_name_registry: RegistryServer) -> None:
    server = tls_wrong_name_registry
    server.push_image("regserver/wrong", "v1")  # the helpers skip the hostname check
    assert server.ca_pem is not None
    context = ssl.create_default_context(cafile=str(server.ca_pem))
    with pytest.raises(httpx.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED.*mismatch"):
        httpx.get(f"{server.url}/v2/", verify=context)


def test_tls_token_registry(tls_token_registry: RegistryServer) -> None:
    service = tls_token_registry.token_service
    assert service is not None
    assert service.url.startswith("https://127.0.0.1:")
    digest = tls_token_registry.push_image("team/private", "v1")
    with tls_token_registry.client() as client:
        response = client.head("/v2/team/private/manifests/v1", headers=ACCEPT)
    assert (response.status_code, response.headers["Docker-Content-Digest"]) == (200, digest)
    assert service.requests[-1].username == USERNAME


# -- launcher --------------------------------------------------------------------------------


def test_missing_binary_fails_with_a_pointer_to_scripts_test() -> None:
    server = RegistryServer(binary="/nonexistent/docker-registry")
    with pytest.raises(RegistryServerError, match="scripts/test"):
        server.start()
    assert not server.workdir.exists()
    with pytest.raises(pytest.fail.Exception, match="scripts/test"):
        start_or_fail(binary="/nonexistent/docker-registry")


def test_start_failure_shows_the_log_tail(tmp_path: Path) -> None:
    fake = tmp_path / "fake-registry"
    fake.write_text("#!/bin/sh\necho 'configuration error: boom' >&2\nexit 3\n")
    fake.chmod(0o755)
    workdir = tmp_path / "work"
    with pytest.raises(RegistryServerError, match=r"(?s)exited at start.*boom"):
        RegistryServer(binary=str(fake), workdir=workdir).start()


def test_stop_ends_the_process_and_removes_the_workdir(
    registry_factory: Any, registry_ca: trustme.CA
) -> None:
    server: RegistryServer = registry_factory(auth="token", tls="valid", ca=registry_ca)
    process = server.process
    assert process is not None and process.poll() is None
    server.push_image("regserver/private", "v1")
    server.stop()
    assert process.poll() is not None
    assert not server.workdir.exists()
