"""What `--fix` and `--pin` want an image value to become. Pure: no I/O, no YAML.

A reference is rewritten from its parts as written, so nothing the user chose is lost: the name
stays as written unless `--fix` makes Docker Hub explicit, the tag is always kept (humans read it,
the runtime ignores it once a digest is there), and the digest is the one the registry's HEAD
answered for that tag, which for a multi-platform image is the index digest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from imglint import records
from imglint.reference import DEFAULT_TAG, InvalidReference, Reference


class ResolutionLike(Protocol):
    """What pinning reads from a registry answer (imglint.registry's Resolution has these)."""

    @property
    def status(self) -> str: ...  # "ok", or why not ("tag-not-found", "unreachable", ...)

    @property
    def digest(self) -> str | None: ...

    @property
    def detail(self) -> str | None: ...


_STATUS_WORDS = {
    "unreachable": "registry unreachable",
    "auth-failed": "registry authentication failed",
}

# Given the tag references to look up, answers keyed by `str(reference)`.
Resolver = Callable[[list[Reference]], Mapping[str, ResolutionLike]]


def written_name(value: str, ref: Reference) -> str:
    """The name part of `value` exactly as written ("nginx" in "nginx:1.25@sha256:...")."""
    suffix = _suffix(ref.tag, ref.digest)
    if not value.endswith(suffix):  # the parser keeps tag and digest verbatim, so never
        raise ValueError(f"{value!r} does not end with its own tag and digest")
    return value[: len(value) - len(suffix)]


def explicit_name(value: str, ref: Reference) -> str:
    """The name with an implicit registry made explicit; other names as written.

    `nginx` -> `docker.io/library/nginx`, `bitnami/redis` -> `docker.io/bitnami/redis` (a
    Crossplane package: `xpkg.crossplane.io/crossplane-contrib/provider-nop`, the registry it
    was parsed with); `index.docker.io/nginx` and `docker.io/nginx` already name their registry
    and stay.
    """
    if ref.explicit_domain or not ref.domain:
        return written_name(value, ref)
    return ref.name


def lookup(ref: Reference, *, repin: bool) -> Reference | None:
    """The tag reference to resolve for pinning `ref`, or None when `ref` is left alone.

    Digest-only references are already pinned and have no tag to refresh; `tag@digest` is left
    alone unless repinning. A reference without tag or digest pulls "latest", so that is the
    tag pinned (and written, so the result says what was resolved).
    """
    if ref.digest is not None and (ref.tag is None or not repin):
        return None
    tag = ref.tag if ref.tag is not None else DEFAULT_TAG
    return records.replace(ref, tag=tag, digest=None)


def pinned_value(name: str, tag_ref: Reference, resolution: ResolutionLike | None) -> str:
    """`name:tag@digest` from a registry answer; raises PinFailed with the reason."""
    if resolution is None:
        raise PinFailed("the registry gave no answer for it")
    if resolution.status != "ok":
        reason = _STATUS_WORDS.get(resolution.status, resolution.status.replace("-", " "))
        raise PinFailed(f"{reason} ({resolution.detail})" if resolution.detail else reason)
    digest = resolution.digest
    if not digest:
        raise PinFailed("the registry answered without a digest")
    try:
        tag_ref.with_digest(digest)
    except InvalidReference:
        raise PinFailed(f"the registry answered an invalid digest {digest!r}") from None
    return f"{name}{_suffix(tag_ref.tag, digest)}"


def rewritten(value: str, ref: Reference, *, explicit_registry: bool) -> str:
    """The value with only the offline fix applied (tag and digest kept exactly)."""
    name = explicit_name(value, ref) if explicit_registry else written_name(value, ref)
    return name + _suffix(ref.tag, ref.digest)


def with_suffix(name: str, ref: Reference) -> str:
    """`name` with `ref`'s tag and digest, as written (a registry move keeps both)."""
    return name + _suffix(ref.tag, ref.digest)


class PinFailed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _suffix(tag: str | None, digest: str | None) -> str:
    return (f":{tag}" if tag is not None else "") + (f"@{digest}" if digest is not None else "")
