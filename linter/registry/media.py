"""Manifest media types and what imglint reads from manifest and config bodies (digests,
platforms). No httpx at import time: `Resolution.single_image` reads the media types from here.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from typing import TYPE_CHECKING

from imglint.registry.model import ProtocolError

if TYPE_CHECKING:
    import httpx

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
# All four, like containerd: the reference registry answers 404 for an OCI manifest or index the
# client did not list, and silently serves the linux/amd64 child of an unlisted manifest list.
ACCEPT = ", ".join([DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX])
INDEX_TYPES = frozenset({DOCKER_LIST, OCI_INDEX})
IMAGE_TYPES = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})  # one image: its platform is in its config

DIGEST_SHAPE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)


def media_type(headers: httpx.Headers) -> str | None:
    value = headers.get("content-type")
    if not value:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def header_digest(headers: httpx.Headers) -> str | None:
    """`Docker-Content-Digest` when present and well formed."""
    value = headers.get("docker-content-digest", "").strip()
    return value if DIGEST_SHAPE.fullmatch(value) else None


def body_media_type(headers: httpx.Headers, body: bytes) -> str | None:
    """The Content-Type, or the body's own `mediaType` when the header is generic."""
    found = media_type(headers)
    if found in (None, "application/json", "application/octet-stream"):
        try:
            declared = json.loads(body).get("mediaType")
        except (ValueError, AttributeError):
            declared = None
        if isinstance(declared, str):
            return declared
    return found


def body_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


# The algorithms the OCI image spec registers, with the length of their hex encoding.
_VERIFIABLE = {"sha256": 64, "sha512": 128}
_HEX = re.compile(r"[0-9a-f]+", re.ASCII)


def verifiable(digest: str) -> bool:
    """Whether `digest` is a sha256 or sha512 digest imglint can check content against."""
    algorithm, _, encoded = digest.partition(":")
    size = _VERIFIABLE.get(algorithm)
    return size == len(encoded) and _HEX.fullmatch(encoded) is not None


def matches(digest: str, body: bytes) -> bool:
    """Whether `body` is the content `digest` names (a `verifiable` digest)."""
    algorithm, _, encoded = digest.partition(":")
    return verifiable(digest) and hashlib.new(algorithm, body).hexdigest() == encoded


def parse_platforms(body: bytes) -> tuple[str, ...]:
    """The "os/arch[/variant]" entries of an image index; attestation entries (unknown/unknown,
    as buildx writes them) left out. Raises ProtocolError for a body that is no index."""
    try:
        manifests = json.loads(body)["manifests"]
        if not isinstance(manifests, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise ProtocolError("the image index is malformed") from None
    found: list[str] = []
    for entry in manifests:
        text = _entry_platform(entry)
        if text is not None and text not in found:
            found.append(text)
    return tuple(found)


def _entry_platform(entry: object) -> str | None:
    """An index entry's "os/arch[/variant]"; None for an attestation or an entry naming none."""
    platform = entry.get("platform") if isinstance(entry, dict) else None
    if not isinstance(platform, dict):
        return None
    os_name = platform.get("os")
    arch = platform.get("architecture")
    if not isinstance(os_name, str) or not isinstance(arch, str) or os_name == "unknown":
        return None
    text = f"{os_name}/{arch}"
    variant = platform.get("variant")
    if isinstance(variant, str) and variant:
        text += f"/{variant}"
    return text


def parse_config_descriptor(body: bytes) -> tuple[str, int | None]:
    """(digest, size or None) of the config blob a single-image manifest names. Raises
    ProtocolError for a body that is no image manifest or names a digest imglint cannot check."""
    try:
        config = json.loads(body)["config"]
        digest = config["digest"]
        if not isinstance(digest, str):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ProtocolError("the image manifest is malformed") from None
    if not verifiable(digest):
        raise ProtocolError("the image manifest names a config digest imglint cannot verify")
    size = config.get("size")
    return digest, size if isinstance(size, int) and not isinstance(size, bool) else None


def parse_config_platform(body: bytes) -> str:
    """The "os/arch[/variant]" an image config names. Raises ProtocolError when it names none."""
    try:
        config = json.loads(body)
    except (ValueError, RecursionError):
        raise ProtocolError("the image config is malformed") from None
    if not isinstance(config, dict):
        raise ProtocolError("the image config is malformed")
    os_name, arch, variant = (config.get(k) for k in ("os", "architecture", "variant"))
    if not isinstance(os_name, str) or not isinstance(arch, str) or not os_name or not arch:
        raise ProtocolError("the image config names no os and architecture")
    if isinstance(variant, str) and variant:
        return f"{os_name}/{arch}/{variant}"
    return f"{os_name}/{arch}"


def parse_platform_manifest(body: bytes, platform: str) -> str | None:
    """The digest of an image index's entry for `platform` (the first that serves it, as a
    node's pull picks it); None when the index has none. Raises ProtocolError for no index."""
    from imglint.registry.model import platform_available

    try:
        manifests = json.loads(body)["manifests"]
        if not isinstance(manifests, list):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ProtocolError("the image index is malformed") from None
    for entry in manifests:
        offered = _entry_platform(entry)
        digest = entry.get("digest") if isinstance(entry, dict) else None
        if offered and isinstance(digest, str) and platform_available(platform, (offered,)):
            if not verifiable(digest):
                raise ProtocolError("the image index names a digest imglint cannot verify")
            return digest
    return None


def parse_config_created(body: bytes) -> str:
    """An image config's `created` text as written ("" when it has none). Raises ProtocolError
    for a body that is no JSON object."""
    try:
        config = json.loads(body)
    except (ValueError, RecursionError):
        raise ProtocolError("the image config is malformed") from None
    if not isinstance(config, dict):
        raise ProtocolError("the image config is malformed")
    created = config.get("created")
    return created if isinstance(created, str) else ""


# Build tools that write a fixed `created` so that builds are reproducible: ko, Jib, Bazel's
# rules_oci and BuildKit with SOURCE_DATE_EPOCH=0 (the Unix epoch), Nix's dockerTools (one second
# later) and Cloud Native Buildpacks (1980-01-01T00:00:01Z). They say nothing of the build's age.
REPRODUCIBLE_TIMESTAMPS = (0, 1, 315532801)
_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)", re.ASCII
)


def created_time(text: str) -> tuple[datetime.datetime | None, str]:
    """(when the image was built, "") from a config's `created` text, or (None, why it says
    nothing): missing, not an RFC 3339 time, or a reproducible-build timestamp."""
    if not text:
        return None, "its config has no created time"
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        return None, f"its config's created time {text[:40]!r} is not an RFC 3339 time"
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    zone = match.group(8).upper()
    offset = datetime.timedelta(0)
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        local = datetime.datetime(year, month, day, hour, minute, min(second, 59), micro)
    except ValueError:
        return None, f"its config's created time {text[:40]!r} is not a valid date"
    when = (local - offset).replace(tzinfo=datetime.timezone.utc)
    if when.timestamp() in REPRODUCIBLE_TIMESTAMPS:
        return None, f"its created time {text} is a reproducible-build timestamp, not a build date"
    return when, ""
