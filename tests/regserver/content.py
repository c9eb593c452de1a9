"""Deterministic image content: config blobs, gzip layers, manifests and indexes.

Nothing here talks to a registry, so tests can also build the exact bytes a registry would serve
(for httpx.MockTransport tests) and compute digests without pushing. Every function is pure:
the same arguments always give the same bytes, hence the same digests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from typing import Any, Literal

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

# What a client should send in Accept to get any of the above back unchanged. Distribution 2.8
# rewrites or refuses manifests whose media type the client did not list (OCI -> 404, an index ->
# the linux/amd64 child), so tests that HEAD/GET manifests should send this.
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST])

Flavor = Literal["docker", "oci"]
# (os, architecture) or (os, architecture, variant), e.g. ("linux", "arm64", "v8")
Platform = tuple[str, ...]

# A fixed timestamp keeps configs (and so digests) identical from run to run.
CREATED = "2024-01-01T00:00:00Z"


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Blob:
    media_type: str
    data: bytes

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data)}


@dataclass(frozen=True)
class Image:
    """One single-platform image: its config and layer blobs and the manifest naming them."""

    config: Blob
    layer: Blob
    manifest: Blob
    platform: Platform

    @property
    def digest(self) -> str:
        return self.manifest.digest


@dataclass(frozen=True)
class Index:
    """A multi-platform index (OCI image index or Docker manifest list) and its children."""

    images: tuple[Image, ...]
    manifest: Blob

    @property
    def digest(self) -> str:
        return self.manifest.digest


def check_platform(platform: Platform) -> None:
    if len(platform) not in (2, 3) or not all(platform):
        raise ValueError(f"platform must be (os, arch) or (os, arch, variant), got {platform!r}")


def platform_fields(platform: Platform) -> dict[str, str]:
    check_platform(platform)
    fields = {"os": platform[0], "architecture": platform[1]}
    if len(platform) == 3:
        fields["variant"] = platform[2]
    return fields


def layer_tar(label: str) -> bytes:
    """An uncompressed tar with one small file whose text is `label`."""
    payload = f"imglint test image {label}\n".encode()
    info = tarfile.TarInfo("etc/imglint-test")
    info.size = len(payload)
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def build_image(
    label: str,
    platform: Platform = ("linux", "amd64"),
    flavor: Flavor = "docker",
    *,
    created: str | None = CREATED,
) -> Image:
    """Config + one gzip layer + manifest; `label` makes the content (and digest) distinct.

    Docker v2 schema 2 by default, like `push_image` (whose `label` defaults to "repo:tag").
    `created` is the config's build time (None: the config has no `created`).
    """
    tar = layer_tar(f"{label} {'/'.join(platform)}")
    # mtime=0 keeps the gzip header free of the current time
    layer = Blob(OCI_LAYER if flavor == "oci" else DOCKER_LAYER, gzip.compress(tar, mtime=0))
    config_doc: dict[str, Any] = {
        **platform_fields(platform),
        "config": {"Cmd": ["/bin/true"], "Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(tar)]},
        "history": [{"created": CREATED, "created_by": f"imglint test {label}"}],
    }
    if created is not None:
        config_doc["created"] = created
    config = Blob(OCI_CONFIG if flavor == "oci" else DOCKER_CONFIG, canonical_json(config_doc))
    manifest_type = OCI_MANIFEST if flavor == "oci" else DOCKER_MANIFEST
    manifest_doc = {
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": config.descriptor(),
        "layers": [layer.descriptor()],
    }
    return Image(config, layer, Blob(manifest_type, canonical_json(manifest_doc)), platform)


def build_index(images: list[Image] | tuple[Image, ...], flavor: Flavor = "oci") -> Index:
    """An index over already built images (their flavor should match the index's)."""
    index_type = OCI_INDEX if flavor == "oci" else DOCKER_MANIFEST_LIST
    manifests = [
        {**image.manifest.descriptor(), "platform": platform_fields(image.platform)}
        for image in images
    ]
    doc = {"schemaVersion": 2, "mediaType": index_type, "manifests": manifests}
    return Index(tuple(images), Blob(index_type, canonical_json(doc)))


def build_multiarch(label: str, platforms: list[Platform], flavor: Flavor = "oci") -> Index:
    return build_index([build_image(label, p, flavor) for p in platforms], flavor)
