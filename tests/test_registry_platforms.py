"""IMG106 for single-platform images: the platform is read from the image's config blob.

Against the real local registry: what is read (Docker and OCI manifests, variants), what IMG106
says through `imglint --resolve`, and what it costs, counted with httpx event hooks: HEAD +
manifest GET + config blob GET per unique single-platform reference, no GET with the check off,
no request at all on a warm cache. Against the hostile server (tests/hostile_registry.py): a
blob GET redirected to storage on another loopback host gets no credentials, and a blob, config
or manifest that is not what its digest says, is too large, or cannot be read ends as IMG107
with the reason, never as a wrong IMG106.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imglint.registry import Resolution
from imglint.registry.credentials import CredentialStore
from tests.hostile_registry import (
    DOCKER_MANIFEST,
    HostileRegistry,
    blob,
    by_method,
    challenge,
    digest_of,
    huge_body,
    manifest,
    redirect,
    respond,
    status,
)
from tests.registry_runs import Counter, deployment, lint_json
from tests.registry_runs import run as registry_run
from tests.regserver import RegistryServer, Seeded
from tests.regserver.content import OCI_MANIFEST, Image, build_image

pytestmark = pytest.mark.registry

ARM64 = ("linux", "arm64")
AMD64 = ("linux", "amd64")
ARM_V7 = ("linux", "arm", "v7")
DOCKER = "application/vnd.docker.distribution.manifest.v2+json"


run = functools.partial(registry_run, timeout=20.0)


def one(image: str, **overrides: Any) -> Resolution:
    return run([image], **overrides)[image]


# -- the real registry ----------------------------------------------------------------------------


class Pushed:
    """Single-platform images in the session registry, under "platforms/..." of their own."""

    def __init__(self, registry: RegistryServer) -> None:
        self.host = registry.host
        self.arm = registry.push_image("platforms/arm", "1.0", platform=ARM64)
        self.amd = registry.push_image("platforms/amd", "1.0", platform=AMD64, oci=True)
        self.armv7 = registry.push_image("platforms/armv7", "1.0", platform=ARM_V7, oci=True)

    def ref(self, name: str) -> str:
        return f"{self.host}/platforms/{name}:1.0"

    @staticmethod
    def config(name: str, platform: tuple[str, ...], oci: bool = False) -> str:
        label = f"platforms/{name}:1.0"
        return build_image(label, platform, "oci" if oci else "docker").config.digest


@pytest.fixture(scope="module")
def pushed(registry: RegistryServer) -> Pushed:
    return Pushed(registry)


def test_single_images_report_their_own_platform(pushed: Pushed) -> None:
    answers = run([pushed.ref("arm"), pushed.ref("amd"), pushed.ref("armv7")])
    got = {name: answers[pushed.ref(name)] for name in ("arm", "amd", "armv7")}
    assert {name: (r.status, r.platforms, r.platform_error) for name, r in got.items()} == {
        "arm": ("ok", ("linux/arm64",), ""),
        "amd": ("ok", ("linux/amd64",), ""),
        "armv7": ("ok", ("linux/arm/v7",), ""),
    }
    assert (got["arm"].media_type, got["amd"].media_type) == (DOCKER, OCI_MANIFEST)


def test_cost_per_unique_single_platform_reference(pushed: Pushed) -> None:
    counter = Counter()
    images = [pushed.ref("arm"), pushed.ref("arm"), pushed.ref("amd")]
    # another reference to the same digest: the digest's one GET answers it too
    images.append(f"{pushed.host}/platforms/arm@{pushed.arm}")
    answers = run(images, counter=counter)
    assert answers.stats.references == 3
    arm_config = Pushed.config("arm", ARM64)
    assert sorted(counter.without_pings()) == sorted(
        [
            "HEAD /v2/platforms/arm/manifests/1.0",
            f"GET /v2/platforms/arm/manifests/{pushed.arm}",
            f"GET /v2/platforms/arm/blobs/{arm_config}",
            "HEAD /v2/platforms/amd/manifests/1.0",
            f"GET /v2/platforms/amd/manifests/{pushed.amd}",
            f"GET /v2/platforms/amd/blobs/{Pushed.config('amd', AMD64, oci=True)}",
        ]
    )
    # blob GETs are not manifest requests (Docker Hub does not count them as pulls)
    assert answers.stats.manifest_requests == 4
    assert answers.stats.requests == len(counter.requests)


def test_no_get_with_the_platform_check_off(pushed: Pushed) -> None:
    counter = Counter()
    answers = run([pushed.ref("arm"), pushed.ref("amd")], counter=counter, check_platforms=False)
    assert {r.platforms for r in answers.values()} == {None}
    assert sorted(counter.without_pings()) == [
        "HEAD /v2/platforms/amd/manifests/1.0",
        "HEAD /v2/platforms/arm/manifests/1.0",
    ]


def test_warm_cache_sends_nothing_and_an_expired_tag_only_a_head(
    pushed: Pushed, tmp_path: Path
) -> None:
    images = [pushed.ref("arm"), pushed.ref("amd")]
    cache: dict[str, Any] = {"use_cache": True, "cache_dir": str(tmp_path)}
    cold = Counter()
    run(images, counter=cold, **cache)
    assert len(cold.without_pings()) == 6
    warm = Counter()
    answers = run(images, counter=warm, **cache)
    assert warm.requests == []
    assert answers[pushed.ref("arm")].platforms == ("linux/arm64",)
    assert answers[pushed.ref("arm")].from_cache is True
    # once the tag's answer expires, the tag is asked again; its digest's platform is known
    expired = Counter()
    answers = run(images, counter=expired, tag_ttl=0.0, **cache)
    assert sorted(expired.without_pings()) == [
        "HEAD /v2/platforms/amd/manifests/1.0",
        "HEAD /v2/platforms/arm/manifests/1.0",
    ]
    assert answers[pushed.ref("amd")].platforms == ("linux/amd64",)


# -- IMG106 through the command line --------------------------------------------------------------


def registry_findings(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> list[tuple[int, str, str]]:
    _code, report, _err = lint_json(["--select", "IMG106,IMG107", *args], capsys)
    return [(f["line"], f["code"], f["message"]) for f in report["findings"]]


def test_arm64_only_image_draws_img106_on_amd64(
    pushed: Pushed, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = deployment(isolated, pushed.ref("arm"), pushed.ref("amd"))
    found = registry_findings(["--platform", "linux/amd64", str(path)], capsys)
    assert found == [
        (
            10,
            "IMG106",
            f'image "{pushed.ref("arm")}" is built for linux/arm64 only; nodes running '
            "linux/amd64 fail with exec format error (checked for the configured platforms)",
        )
    ]


def test_arm64_v8_platform_matches_an_arm64_image_without_variant(
    pushed: Pushed, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = deployment(isolated, pushed.ref("arm"), pushed.ref("amd"))
    config = isolated / "imglint.yaml"
    config.write_text("platforms: [linux/arm64/v8]\n")
    found = registry_findings(["--config", str(config), str(path)], capsys)
    assert found == [
        (
            12,
            "IMG106",
            f'image "{pushed.ref("amd")}" is built for linux/amd64 only; nodes running '
            "linux/arm64/v8 fail with exec format error (checked for the configured platforms)",
        )
    ]


def test_arm_variants_must_match(
    pushed: Pushed, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = deployment(isolated, pushed.ref("armv7"))
    assert registry_findings(["--platform", "linux/arm/v7", str(path)], capsys) == []
    found = registry_findings(["--platform", "linux/arm/v6", str(path)], capsys)
    assert [(line, code) for line, code, _ in found] == [(10, "IMG106")]


# -- a registry that redirects blobs, or lies -----------------------------------------------------


USER, SECRET = "platform-user", "platform-secret-5c2a"
BASIC = "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
ARM_IMAGE = build_image("hostile/arm:1.0", ARM64)
AMD_IMAGE = build_image("hostile/amd:1.0", AMD64)
MANIFESTS = "/v2/team/app/manifests/*"
BLOBS = "/v2/team/app/blobs/*"


@pytest.fixture
def servers() -> Iterator[list[HostileRegistry]]:
    started: list[HostileRegistry] = []
    yield started
    for server in started:
        server.stop()


def start(started: list[HostileRegistry], bind: str = "127.0.0.1") -> HostileRegistry:
    server = HostileRegistry(bind=bind).start()
    started.append(server)
    return server


def store_for(tmp_path: Path, host: str) -> CredentialStore:
    path = tmp_path / "config.json"
    entry = {"auth": base64.b64encode(f"{USER}:{SECRET}".encode()).decode()}
    path.write_text(json.dumps({"auths": {host: entry}}))
    return CredentialStore(files=[path])


def image_manifest(image: Image) -> Any:
    return manifest(image.manifest.data, DOCKER_MANIFEST)


def test_blob_redirect_to_another_host_gets_no_credentials(
    servers: list[HostileRegistry], tmp_path: Path
) -> None:
    registry, storage = start(servers), start(servers, bind="127.0.0.2")
    config = ARM_IMAGE.config.digest
    signed = f"{storage.url}/storage/{config}?X-Signature=abc"
    registry.route("/v2/", challenge('Basic realm="r"', BASIC, respond(200, b"{}")))
    registry.route(MANIFESTS, challenge('Basic realm="r"', BASIC, image_manifest(ARM_IMAGE)))
    registry.route(BLOBS, challenge('Basic realm="r"', BASIC, redirect(signed)))
    storage.route("/storage/*", blob(ARM_IMAGE.config.data))
    image = f"{registry.host}/team/app:1.0"
    result = one(image, store=store_for(tmp_path, registry.host))
    assert (result.status, result.platforms, result.platform_error) == ("ok", ("linux/arm64",), "")
    assert registry.lines()[1:] == [
        "HEAD /v2/team/app/manifests/1.0",
        f"GET /v2/team/app/manifests/{ARM_IMAGE.digest}",
        f"GET /v2/team/app/blobs/{config}",
    ]
    assert registry.authorizations() == [BASIC] * 3
    assert [r.target for r in storage.requests] == [f"/storage/{config}?X-Signature=abc"]
    assert storage.authorizations() == []


def test_blob_redirect_target_refusing_is_img107(
    servers: list[HostileRegistry], tmp_path: Path
) -> None:
    registry, storage = start(servers), start(servers, bind="127.0.0.2")
    registry.route(MANIFESTS, challenge('Basic realm="r"', BASIC, image_manifest(ARM_IMAGE)))
    registry.route(BLOBS, challenge('Basic realm="r"', BASIC, redirect(f"{storage.url}/s")))
    storage.route("/s", challenge('Basic realm="storage"', "never", blob(ARM_IMAGE.config.data)))
    result = one(f"{registry.host}/team/app:1.0", store=store_for(tmp_path, registry.host))
    assert (result.status, result.platforms, result.platform_error) == (
        "ok",
        None,
        f"could not read the image config (HTTP 401 from {storage.host})",
    )
    assert storage.authorizations() == []  # its challenge is not met with the registry's


def bad_config(size: int | None = None) -> bytes:
    """A manifest naming ARM_IMAGE's config, with another `size` in the descriptor."""
    doc = json.loads(ARM_IMAGE.manifest.data)
    if size is not None:
        doc["config"]["size"] = size
    return json.dumps(doc).encode()


