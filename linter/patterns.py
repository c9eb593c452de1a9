"""Patterns the configuration names images and registries by, parsed once when it is loaded.

- `RegistryPattern`: a `private-registries` / `allowed-registries` entry (`host[:port][/path]`),
  matched against a parsed reference by host label, port and whole path components.
- `ImageGlobs`: the `ignore-images` globs, compiled into one expression.

The configuration validates its lists by building these (a bad entry is a ConfigError at its
line); the rules and the engine receive them built and never parse configuration text.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from imglint.records import dataclass, field
from imglint.reference import Reference

DOCKER_HUB = "docker.io"
# Hosts that mean Docker Hub when written in a pattern; the parser rewrites only index.docker.io.
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io"})


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


def registry_patterns(texts: Iterable[str]) -> tuple[RegistryPattern, ...]:
    """Parse every entry (raises ValueError for the first bad one)."""
    return tuple(RegistryPattern.parse(text) for text in texts)


def matches_any(patterns: Iterable[RegistryPattern], ref: Reference) -> bool:
    return any(p.matches(ref) for p in patterns)


@dataclass(frozen=True)
class ImageGlobs:
    """`ignore-images`: globs (`*` spans `/`) matched against the image as written, its
    normalized name (`docker.io/library/nginx`) and its normalized reference (with tag/digest).

    Equal when the globs are; the compiled expression and the answers already given are kept
    beside them (an image string is matched once per run).
    """

    texts: tuple[str, ...] = ()
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _seen: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def compile(cls, texts: Iterable[str]) -> ImageGlobs:
        globs = tuple(texts)
        if not globs:
            return cls()
        regex = re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))
        return cls(globs, regex)

    def __bool__(self) -> bool:
        return bool(self.texts)

    def matches(self, image: str, reference: Reference | None) -> bool:
        regex = self._regex
        if regex is None:
            return False
        found = self._seen.get(image)
        if found is None:
            candidates = [image]
            if reference is not None:
                candidates += [reference.name, str(reference)]
            found = any(regex.match(c) is not None for c in candidates)
            self._seen[image] = found
        return found
