"""The user's registry credentials, found where docker and podman keep them.

Files, first one that knows a registry wins: what the user chose explicitly, then the order of
containers-auth.json(5):
  1. `$REGISTRY_AUTH_FILE` (podman, skopeo, buildah);
  2. `$DOCKER_CONFIG/config.json` when `DOCKER_CONFIG` is set;
  3. `$XDG_RUNTIME_DIR/containers/auth.json` (podman login's default on Linux);
  4. `$XDG_CONFIG_HOME/containers/auth.json`, else `~/.config/containers/auth.json`;
  5. `~/.docker/config.json`;
  6. `~/.dockercfg`, the legacy format (the `auths` map alone, at the top level).
Within a file the docker/cli order applies: `credHelpers[host]`, then `credsStore`, then the
inline `auths[host]` entry (`auth` = base64 "user:password", padded or not, else `username` and
`password`; `identitytoken`; `registrytoken`, a bearer token sent to the registry as is, with no
token service asked). Docker itself ignores inline entries once a helper is configured;
imglint falls back to them when the helper has nothing, which is friendlier to configs copied
between machines and never less safe.

Helpers follow the docker-credential-helpers protocol: `docker-credential-<name> get`, server URL
on stdin, `{"ServerURL","Username","Secret"}` on stdout. "credentials not found" means
anonymous; a missing or failing helper gives one warning (in `CredentialStore.warnings`) and
anonymous access.

Docker Hub is `docker.io`, `index.docker.io`, `registry-1.docker.io` or the legacy key
`https://index.docker.io/v1/`; keys with a scheme or a path are reduced to their host, as
docker/cli's `ConvertToHostname` does. Podman-style repository keys (`quay.io/org`) also match
that repository and below, most specific first.

No secret is ever part of a repr, a warning or a log line.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from imglint.context import PullSecret
from imglint.keyring import matching_entries
from imglint.records import dataclass, field

HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
HUB_SERVER_URL = "https://index.docker.io/v1/"  # the key docker login writes for Docker Hub
HELPER_TIMEOUT = 30.0  # seconds; a helper may prompt a desktop keychain
TOKEN_USERNAME = "<token>"  # a helper's way of saying "the secret is an identity token"
LEGACY_FILE_NAME = ".dockercfg"  # docker before 1.7: the auths map alone
_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Credentials:
    """A username and secret for one registry. The secret never appears in repr or str."""

    username: str
    password: str = field(default="", repr=False)
    # An OAuth2 refresh token (`identitytoken`); when set, token services get it by POST.
    identity_token: str | None = field(default=None, repr=False)
    source: str = ""  # where it came from, for messages: "~/.docker/config.json", ...
    # A bearer token for the registry itself (`registrytoken`): sent as is, no token service.
    registry_token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        secret = (
            "registry token"
            if self.registry_token
            else "identity token"
            if self.identity_token
            else "password"
        )
        return f"Credentials(username={self.username!r}, {secret}=***, source={self.source!r})"

    __str__ = __repr__


def registry_key(key: str) -> str:
    """A config key reduced to the registry host it stands for ("docker.io" for Docker Hub)."""
    host = key.strip()
    for scheme in ("https://", "http://"):
        if host.lower().startswith(scheme):
            host = host[len(scheme) :]
            break
    host = host.partition("/")[0]
    return "docker.io" if host.lower() in HUB_HOSTS else host


def is_docker_hub(host: str) -> bool:
    return host.lower() in HUB_HOSTS


def server_url(host: str) -> str:
    """What docker passes to a credential helper for this registry."""
    return HUB_SERVER_URL if is_docker_hub(host) else host


def default_config_files(env: Mapping[str, str] | None = None) -> list[Path]:
    """The credential files to read, in precedence order (missing ones are skipped later)."""
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or Path.home())
    files: list[Path] = []
    if env.get("REGISTRY_AUTH_FILE"):
        files.append(Path(env["REGISTRY_AUTH_FILE"]))
    if env.get("DOCKER_CONFIG"):
        files.append(Path(env["DOCKER_CONFIG"]) / "config.json")
    if env.get("XDG_RUNTIME_DIR"):
        files.append(Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    config_home = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    files.append(config_home / "containers" / "auth.json")
    files.append(home / ".docker" / "config.json")
    files.append(home / LEGACY_FILE_NAME)
    unique: list[Path] = []
    for path in files:
        if path not in unique:
            unique.append(path)
    return unique


@dataclass
class _ConfigFile:
    path: Path
    auths: dict[str, Any]
    cred_helpers: dict[str, str]
    creds_store: str | None


class CredentialStore:
    """Looks up credentials per registry host; helper answers are cached for the run."""

    def __init__(
        self, files: Sequence[Path] | None = None, *, env: Mapping[str, str] | None = None
    ) -> None:
        self.env = dict(os.environ if env is None else env)
        self.warnings: list[str] = []
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self._helper_answers: dict[tuple[str, str], Credentials | None] = {}
        paths = default_config_files(self.env) if files is None else list(files)
        self._configs = [c for c in (self._load(p) for p in paths) if c is not None]

    # -- public ------------------------------------------------------------------------------

    def for_registry(self, host: str) -> Credentials | None:
        """Credentials for a registry host (with port), or None for anonymous access."""
        return self.for_repository(host, "")

    def for_repository(self, host: str, path: str) -> Credentials | None:
        """Like `for_registry`, but podman-style repository keys (`host/org`) may match too."""
        with self._lock:
            for config in self._configs:
                found = self._from_config(config, host, path)
                if found is not None:
                    return found
        return None

    # -- reading files -------------------------------------------------------------------------

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self.warnings.append(message)

    def _load(self, path: Path) -> _ConfigFile | None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self._warn(f"cannot read {path}: {_reason(exc)}; ignoring it")
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self._warn(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}); ignoring it")
            return None
        if not isinstance(data, dict):
            self._warn(f"{path} is not a JSON object; ignoring it")
            return None
        if path.name == LEGACY_FILE_NAME:
            return _ConfigFile(path=path, auths=data, cred_helpers={}, creds_store=None)
        auths = data.get("auths")
        helpers = data.get("credHelpers")
        store = data.get("credsStore")
        return _ConfigFile(
            path=path,
            auths=auths if isinstance(auths, dict) else {},
            cred_helpers={str(k): v for k, v in (helpers or {}).items() if isinstance(v, str) and v}
            if isinstance(helpers, dict)
            else {},
            creds_store=store if isinstance(store, str) and store else None,
        )

    def _from_config(self, config: _ConfigFile, host: str, path: str) -> Credentials | None:
        wanted = registry_key(host)
        helper = next(
            (h for k, h in config.cred_helpers.items() if registry_key(k) == wanted), None
        )
        for name in (helper, config.creds_store):
            if name is not None:
                found = self._run_helper(name, server_url(host))
                if found is not None:
                    return found
        for key in _keys_for(config.auths, wanted, path):
            found = self._from_entry(config, key)
            if found is not None:
                return found
        return None

    def _from_entry(self, config: _ConfigFile, key: str) -> Credentials | None:
        entry = config.auths.get(key)
        if not isinstance(entry, dict):
            return None
        where = f"{config.path} (auths[{key!r}])"
        username = entry.get("username") if isinstance(entry.get("username"), str) else ""
        password = entry.get("password") if isinstance(entry.get("password"), str) else ""
        auth = entry.get("auth")
        if isinstance(auth, str) and auth.strip():
            decoded = decode_auth(auth)
            if decoded is None:
                self._warn(f"{where}: `auth` is not base64 of user:password; ignoring it")
                return None
            username, password = decoded
        token = entry.get("identitytoken")
        identity_token = token if isinstance(token, str) and token else None
        bearer = entry.get("registrytoken")
        registry_token = bearer if isinstance(bearer, str) and bearer else None
        if not (username or password or identity_token or registry_token):
            return None
        return Credentials(
            username=str(username),
            password=str(password),
            identity_token=identity_token,
            source=str(config.path),
            registry_token=registry_token,
        )

    # -- helpers ---------------------------------------------------------------------------------

    def _run_helper(self, name: str, url: str) -> Credentials | None:
        cache_key = (name, url)
        if cache_key in self._helper_answers:
            return self._helper_answers[cache_key]
        found = self._call_helper(name, url)
        self._helper_answers[cache_key] = found
        return found

    def _call_helper(self, name: str, url: str) -> Credentials | None:
        program = f"docker-credential-{name}"
        if not _HELPER_NAME.fullmatch(name):
            self._warn(f"ignoring credential helper {name!r}: not a valid helper name")
            return None
        executable = shutil.which(program, path=self.env.get("PATH"))
        if executable is None:
            self._warn(f"credential helper {program} is not on PATH; continuing without it")
            return None
        try:
            done = subprocess.run(
                [executable, "get"],
                input=url,
                capture_output=True,
                text=True,
                timeout=HELPER_TIMEOUT,
                env=self.env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            self._warn(f"credential helper {program} did not answer within {HELPER_TIMEOUT:g} s")
            return None
        except OSError as exc:
            self._warn(f"cannot run credential helper {program}: {_reason(exc)}")
            return None
        if done.returncode != 0:
            said = (done.stdout + "\n" + done.stderr).lower()
            if "credentials not found" not in said:
                self._warn(
                    f"credential helper {program} failed for {url} (exit {done.returncode}); "
                    f"continuing without credentials"
                )
            return None
        try:
            answer = json.loads(done.stdout)
            username = answer.get("Username") or ""
            secret = answer.get("Secret") or ""
            if not isinstance(username, str) or not isinstance(secret, str):
                raise ValueError("not strings")
        except (ValueError, AttributeError):
            self._warn(f"credential helper {program} gave an unreadable answer for {url}")
            return None
        if not secret:
            return None
        if username == TOKEN_USERNAME:
            return Credentials(username="", identity_token=secret, source=program)
        return Credentials(username=username, password=secret, source=program)


def _keys_for(auths: Mapping[str, Any], host: str, path: str) -> list[str]:
    """The `auths` keys that serve host/path: repository keys (longest first), then host keys.

    A key without scheme but with a path (`quay.io/org`) is a podman repository key and serves
    that repository and those below it; any other key is reduced to its host.
    """
    scoped: list[tuple[int, str]] = []
    hosts: list[str] = []
    for key in auths:
        bare = key.strip().rstrip("/")
        if not bare.lower().startswith(("http://", "https://")) and "/" in bare:
            first, _, prefix = bare.partition("/")
            if registry_key(first) == host and (path == prefix or path.startswith(prefix + "/")):
                scoped.append((len(prefix), key))
        elif registry_key(key) == host:
            hosts.append(key)
    scoped.sort(key=lambda item: item[0], reverse=True)
    # The key as docker writes it first, then legacy spellings reduced to the same host.
    hosts.sort(key=lambda k: 0 if k in (host, HUB_SERVER_URL) else 1)
    return [key for _, key in scoped] + hosts


def decode_auth(auth: str) -> tuple[str, str] | None:
    """base64 "user:password", padded or not (kubelet accepts both), split at the first colon."""
    text = auth.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    username, colon, password = decoded.partition(":")
    if not colon:
        return None
    return username, password


def pull_secret_credentials(secrets: Sequence[PullSecret], image_name: str) -> list[Credentials]:
    """The credentials kubelet would try, in order, for `image_name` (the normalized repository
    name, e.g. `docker.io/library/nginx`) given a pod's effective pull secrets."""
    entries: list[tuple[str, Credentials]] = []
    for secret in secrets:
        where = f"pull secret {secret.namespace + '/' if secret.namespace else ''}{secret.name}"
        for key, (username, password) in secret.credentials.items():
            entries.append((key, Credentials(username=username, password=password, source=where)))
    return matching_entries(entries, image_name)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__
