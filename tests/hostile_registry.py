"""A misbehaving registry for fault and secrecy tests: HTTP/1.1 on raw asyncio streams.

No HTTP library on the server side, so it can say what no well-behaved server would: trickle
headers a byte at a time, never end a body, send a 1 MB header line, a malformed status line,
reset the connection halfway. It runs its own event loop in a background thread, bound to a
loopback address on a free port, plain or TLS, and records every request with its headers.

    with HostileRegistry() as server:                 # 127.0.0.1, plain HTTP
        server.route("/v2/team/app/manifests/*", slowloris())
        image = f"{server.host}/team/app:1.0"
        ...
        server.requests                               # [Recorded(method, path, headers, ...)]

Routes: an exact path (query ignored) or a prefix ending in "*"; the longest match wins; per
method with `by_method`. Unrouted: `GET /v2/` answers 200 `{}` (an anonymous registry), the rest
404 MANIFEST_UNKNOWN. `HostileRegistry(bind="127.0.0.2")` is another host on the same machine
(all of 127.0.0.0/8 is loopback on Linux); `ssl_context=` serves TLS; `close_on_accept=True`
closes each connection as soon as it is accepted. A TLS ClientHello sent to a plain server is
answered by closing the connection at once, as a client probing HTTPS first expects.

Behaviours are async callables `(Exchange) -> bool` (True: keep the connection for the next
request); the factories below build them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import socket
import ssl
import struct
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

HEADER_LIMIT = 64 * 1024  # request heads larger than this are refused
START_TIMEOUT = 10.0

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def digest_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


# A small valid Docker manifest (linux/amd64, its config below) and a one-platform OCI index
# (linux/amd64), with digests.
CONFIG_BODY = b'{"architecture":"amd64","os":"linux","rootfs":{"diff_ids":[],"type":"layers"}}'
CONFIG_DIGEST = digest_of(CONFIG_BODY)
MANIFEST_BODY = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "digest": CONFIG_DIGEST,
            "size": len(CONFIG_BODY),
        },
        "layers": [],
    },
    separators=(",", ":"),
).encode()
INDEX_BODY = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": DOCKER_MANIFEST,
                "digest": "sha256:" + hashlib.sha256(MANIFEST_BODY).hexdigest(),
                "size": len(MANIFEST_BODY),
                "platform": {"os": "linux", "architecture": "amd64"},
            }
        ],
    },
    separators=(",", ":"),
).encode()


@dataclass(frozen=True)
class Recorded:
    """One request as the server read it."""

    method: str
    target: str  # path with the query, as sent
    headers: tuple[tuple[str, str], ...]  # names lowercase, in order
    server: str  # "host:port" of the server that received it
    body: bytes = b""

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    @property
    def authorization(self) -> str | None:
        return self.header("authorization")

    def line(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Exchange:
    """What a behaviour gets: the request, the streams, and the server."""

    request: Recorded
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: HostileRegistry

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


Behaviour = Callable[[Exchange], Awaitable[bool]]


# -- behaviours ------------------------------------------------------------------------------------


def head(status: int, headers: Iterable[tuple[str, str]] = (), reason: str | None = None) -> bytes:
    phrase = reason if reason is not None else _REASONS.get(status, "Whatever")
    lines = [f"HTTP/1.1 {status} {phrase}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    307: "Temporary Redirect",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def respond(
    status: int = 200,
    body: bytes = b"",
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> Behaviour:
    """A complete, well-formed answer (HEAD gets the headers only)."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)

    async def behave(x: Exchange) -> bool:
        await x.send(head(status, [*pairs, ("Content-Length", str(len(body)))]))
        if x.request.method != "HEAD":
            await x.send(body)
        return True

    return behave


def manifest(body: bytes = MANIFEST_BODY, media_type: str = DOCKER_MANIFEST) -> Behaviour:
    """A manifest found: content type and Docker-Content-Digest. The default manifest routed
    over a repository ("/v2/*") is a whole image: a GET of its config blob
    (`/v2/<name>/blobs/<CONFIG_DIGEST>`) gets CONFIG_BODY, for the platform check (IMG106)."""
    found = respond(
        200, body, {"Content-Type": media_type, "Docker-Content-Digest": digest_of(body)}
    )
    config = blob(CONFIG_BODY)

    async def behave(x: Exchange) -> bool:
        if body == MANIFEST_BODY and x.request.path.endswith(f"/blobs/{CONFIG_DIGEST}"):
            return await config(x)
        return await found(x)

    return behave


