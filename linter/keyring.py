"""Which registry credential keys kubelet would use for an image: its keyring matching, ported.

kubelet (`pkg/credentialprovider/keyring.go`) turns every key of a pull secret into an index
entry, then matches the entries against the image's normalized repository name
(`docker.io/library/nginx`, no tag):

* a key gets `https://` if it has no scheme, is parsed as a URL, and a leading `/v1/` or `/v2/`
  is cut from its path; the entry is the host (with port) plus the remaining path unless that is
  empty or `/` (`https://index.docker.io/v1/` becomes `index.docker.io`);
* an entry matches when the ports are equal (no port differs from any port), the hosts have the
  same number of dot-separated labels, each label matches as a Go `filepath.Match` glob
  (`*.gcr.io` matches `us.gcr.io`, not `gcr.io` nor `a.b.gcr.io`), and the entry's path is a
  string prefix of the image's path (`/images` also prefixes `/imagesfoo`);
* entries are tried in reverse sorted order, so longer, more specific keys come first;
* when nothing matched and the image is a Docker Hub image, the entry `index.docker.io` is used.

Pure functions, no I/O. IMG007 and `--use-pull-secrets` both rely on them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from imglint.records import dataclass

# typing itself is not imported at run time: it is a large module the start-up path can skip.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")

DEFAULT_REGISTRY_HOST = "index.docker.io"


@dataclass(frozen=True)
class _URL:
    host: str  # with the port, as in Go's url.URL.Host
    path: str


def _parse_schemeless(text: str) -> _URL | None:
    """Go's `url.Parse("https://" + text)` as far as host and path go; None where Go errs.

    Go cuts the fragment and the query first (so a `?` glob in a key ends its host), takes the
    authority up to the first `/`, and rejects a host with a character outside its allowed set
    (`^`, `\\`, spaces, ...) or a non-numeric port.
    """
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return None
    rest = text.partition("#")[0].partition("?")[0]
    authority, slash, path = rest.partition("/")
    host = authority.rpartition("@")[2]
    if not _host_is_valid(host):
        return None
    return _URL(host=host, path=slash + path)


# Characters Go's url package accepts in a host (`shouldEscape(c, encodeHost)` is false).
_HOST_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&'()*+,;=:[]<>\""
)


def _host_is_valid(host: str) -> bool:
    if any(c not in _HOST_CHARS for c in host if c.isascii()):
        return False
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return False
        port = host[end + 1 :]
        return port == "" or (port.startswith(":") and _digits(port[1:]))
    if ":" in host:
        return _digits(host.rpartition(":")[2])
    return True


def _digits(text: str) -> bool:
    return text == "" or (text.isascii() and text.isdigit())


def _split_host(host: str) -> tuple[list[str], str]:
    """Go's `splitURL`: dot-separated labels and the port ("" when none or unparsable)."""
    name, port = host, ""
    if host.startswith("["):
        end = host.find("]")
        if end >= 0 and host[end + 1 : end + 2] == ":" and ":" not in host[end + 2 :]:
            name, port = host[1:end], host[end + 2 :]
    elif host.count(":") == 1:
        name, port = host.split(":")
    return name.split("."), port


@functools.lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str] | None:
    """A Go `filepath.Match` pattern as a regex; None for a malformed pattern (never matches)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "\\":
            if i + 1 >= n:
                return None
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif c == "[":
            parsed = _char_class(pattern, i + 1)
            if parsed is None:
                return None
            regex, i = parsed
            out.append(regex)
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def _char_class(pattern: str, i: int) -> tuple[str, int] | None:
    """Parse a Go class body starting after `[`; returns (regex, index after `]`)."""
    negated = pattern.startswith("^", i)
    if negated:
        i += 1
    ranges: list[tuple[str, str]] = []
    while True:
        if pattern.startswith("]", i) and ranges:
            i += 1
            break
        lo = _class_char(pattern, i)
        if lo is None:
            return None
        low, i = lo
        high = low
        if pattern.startswith("-", i):
            hi = _class_char(pattern, i + 1)
            if hi is None:
                return None
            high, i = hi
        ranges.append((low, high))
    # A reversed range (z-a) is legal in Go and simply matches nothing.
    items = "".join(
        f"{re.escape(lo)}-{re.escape(hi)}" if lo < hi else re.escape(lo)
        for lo, hi in ranges
        if lo <= hi
    )
    if not items:
        return ("[^\\s\\S]" if not negated else "[\\s\\S]"), i
    return f"[{'^' if negated else ''}{items}]", i


def _class_char(pattern: str, i: int) -> tuple[str, int] | None:
    """Go's getEsc: one (possibly escaped) class character; `-` and `]` may not start a range."""
    if i >= len(pattern) or pattern[i] in "-]":
        return None
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            return None
    char = pattern[i]
    i += 1
    if i >= len(pattern):  # the class never closes
        return None
    return char, i