NO_PLATFORM = json.dumps({"rootfs": {"type": "layers", "diff_ids": []}}).encode()
NO_PLATFORM_IMAGE = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "digest": digest_of(NO_PLATFORM),
            "size": len(NO_PLATFORM),
        },
        "layers": [],
    }
).encode()

FAULTS: dict[str, tuple[Any, Any, str]] = {
    # an amd64 image whose config blob comes back as an arm64 config: unverified, it would
    # draw a wrong IMG106 on linux/amd64
    "config not matching its digest": (
        image_manifest(AMD_IMAGE),
        blob(ARM_IMAGE.config.data),
        f"the image config does not match its digest {AMD_IMAGE.config.digest}",
    ),
    "manifest GET not matching its digest": (
        by_method(HEAD=image_manifest(AMD_IMAGE), GET=image_manifest(ARM_IMAGE)),
        blob(ARM_IMAGE.config.data),
        f"the image manifest does not match its digest {AMD_IMAGE.digest}",
    ),
    "blob 404": (
        image_manifest(ARM_IMAGE),
        status(404),
        "could not read the image config (HTTP 404)",
    ),
    "config larger than 1 MiB by its descriptor": (
        manifest(bad_config(size=2 << 20)),
        blob(ARM_IMAGE.config.data),
        "the image config is larger than 1024 KiB",
    ),
    "config larger than 1 MiB though its descriptor says otherwise": (
        image_manifest(ARM_IMAGE),
        huge_body(),
        "could not read the image config: answer from 127.0.0.1 is larger than 1024 KiB",
    ),
    "config naming no platform": (
        manifest(NO_PLATFORM_IMAGE),
        blob(NO_PLATFORM),
        "the image config names no os and architecture",
    ),
    "manifest without a config": (
        manifest(b'{"schemaVersion": 2, "layers": []}'),
        blob(ARM_IMAGE.config.data),
        "the image manifest is malformed",
    ),
    "config digest of an unknown algorithm": (
        manifest(json.dumps({"config": {"digest": "md5:abc", "size": 3}}).encode()),
        blob(ARM_IMAGE.config.data),
        "the image manifest names a config digest imglint cannot verify",
    ),
    "manifest GET 500": (
        by_method(HEAD=image_manifest(ARM_IMAGE), GET=status(500)),
        blob(ARM_IMAGE.config.data),
        "could not read the image manifest (HTTP 500)",
    ),
}


