"""A small token service for distribution's `auth: token` mode, run inside the test process.

It behaves like Docker Hub's auth.docker.io as far as a registry client can see: `GET
<realm>?service=...&scope=...` with optional HTTP Basic credentials returns an RS256 JWT whose
`access` claim is the intersection of the requested scopes and what the caller is granted.
The signing certificate is self-signed, sits in the registry's `rootcertbundle` and travels in the
JWT header's `x5c` (what Docker Hub does; distribution 2.8 needs either `x5c` or a libtrust `kid`).
Every request is recorded for assertions.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import json
import ssl
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

# Known test identities. USERNAME may push and delete anywhere; READER may only pull.
USERNAME = "imglint"
PASSWORD = "imglint-test-password"
READER = "reader"
READER_PASSWORD = "reader-test-password"

# Granted actions per user (None = anonymous): repository glob -> actions.
Grants = dict[str | None, dict[str, frozenset[str]]]
ALL_ACTIONS = frozenset({"pull", "push", "delete"})


@dataclass(frozen=True)
class TokenRequest:
    """One request the token service received, as recorded for assertions."""

    method: str
    path: str
    query: dict[str, list[str]]
    authorization: bool  # an Authorization header came (of any scheme)
    username: str | None  # the Basic username if one came (even if the password was wrong)
    status: int  # what the service answered
    form: dict[str, list[str]] = field(default_factory=dict)  # POST body (OAuth2 form)

    @property
    def scopes(self) -> list[str]:
        """Every requested scope, split on spaces as the spec allows several per parameter."""
        params = self.query.get("scope", []) + self.form.get("scope", [])
        return [s for param in params for s in param.split()]

    @property
    def service(self) -> str | None:
        values = self.query.get("service") or self.form.get("service")
        return values[0] if values else None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parse_scope(scope: str) -> tuple[str, str, frozenset[str]] | None:
    """`repository:team/app:pull,push` -> ("repository", "team/app", {"pull", "push"})."""
    kind, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not name:
        return None
    return kind, name, frozenset(a for a in actions.split(",") if a)


class SigningKey:
    """An RSA key with a self-signed certificate, used to sign RS256 JWTs with an x5c header."""

    def __init__(self, common_name: str = "imglint test token signer") -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = dt.datetime.now(dt.timezone.utc)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def sign_jwt(self, claims: Mapping[str, Any]) -> str:
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        # x5c holds standard (not url-safe) base64 DER, per RFC 7515 section 4.1.6
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)


def default_grants(public_repositories: tuple[str, ...]) -> Grants:
    return {
        USERNAME: {"*": ALL_ACTIONS},
        READER: {"*": frozenset({"pull"})},
        None: {repo: frozenset({"pull"}) for repo in public_repositories},
    }


class TokenService:
    """The token endpoint (realm) of a token-auth registry.

    Knobs a test may change (the `token_registry` fixture calls `reset()` before each test):
    `expires_in` (None leaves the field out), `response_fields` (which of "token"/"access_token"
    the JSON carries), `oauth_post` (answer OAuth2 `POST` with grant_type=password instead of 404),
    `fail_status` (answer every request with this status and no token), `grants`, `users`.
    """

    def __init__(
        self,
        *,
        service: str = "imglint-test-registry",
        issuer: str = "imglint-test-token-issuer",
        public_repositories: tuple[str, ...] = ("library/nginx", "public/*"),
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.service = service
        self.issuer = issuer
        self.public_repositories = public_repositories
        self.signing_key = SigningKey()
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._requests: list[TokenRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    def reset(self) -> None:
        """Restore the default knobs and forget the recorded requests."""
        self.users: dict[str, str] = {USERNAME: PASSWORD, READER: READER_PASSWORD}
        self.grants: Grants = default_grants(self.public_repositories)
        self.expires_in: int | None = 300
        self.response_fields: tuple[str, ...] = ("token", "access_token")
        self.oauth_post = False
        self.fail_status: int | None = None
        self.clear()

    # -- recorded requests ---------------------------------------------------------------------

    @property
    def requests(self) -> list[TokenRequest]:
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("token service is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The realm: the full token endpoint URL."""
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}/token"

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        server.daemon_threads = True
        if self._ssl_context is not None:
            server.socket = self._ssl_context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="imglint-token-service", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- issuing -------------------------------------------------------------------------------

    def granted(self, username: str | None, kind: str, name: str) -> frozenset[str]:
        if kind != "repository":
            return frozenset()
        actions: set[str] = set()
        for pattern, allowed in self.grants.get(username, {}).items():
            if fnmatch.fnmatchcase(name, pattern):
                actions |= allowed
        return frozenset(actions)

    def access_for(self, username: str | None, scopes: list[str]) -> list[dict[str, Any]]:
        """The `access` claim: requested actions intersected with granted ones, per resource."""
        merged: dict[tuple[str, str], set[str]] = {}
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None:
                continue
            kind, name, wanted = parsed
            have = self.granted(username, kind, name)
            merged.setdefault((kind, name), set()).update(wanted & have)
        return [
            {"type": kind, "name": name, "actions": sorted(actions)}
            for (kind, name), actions in merged.items()
        ]

    def issue(self, username: str | None, scopes: list[str], *, expires_in: int = 300) -> str:
        """A signed token for `username` (None = anonymous) covering `scopes`."""
        now = int(dt.datetime.now(dt.timezone.utc).timestamp())
        claims = {
            "iss": self.issuer,
            "sub": username or "",
            "aud": self.service,
            "exp": now + expires_in,
            "nbf": now - 1,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": self.access_for(username, scopes),
        }
        return self.signing_key.sign_jwt(claims)

    def token_response(self, username: str | None, scopes: list[str]) -> dict[str, Any]:
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        token = self.issue(username, scopes, expires_in=self.expires_in or 60)
        body: dict[str, Any] = {name: token for name in self.response_fields}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        body["issued_at"] = now.isoformat().replace("+00:00", "Z")
        return body

    # -- HTTP ----------------------------------------------------------------------------------

    def check_basic(self, header: str | None) -> tuple[str | None, bool]:
        """(username, credentials ok) from an Authorization header; no header is anonymous."""
        if not header:
            return None, True
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None, False
        try:
            username, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except ValueError:
            return None, False
        return username, self.users.get(username) == password

    def answer(
        self,
        method: str,
        target: str,
        authorization: str | None,
        form: dict[str, list[str]],
    ) -> tuple[int, dict[str, Any]]:
        """Decide the response to one request and record it."""
        split = urlsplit(target)
        query = parse_qs(split.query, keep_blank_values=True)
        username, ok = self.check_basic(authorization)
        if method == "POST" and "username" in form:
            username = form["username"][0]
            ok = self.users.get(username) == (form.get("password") or [""])[0]
        status, body = self._decide(method, split.path, query, form, username, ok)
        record = TokenRequest(
            method, split.path, query, authorization is not None, username, status, form
        )
        with self._lock:
            self._requests.append(record)
        return status, body

    def _decide(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
        username: str | None,
        credentials_ok: bool,
    ) -> tuple[int, dict[str, Any]]:
        if path != "/token":
            return 404, {"error": "not found"}
        if self.fail_status is not None:
            return self.fail_status, {"error": "configured failure"}
        if method == "POST" and not self.oauth_post:
            return 404, {"error": "oauth2 POST is not supported here"}
        params = form if method == "POST" else query
        if params.get("service", [""])[0] != self.service:
            return 400, {"error": "invalid_request", "details": "unknown or missing service"}
        if method == "POST" and params.get("grant_type", [""])[0] != "password":
            return 400, {"error": "unsupported_grant_type"}
        if not credentials_ok:
            return 401, {"details": "incorrect username or password"}
        scopes = [s for param in params.get("scope", []) for s in param.split()]
        return 200, self.token_response(username, scopes)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._respond("GET", {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                self._respond("POST", parse_qs(body, keep_blank_values=True))

            def _respond(self, method: str, form: dict[str, list[str]]) -> None:
                status, body = service.answer(
                    method, self.path, self.headers.get("Authorization"), form
                )
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # recorded in service.requests instead of printed

        return Handler