def normalize_key(key: str) -> str | None:
    """The keyring index entry for a credential key, or None if kubelet would ignore the key.

    >>> normalize_key("https://index.docker.io/v1/")
    'index.docker.io'
    >>> normalize_key("my-registry.example/images")
    'my-registry.example/images'
    """
    rest = key
    for scheme in ("https://", "http://"):
        if key.startswith(scheme):
            rest = key[len(scheme) :]
            break
    parsed = _parse_schemeless(rest)
    if parsed is None:
        return None
    path = parsed.path
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    if path and path != "/":
        return parsed.host + path
    return parsed.host


def _entry_matches(entry: str, image_name: str) -> bool:
    """kubelet's `URLsMatchStr(entry, image)`."""
    glob_url = _parse_schemeless(entry)
    target = _parse_schemeless(image_name)
    if glob_url is None or target is None:
        return False
    glob_labels, glob_port = _split_host(glob_url.host)
    target_labels, target_port = _split_host(target.host)
    if glob_port != target_port or len(glob_labels) != len(target_labels):
        return False
    if not target.path.startswith(glob_url.path):
        return False
    for pattern, label in zip(glob_labels, target_labels, strict=True):
        regex = _glob(pattern)
        if regex is None or regex.fullmatch(label) is None:
            return False
    return True


def key_matches(key: str, image_name: str) -> bool:
    """Whether kubelet would try the credentials of `key` for `image_name` (without the Docker
    Hub fallback, which only applies when no key of the set matches: see `matching_keys`).

    `image_name` is the normalized repository name without tag or digest, as kubelet passes it:
    `docker.io/library/nginx`, `ghcr.io/org/app`, `localhost:5000/app`.
    """
    entry = normalize_key(key)
    return entry is not None and _entry_matches(entry, image_name)


def is_default_registry_match(image_name: str) -> bool:
    """kubelet's `isDefaultRegistryMatch`: would this image pull from Docker Hub?"""
    first, slash, _ = image_name.partition("/")
    if not first:
        return False
    if not slash:
        return True
    if first in ("docker.io", DEFAULT_REGISTRY_HOST):
        return True
    return not any(c in first for c in ".:")


def matching_entries(entries: Sequence[tuple[str, T]], image_name: str) -> list[T]:
    """The values of `(key, value)` entries kubelet would try for `image_name`, in its order.

    Entries are grouped by normalized key; groups are visited in reverse sorted key order (more
    specific first), values within a group in the given order. If no key matches and the image
    is a Docker Hub image, the values of the `index.docker.io` group are returned.
    """
    groups: dict[str, list[T]] = {}
    for key, value in entries:
        entry = normalize_key(key)
        if entry is not None:
            groups.setdefault(entry, []).append(value)
    found: list[T] = []
    for entry in sorted(groups, reverse=True):
        if _entry_matches(entry, image_name):
            found.extend(groups[entry])
    if not found and DEFAULT_REGISTRY_HOST in groups and is_default_registry_match(image_name):
        found.extend(groups[DEFAULT_REGISTRY_HOST])
    return found


def matching_keys(keys: Iterable[str], image_name: str) -> list[str]:
    """The keys (as written) whose credentials kubelet would try for `image_name`, most
    specific first, with the Docker Hub fallback applied.

    >>> matching_keys(["https://index.docker.io/v1/", "ghcr.io"], "docker.io/library/nginx")
    ['https://index.docker.io/v1/']
    """
    return matching_entries([(key, key) for key in keys], image_name)
