"""Launch a real CNCF distribution registry (`docker-registry serve`) on loopback for tests."""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import trustme

from tests.regserver.client import ChallengeAuth, Pusher
from tests.regserver.content import Platform
from tests.regserver.tokens import PASSWORD, USERNAME, TokenService

Auth = Literal["none", "htpasswd", "token"]
Tls = Literal["none", "valid", "wrong-name"]

BINARY_ENV = "IMGLINT_TEST_REGISTRY"  # overrides the registry binary path
DEFAULT_BINARY = "docker-registry"
HTPASSWD = "htpasswd"
START_TIMEOUT = 20.0  # seconds; a cold start takes well under one here
WRONG_HOST = "wrong-host.invalid"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

ACCESS_LINE = re.compile(r'^\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d{3}) ')

_running: set[RegistryServer] = set()


class RegistryServerError(Exception):
    """The registry could not be started (message says why and includes its log tail)."""


@dataclass(frozen=True)
class AccessLogEntry:
    method: str
    path: str  # with the query string
    status: int


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RegistryServerError(
            f"`{name}` is not installed; run scripts/test once (it installs the docker-registry "
            f"and apache2-utils Debian packages)"
        )
    return path


def htpasswd_line(username: str, password: str) -> str:
    """A bcrypt htpasswd line, the only hash distribution accepts."""
    done = subprocess.run(
        [find_binary(HTPASSWD), "-Bbn", username, password],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip() + "\n"


def yaml_scalar(value: object) -> str:
    # JSON strings are valid YAML scalars, which avoids quoting surprises in paths
    return json.dumps(value)


class RegistryServer:
    """One registry process plus, in token mode, its token service.

    auth: "none" (anonymous), "htpasswd" (Basic; USERNAME/PASSWORD), "token" (Bearer tokens from
    `token_service`). tls: "none" (plain HTTP), "valid" (certificate for 127.0.0.1 and localhost
    from `ca`), "wrong-name" (certificate only for WRONG_HOST, so hostname checks fail).
    """

    def __init__(
        self,
        *,
        auth: Auth = "none",
        tls: Tls = "none",
        ca: trustme.CA | None = None,
        public_repositories: tuple[str, ...] = ("library/nginx", "public/*"),
        binary: str | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.auth = auth
        self.tls = tls
        self.ca = ca if ca is not None or tls == "none" else trustme.CA()
        self.public_repositories = public_repositories
        self._binary = binary or os.environ.get(BINARY_ENV) or DEFAULT_BINARY
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="imglint-registry-"))
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.token_service: TokenService | None = None
        self.ca_pem: Path | None = None
        self._pusher: Pusher | None = None
        self._ssl_context: ssl.SSLContext | None = None

    # -- identity ------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """ "127.0.0.1:PORT", the registry part of an image reference."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        scheme = "http" if self.tls == "none" else "https"
        return f"{scheme}://{self.host}"

    @property
    def username(self) -> str | None:
        return None if self.auth == "none" else USERNAME

    @property
    def password(self) -> str | None:
        return None if self.auth == "none" else PASSWORD

    @property
    def log_path(self) -> Path:
        return self.workdir / "registry.log"

    @property
    def access_log_path(self) -> Path:
        return self.workdir / "access.log"

    def ssl_context(self) -> ssl.SSLContext:
        """What to pass as httpx `verify=`: trusts the test CA; for "wrong-name" it still checks
        the chain but not the hostname (so helpers can push to a server clients must refuse).
        Built once: loading a CA bundle per client costs ~20 ms."""
        if self._ssl_context is None:
            if self.ca_pem is None:
                self._ssl_context = ssl.create_default_context()
            else:
                self._ssl_context = ssl.create_default_context(cafile=str(self.ca_pem))
                self._ssl_context.check_hostname = self.tls != "wrong-name"
        return self._ssl_context

    def client(self, *, authenticated: bool = True, **kwargs: Any) -> httpx.Client:
        """A new httpx client for this registry (base_url, CA, challenge auth). Close it."""
        auth = ChallengeAuth(self.username, self.password) if authenticated else None
        kwargs.setdefault("timeout", 30)
        return httpx.Client(base_url=self.url, verify=self.ssl_context(), auth=auth, **kwargs)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> RegistryServer:
        try:
            binary = find_binary(self._binary)
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._prepare()
            # A free port can be taken between our probe and the registry's bind: retry then.
            for _attempt in range(5):
                self.port = free_port()
                self._write_config()
                if self._launch(binary):
                    _running.add(self)
                    return self
            raise RegistryServerError(
                "docker-registry kept finding its port taken:\n" + self.log_tail()
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the process (terminate, then kill), the token service, and remove the workdir."""
        if self._pusher is not None:
            self._pusher.close()
            self._pusher = None
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        if self.token_service is not None:
            self.token_service.stop()
        _running.discard(self)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _prepare(self) -> None:
        if self.ca is not None:
            self.ca_pem = self.workdir / "ca.pem"
            self.ca.cert_pem.write_to_path(str(self.ca_pem))
            names = [WRONG_HOST] if self.tls == "wrong-name" else ["127.0.0.1", "localhost"]
            cert = self.ca.issue_cert(*names)
            cert.private_key_pem.write_to_path(str(self.workdir / "server.key"))
            cert.cert_chain_pems[0].write_to_path(str(self.workdir / "server.crt"))
            for extra in cert.cert_chain_pems[1:]:
                extra.write_to_path(str(self.workdir / "server.crt"), append=True)
        if self.auth == "htpasswd":
            (self.workdir / "htpasswd").write_text(htpasswd_line(USERNAME, PASSWORD))
        if self.auth == "token":
            token_tls = None
            if self.ca is not None:
                token_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(token_tls)
            self.token_service = TokenService(
                public_repositories=self.public_repositories, ssl_context=token_tls
            )
            self.token_service.start()
            (self.workdir / "token-signer.pem").write_bytes(
                self.token_service.signing_key.certificate_pem
            )

    def _write_config(self) -> None:
        q = yaml_scalar
        lines = [
            "version: 0.1",
            "log:",
            "  level: warn",
            "  accesslog:",
            "    disabled: false",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {q(str(self.workdir / 'storage'))}",
            "  delete:",
            "    enabled: true",
            "  maintenance:",
            "    uploadpurging:",
            "      enabled: false",
            "http:",
            f"  addr: {q(self.host)}",
            "  secret: imglint-test-secret",
        ]
        if self.tls != "none":
            lines += [
                "  tls:",
                f"    certificate: {q(str(self.workdir / 'server.crt'))}",
                f"    key: {q(str(self.workdir / 'server.key'))}",
            ]
        if self.auth == "htpasswd":
            lines += [
                "auth:",
                "  htpasswd:",
                "    realm: imglint-test-realm",
                f"    path: {q(str(self.workdir / 'htpasswd'))}",
            ]
        if self.auth == "token":
            assert self.token_service is not None
            lines += [
                "auth:",
                "  token:",
                f"    realm: {q(self.token_service.url)}",
                f"    service: {q(self.token_service.service)}",
                f"    issuer: {q(self.token_service.issuer)}",
                f"    rootcertbundle: {q(str(self.workdir / 'token-signer.pem'))}",
            ]
        (self.workdir / "config.yml").write_text("\n".join(lines) + "\n")

    def _launch(self, binary: str) -> bool:
        """Start the process and wait for /v2/ to answer. False if the port was taken."""
        with open(self.log_path, "ab") as log, open(self.access_log_path, "ab") as access:
            self.process = subprocess.Popen(
                [binary, "serve", str(self.workdir / "config.yml")],
                stdin=subprocess.DEVNULL,
                stdout=access,  # distribution writes its access log to stdout
                stderr=log,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(verify=self.ssl_context(), timeout=2) as probe:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    tail = self.log_tail()
                    self.process = None
                    if "address already in use" in tail:
                        return False
                    raise RegistryServerError(f"docker-registry exited at start:\n{tail}")
                try:
                    probe.get(f"{self.url}/v2/")
                    return True
                except httpx.TransportError:
                    time.sleep(0.05)
        raise RegistryServerError(
            f"docker-registry did not answer GET {self.url}/v2/ within {START_TIMEOUT:.0f}s:\n"
            + self.log_tail()
        )

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no registry log)"
        return "\n".join(text.splitlines()[-lines:]) or "(registry log is empty)"

    # -- observation ---------------------------------------------------------------------------

    def access_log(self) -> list[AccessLogEntry]:
        """Requests the registry served, parsed from its access log (combined log format).

        Distribution writes a line when its handler returns, which for tiny responses is before
        the client has the response; this is a convenience, count on the client side for exact
        assertions.
        """
        entries = []
        text = self.access_log_path.read_text(errors="replace")
        for line in text.splitlines():
            match = ACCESS_LINE.match(line)
            if match:
                entries.append(AccessLogEntry(match[1], match[2], int(match[3])))
        return entries

    # -- push helpers (bound to this registry, authenticated as USERNAME) ----------------------

    @property
    def pusher(self) -> Pusher:
        if self._pusher is None:
            self._pusher = Pusher(
                self.url,
                username=self.username,
                password=self.password,
                verify=self.ssl_context(),
            )
        return self._pusher

    def push_blob(self, repo: str, data: bytes) -> str:
        return self.pusher.push_blob(repo, data)

    def push_image(
        self,
        repo: str,
        tag: str | None,
        *,
        platform: Platform = ("linux", "amd64"),
        oci: bool = False,
        label: str | None = None,
    ) -> str:
        return self.pusher.push_image(repo, tag, platform=platform, oci=oci, label=label)

    def push_index(
        self,
        repo: str,
        tag: str | None,
        platforms: list[Platform] | tuple[Platform, ...] = (("linux", "amd64"), ("linux", "arm64")),
        *,
        oci: bool = True,
        label: str | None = None,
    ) -> str:
        return self.pusher.push_index(repo, tag, platforms, oci=oci, label=label)

    def retag(self, repo: str, tag: str, digest: str) -> str:
        return self.pusher.retag(repo, tag, digest)

    def delete_manifest(self, repo: str, digest: str) -> None:
        self.pusher.delete_manifest(repo, digest)


def die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM it when the test process dies, so a killed
    pytest (CI timeout, SIGKILL) leaves no registry behind. Elsewhere teardown has to do."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@atexit.register
def _stop_leftovers() -> None:
    # Backstop for an interrupted session: fixture teardown normally stops every server.
    for server in list(_running):
        server.stop()
