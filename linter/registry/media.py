"""Manifest media types and what imglint reads from manifest and config bodies (digests,
platforms). No httpx at import time: `Resolution.single_image` reads the media types from here.
"""

from __future__ import annotations

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
        platform = entry.get("platform") if isinstance(entry, dict) else None
        if not isinstance(platform, dict):
            continue
        os_name = platform.get("os")
        arch = platform.get("architecture")
        if not isinstance(os_name, str) or not isinstance(arch, str) or os_name == "unknown":
            continue
        text = f"{os_name}/{arch}"
        variant = platform.get("variant")
        if isinstance(variant, str) and variant:
            text += f"/{variant}"
        if text not in found:
            found.append(text)
    return tuple(found)


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
