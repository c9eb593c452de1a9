"""Real local OCI registries for tests: CNCF distribution 2.8 (`docker-registry`) on 127.0.0.1.

Fixtures (registered for every test by tests/conftest.py). Each yields a `RegistryServer`:

    registry                 anonymous, plain HTTP                                  (session)
    basic_registry           htpasswd Basic auth, plain HTTP                        (session)
    tls_registry             anonymous HTTPS; cert for 127.0.0.1 + localhost        (session)
    tls_wrong_name_registry  anonymous HTTPS; cert names "wrong-host.invalid" only  (session)
    token_registry           Bearer token auth via `.token_service`, plain HTTP     (function*)
    tls_token_registry       the same over HTTPS (the realm is https too)           (function*)
    registry_factory         callable(**RegistryServer kwargs) -> a fresh private server (function)
    registry_ca              the trustme.CA behind every TLS server above            (session)
    seeded                   `Seeded`: the standard set in `registry`, verified per  (function)
                             test and pushed again if a test changed it
    * one server per session; its token service is reset (knobs, request log) before each test

A missing `docker-registry`/`htpasswd` binary makes these fixtures FAIL (never skip); scripts/test
installs both. Session servers are shared: a test that mutates one should use its own repository
names, or `registry_factory` for a private server.

RegistryServer(*, auth="none", tls="none", ca=None, public_repositories=("library/nginx",
               "public/*"), binary=None, workdir=None); .start() / .stop() or `with`
    .host      "127.0.0.1:PORT" (the registry part of an image reference); .port
    .url       "http://127.0.0.1:PORT" or "https://..."
    .username / .password   the accepted credentials (None when anonymous)
    .ca_pem    Path of the CA PEM for TLS servers (pass as a CA file), else None
    .token_service          TokenService in token mode, else None
    .auth / .tls            "none" | "htpasswd" | "token" / "none" | "valid" | "wrong-name"
    .client(authenticated=True, **httpx kwargs) -> httpx.Client with base_url, CA and a 401
               challenge answerer (Basic or Bearer); close it
    .ssl_context()          what to pass as httpx verify= (trusts the CA; no hostname check
               for "wrong-name", so only the helpers get past it)
    .access_log() -> [AccessLogEntry(method, path, status)] from distribution's access log
    .log_path / .log_tail()  the registry's own log (level warn)
    push helpers, authenticated as the push user in every mode; all content is deterministic
    (same arguments -> same digest; `label` defaults to "repo:tag" and decides the content):
    .push_blob(repo, data: bytes) -> digest                       monolithic POST + PUT
    .push_image(repo, tag | None, *, platform=("linux", "amd64"), oci=False, label=None)
               -> manifest digest (Docker v2 schema 2, or OCI with oci=True; tag None = by digest)
    .push_index(repo, tag | None, platforms=[("linux","amd64"), ("linux","arm64")], *,
               oci=True, label=None) -> index digest (OCI index, or Docker manifest list)
    .retag(repo, tag, digest) -> digest
    .delete_manifest(repo, digest)
    .pusher    the underlying `Pusher` (also .put_image/.put_index for prebuilt content)

Credentials (tests.regserver.tokens): USERNAME/PASSWORD may pull, push and delete everywhere (also
the htpasswd user); READER/READER_PASSWORD (token mode) may only pull. Anonymous token requests get
pull on the public repositories ("library/nginx" and "public/*" by default), nothing elsewhere.

TokenService (token mode): realm `.url` ("http(s)://127.0.0.1:PORT/token"), `.service`
("imglint-test-registry"), `.issuer`; `GET realm?service=S&scope=repository:NAME:ACTIONS` with
optional Basic credentials -> {"token", "access_token", "expires_in", "issued_at"}; the JWT's access
is the requested scopes intersected with the grants (no access is not an error, like real services);
wrong credentials -> 401; unknown/missing service -> 400; POST (OAuth2) -> 404 unless `.oauth_post`.
`.requests` -> [TokenRequest(method, path, query, authorization, username, status, form)] with
`.scopes`/`.service`; `.clear()`; knobs `.expires_in` (None omits it), `.response_fields`,
`.fail_status`, `.oauth_post`, `.users`, `.grants`; `.issue(username, scopes)` signs a token.

Content (tests.regserver.content) builds the same bytes without a registry, for MockTransport
tests: build_image(label, platform, flavor) -> Image(config, layer, manifest), build_index(images,
flavor), media-type constants, and MANIFEST_ACCEPT. Send MANIFEST_ACCEPT (or your own full list) on
HEAD/GET: distribution 2.8 answers 404 for an OCI manifest the client did not accept, and serves
the linux/amd64 child instead of an index the client did not accept.

Seeded (tests.regserver.seed; `seed(server)` pushes it into any server):
    team/app:1.0        Docker v2 manifest, linux/amd64                     .app_1_0
    team/app:2.0        OCI index linux/amd64 + linux/arm64                 .app_2_0
                        (children by "linux/amd64" / "linux/arm64": .app_2_0_children)
    team/armonly:1.0    OCI index, linux/arm64 only                         .armonly_1_0
    library/nginx:1.25  Docker manifest list linux/amd64 + linux/arm64/v8   .nginx_1_25
    team/app:moving     was .moving_old, now .moving_new (both still stored)
    .ref("team/app:1.0") -> "127.0.0.1:PORT/team/app:1.0"; .tags -> {"repo:tag": current digest}
    .intact() -> bool (HEADs every tag and digest)
"""

from tests.regserver.client import ChallengeAuth, Pusher, PushError
from tests.regserver.content import MANIFEST_ACCEPT, build_image, build_index
from tests.regserver.seed import Seeded, seed
from tests.regserver.server import AccessLogEntry, RegistryServer, RegistryServerError
from tests.regserver.tokens import (
    PASSWORD,
    READER,
    READER_PASSWORD,
    USERNAME,
    TokenRequest,
    TokenService,
)

__all__ = [
    "MANIFEST_ACCEPT",
    "PASSWORD",
    "READER",
    "READER_PASSWORD",
    "USERNAME",
    "AccessLogEntry",
    "ChallengeAuth",
    "PushError",
    "Pusher",
    "RegistryServer",
    "RegistryServerError",
    "Seeded",
    "TokenRequest",
    "TokenService",
    "build_image",
    "build_index",
    "seed",
]
