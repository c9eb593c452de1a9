"""Registry authentication: challenges, token realms, tokens. Sending is the client's job.

* `parse_challenges` reads `WWW-Authenticate` headers (RFC 7235 / RFC 6750: several challenges
  per header, quoted parameters with escapes, commas inside quotes).
* `check_realm` is the SSRF guard: a token realm must be HTTPS (unless the registry itself is
  spoken to over plain HTTP); a realm whose host resolves to a loopback or private address is
  refused when the registry is public, accepted when the registry's own address is internal
  too; link-local and unspecified addresses (cloud metadata) are refused; the registry's own
  host and hosts the configuration trusts are accepted.
* `token_request` builds the token fetch: `GET realm?service=..&scope=repository:<path>:pull`
  with Basic credentials when there are some, or the OAuth2 `POST` with an identity token;
  `parse_token` accepts `token` or `access_token` and `expires_in` (default 60 s).
* `TokenCache` keeps one token per (registry, scope) until shortly before it expires.

Credentials travel only to the registry host they belong to and to the realm that registry
named (after `check_realm`); a Bearer token only to the registry it was issued for.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import time
from collections.abc import Collection, Iterable, Sequence
from urllib.parse import urlencode, urlsplit

from imglint.records import dataclass, field
from imglint.registry.credentials import Credentials
from imglint.registry.model import ProtocolError, RealmRejected

TOKEN_BODY_LIMIT = 64 * 1024  # bytes; ggcr's cap
DEFAULT_EXPIRES_IN = 60  # seconds, distribution's token spec
EXPIRY_MARGIN = 5.0  # renew a little early so a token never expires mid-request
OAUTH_CLIENT_ID = "imglint"


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lowercase: "bearer", "basic", ...
    params: dict[str, str] = field(default_factory=dict)  # lowercase names
    token68: str | None = None

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


# -- WWW-Authenticate ------------------------------------------------------------------------

_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOKEN68_TAIL = frozenset("-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self, chars: str = " \t") -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def token(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _TCHAR:
            self.pos += 1
        return self.text[start : self.pos]

    def bare(self) -> str:
        # an unquoted value: a token by the grammar, read leniently up to the next comma
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ", \t":
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str:
        # at the opening quote; a missing closing quote takes the rest (lenient, like Go clients)
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            c = self.text[self.pos]
            self.pos += 1
            if c == "\\" and self.pos < len(self.text):
                out.append(self.text[self.pos])
                self.pos += 1
            elif c == '"':
                break
            else:
                out.append(c)
        return "".join(out)


def parse_challenges(headers: Iterable[str]) -> list[Challenge]:
    """Every challenge of every `WWW-Authenticate` header value, in order."""
    found: list[Challenge] = []
    for header in headers:
        found.extend(_parse_header(header))
    return found


def _parse_header(text: str) -> list[Challenge]:
    s = _Scanner(text)
    challenges: list[Challenge] = []
    scheme: str | None = None
    params: dict[str, str] = {}
    token68: str | None = None

    def close() -> None:
        if scheme:
            challenges.append(Challenge(scheme.lower(), dict(params), token68))

    while True:
        s.skip(" \t,")
        if not s.peek():
            break
        start = s.pos
        name = s.token()
        if not name:
            s.pos += 1  # stray character: skip it rather than loop forever
            continue
        s.skip()
        if s.peek() == "=" and scheme is not None and not _is_token68_end(s):
            s.pos += 1
            s.skip()
            value = s.quoted() if s.peek() == '"' else s.bare()
            params.setdefault(name.lower(), value)
            continue
        if scheme is not None and not params and token68 is None and _looks_token68(text, start):
            # "Scheme abc123==": the credentials form (rare in challenges, but legal)
            s.pos = start
            while s.peek() and (s.peek() in _TOKEN68_TAIL or s.peek() == "="):
                s.pos += 1
            token68 = text[start : s.pos]
            continue
        close()
        scheme, params, token68 = name, {}, None
    close()
    return challenges


def _is_token68_end(s: _Scanner) -> bool:
    # "abc==" followed by end or comma is a token68, not "abc" = "=..."
    rest = s.text[s.pos :]
    stripped = rest.lstrip("=")
    return len(rest) - len(stripped) >= 1 and (
        stripped.strip() == "" or stripped.lstrip()[0] == ","
    )


def _looks_token68(text: str, start: int) -> bool:
    end = start
    while end < len(text) and text[end] in _TOKEN68_TAIL:
        end += 1
    while end < len(text) and text[end] == "=":
        end += 1
    rest = text[end:].lstrip(" \t")
    return end > start and (rest == "" or rest.startswith(","))


def pick_challenge(challenges: Iterable[Challenge]) -> Challenge | None:
    """The first Bearer or Basic challenge (what ggcr and containerd do)."""
    return next((c for c in challenges if c.scheme in ("bearer", "basic")), None)


# -- realm validation ------------------------------------------------------------------------


def _hostname(host: str) -> str:
    """The host without port and brackets, lowercase."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def address_kind(address: str) -> str | None:
    """ "loopback", "link-local", "unspecified" or "private" for an internal IP address (IPv4
    mapped into IPv6 judged as IPv4), None for a public one or a string that is no address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_private:
        return "private"
    return None


def _addresses(hostname: str, resolved: Sequence[str]) -> list[str]:
    """A host's addresses: itself when it is an IP address, `localhost` names as loopback."""
    if address_kind(hostname) is not None or _is_ip(hostname):
        return [hostname]
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return ["127.0.0.1", *resolved]
    return list(resolved)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def check_realm(
    realm: str,
    registry_host: str,
    *,
    registry_plain_http: bool,
    realm_addresses: Sequence[str] = (),
    registry_addresses: Sequence[str] = (),
    trusted_hosts: Collection[str] = (),
) -> str:
    """Return the realm if imglint may send a token request there, else raise RealmRejected.

    `realm_addresses` / `registry_addresses`: what the host names resolve to (IP addresses are
    their own). A realm on the registry's own host, or in `trusted_hosts`, is accepted. Else a
    realm on an internal address is refused when the registry is public (the SSRF case: a
    public registry pointing imglint, and the credentials, into the user's network) and
    accepted when the registry's own address is internal too (self-hosted registries put the
    token service on another private host). Link-local and unspecified addresses (cloud
    metadata) are refused for any registry."""
    try:
        parts = urlsplit(realm)
        hostname = parts.hostname or ""
    except ValueError:
        raise RealmRejected(f"token realm {realm!r} is not a URL") from None
    if parts.scheme not in ("https", "http") or not hostname:
        raise RealmRejected(f"token realm {realm!r} is not an http(s) URL")
    if parts.scheme == "http" and not registry_plain_http:
        raise RealmRejected(f"token realm {realm!r} is plain HTTP; only HTTPS is accepted")
    registry_name = _hostname(registry_host)
    trusted = {_hostname(h) for h in trusted_hosts}
    if hostname == registry_name or hostname in trusted:
        return realm
    internal = [
        (address, kind)
        for address in _addresses(hostname, realm_addresses)
        if (kind := address_kind(address)) is not None
    ]
    if not internal:
        return realm
    trust = f"list {hostname} in trusted-realm-hosts if it is yours"
    for address, kind in internal:
        if kind in ("link-local", "unspecified"):
            raise RealmRejected(
                f"token realm {realm!r} points at a {kind} address ({address}), where cloud "
                f"metadata services answer: refused for any registry ({trust})"
            )
    registry_internal = any(
        address_kind(a) is not None for a in _addresses(registry_name, registry_addresses)
    )
    if registry_internal:
        return realm
    address, kind = internal[0]
    raise RealmRejected(
        f"token realm {realm!r} points at a private or loopback address ({address}) while the "
        f"registry {registry_host} is public: refused, so that no credentials go into this "
        f"network ({trust})"
    )


