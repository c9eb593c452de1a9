"""HTTP for the registry check: TLS policy, one deadline, retries, redirects, body limits.

`HttpSession.send` is the only way a request leaves imglint. It
  * verifies TLS against the system trust store plus `SSL_CERT_FILE` and `--ca-file`, except for
    hosts listed in `insecure_registries` (Docker's meaning: plain HTTP or any certificate);
  * bounds every request by `request_timeout` and by what is left of the overall deadline;
  * retries 429/502/503/504 and connection errors with exponential backoff, honouring
    `Retry-After` when it fits before the deadline; a request that timed out is not retried
    (a host that accepted the connection and stayed silent would only be waited for again);
  * follows redirects itself: `Authorization` is dropped as soon as a hop leaves the origin it
    was meant for, and HTTPS never downgrades to plain HTTP except to loopback/insecure hosts;
  * reads at most `limit` bytes of a body;
  * counts requests and records `ratelimit-remaining` in the run's stats.
Network failures become `TransportError` with a one-line cause ("connection refused", "DNS:
cannot resolve the host", "TLS: certificate verify failed: ...", "timed out after 10 s ...").
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib.util
import ipaddress
import json
import logging
import os
import socket
import ssl
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from imglint.records import dataclass
from imglint.registry.model import (
    ProtocolError,
    RegistryError,
    ResolveOptions,
    ResolveStats,
    RetriesExhausted,
    TransportError,
)

log = logging.getLogger("imglint.registry")

# httpcore runs `import sniffio` on every request; when sniffio is not installed, each failed
# import searches sys.path again (a fifth of a run's CPU time). Record its absence once.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
DEFAULT_BODY_LIMIT = 64 * 1024

Hook = Callable[[Any], Awaitable[None]]
RedirectCheck = Callable[[httpx.URL], Awaitable[None]]


@dataclass
class Response:
    status: int
    headers: httpx.Headers
    body: bytes
    url: httpx.URL | None = None  # what answered, after redirects

    def error_codes(self) -> set[str]:
        """The `errors[].code` values of a distribution error body."""
        try:
            data = json.loads(self.body)
            return {str(e.get("code")) for e in data.get("errors", []) if isinstance(e, dict)}
        except (ValueError, AttributeError, TypeError):
            return set()


# -- hosts ---------------------------------------------------------------------------------------


def hostname(host: str) -> str:
    """`host[:port]` or `[v6]:port` -> the bare host name, lowercase."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def is_loopback(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1 (with or without a port), as Docker and crane see it."""
    name = hostname(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def netloc(url: httpx.URL) -> str:
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{host}:{url.port}" if url.port else host


# -- TLS and errors ---------------------------------------------------------------------------


def build_ssl_context(ca_file: str | None, env: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """The system trust store, plus `SSL_CERT_FILE` and `ca_file` (each added, not replacing)."""
    env = os.environ if env is None else env
    # Loads SSL_CERT_FILE / SSL_CERT_DIR when set, else the system's default locations.
    context = ssl.create_default_context()
    defaults = ssl.get_default_verify_paths()
    cert_file = env.get("SSL_CERT_FILE")
    system_file = defaults.openssl_cafile
    if (
        cert_file
        and system_file
        and os.path.isfile(system_file)
        and os.path.realpath(cert_file) != os.path.realpath(system_file)
    ):
        try:  # SSL_CERT_FILE replaced the system bundle: add the system bundle back
            context.load_verify_locations(cafile=system_file)
        except (OSError, ssl.SSLError):
            log.debug("cannot load CA file %s", system_file)
    if context.cert_store_stats()["x509_ca"] == 0 and not os.path.isdir(defaults.openssl_capath):
        try:  # a system without a trust store: certifi comes with httpx
            import certifi

            context.load_verify_locations(cafile=certifi.where())
        except (ImportError, OSError, ssl.SSLError):
            log.debug("no CA certificates found")
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except FileNotFoundError:
            raise RegistryError(f"CA file {ca_file} does not exist") from None
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
            raise RegistryError(f"cannot use CA file {ca_file}: {reason}") from None
    return context


PLAIN_HTTP_HINT = " (does the registry speak plain HTTP? list it in insecure-registries)"
CA_HINT = " (a private CA? trust it with --ca-file FILE or SSL_CERT_FILE)"
# OpenSSL verify codes of a chain that ends at a CA imglint does not trust (as opposed to a
# certificate for another name, or an expired one, which no CA file mends)
_UNTRUSTED_ISSUER = frozenset({2, 18, 19, 20, 21, 27})


class RequestTimedOut(TransportError):
    """The host accepted the connection and did not answer in time: asking again, or over plain
    HTTP, would only wait as long again."""


def describe_transport_error(
    exc: BaseException, timeout: float, *, plain_http_allowed: bool = False
) -> str:
    """A one-line cause for a network failure: DNS, refused, TLS, timeout. The plain-HTTP hint
    is for hosts imglint would not try over plain HTTP by itself (`plain_http_allowed`)."""
    reason = _transport_reason(exc, timeout)
    if "WRONG_VERSION_NUMBER" in reason and not plain_http_allowed:
        reason += PLAIN_HTTP_HINT  # a TLS hello answered in plain HTTP
    if _untrusted_issuer(exc):
        reason += CA_HINT
    return reason


def _untrusted_issuer(exc: BaseException) -> bool:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or current in seen:
            continue
        seen.append(current)
        if isinstance(current, ssl.SSLCertVerificationError):
            return current.verify_code in _UNTRUSTED_ISSUER
        todo.extend((current.__cause__, current.__context__))
        todo.extend(getattr(current, "exceptions", ()))
    return False


def _transport_reason(exc: BaseException, timeout: float) -> str:
    chain: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        # An earlier failure of ours (e.g. the HTTPS try before plain HTTP) is another story.
        if current in chain or isinstance(current, RegistryError):
            continue
        chain.append(current)
        # httpcore keeps the original error as the context, anyio groups connection attempts
        todo.extend(x for x in (current.__cause__, current.__context__) if x is not None)
        todo.extend(getattr(current, "exceptions", ()))
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            return f"TLS: certificate verify failed: {item.verify_message}"
    for item in chain:
        # before other TLS errors: a handshake cut short by the timeout is a timeout
        if isinstance(item, (httpx.TimeoutException, asyncio.TimeoutError, TimeoutError)):
            connecting = isinstance(item, httpx.ConnectTimeout)
            return f"timed out after {timeout:g} s " + (
                "connecting" if connecting else "waiting for an answer"
            )
    for item in chain:
        if isinstance(item, ssl.SSLError):
            return f"TLS: {item.reason or item}"
        if isinstance(item, socket.gaierror):
            return "DNS: cannot resolve the host"
        if isinstance(item, ConnectionRefusedError):
            return "connection refused"
        if isinstance(item, ConnectionResetError):  # httpx says only "ReadError" then
            return "connection reset by the server"
    text = " ".join(str(exc).split())
    # h11 quotes the offending bytes ("illegal status line: bytearray(b'...')"): a server's
    # bytes, of any length, do not belong in a one-line message.
    text = text.split(": bytearray(", 1)[0]
    if text == "Receive buffer too long":  # h11's words for a head over httpcore's 100 KiB
        return "answer headers larger than 100 KiB"
    lowered = text.lower()
    if "certificate verify failed" in lowered:
        return "TLS: " + text[lowered.index("certificate verify failed") :]
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "DNS: cannot resolve the host"
    if "connection refused" in lowered:
        return "connection refused"
    return text or type(exc).__name__


def is_certificate_error(exc: RegistryError) -> bool:
    return str(exc).startswith("TLS: certificate verify failed")


def retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# -- the session ------------------------------------------------------------------------------


class HttpSession:
    """Pooled clients, the deadline, retries and redirects for one run. Use inside one loop."""

    def __init__(
        self,
        options: ResolveOptions,
        stats: ResolveStats,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        event_hooks: Mapping[str, list[Hook]] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.options = options
        self.stats = stats
        self._transport = transport
        self._event_hooks = {k: list(v) for k, v in (event_hooks or {}).items()}
        self._sleep = sleep or asyncio.sleep
        # A mock transport ignores TLS settings: skip loading the trust store for it.
        self._ssl = build_ssl_context(options.ca_file) if transport is None else None
        entries = [h.strip().lower() for h in options.insecure_registries if h.strip()]
        self._insecure = {h for h in entries if "/" not in h}
        self._insecure_ranges = [ipaddress.ip_network(h, strict=False) for h in entries if "/" in h]
        self._clients: dict[bool, httpx.AsyncClient] = {}
        self._deadline = time.monotonic() + options.timeout
        self._semaphore: asyncio.Semaphore | None = None
        self._addresses: dict[str, tuple[str, ...]] = {}

    def start(self) -> None:
        """Start the deadline clock (call inside the event loop)."""
        self._deadline = time.monotonic() + self.options.timeout
        self._semaphore = asyncio.Semaphore(max(1, self.options.jobs))

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    @property
    def deadline(self) -> float:
        return self._deadline

    def remaining(self) -> float:
        return self._deadline - time.monotonic()

    async def addresses(self, name: str) -> tuple[str, ...]:
        """The IP addresses a host name resolves to (an address is its own), once per run;
        nothing when it does not resolve in time."""
        name = hostname(name)
        if name not in self._addresses:
            found: tuple[str, ...] = ()
            try:
                ipaddress.ip_address(name)
                found = (name,)
            except ValueError:
                loop = asyncio.get_running_loop()
                wait = max(0.1, min(self.options.request_timeout, self.remaining()))
                try:
                    infos = await asyncio.wait_for(
                        loop.getaddrinfo(name, None, type=socket.SOCK_STREAM), wait
                    )
                    found = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
                except (OSError, asyncio.TimeoutError, UnicodeError):
                    log.debug("cannot resolve %s", name)
            self._addresses[name] = found
        return self._addresses[name]

    def is_insecure(self, host: str) -> bool:
        host = host.lower()
        if host in self._insecure or hostname(host) in self._insecure:
            return True
        if self._insecure_ranges:
            # IP ranges match registries named by address only: no DNS lookup decides trust.
            try:
                address = ipaddress.ip_address(hostname(host))
            except ValueError:
                return False
            return any(address in network for network in self._insecure_ranges)
        return False

    def plain_http_allowed(self, host: str) -> bool:
        return is_loopback(host) or self.is_insecure(host)

    # -- sending ------------------------------------------------------------------------------

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        body: bytes | None = None,
        limit: int = DEFAULT_BODY_LIMIT,
        tries: int | None = None,
        check_redirect: RedirectCheck | None = None,
    ) -> Response:
        """One request with retries on 429/502/503/504 and connection errors."""
        tries = max(1, tries or self.options.tries)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._follow(method, url, headers, body, limit, check_redirect)
            except TransportError as exc:
                # A silent host is waited for once: the deadline the message names is the wait.
                if isinstance(exc, RequestTimedOut) or attempt >= tries:
                    raise
                if not await self._pause(self._backoff(attempt)):
                    raise
                log.debug("%s %s failed (%s); retrying", method, url, exc)
                continue
            if response.status not in RETRY_STATUSES:
                return response
            reason = f"HTTP {response.status} {httpx.codes.get_reason_phrase(response.status)}"
            if attempt >= tries:
                raise RetriesExhausted(f"{reason} after {attempt} tries")
            wait = retry_after(response.headers.get("retry-after"))
            if wait is not None and wait > self.options.max_retry_after:
                raise RetriesExhausted(f"{reason}; Retry-After {wait:g} s is too long to wait")
            if not await self._pause(wait if wait is not None else self._backoff(attempt)):
                raise RetriesExhausted(f"{reason}; no time left to retry before the deadline")

    def _backoff(self, attempt: int) -> float:
        return float(self.options.backoff * (2 ** (attempt - 1)))

    async def _pause(self, seconds: float) -> bool:
        """Sleep if the deadline leaves time for it and for the retry; False otherwise."""
        if seconds >= self.remaining():
            return False
        if seconds > 0:
            await self._sleep(seconds)
        return True

    async def _follow(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        limit: int,
        check_redirect: RedirectCheck | None,
    ) -> Response:
        """Send, following redirects by hand: `Authorization` only goes to the first origin."""
        origin = httpx.URL(url)
        current = origin
        hop_headers = dict(headers)
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._once(method, current, hop_headers, body, limit)
            location = response.headers.get("location")
            if response.status not in REDIRECT_STATUSES or not location:
                return response
            try:
                target = current.join(location)
            except httpx.InvalidURL:
                raise ProtocolError(f"redirect to an invalid URL from {current.host}") from None
            if target.scheme not in ("https", "http"):
                raise ProtocolError(f"redirect to a {target.scheme or 'relative'} URL refused")
            if (
                target.scheme == "http"
                and current.scheme == "https"
                and not self.plain_http_allowed(netloc(target))
            ):
                raise ProtocolError(f"redirect from HTTPS to plain HTTP ({target.host}) refused")
            if check_redirect is not None:
                await check_redirect(target)
            if (target.scheme, target.host, target.port) != (
                origin.scheme,
                origin.host,
                origin.port,
            ):
                hop_headers.pop("Authorization", None)
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body = "GET", None
                hop_headers.pop("Content-Type", None)
            current = target
        raise ProtocolError(f"more than {MAX_REDIRECTS} redirects")

    def _client(self, verify: bool) -> httpx.AsyncClient:
        client = self._clients.get(verify)
        if client is None:
            jobs = max(1, self.options.jobs)
            client = httpx.AsyncClient(
                transport=self._transport,
                verify=(self._ssl or True) if verify else False,
                limits=httpx.Limits(max_connections=jobs, max_keepalive_connections=jobs),
                follow_redirects=False,
                headers={"User-Agent": self.options.user_agent},
                event_hooks=self._event_hooks,
            )
            self._clients[verify] = client
        return client

    async def _once(
        self,
        method: str,
        url: httpx.URL,
        headers: Mapping[str, str],
        body: bytes | None,
        limit: int,
    ) -> Response:
        remaining = self.remaining()
        if remaining <= 0:
            raise TransportError(f"no answer within the deadline of {self.options.timeout:g} s")
        timeout = min(self.options.request_timeout, remaining)
        client = self._client(verify=not self.is_insecure(netloc(url)))
        request = client.build_request(
            method, url, headers=headers, content=body, timeout=httpx.Timeout(timeout)
        )
        self.stats.requests += 1
        if "/manifests/" in url.path:
            self.stats.manifest_requests += 1
        if self._semaphore is None:
            self.start()
        assert self._semaphore is not None
        started = time.monotonic()
        try:
            async with self._semaphore:
                # httpx's timeouts are per phase; this one bounds the whole exchange
                response = await asyncio.wait_for(self._exchange(client, request, limit), timeout)
        except (httpx.TransportError, asyncio.TimeoutError, OSError) as exc:
            plain = self.plain_http_allowed(netloc(url))
            cause = describe_transport_error(exc, timeout, plain_http_allowed=plain)
            if cause.startswith("timed out") and timeout < self.options.request_timeout:
                cause = f"no answer within the deadline of {self.options.timeout:g} s"
            if cause.startswith(("timed out", "no answer within")):
                raise RequestTimedOut(cause) from None
            raise TransportError(cause) from None
        except httpx.HTTPError as exc:  # e.g. an undecodable body
            raise ProtocolError(f"malformed answer from {url.host}: {exc}") from None
        log.debug(
            "%s %s -> %d (%.0f ms)",
            method,
            url.copy_with(query=None),
            response.status,
            (time.monotonic() - started) * 1000,
        )
        remaining_header = response.headers.get("ratelimit-remaining")
        if remaining_header:
            self.stats.ratelimit_remaining[netloc(url)] = remaining_header.strip()
        return response

    async def _exchange(
        self, client: httpx.AsyncClient, request: httpx.Request, limit: int
    ) -> Response:
        response = await client.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            if request.method != "HEAD":
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ProtocolError(
                            f"answer from {request.url.host} is larger than {limit // 1024} KiB"
                        )
                    chunks.append(chunk)
            return Response(response.status_code, response.headers, b"".join(chunks), request.url)
        finally:
            await response.aclose()
