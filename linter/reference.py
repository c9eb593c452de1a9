"""Image references parsed exactly as the container runtime parses them.

kubelet's `ParseImageName` calls `ParseNormalizedNamed` of github.com/distribution/reference and
validates the digest with github.com/opencontainers/go-digest. This module reproduces both, at
the semantics of distribution/reference v0.6.x (the 255-character limit applies to the path
only, an uppercase first component is a host, `[ipv6]` hosts are allowed) and go-digest v1.0.0
(the version Kubernetes pins). Error reasons are the runtime's own words, so a finding can quote
what kubelet would say.

The regexes are written from the grammar in the package documentation. Go's RE2 and Python's
`re` differ in two ways that matter here: Python's `\\w` matches non-ASCII letters unless
`re.ASCII` is given, and Python's `$` also matches before a trailing newline. Every pattern is
therefore compiled with `re.ASCII` and only ever used with `fullmatch`.
"""

from __future__ import annotations

import functools
import re

from imglint.lazy_pattern import LazyPattern
from imglint.records import dataclass, replace

# --- grammar -------------------------------------------------------------------------------

_ALPHANUMERIC = r"[a-z0-9]+"
# one ".", one "_", two "__" or any run of "-" (the doc comment's `[-]*` accepts the same names)
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"

# Hosts may be uppercase; the remote name may not.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
# Brackets required; no zone id and no embedded IPv4, as upstream.
_IPV6_ADDRESS = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6_ADDRESS})"
# Any number of digits: the port is not range-checked upstream either.
_DOMAIN_AND_PORT = rf"{_HOST}(?::[0-9]+)?"

_NAME = rf"(?:{_DOMAIN_AND_PORT}/)?{_REMOTE_NAME}"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"

# All of these are meant for `fullmatch` only (see the module docstring). Compiling the two
# largest took a tenth of a one-file run: the references the grammar plainly accepts are read by
# `_plain_reference` instead, and these decide the rest (and the errors).
DOMAIN_RE = LazyPattern(_DOMAIN_AND_PORT, re.ASCII)
TAG_RE = LazyPattern(_TAG, re.ASCII)
DIGEST_RE = LazyPattern(_DIGEST, re.ASCII)
IDENTIFIER_RE = LazyPattern(r"[a-f0-9]{64}", re.ASCII)
# groups: 1 domain (None when absent), 2 remote name
NAME_RE = LazyPattern(rf"(?:({_DOMAIN_AND_PORT})/)?({_REMOTE_NAME})", re.ASCII)
# groups: 1 name, 2 tag, 3 digest (None when absent)
REFERENCE_RE = LazyPattern(rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII)

REPOSITORY_NAME_TOTAL_LENGTH_MAX = 255

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"

# --- the runtime's error messages ------------------------------------------------------------

ERR_REFERENCE_INVALID_FORMAT = "invalid reference format"
ERR_TAG_INVALID_FORMAT = "invalid tag format"
ERR_DIGEST_SHAPE = "invalid digest format"  # reference's own, from WithDigest
ERR_NAME_CONTAINS_UPPERCASE = "repository name must be lowercase"
ERR_NAME_EMPTY = "repository name must have at least one component"
ERR_NAME_TOO_LONG = (
    f"repository name must not be more than {REPOSITORY_NAME_TOTAL_LENGTH_MAX} characters"
)
ERR_DIGEST_INVALID_FORMAT = "invalid checksum digest format"
ERR_DIGEST_INVALID_LENGTH = "invalid checksum digest length"
ERR_DIGEST_UNSUPPORTED = "unsupported digest algorithm"

# --- digests (go-digest v1.0.0) --------------------------------------------------------------

# Hex length per algorithm kubelet can verify. go-digest v1.0.0 knows sha256, sha384 and sha512;
# each is usable only when the binary links the hash. kubelet's pkg/util/parsers imports
# crypto/sha256 and crypto/sha512, and crypto/sha512 also registers SHA-384, so all three parse.
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
# go-digest's DigestRegexpAnchored: decides "unsupported" versus "invalid format".
_GO_DIGEST_SHAPE_RE = LazyPattern(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)
_LOWER_HEX_RE = LazyPattern(r"[a-f0-9]+", re.ASCII)


