"""The standard data set many registry tests share, pushed by `seed(registry)`."""

from __future__ import annotations

from dataclasses import dataclass

from tests.regserver.content import MANIFEST_ACCEPT, build_multiarch
from tests.regserver.server import RegistryServer

AMD64 = ("linux", "amd64")
ARM64 = ("linux", "arm64")
ARM64_V8 = ("linux", "arm64", "v8")
ACCEPT = {"Accept": MANIFEST_ACCEPT}
DIGEST = "Docker-Content-Digest"


@dataclass(frozen=True)
class Seeded:
    """Digests of the standard set in `registry`; `ref("team/app:1.0")` -> "HOST:PORT/team/app:1.0".

    team/app:1.0        Docker v2 schema 2 manifest, linux/amd64            -> app_1_0
    team/app:2.0        OCI image index, linux/amd64 + linux/arm64          -> app_2_0
                        (children by platform "linux/amd64", "linux/arm64": app_2_0_children)
    team/armonly:1.0    OCI image index with only linux/arm64               -> armonly_1_0
    library/nginx:1.25  Docker manifest list, linux/amd64 + linux/arm64/v8  -> nginx_1_25
    team/app:moving     first pushed as moving_old, then retagged to moving_new (both OCI
                        single-platform manifests, both still stored): a digest pinned to
                        moving_old is stale.
    """

    registry: RegistryServer
    app_1_0: str
    app_2_0: str
    app_2_0_children: dict[str, str]
    armonly_1_0: str
    nginx_1_25: str
    moving_old: str
    moving_new: str

    def ref(self, repo_and_tag: str) -> str:
        return f"{self.registry.host}/{repo_and_tag}"

    @property
    def tags(self) -> dict[str, str]:
        """Each seeded "repo:tag" and the digest it resolves to now."""
        return {
            "team/app:1.0": self.app_1_0,
            "team/app:2.0": self.app_2_0,
            "team/armonly:1.0": self.armonly_1_0,
            "library/nginx:1.25": self.nginx_1_25,
            "team/app:moving": self.moving_new,
        }

    def intact(self) -> bool:
        """True if every seeded tag still resolves as seeded and every seeded digest exists."""
        wanted = [(*name.split(":"), digest) for name, digest in self.tags.items()]
        wanted += [("team/app", self.moving_old, self.moving_old)]
        wanted += [("team/app", d, d) for d in self.app_2_0_children.values()]
        http = self.registry.pusher.http
        for repo, reference, digest in wanted:
            response = http.head(f"/v2/{repo}/manifests/{reference}", headers=ACCEPT)
            if response.status_code != 200 or response.headers.get(DIGEST) != digest:
                return False
        return True


def seed(registry: RegistryServer) -> Seeded:
    """Push the standard set (idempotent: pushing again restores it, moving ends on moving_new)."""
    app_2_0_index = build_multiarch("team/app:2.0", [AMD64, ARM64], "oci")
    moving_old = registry.push_image("team/app", "moving", oci=True, label="team/app:moving old")
    moving_new = registry.push_image("team/app", None, oci=True, label="team/app:moving new")
    registry.retag("team/app", "moving", moving_new)
    return Seeded(
        registry=registry,
        app_1_0=registry.push_image("team/app", "1.0"),
        app_2_0=registry.pusher.put_index("team/app", app_2_0_index, "2.0"),
        app_2_0_children={"/".join(i.platform): i.digest for i in app_2_0_index.images},
        armonly_1_0=registry.push_index("team/armonly", "1.0", [ARM64]),
        nginx_1_25=registry.push_index("library/nginx", "1.25", [AMD64, ARM64_V8], oci=False),
        moving_old=moving_old,
        moving_new=moving_new,
    )
