"""One registry host: how to reach it (scheme), how it wants to be authenticated, its tokens.

`Endpoint.ready()` pings `GET /v2/` once per host and run: the answer fixes the scheme (HTTPS;
plain HTTP only for loopback and insecure registries, after HTTPS failed for a reason other than
an untrusted certificate) and the auth challenge, so later requests go out already authorized.
`Endpoint.request()` sends with Basic credentials or a Bearer token for the repository's pull
scope (one token per scope and credential, fetched once, reused until it expires) and handles a
401 that brings news (a first challenge, or a cached token the registry no longer takes) by
authorizing and retrying once.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import httpx

from imglint.registry.auth import (
    Challenge,
    Token,
    TokenCache,
    basic_header,
    check_realm,
    parse_challenges,
    parse_token,
    pick_challenge,
    pull_scope,
    token_request,
)
from imglint.registry.credentials import Credentials
from imglint.registry.model import AuthError, ProtocolError, RegistryError, TransportError
from imglint.registry.transport import (
    DEFAULT_BODY_LIMIT,
    HttpSession,
    RequestTimedOut,
    Response,
    is_certificate_error,
    netloc,
)

log = logging.getLogger("imglint.registry")

TOKEN_BODY_LIMIT = 64 * 1024


def who_asked(credentials: Credentials | None) -> str:
    """Who a request was made as, for messages: never the secret."""
    if credentials is None:
        return "anonymous access"
    if credentials.username:
        name = f"user {credentials.username!r}"
    elif credentials.registry_token and not credentials.identity_token:
        name = "a registry token"
    else:
        name = "an identity token"
    return f"the credentials of {name} from {credentials.source}" if credentials.source else name


class Endpoint:
    def __init__(self, host: str, session: HttpSession) -> None:
        self.host = host
        self.session = session
        self.scheme = "https"
        self.challenge: Challenge | None = None
        self.error: RegistryError | None = None  # set when the host cannot be spoken to
        self._ready = False
        self._lock = asyncio.Lock()
        self._tokens = TokenCache()
        self._token_locks: dict[tuple[str, str, int], asyncio.Lock] = {}
        self._who: dict[Credentials, int] = {}

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}{path}"

    # -- ping ----------------------------------------------------------------------------------

    async def ready(self) -> None:
        """Ping once; afterwards `error` says whether the host can be used at all."""
        async with self._lock:
            if not self._ready:
                try:
                    await self._ping()
                except RegistryError as exc:
                    self.error = exc
                self._ready = True

    async def _ping(self) -> None:
        plain_allowed = self.session.plain_http_allowed(self.host)
        response: Response | None = None
        try:
            # With a plain-HTTP fallback, one HTTPS try is enough to learn it is not spoken.
            response = await self.session.send(
                "GET", f"https://{self.host}/v2/", {}, tries=1 if plain_allowed else None
            )
            self.scheme = "https"
        except TransportError as exc:
            # A host silent over HTTPS is not asked again over plain HTTP: one wait, not two.
            if not plain_allowed or is_certificate_error(exc) or isinstance(exc, RequestTimedOut):
                raise
            log.debug("%s: HTTPS failed (%s), trying plain HTTP", self.host, exc)
        if response is None:
            response = await self.session.send("GET", f"http://{self.host}/v2/", {})
            self.scheme = "http"
        if response.status == 401 and self.other_host(response) is None:
            self.challenge = pick_challenge(
                parse_challenges(response.headers.get_list("www-authenticate"))
            )

    def other_host(self, response: Response) -> str | None:
        """The host that answered when it is not this one (a redirect led there), else None.
        Another host's challenge is never met with this host's credentials: they would go to
        the realm that host names."""
        if response.url is None:
            return None
        own = httpx.URL(self.url("/"))
        if (response.url.host, response.url.port) == (own.host, own.port):
            return None
        return netloc(response.url)

    # -- authorized requests -------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        repository: str,
        credentials: Credentials | None,
        *,
        headers: dict[str, str] | None = None,
        limit: int = DEFAULT_BODY_LIMIT,
    ) -> Response:
        """`method self.url(path)` with this host's auth for `repository`."""
        url = self.url(path)
        extra = headers or {}
        auth, reused = await self._auth_header(repository, credentials)
        response = await self.session.send(method, url, {**extra, **auth}, limit=limit)
        if response.status != 401 or self.other_host(response) is not None:
            return response
        challenge = pick_challenge(parse_challenges(response.headers.get_list("www-authenticate")))
        if challenge is None:
            return response
        if self.challenge is None or self.challenge.scheme != challenge.scheme:
            self.challenge = challenge  # e.g. a registry that pings anonymously, then asks
        elif reused and challenge.scheme == "bearer":
            self._tokens.drop(self._token_key(repository, credentials))
        else:
            return response
        auth, _ = await self._auth_header(repository, credentials)
        return await self.session.send(method, url, {**extra, **auth}, limit=limit)

    def _token_key(self, repository: str, credentials: Credentials | None) -> tuple[str, str, int]:
        who = 0 if credentials is None else self._who.setdefault(credentials, len(self._who) + 1)
        return (self.host, pull_scope(repository), who)

    async def _auth_header(
        self, repository: str, credentials: Credentials | None
    ) -> tuple[dict[str, str], bool]:
        """(headers, whether a cached token was reused)."""
        challenge = self.challenge
        if challenge is None:
            return {}, False
        if challenge.scheme == "basic":
            if credentials is None or not (credentials.username or credentials.password):
                raise AuthError(
                    f"the registry wants a username and password (Basic) and none are "
                    f"configured for {self.host}"
                )
            return {"Authorization": basic_header(credentials)}, False
        if credentials is not None and credentials.registry_token:
            # `registrytoken`: the bearer token itself, as docker sends it (no token service)
            return {"Authorization": f"Bearer {credentials.registry_token}"}, False
        key = self._token_key(repository, credentials)
        lock = self._token_locks.setdefault(key, asyncio.Lock())
        async with lock:
            token = self._tokens.get(key)
            reused = token is not None
            if token is None:
                token = await self._fetch_token(challenge, repository, credentials)
                self._tokens.put(key, token)
            return {"Authorization": f"Bearer {token.value}"}, reused

    async def _check_realm(self, realm: str, plain: bool) -> None:
        """`check_realm` with the realm's and the registry's addresses resolved."""
        try:
            realm_host = urlsplit(realm).hostname or ""
        except ValueError:
            realm_host = ""
        realm_addresses = await self.session.addresses(realm_host) if realm_host else ()
        check_realm(
            realm,
            self.host,
            registry_plain_http=plain,
            realm_addresses=realm_addresses,
            registry_addresses=await self.session.addresses(self.host),
            trusted_hosts=self.session.options.trusted_realm_hosts,
        )

    async def _fetch_token(
        self, challenge: Challenge, repository: str, credentials: Credentials | None
    ) -> Token:
        # A plain-HTTP realm only for registries that may be spoken to in plain HTTP themselves.
        plain = self.scheme == "http" or self.session.plain_http_allowed(self.host)
        await self._check_realm(challenge.realm or "", plain)

        async def check_redirect(target: httpx.URL) -> None:
            await self._check_realm(str(target), plain)

        request = token_request(challenge, pull_scope(repository), credentials)
        try:
            response = await self.session.send(
                request.method,
                request.url,
                request.headers,
                body=request.body,
                limit=TOKEN_BODY_LIMIT,
                check_redirect=check_redirect,
            )
            if request.method == "POST" and response.status in (400, 401, 404, 405):
                # No OAuth2 there (containerd notes GCR 404, ACR 400, Artifactory 401): the plain
                # GET, with the identity token as the password.
                assert credentials is not None
                fallback = Credentials(credentials.username, credentials.identity_token or "")
                request = token_request(challenge, pull_scope(repository), fallback)
                response = await self.session.send(
                    request.method,
                    request.url,
                    request.headers,
                    limit=TOKEN_BODY_LIMIT,
                    check_redirect=check_redirect,
                )
        except ProtocolError as exc:
            raise ProtocolError(f"token service: {exc}") from None
        except TransportError as exc:  # name it: else a token service down looks like the registry
            raise type(exc)(f"token service: {exc}") from None
        if response.status in (401, 403):
            who = who_asked(credentials)
            raise AuthError(f"the token service refused {who} (HTTP {response.status})")
        if response.status != 200:
            raise ProtocolError(f"token service answered HTTP {response.status}")
        return parse_token(response.body)
