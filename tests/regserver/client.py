"""Push helpers: put deterministic images into a registry over its HTTP API (no docker).

`Pusher` authenticates the way a registry asks: it sends each request anonymously, and on a 401
answers the `WWW-Authenticate` challenge with Basic credentials or with a Bearer token fetched from
the challenge's realm. So the same helpers work against every mode of `RegistryServer`.
"""

from __future__ import annotations

import base64
import re
import ssl
from collections.abc import Generator

import httpx

from tests.regserver.content import (
    MANIFEST_ACCEPT,
    Blob,
    Flavor,
    Image,
    Index,
    Platform,
    build_image,
    build_index,
    sha256_digest,
)

CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class PushError(Exception):
    """The registry refused a push helper's request."""


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="...",service="..."` -> ("bearer", {"realm": ..., "service": ...})."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(CHALLENGE_PARAM.findall(rest))


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class ChallengeAuth(httpx.Auth):
    """Answers registry 401 challenges (Basic, or Bearer via the token realm).

    It keeps the last credential that worked and sends it up front, so a run of requests to one
    repository costs one challenge round-trip. Without credentials it fetches anonymous tokens.
    """

    requires_response_body = True

    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        self.username = username
        self.password = password
        self._current: str | None = None  # an Authorization header value that worked last

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._current:
            request.headers["Authorization"] = self._current
        response = yield request
        if response.status_code != 401 or "WWW-Authenticate" not in response.headers:
            return
        scheme, params = parse_challenge(response.headers["WWW-Authenticate"])
        if scheme == "basic":
            if self.username is None or self.password is None:
                return
            self._current = basic_header(self.username, self.password)
        elif scheme == "bearer":
            token_request = httpx.Request(
                "GET",
                params["realm"],
                params={k: v for k, v in params.items() if k in ("service", "scope")},
            )
            if self.username is not None and self.password is not None:
                token_request.headers["Authorization"] = basic_header(self.username, self.password)
            token_response = yield token_request
            if token_response.status_code != 200:
                raise PushError(
                    f"token service answered {token_response.status_code}: {token_response.text}"
                )
            body = token_response.json()
            self._current = "Bearer " + (body.get("token") or body["access_token"])
        else:
            return
        request.headers["Authorization"] = self._current
        yield request


class Pusher:
    """Pushes blobs, images and indexes to one registry. Close it (or use `with`) when done."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.http = httpx.Client(
            base_url=url,
            auth=ChallengeAuth(username, password),
            verify=verify,
            timeout=30,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Pusher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _expect(self, response: httpx.Response, *statuses: int) -> httpx.Response:
        if response.status_code not in statuses:
            raise PushError(
                f"{response.request.method} {response.request.url.path} -> "
                f"{response.status_code}: {response.text[:500]}"
            )
        return response

    def push_blob(self, repo: str, data: bytes) -> str:
        """Monolithic upload (POST then PUT with the whole body); returns the blob digest."""
        digest = sha256_digest(data)
        started = self._expect(self.http.post(f"/v2/{repo}/blobs/uploads/"), 202)
        # Location may be relative and already carries the upload state in its query
        location = self.http.base_url.join(started.headers["Location"])
        url = location.copy_merge_params({"digest": digest})
        self._expect(
            self.http.put(url, content=data, headers={"Content-Type": "application/octet-stream"}),
            201,
        )
        return digest

    def put_manifest(self, repo: str, reference: str, manifest: Blob) -> str:
        """PUT manifest bytes under a tag or digest; returns the digest the registry reports."""
        response = self._expect(
            self.http.put(
                f"/v2/{repo}/manifests/{reference}",
                content=manifest.data,
                headers={"Content-Type": manifest.media_type},
            ),
            201,
        )
        stored = response.headers.get("Docker-Content-Digest", manifest.digest)
        if stored != manifest.digest:
            raise PushError(f"registry stored {stored}, expected {manifest.digest}")
        return manifest.digest

    def put_image(self, repo: str, image: Image, tag: str | None = None) -> str:
        """Push an already built image (blobs, then manifest under `tag` or its digest)."""
        self.push_blob(repo, image.config.data)
        self.push_blob(repo, image.layer.data)
        return self.put_manifest(repo, tag or image.digest, image.manifest)

    def put_index(self, repo: str, index: Index, tag: str | None = None) -> str:
        """Push an already built index: each child by digest first, as registries require."""
        for image in index.images:
            self.put_image(repo, image)
        return self.put_manifest(repo, tag or index.digest, index.manifest)

    def push_image(
        self,
        repo: str,
        tag: str | None,
        *,
        platform: Platform = ("linux", "amd64"),
        oci: bool = False,
        label: str | None = None,
    ) -> str:
        """Push a single-platform image; returns its manifest digest.

        Docker v2 schema 2 by default, OCI with `oci=True`. The content is derived from `label`
        (default "repo:tag"), so equal arguments give equal digests and a different label gives a
        different image. `tag=None` pushes by digest only.
        """
        image = build_image(label or f"{repo}:{tag}", platform, "oci" if oci else "docker")
        return self.put_image(repo, image, tag)

    def push_index(
        self,
        repo: str,
        tag: str | None,
        platforms: list[Platform] | tuple[Platform, ...] = (("linux", "amd64"), ("linux", "arm64")),
        *,
        oci: bool = True,
        label: str | None = None,
    ) -> str:
        """Push an OCI image index (or a Docker manifest list with `oci=False`) with one image
        per platform; returns the index digest."""
        flavor: Flavor = "oci" if oci else "docker"
        name = label or f"{repo}:{tag}"
        index = build_index([build_image(name, p, flavor) for p in platforms], flavor)
        return self.put_index(repo, index, tag)

    def get_manifest(self, repo: str, reference: str) -> Blob:
        response = self._expect(
            self.http.get(f"/v2/{repo}/manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT}),
            200,
        )
        return Blob(response.headers["Content-Type"].split(";")[0].strip(), response.content)

    def retag(self, repo: str, tag: str, digest: str) -> str:
        """Point `repo:tag` at the manifest `digest` already in `repo`."""
        return self.put_manifest(repo, tag, self.get_manifest(repo, digest))

    def delete_manifest(self, repo: str, digest: str) -> None:
        """Delete a manifest by digest (its tags go with it; distribution cannot delete a tag)."""
        self._expect(self.http.delete(f"/v2/{repo}/manifests/{digest}"), 202)
