"""Patterns the configuration names images and registries by, parsed once when it is loaded.

- `RegistryPattern`: a `private-registries` / `allowed-registries` entry (`host[:port][/path]`),
  matched against a parsed reference by host label, port and whole path components.
- `ImageGlobs`: the `ignore-images` globs, compiled into one expression.
- `TagPattern`: a `denied-tags` / `allowed-tags` entry (glob or `re:` expression, optionally
  scoped to registries or repositories).
- `DeniedRegistry`: a `denied-registries` entry with its optional replacement; the built-in
  entries are `BUILTIN_DENIED_REGISTRIES`.
- `ImagePattern`: an `allowed-images` entry (an exact repository or image, globs allowed).

The configuration validates its lists by building these (a bad entry is a ConfigError at its
line); the rules and the engine receive them built and never parse configuration text.
"""

from __future__ import annotations

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
    if not _has_glob(pattern):
        return pattern == text
    import fnmatch  # (fnmatch loads only for a configuration that has globs)

    return fnmatch.fnmatchcase(text, pattern)


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
    # `host[:port]` as a reference's domain writes it (case aside) when the host has no glob
    # and is no IPv6 address: then a domain matches by one comparison (every site of a run is
    # checked against the built-in denied registries).
    plain_domain: str | None = field(default=None, compare=False, repr=False)

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
        plain = None
        if not host.startswith("[") and not _has_glob(host):
            plain = host if port is None else f"{host}:{port}"
        return cls(text=value, labels=labels, port=port, path=components, plain_domain=plain)

    def matches(self, ref: Reference) -> bool:
        domain = ref.domain
        if self.plain_domain is not None and not domain.startswith("["):
            # What the label by label comparison below concludes: the host's labels and the
            # port are those written.
            if domain.lower() != self.plain_domain:
                return False
        else:
            host, port = split_domain(domain)
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
        import fnmatch

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


def _scoped(scope: tuple[RegistryPattern, ...], ref: Reference) -> bool:
    """An entry without a scope applies to every image; else to those its scope names."""
    return not scope or matches_any(scope, ref)


@dataclass(frozen=True)
class TagPattern:
    """A `denied-tags` / `allowed-tags` entry: a glob over the whole tag (`*-SNAPSHOT`), or a
    regular expression after `re:` (`re:v?\\d+\\.\\d+\\.\\d+`, matched against the whole tag),
    optionally scoped to registries or repositories (`registries: [ghcr.io/acme]`, matched as
    `allowed-registries` entries are: by host and whole path components).
    """

    text: str  # as written, to name it in findings
    scope: tuple[RegistryPattern, ...] = ()
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str, scope: tuple[RegistryPattern, ...] = ()) -> TagPattern:
        """Raises ValueError with a reason when `text` is not a tag pattern."""
        value = text.strip()
        if value.startswith("re:"):
            expression = value[3:]
            if not expression:
                raise ValueError(f"{text!r}: an empty regular expression")
            try:
                regex = re.compile(expression)
            except re.error as exc:
                raise ValueError(f"{text!r} is not a regular expression: {exc}") from None
        else:
            if not value or any(c.isspace() or c in "/@:" for c in value):
                raise ValueError(f"{text!r} is not a tag or tag glob")
            import fnmatch

            regex = re.compile(fnmatch.translate(value))
        return cls(value, scope, regex)

    def applies_to(self, ref: Reference) -> bool:
        return _scoped(self.scope, ref)

    def matches(self, tag: str) -> bool:
        return self._regex is not None and self._regex.fullmatch(tag) is not None

    def describe(self) -> str:
        if not self.scope:
            return f'"{self.text}"'
        return f'"{self.text}" (for {", ".join(p.text for p in self.scope)})'


@dataclass(frozen=True)
class DeniedRegistry:
    """A `denied-registries` entry: a registry pattern (`host[:port][/path]`, matched as
    `allowed-registries` entries are) and, for a registry that moved, where its images are now
    (`registry.k8s.io`): the matched host and path components are replaced by it, the rest of
    the repository path, the tag and the digest kept."""

    pattern: RegistryPattern
    replacement: str | None = None  # host[:port][/path]; None: denied, no known new home
    why: str | None = None  # for a built-in entry: the public announcement it follows

    def moved_name(self, ref: Reference) -> str | None:
        """The repository name at the replacement (`registry.k8s.io/pause`), or None."""
        if self.replacement is None or not self.pattern.matches(ref):
            return None
        rest = ref.path.split("/")[len(self.pattern.path) :]
        return "/".join([self.replacement.rstrip("/"), *rest])


# Registries that moved, each with the public announcement it follows. Applied unless the
# configuration's own `denied-registries` names the same registry.
BUILTIN_DENIED_REGISTRIES: tuple[DeniedRegistry, ...] = (
    DeniedRegistry(
        RegistryPattern.parse("k8s.gcr.io"),
        "registry.k8s.io",
        why="k8s.gcr.io is frozen since 2023-04-03; its images moved to registry.k8s.io "
        "(https://kubernetes.io/blog/2023/02/06/k8s-gcr-io-freeze-announcement/)",
    ),
)


def denied_registry(entries: Iterable[DeniedRegistry], ref: Reference) -> DeniedRegistry | None:
    """The first entry that denies `ref`'s registry, or None."""
    return next((entry for entry in entries if entry.pattern.matches(ref)), None)


# Stand-ins for glob characters while an allowed-images entry is normalized by the reference
# grammar (they are valid in every component, and no real name holds them).
_STAR, _QUESTION = "x0globstar0x", "x0globq0x"


@dataclass(frozen=True)
class ImagePattern:
    """An `allowed-images` entry: an exact repository (`ghcr.io/acme/api`: that repository,
    none of its sub-paths) or an exact image (`ubuntu:20.04`, `ghcr.io/acme/api@sha256:...`),
    normalized as the runtime does (`ubuntu` is `docker.io/library/ubuntu`). `*` and `?` glob
    within one path component (`ghcr.io/acme/*` allows `ghcr.io/acme/api`, not
    `ghcr.io/acme/a/b`) and within the tag.
    """

    text: str
    name: re.Pattern[str]
    tag: re.Pattern[str] | None = None  # None: any tag
    digest: str | None = None  # None: any digest

    @classmethod
    def parse(cls, text: str) -> ImagePattern:
        from imglint.reference import InvalidReference, parse

        value = text.strip()
        masked = value.replace("*", _STAR).replace("?", _QUESTION)
        try:
            ref = parse(masked)
        except InvalidReference as exc:
            raise ValueError(f"{text!r} is not an image or repository: {exc}") from None
        return cls(
            text=value,
            name=re.compile(_component_glob(ref.name)),
            tag=None if ref.tag is None else re.compile(_component_glob(ref.tag)),
            digest=ref.digest,
        )

    def matches(self, ref: Reference) -> bool:
        if self.name.fullmatch(ref.name) is None:
            return False
        if self.digest is not None and ref.digest != self.digest:
            return False
        if self.tag is not None:
            # An image pinned by digest alone has no tag to compare: the entry names a tag.
            return ref.tag is not None and self.tag.fullmatch(ref.tag) is not None
        return True


def _component_glob(masked: str) -> str:
    """A regular expression for a masked name: the stand-ins glob, never across `/`."""
    return (
        re.escape(masked)
        .replace(re.escape(_STAR), "[^/]*")
        .replace(re.escape(_QUESTION), "[^/]")
        .replace(_STAR, "[^/]*")
        .replace(_QUESTION, "[^/]")
    )