# -- token requests --------------------------------------------------------------------------


def pull_scope(path: str) -> str:
    return f"repository:{path}:pull"


def basic_header(credentials: Credentials) -> str:
    raw = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class TokenRequest:
    method: str  # "GET" or "POST"
    url: str
    headers: dict[str, str] = field(repr=False)
    body: bytes | None = field(default=None, repr=False)


def token_request(
    challenge: Challenge, scope: str, credentials: Credentials | None
) -> TokenRequest:
    """The request for a pull token. The realm must have passed `check_realm`."""
    realm = challenge.realm
    if not realm:
        raise ProtocolError("Bearer challenge without a realm")
    query: list[tuple[str, str]] = []
    service = challenge.params.get("service")
    if service:
        query.append(("service", service))
    query.append(("scope", scope))
    if credentials is not None and credentials.identity_token:
        form = [
            *query,
            ("grant_type", "refresh_token"),
            ("refresh_token", credentials.identity_token),
            ("client_id", OAUTH_CLIENT_ID),
        ]
        return TokenRequest(
            "POST",
            realm,
            {"Content-Type": "application/x-www-form-urlencoded"},
            urlencode(form).encode(),
        )
    headers: dict[str, str] = {}
    if credentials is not None and (credentials.username or credentials.password):
        headers["Authorization"] = basic_header(credentials)
    separator = "&" if "?" in realm else "?"
    return TokenRequest("GET", realm + separator + urlencode(query), headers)


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: float  # time.monotonic() seconds

    def valid(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) < self.expires_at


def parse_token(body: bytes, *, now: float | None = None) -> Token:
    """A token service answer -> Token. Raises ProtocolError for anything unusable."""
    if len(body) > TOKEN_BODY_LIMIT:
        raise ProtocolError(f"token answer larger than {TOKEN_BODY_LIMIT // 1024} KiB")
    try:
        data = json.loads(body)
    except ValueError:
        raise ProtocolError("token service answered something that is not JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("token service answered JSON that is not an object")
    value = data.get("token") or data.get("access_token")
    if not isinstance(value, str) or not value:
        raise ProtocolError("token service answered without a token")
    expires_in = data.get("expires_in")
    if not isinstance(expires_in, (int, float)) or isinstance(expires_in, bool):
        expires_in = DEFAULT_EXPIRES_IN
    expires_in = max(float(expires_in), float(DEFAULT_EXPIRES_IN))
    start = time.monotonic() if now is None else now
    return Token(value=value, expires_at=start + expires_in - EXPIRY_MARGIN)


class TokenCache:
    """Tokens per (registry host, scope, credential identity), reused until they expire."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, int], Token] = {}

    def get(self, key: tuple[str, str, int]) -> Token | None:
        token = self._tokens.get(key)
        if token is not None and not token.valid():
            del self._tokens[key]
            return None
        return token

    def put(self, key: tuple[str, str, int], token: Token) -> None:
        self._tokens[key] = token

    def drop(self, key: tuple[str, str, int]) -> None:
        self._tokens.pop(key, None)

    def __repr__(self) -> str:
        return f"TokenCache({len(self._tokens)} tokens)"
