"""Helpers several rules share: registry patterns, the pod's pull secrets, reference display.

Private to the rule catalogue (and the config validator, which checks registry patterns with the
same parser the rules match with).
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Iterable

from imglint.context import Context, PullSecret
from imglint.records import dataclass
from imglint.reference import Reference
from imglint.sites import ImageSite

DOCKER_HUB = "docker.io"
PULL_SECRET_TYPES = frozenset({"kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg"})
# Hosts that mean Docker Hub when written in a pattern; the parser rewrites only index.docker.io.
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io"})


def normalized(ref: Reference) -> str:
    """The reference as the runtime sees it: `docker.io/library/nginx:1.25`."""
    text = ref.name
    if ref.tag is not None:
        text += ":" + ref.tag
    if ref.digest is not None:
        text += "@" + ref.digest
    return text


def split_domain(domain: str) -> tuple[str, str | None]:
    """`host:port` -> (host, port); IPv6 hosts keep their brackets."""
    if domain.startswith("["):
        host, _, rest = domain.partition("]")
        port = rest[1:] if rest.startswith(":") else None
        return host + "]", port
    host, colon, port = domain.partition(":")
    return host, (port if colon else None)


def _has_glob(text: str) -> bool:
    return "*" in text or "?" in text


def _glob_equal(pattern: str, text: str) -> bool:
    # Plain labels compare exactly: an IPv6 host such as "[::1]" must not become a glob class.
    return fnmatch.fnmatchcase(text, pattern) if _has_glob(pattern) else pattern == text


@dataclass(frozen=True)
class RegistryPattern:
    """A `private-registries` / `allowed-registries` entry: `host[:port][/path/prefix]`.

    The host is matched label by label (`*.example.com` matches `a.example.com`, not
    `example.com` nor `a.b.example.com`, and `ghcr.io` never matches `ghcr.io.evil.example`), the
    port must be equal (none matches none), and the optional path matches whole leading path
    components (`ghcr.io/acme` matches `ghcr.io/acme/api`, not `ghcr.io/acme-evil/api`).
    `docker.io` (or `index.docker.io`) covers Docker Hub, implicit names included.
    """

    text: str
    labels: tuple[str, ...]
    port: str | None
    path: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> RegistryPattern:
        """Raises ValueError with a reason when `text` is not a registry pattern."""
        value = text.strip()
        if not value:
            raise ValueError("empty registry pattern")
        if "://" in value:
            raise ValueError(f"{text!r}: write a registry host, not a URL")
        if any(c.isspace() for c in value) or "@" in value:
            raise ValueError(f"{text!r} is not a registry host pattern")
        domain, _, path = value.partition("/")
        host, port = split_domain(domain)
        if not host or (port is not None and not port.isdigit()):
            raise ValueError(f"{text!r} is not a registry host pattern (host[:port][/path])")
        host = host.lower()
        if host in _HUB_ALIASES and port is None:
            host = DOCKER_HUB
        labels = (host,) if host.startswith("[") else tuple(host.split("."))
        if any(not label for label in labels):
            raise ValueError(f"{text!r} has an empty host label")
        components = tuple(c for c in path.split("/") if c) if path else ()
        return cls(text=value, labels=labels, port=port, path=components)

    def matches(self, ref: Reference) -> bool:
        host, port = split_domain(ref.domain)
        if port != self.port:
            return False
        host = host.lower()
        labels = (host,) if host.startswith("[") else tuple(host.split("."))
        if len(labels) != len(self.labels):
            return False
        if not all(_glob_equal(p, label) for p, label in zip(self.labels, labels, strict=True)):
            return False
        if not self.path:
            return True
        components = ref.path.split("/")
        if len(components) < len(self.path):
            return False
        leading = components[: len(self.path)]
        return all(_glob_equal(p, c) for p, c in zip(self.path, leading, strict=True))


@functools.lru_cache(maxsize=64)
def compile_patterns(texts: tuple[str, ...]) -> tuple[RegistryPattern, ...]:
    """Parse once per configuration (rules call this for every site)."""
    return tuple(RegistryPattern.parse(t) for t in texts)


def matches_any(patterns: Iterable[RegistryPattern], ref: Reference) -> bool:
    return any(p.matches(ref) for p in patterns)


@dataclass(frozen=True)
class PodSecrets:
    """The pull secrets the kubelet will use for a pod, as far as the manifest set tells.

    The ServiceAccount admission plugin copies the ServiceAccount's imagePullSecrets into a pod
    only when the pod lists none (never merged), and the ServiceAccount is `default` when unset.
    """

    names: tuple[str, ...]
    service_account: str | None  # set when the names come from (or would come from) the SA
    # False: the pod lists none and its ServiceAccount is not in the manifest set, or the file
    # does not say which pod pulls the image (service_account is then None)
    known: bool

    def describe(self) -> str:
        if self.service_account is None:
            return "the pod's imagePullSecrets"
        return f'ServiceAccount "{self.service_account}"'


def pod_secrets(site: ImageSite, ctx: Context) -> PodSecrets:
    holder = site.holder
    if not holder.known:
        return PodSecrets((), None, False)
    if holder.image_pull_secrets or not holder.service_account_applies:
        return PodSecrets(tuple(holder.image_pull_secrets), None, True)
    account = holder.service_account or "default"
    listed = ctx.objects.service_account(site.obj.namespace, account)
    if listed is None:
        return PodSecrets((), account, False)
    return PodSecrets(tuple(listed), account, True)


@dataclass(frozen=True)
class SecretState:
    """What the manifest set says about one named pull secret."""

    name: str
    secret: PullSecret | None  # a usable dockerconfigjson/dockercfg Secret of the set
    other_type: str | None  # the Secret is in the set with a type the kubelet ignores

    @property
    def known(self) -> bool:
        """Whether we know every registry key this secret gives the kubelet."""
        if self.secret is not None:
            return self.secret.error is None
        return self.other_type is not None

    @property
    def keys(self) -> tuple[str, ...]:
        if self.secret is None or self.secret.error is not None:
            return ()
        return self.secret.keys


def secret_state(name: str, site: ImageSite, ctx: Context) -> SecretState:
    namespace = site.obj.namespace
    secret = ctx.objects.secret(namespace, name)
    other = None if secret is not None else ctx.objects.other_secret(namespace, name)
    if other in PULL_SECRET_TYPES:
        other = None  # a pull secret the loader could not index: unknown, not ignored
    return SecretState(name, secret, other)


def quoted_list(names: Iterable[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)