class InvalidReference(ValueError):
    """The runtime would refuse this reference; `reason` is its message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def validate_digest(digest: str) -> None:
    """go-digest `Digest.Validate`, with the algorithms kubelet links; raises InvalidReference."""
    sep = digest.find(":")
    if sep <= 0 or sep + 1 == len(digest):
        raise InvalidReference(ERR_DIGEST_INVALID_FORMAT)
    algorithm, encoded = digest[:sep], digest[sep + 1 :]
    length = _DIGEST_HEX_LENGTH.get(algorithm)
    if length is None:
        if _GO_DIGEST_SHAPE_RE.fullmatch(digest) is None:
            raise InvalidReference(ERR_DIGEST_INVALID_FORMAT)
        raise InvalidReference(ERR_DIGEST_UNSUPPORTED)
    if len(encoded) != length:
        raise InvalidReference(ERR_DIGEST_INVALID_LENGTH)
    if _LOWER_HEX_RE.fullmatch(encoded) is None:
        raise InvalidReference(ERR_DIGEST_INVALID_FORMAT)


# --- the reference ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed, normalized image reference.

    `domain` is "" only for the runtime's own oddity: a first component that looks like a host
    to the normalizer but is no valid host (`foo_bar.com/app`) is kept inside the path.
    """

    original: str  # the text it was parsed from; derived references keep it
    domain: str  # "docker.io" for Docker Hub ("index.docker.io" is rewritten), else as written
    path: str  # remote name, "library/nginx"
    tag: str | None
    digest: str | None  # "sha256:<hex>"

    @property
    def name(self) -> str:
        """Full repository name, "docker.io/library/nginx" (Go's `Name()`)."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def familiar_name(self) -> str:
        """The short form Docker shows, "nginx" (Go's `FamiliarName`)."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        rest = self.path.removeprefix(OFFICIAL_REPO_PREFIX)
        # Only a single-level "library/x" is shortened; "library/a/b" stays as it is.
        return rest if rest != self.path and "/" not in rest else self.path

    @property
    def familiar(self) -> str:
        """The short form with tag and digest, "nginx:1.25" (Go's `FamiliarString`)."""
        return self.familiar_name + self._suffix()

    @property
    def is_docker_hub(self) -> bool:
        return self.domain == DEFAULT_DOMAIN

    @property
    def explicit_domain(self) -> bool:
        """True when the text named a registry host rather than defaulting to Docker Hub.

        "docker.io/nginx" and "index.docker.io/nginx" name one; "nginx" and "library/nginx" don't.
        """
        return _split_docker_domain(self.original)[2]

    @property
    def host(self) -> str:
        """The domain without its port; an IPv6 host keeps its brackets ("[::1]")."""
        return self._host_and_port()[0]

    @property
    def port(self) -> str | None:
        return self._host_and_port()[1]

    @property
    def kubelet_tag(self) -> str | None:
        """The tag kubelet's `ParseImageName` reports: "latest" when neither tag nor digest is
        given (which is what imagePullPolicy defaulting looks at), None for a digest alone."""
        if self.tag is not None:
            return self.tag
        return DEFAULT_TAG if self.digest is None else None

    def with_tag(self, tag: str) -> Reference:
        """The same reference with `tag` (any digest is kept, as Go's `WithTag`)."""
        if TAG_RE.fullmatch(tag) is None:
            raise InvalidReference(ERR_TAG_INVALID_FORMAT)
        return replace(self, tag=tag)

    def with_digest(self, digest: str) -> Reference:
        """The same reference pinned to `digest` (any tag is kept, as Go's `WithDigest`).

        Stricter than Go's `WithDigest`, which checks only the digest's shape: the digest is
        validated as `Parse` would, so the result always parses back.
        """
        if DIGEST_RE.fullmatch(digest) is None:
            raise InvalidReference(ERR_DIGEST_SHAPE)
        validate_digest(digest)
        return replace(self, digest=digest)

    def without_tag(self) -> Reference:
        return replace(self, tag=None)

    def without_digest(self) -> Reference:
        return replace(self, digest=None)

    def __str__(self) -> str:
        """Canonical form, "docker.io/library/nginx:1.25@sha256:..." (Go's `String()`)."""
        return self.name + self._suffix()

    def _suffix(self) -> str:
        tag = f":{self.tag}" if self.tag is not None else ""
        digest = f"@{self.digest}" if self.digest is not None else ""
        return tag + digest

    def _host_and_port(self) -> tuple[str, str | None]:
        domain = self.domain
        if domain.startswith("["):
            close = domain.find("]")
            host, rest = domain[: close + 1], domain[close + 1 :]
            return host, rest[1:] if rest.startswith(":") else None
        host, sep, port = domain.partition(":")
        return host, port if sep else None


# --- parsing ---------------------------------------------------------------------------------


def parse(text: str) -> Reference:
    """Parse `text` as kubelet does (`ParseNormalizedNamed`); raises InvalidReference.

    No default tag is added: `parse("nginx").tag` is None (see `Reference.kubelet_tag`).
    """
    parsed = _parse_cached(text)
    if isinstance(parsed, str):
        raise InvalidReference(parsed)
    return parsed


def parse_with_default_registry(text: str, registry: str) -> Reference:
    """Parse `text` for a consumer that pulls names without a registry from `registry` instead
    of Docker Hub (Crossplane's package manager: go-containerregistry's `ParseReference` with
    `WithDefaultRegistry`). The grammar is the runtime's; only the default differs, and Docker
    Hub's `library/` prefix is Docker Hub's alone. Raises InvalidReference."""
    ref = parse(text)
    if ref.explicit_domain:
        return ref
    name = text.partition("@")[0].partition(":")[0]
    path = ref.path.removeprefix(OFFICIAL_REPO_PREFIX) if "/" not in name else ref.path
    return replace(ref, domain=registry, path=path)


# Manifests repeat the same few images many times; failures are cached as their reason so a
# fresh exception is raised for each caller.
@functools.lru_cache(maxsize=8192)
def _parse_cached(text: str) -> Reference | str:
    try:
        return _parse_normalized(text)
    except InvalidReference as exc:
        return exc.reason


def _parse_normalized(text: str) -> Reference:
    if len(text) == 64 and IDENTIFIER_RE.fullmatch(text):
        raise InvalidReference(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder, _ = _split_docker_domain(text)
    remote = remainder.partition(":")[0]
    if _go_lower(remote) != remote:
        raise InvalidReference(
            f"{ERR_REFERENCE_INVALID_FORMAT}: repository name ({remote}) must be lowercase"
        )
    ref = parse_unnormalized(f"{domain}/{remainder}")
    return replace(ref, original=text)


def parse_unnormalized(text: str) -> Reference:
    """Go's `reference.Parse`: the grammar alone, no Docker Hub defaults.

    The domain is whatever the grammar's optional `domain/` prefix captured, so "a/b" has
    domain "a" and "test_com" has none. Only `parse` says what the runtime pulls.
    """
    if not text:
        raise InvalidReference(ERR_NAME_EMPTY)
    plain = _plain_reference(text)
    if plain is not None:
        domain, path, tag, digest = plain
        if len(path) > REPOSITORY_NAME_TOTAL_LENGTH_MAX:  # as split_name says it
            raise InvalidReference(ERR_NAME_TOO_LONG)
    else:
        match = REFERENCE_RE.fullmatch(text)
        if match is None:
            lowered = _go_lower(text)
            if lowered != text and REFERENCE_RE.fullmatch(lowered):
                raise InvalidReference(ERR_NAME_CONTAINS_UPPERCASE)
            raise InvalidReference(ERR_REFERENCE_INVALID_FORMAT)
        name, tag, digest = match.groups()
        domain, path = split_name(name)
    if digest is not None:
        validate_digest(digest)
    return Reference(original=text, domain=domain, path=path, tag=tag, digest=digest)


_LOWER_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_PATH_CHARACTERS = _LOWER_ALNUM | frozenset("._-")
_ALNUM = _LOWER_ALNUM | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DOMAIN_CHARACTERS = _ALNUM | frozenset("-")
_DIGITS = frozenset("0123456789")
_WORD = _ALNUM | frozenset("_")
_TAG_CHARACTERS = _WORD | frozenset(".-")
_HEX = frozenset("0123456789abcdefABCDEF")
_LETTERS = _ALNUM - _DIGITS
# Lowercase letters and digits to spaces: what is left of a path component are its separators.
_SEPARATORS_ONLY = str.maketrans(dict.fromkeys("abcdefghijklmnopqrstuvwxyz0123456789", " "))


def _plain_reference(text: str) -> tuple[str, str, str | None, str | None] | None:
    """(domain, path, tag, digest) of `text` read by the grammar above without its regex, for the
    references it plainly accepts; None leaves the text to REFERENCE_RE (an IPv6 host, anything
    the grammar refuses). Where REFERENCE_RE matches, its parts are these: the digest follows
    the only "@", a tag the last ":" when no "/" follows it (a port's ":" comes before the first
    "/"), and the first component is the domain when it is one, as the regex prefers."""
    name, at, digest = text.partition("@")
    if at and not _is_digest(digest):
        return None
    tag: str | None = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1 :]
        if not _is_tag(tag):
            return None
    first, slash, rest = name.partition("/")
    domain, path = (first, rest) if slash and _is_domain(first) else ("", name)
    if not all(_is_path_component(part) for part in path.split("/")):
        return None
    return domain, path, tag, digest if at else None


def _is_path_component(part: str) -> bool:
    """_PATH_COMPONENT: lowercase letters and digits, joined by ".", "_", "__" or dashes."""
    if not part or part[0] not in _LOWER_ALNUM or part[-1] not in _LOWER_ALNUM:
        return False
    if not _PATH_CHARACTERS.issuperset(part):
        return False
    return all(
        run in (".", "_", "__") or run == "-" * len(run)
        for run in part.translate(_SEPARATORS_ONLY).split()
    )


def _is_domain(text: str) -> bool:
    """_DOMAIN_AND_PORT without IPv6 hosts (those are left to the regex)."""
    host, colon, port = text.partition(":")
    if colon and not (port and _DIGITS.issuperset(port)):
        return False
    return all(
        label and _DOMAIN_CHARACTERS.issuperset(label) and label[0] != "-" and label[-1] != "-"
        for label in host.split(".")
    )


def _is_tag(tag: str) -> bool:
    """_TAG: a word character, then up to 127 word characters, dots and dashes."""
    return 0 < len(tag) <= 128 and tag[0] in _WORD and _TAG_CHARACTERS.issuperset(tag)


def _is_digest(digest: str) -> bool:
    """_DIGEST: an algorithm (letter-led alphanumeric parts joined by one of "-_+."), ":", and
    at least 32 hexadecimal digits."""
    algorithm, colon, encoded = digest.partition(":")
    if not colon or len(encoded) < 32 or not _HEX.issuperset(encoded):
        return False
    for separator in "-_+":
        algorithm = algorithm.replace(separator, ".")
    return all(
        part and part[0] in _LETTERS and _ALNUM.issuperset(part) for part in algorithm.split(".")
    )


def split_name(name: str) -> tuple[str, str]:
    """Go's `WithName`: a bare repository name split into (domain, path); domain may be ""."""
    match = NAME_RE.fullmatch(name)
    if match is None:
        raise InvalidReference(ERR_REFERENCE_INVALID_FORMAT)
    domain, path = match.groups()
    if len(path) > REPOSITORY_NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(ERR_NAME_TOO_LONG)
    return domain or "", path


def _split_docker_domain(text: str) -> tuple[str, str, bool]:
    """Go's `splitDockerDomain`: (domain, remainder, whether the text named the domain).

    Decided on the first "/" alone, before any validation.
    """
    first, slash, rest = text.partition("/")
    if not slash:
        # A single component is always a Docker Hub name, even "localhost:5000" (a tag 5000).
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + text, False
    if first == LEGACY_DEFAULT_DOMAIN:
        domain, remainder, explicit = DEFAULT_DOMAIN, rest, True
    elif first == "localhost" or "." in first or ":" in first or _go_lower(first) != first:
        # Namespaces are lowercase, so an uppercase first component can only be a host.
        domain, remainder, explicit = first, rest, True
    else:
        domain, remainder, explicit = DEFAULT_DOMAIN, text, False
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder, explicit


def _go_lower(text: str) -> str:
    """Go's `strings.ToLower`: rune by rune, simple case mapping."""
    if text.isascii():
        return text.lower()
    # Python's str.lower uses full case mapping, which differs only for U+0130 ("İ" -> "i̇",
    # two runes; Go gives "i") and in context for a final sigma (irrelevant: ASCII-only grammar).
    return "".join("i" if ch == "\u0130" else ch.lower() for ch in text)