@pytest.mark.parametrize("case", list(FAULTS))
def test_unreadable_platform_keeps_the_answer_and_says_why(
    servers: list[HostileRegistry], case: str
) -> None:
    manifests, blobs, why = FAULTS[case]
    registry = start(servers)
    registry.route(MANIFESTS, manifests)
    registry.route(BLOBS, blobs)
    result = one(f"{registry.host}/team/app:1.0", tries=1)
    assert (result.status, result.platforms, result.platform_error) == ("ok", None, why)
    blob_gets = [line for line in registry.lines() if "/blobs/" in line]
    no_blob_read = case.startswith(("config larger than 1 MiB by", "manifest", "config digest"))
    assert len(blob_gets) == (0 if no_blob_read else 1)


def test_config_not_matching_its_digest_is_img107_not_img106(
    servers: list[HostileRegistry], isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = start(servers)
    registry.route(MANIFESTS, image_manifest(AMD_IMAGE))
    registry.route(BLOBS, blob(ARM_IMAGE.config.data))
    image = f"{registry.host}/team/app:1.0"
    path = deployment(isolated, image)
    assert registry_findings(["--platform", "linux/amd64", str(path)], capsys) == [
        (
            10,
            "IMG107",
            f'image "{image}": the platform check failed on {registry.host}: the image config '
            f"does not match its digest {AMD_IMAGE.config.digest}",
        )
    ]


def test_a_good_blob_answer_needs_no_content_type(servers: list[HostileRegistry]) -> None:
    registry = start(servers)
    registry.route(MANIFESTS, image_manifest(ARM_IMAGE))
    registry.route(BLOBS, respond(200, ARM_IMAGE.config.data))
    result = one(f"{registry.host}/team/app:1.0")
    assert (result.platforms, result.platform_error) == (("linux/arm64",), "")


# -- the pod's own platform ---------------------------------------------------------------------


def pinned_pod(folder: Path, spec: str, *images: str) -> Path:
    containers = "".join(f"  - name: c{n}\n    image: {image}\n" for n, image in enumerate(images))
    path = folder / "pod.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
        + spec
        + "  containers:\n"
        + containers
    )
    return path