def blob(data: bytes = CONFIG_BODY) -> Behaviour:
    """A blob found, as registries and storage serve them (application/octet-stream)."""
    return respond(
        200,
        data,
        {"Content-Type": "application/octet-stream", "Docker-Content-Digest": digest_of(data)},
    )


def index() -> Behaviour:
    return manifest(INDEX_BODY, OCI_INDEX)


def by_method(**behaviours: Behaviour) -> Behaviour:
    """`by_method(HEAD=index(), GET=endless_body())`; other methods get 405."""

    async def behave(x: Exchange) -> bool:
        chosen = behaviours.get(x.request.method)
        if chosen is None:
            return await respond(405)(x)
        return await chosen(x)

    return behave


def status(code: int, retry_after: str | None = None) -> Behaviour:
    headers = {"Content-Type": "application/json"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return respond(code, b'{"errors":[]}', headers)


def redirect(location: str, code: int = 307) -> Behaviour:
    return respond(code, b"", {"Location": location})


def challenge(www_authenticate: str, accept: str, then: Behaviour) -> Behaviour:
    """401 with the challenge unless the request's Authorization is exactly `accept`."""

    async def behave(x: Exchange) -> bool:
        if x.request.authorization == accept:
            return await then(x)
        return await respond(401, b"", {"WWW-Authenticate": www_authenticate})(x)

    return behave


def slowloris(interval: float = 1.0) -> Behaviour:
    """A status line and headers trickled one byte per `interval`, never finished."""

    async def behave(x: Exchange) -> bool:
        data = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: "
        position = 0
        while True:
            byte = data[position : position + 1] if position < len(data) else b"a"
            position += 1
            await x.send(byte)
            await asyncio.sleep(interval)

    return behave


def endless_body(interval: float = 0.2, chunk: bytes = b" " * 1024) -> Behaviour:
    """200 with a chunked body that never ends; one chunk per `interval` (0: as fast as the
    client reads). A HEAD gets the headers of an image index."""

    async def behave(x: Exchange) -> bool:
        headers = [
            ("Content-Type", OCI_INDEX),
            ("Docker-Content-Digest", digest_of(INDEX_BODY)),
            ("Transfer-Encoding", "chunked"),
        ]
        await x.send(head(200, headers))
        if x.request.method == "HEAD":
            return False
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        while True:
            await x.send(framed)
            await asyncio.sleep(interval)

    return behave


def huge_body(size: int = 1 << 30) -> Behaviour:
    """A Content-Length of `size` (1 GiB) and that much data, sent as fast as it is read."""

    async def behave(x: Exchange) -> bool:
        headers = [
            ("Content-Type", OCI_INDEX),
            ("Docker-Content-Digest", digest_of(INDEX_BODY)),
            ("Content-Length", str(size)),
        ]
        await x.send(head(200, headers))
        if x.request.method == "HEAD":
            return True
        block = b" " * 65536
        for _ in range(size // len(block)):
            await x.send(block)
        return False

    return behave


def huge_header(size: int = 1 << 20) -> Behaviour:
    """A well-formed answer but for one header line of `size` bytes."""

    async def behave(x: Exchange) -> bool:
        await x.send(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"a" * size + b"\r\n")
        await x.send(b"Content-Length: 0\r\n\r\n")
        return False

    return behave


def hang() -> Behaviour:
    """Read the request, never answer."""

    async def behave(x: Exchange) -> bool:
        await asyncio.Event().wait()
        return False

    return behave


def raw(data: bytes) -> Behaviour:
    """Send `data` as the whole answer, then close."""

    async def behave(x: Exchange) -> bool:
        await x.send(data)
        return False

    return behave


def close() -> Behaviour:
    """Close the connection without a word."""

    async def behave(x: Exchange) -> bool:
        return False

    return behave


def reset_midway() -> Behaviour:
    """Reset the connection (RST, not FIN) halfway through the answer: in the headers of a
    HEAD answer, in the promised body of a GET answer."""

    async def behave(x: Exchange) -> bool:
        headers = [
            ("Content-Type", DOCKER_MANIFEST),
            ("Docker-Content-Digest", digest_of(MANIFEST_BODY)),
            ("Content-Length", str(len(MANIFEST_BODY))),
        ]
        answer = head(200, headers)
        if x.request.method == "HEAD":
            await x.send(answer[: len(answer) // 2])
        else:
            await x.send(answer + MANIFEST_BODY[:10])
        abort(x.writer)
        return False

    return behave


def abort(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset: SO_LINGER with a zero timeout, then abort."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def token_json(value: object) -> Behaviour:
    """A token service answering `value` as JSON (or raw bytes as they are)."""
    body = value if isinstance(value, bytes) else json.dumps(value).encode()
    return respond(200, body, {"Content-Type": "application/json"})


def not_found() -> Behaviour:
    body = b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'
    return respond(404, body, {"Content-Type": "application/json"})


PING_OK = respond(200, b"{}", {"Content-Type": "application/json"})


# -- the server -----------------------------------------------------------------------------------


class HostileRegistry:
    def __init__(
        self,
        *,
        bind: str = "127.0.0.1",
        ssl_context: ssl.SSLContext | None = None,
        close_on_accept: bool = False,
    ) -> None:
        self.bind = bind
        self.ssl_context = ssl_context
        self.close_on_accept = close_on_accept
        self.port = 0
        self.connections = 0
        self._routes: dict[str, Behaviour] = {}
        self._requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return f"{self.bind}:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://{self.host}"

    # -- configuration and records -------------------------------------------------------------

    def route(self, path: str, behaviour: Behaviour) -> HostileRegistry:
        self._routes[path] = behaviour
        return self

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def lines(self) -> list[str]:
        return [r.line() for r in self.requests]

    def authorizations(self) -> list[str]:
        return [r.authorization for r in self.requests if r.authorization is not None]

    def _behaviour(self, method: str, path: str) -> Behaviour:
        found = self._routes.get(path)
        if found is not None:
            return found
        prefixes = [p for p in self._routes if p.endswith("*") and path.startswith(p[:-1])]
        if prefixes:
            return self._routes[max(prefixes, key=len)]
        if path == "/v2/":
            return PING_OK
        return not_found()

    # -- life cycle ------------------------------------------------------------------------------

    def start(self) -> HostileRegistry:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(lambda _loop, _context: None)  # TLS handshake noise etc.
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"hostile-registry-{self.bind}", daemon=True
        )
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), loop).result(START_TIMEOUT)
        return self

    async def _open(self) -> None:
        self._server = await asyncio.start_server(
            self._connection, self.bind, 0, ssl=self.ssl_context, limit=HEADER_LIMIT
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._close(), loop).result(START_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(START_TIMEOUT)
        loop.close()
        self._loop = self._thread = None

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=START_TIMEOUT)

    def __enter__(self) -> HostileRegistry:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    # -- connections ---------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            if not self.close_on_accept:
                await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # the client went away or sent garbage: that is its right here
        except asyncio.CancelledError:
            pass  # the server is stopping
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        keep = True
        while keep:
            first = await reader.read(1)
            if not first or (first == b"\x16" and self.ssl_context is None):
                return  # closed, or a TLS ClientHello on a plain port
            rest = await reader.readuntil(b"\r\n\r\n")
            request = self._parse(first + rest)
            length = int(request.header("content-length") or 0)
            if length:
                request = dataclasses.replace(request, body=await reader.readexactly(length))
            with self._lock:
                self._requests.append(request)
            exchange = Exchange(request, reader, writer, self)
            keep = await self._behaviour(request.method, request.path)(exchange)

    def _parse(self, data: bytes) -> Recorded:
        lines = data.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.append((name.strip().lower(), value.strip()))
        return Recorded(method, target, tuple(headers), self.host)


# -- names -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def names(mapping: Mapping[str, str]) -> Iterator[None]:
    """Resolve each name of `mapping` to its address, in this process (socket.getaddrinfo).

    For hosts that must not look like loopback to imglint (`registry-a.test`), yet be served
    here: plain HTTP, private-address realms and certificate names are judged by the name.
    """
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        return real(mapping.get(name, host), *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.getaddrinfo = real


def main(argv: list[str]) -> int:
    """`python -m tests.hostile_registry NAME=ADDRESS... -- IMGLINT-ARGS`: imglint's command
    line with those names resolved (see `names`), for command-line tests of named hosts."""
    split = argv.index("--")
    mapping = dict(item.split("=", 1) for item in argv[:split])
    from imglint.cli import main as imglint

    with names(mapping):
        return imglint(argv[split + 1 :])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
