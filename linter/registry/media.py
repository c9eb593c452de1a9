"""Manifest media types and what imglint reads from manifest bodies (digest, platforms)."""

from __future__ import annotations

import hashlib
import json
import re

import httpx

from imglint.registry.model import ProtocolError

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
# All four, like containerd: the reference registry answers 404 for an OCI manifest or index the
# client did not list, and silently serves the linux/amd64 child of an unlisted manifest list.
ACCEPT = ", ".join([DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX])
INDEX_TYPES = frozenset({DOCKER_LIST, OCI_INDEX})

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