def test_a_pod_pinned_to_arm64_nodes_needs_an_arm64_image_whatever_platforms_says(
    pushed: Pushed, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = "  nodeSelector:\n    kubernetes.io/arch: arm64\n"
    path = pinned_pod(isolated, spec, pushed.ref("amd"), pushed.ref("arm"))
    found = registry_findings(["--platform", "linux/amd64", str(path)], capsys)
    assert found == [
        (
            10,
            "IMG106",
            f'image "{pushed.ref("amd")}" is built for linux/amd64 only; this pod runs on '
            "linux/arm64 nodes (its nodeSelector kubernetes.io/arch: arm64), where it fails "
            "with exec format error",
        )
    ]


def test_a_pod_that_may_land_on_two_arches_needs_both(
    pushed: Pushed, seeded: Seeded, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = (
        "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
        "        nodeSelectorTerms:\n        - matchExpressions:\n"
        "          - {key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}\n"
    )
    # a two-platform index serves both; the single amd64 image and the arm64-only index do not
    images = (seeded.ref("team/app:2.0"), pushed.ref("amd"), seeded.ref("team/armonly:1.0"))
    path = pinned_pod(isolated, spec, *images)
    found = registry_findings(["--platform", "linux/amd64", str(path)], capsys)
    affinity = "its required node affinity kubernetes.io/arch In [amd64, arm64]"
    assert found == [
        (
            16,
            "IMG106",
            f'image "{images[1]}" is built for linux/amd64 only; this pod runs on linux/arm64 '
            f"nodes ({affinity}), where it fails with exec format error",
        ),
        (
            18,
            "IMG106",
            f'image "{images[2]}" has no linux/amd64 image (it offers linux/arm64); this pod '
            f"runs on linux/amd64 nodes ({affinity}) and fails to pull it there",
        ),
    ]
