"""The on-disk cache of registry answers: TTLs, corruption, atomic merged writes, and its use."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest

from imglint.reference import parse
from imglint.registry import ResolveOptions
from imglint.registry.cache import (
    FILE_NAME,
    VERSION,
    DigestInfo,
    ResolutionCache,
    default_cache_dir,
)
from imglint.registry.client import Resolver
from imglint.registry.credentials import CredentialStore
from tests.regserver.content import build_image, build_multiarch

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_default_cache_dir() -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/imglint")
    assert default_cache_dir({"HOME": "/home/u"}) == Path("/home/u/.cache/imglint")


def test_tags_expire_digests_do_not(tmp_path: Path) -> None:
    clock = Clock()
    cache = ResolutionCache(tmp_path, tag_ttl=600, clock=clock)
    cache.put_tag("docker.io", "library/nginx", "1.27", D1)
    cache.put_digest("docker.io", "library/nginx", D1, INDEX_TYPE, ("linux/amd64",))
    assert cache.save() is None

    later = ResolutionCache(tmp_path, tag_ttl=600, clock=clock)
    assert later.tag("docker.io", "library/nginx", "1.27") == D1
    clock.now += 601
    assert later.tag("docker.io", "library/nginx", "1.27") is None
    clock.now += 10 * 365 * 86400
    info = later.digest("docker.io", "library/nginx", D1)
    assert info is not None and (info.media_type, info.platforms) == (INDEX_TYPE, ("linux/amd64",))
    assert later.digest("docker.io", "library/other", D1) is None  # keyed by repository too
    assert later.digest("ghcr.io", "library/nginx", D1) is None  # and by registry


def test_future_timestamps_are_not_trusted(tmp_path: Path) -> None:
    clock = Clock()
    cache = ResolutionCache(tmp_path, clock=clock)
    cache.put_tag("r", "p", "t", D1)
    clock.now -= 3600  # the clock went back an hour
    assert cache.tag("r", "p", "t") is None


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"version": 1, "tags": {}}',  # an older format: its entries do not say who asked
        '{"version": 1, "tags": [], "digests": "x"}',
        "\udcff",
    ],
)
def test_corrupt_file_is_ignored(tmp_path: Path, content: str) -> None:
    (tmp_path / FILE_NAME).write_text(content, encoding="utf-8", errors="surrogateescape")
    cache = ResolutionCache(tmp_path)
    assert cache.tag("r", "p", "t") is None
    cache.put_tag("r", "p", "t", D1)
    assert cache.save() is None
    assert ResolutionCache(tmp_path).tag("r", "p", "t") == D1


def test_invalid_entries_are_dropped_valid_ones_kept(tmp_path: Path) -> None:
    data = {
        "version": VERSION,
        "tags": {
            "r/p:good": {"digest": D1, "at": 1e12},
            "r/p:nodigest": {"at": 1e12},
            "r/p:baddigest": {"digest": "nope", "at": 1e12},
            "r/p:badtime": {"digest": D1, "at": "yesterday"},
        },
        "digests": {
            f"r/p@{D1}": {"media_type": None, "platforms": None, "at": 1},
            f"r/p@{D2}": {"media_type": 3, "platforms": None, "at": 1},
        },
    }
    (tmp_path / FILE_NAME).write_text(json.dumps(data))
    cache = ResolutionCache(tmp_path, tag_ttl=1e13, clock=Clock(1e12))
    assert [cache.tag("r", "p", t) for t in ("good", "nodigest", "baddigest", "badtime")] == [
        D1,
        None,
        None,
        None,
    ]
    assert cache.digest("r", "p", D1) is not None
    assert cache.digest("r", "p", D2) is None


def test_save_merges_with_other_runs_and_leaves_no_temp_files(tmp_path: Path) -> None:
    first = ResolutionCache(tmp_path)
    second = ResolutionCache(tmp_path)
    first.put_tag("r", "a", "1", D1)
    second.put_tag("r", "b", "1", D2)
    assert first.save() is None
    assert second.save() is None
    merged = ResolutionCache(tmp_path)
    assert (merged.tag("r", "a", "1"), merged.tag("r", "b", "1")) == (D1, D2)
    assert os.listdir(tmp_path) == [FILE_NAME]


def test_nothing_new_writes_nothing(tmp_path: Path) -> None:
    assert ResolutionCache(tmp_path / "sub").save() is None
    assert not (tmp_path / "sub").exists()


def test_platforms_read_earlier_are_kept(tmp_path: Path) -> None:
    cache = ResolutionCache(tmp_path)
    cache.put_digest("r", "p", D1, INDEX_TYPE, ("linux/amd64",))
    cache.put_digest("r", "p", D1, INDEX_TYPE, None)
    info = cache.digest("r", "p", D1)
    assert info is not None and info.platforms == ("linux/amd64",)


def test_unwritable_folder_is_a_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ResolutionCache(blocker / "cache")
    cache.put_tag("r", "p", "t", D1)
    warning = cache.save()
    assert warning is not None
    assert warning.startswith(f"cannot write the registry cache {blocker / 'cache' / FILE_NAME}: ")


def test_pruned_to_the_newest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("imglint.registry.cache.MAX_ENTRIES", 3)
    clock = Clock(0)
    cache = ResolutionCache(tmp_path, tag_ttl=1e9, clock=clock)
    for n in range(5):
        clock.now = n
        cache.put_tag("r", "p", str(n), D1)
    cache.save()
    kept = ResolutionCache(tmp_path, tag_ttl=1e9, clock=clock)
    assert [kept.tag("r", "p", str(n)) for n in range(5)] == [None, None, D1, D1, D1]


# -- the resolver with a cache (mock registry) --------------------------------------------------

IMAGE = build_image("team/app:1.0", ("linux", "amd64"), "docker")
INDEX = build_multiarch("team/app:2.0", [("linux", "amd64"), ("linux", "arm64")])


def registry(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v2/":
        return httpx.Response(200)
    ref = request.url.path.rpartition("/")[2]
    blob = {"1.0": IMAGE.manifest, "2.0": INDEX.manifest}.get(ref)
    blob = blob or {
        IMAGE.digest: IMAGE.manifest,
        INDEX.digest: INDEX.manifest,
        IMAGE.config.digest: IMAGE.config,  # the platform check reads a single image's config
    }.get(ref)
    if blob is None:
        return httpx.Response(404)
    headers = {"Content-Type": blob.media_type, "Docker-Content-Digest": blob.digest}
    return httpx.Response(
        200, headers=headers, content=blob.data if request.method == "GET" else b""
    )


def run(
    images: list[str], cache: ResolutionCache, *, check_platforms: bool = True
) -> tuple[dict[str, tuple[str, bool]], list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return registry(request)

    resolver = Resolver(
        ResolveOptions(check_platforms=check_platforms),
        transport=httpx.MockTransport(handler),
        credentials=CredentialStore(files=[], env={}),
        cache=cache,
    )
    answers = asyncio.run(resolver.resolve([parse(i) for i in images]))
    return {k: (v.status, v.from_cache) for k, v in answers.items()}, seen


def test_warm_cache_asks_nothing(tmp_path: Path) -> None:
    images = [
        "r.example/team/app:1.0",
        "r.example/team/app:2.0",
        f"r.example/team/app@{IMAGE.digest}",
    ]
    cold, seen = run(images, ResolutionCache(tmp_path))
    assert set(cold.values()) == {("ok", False)}
    assert seen.count("GET /v2/") == 1
    warm, seen = run(images, ResolutionCache(tmp_path))
    assert set(warm.values()) == {("ok", True)}
    assert seen == []


def test_expired_tag_is_asked_again_but_the_index_is_not_read_again(tmp_path: Path) -> None:
    clock = Clock()
    run(["r.example/team/app:2.0"], ResolutionCache(tmp_path, clock=clock))
    clock.now += 3600
    answers, seen = run(["r.example/team/app:2.0"], ResolutionCache(tmp_path, clock=clock))
    assert answers == {"r.example/team/app:2.0": ("ok", False)}
    assert seen == ["GET /v2/", "HEAD /v2/team/app/manifests/2.0"]


def test_index_cached_without_platforms_is_read_when_the_check_is_on(tmp_path: Path) -> None:
    run(["r.example/team/app:2.0"], ResolutionCache(tmp_path), check_platforms=False)
    answers, seen = run(["r.example/team/app:2.0"], ResolutionCache(tmp_path))
    assert answers == {"r.example/team/app:2.0": ("ok", False)}
    assert f"GET /v2/team/app/manifests/{INDEX.digest}" in seen


def test_single_image_platform_is_cached_with_its_digest(tmp_path: Path) -> None:
    _, seen = run(["r.example/team/app:1.0"], ResolutionCache(tmp_path))
    assert seen == [
        "GET /v2/",
        "HEAD /v2/team/app/manifests/1.0",
        f"GET /v2/team/app/manifests/{IMAGE.digest}",
        f"GET /v2/team/app/blobs/{IMAGE.config.digest}",
    ]
    info = ResolutionCache(tmp_path).digest("r.example", "team/app", IMAGE.digest)
    assert info == DigestInfo(IMAGE.manifest.media_type, ("linux/amd64",))
    # by digest (no tag to expire): nothing to ask
    _, seen = run([f"r.example/team/app@{IMAGE.digest}"], ResolutionCache(tmp_path))
    assert seen == []


def test_single_image_cached_without_platform_is_read_when_the_check_is_on(
    tmp_path: Path,
) -> None:
    _, seen = run(["r.example/team/app:1.0"], ResolutionCache(tmp_path), check_platforms=False)
    assert seen == ["GET /v2/", "HEAD /v2/team/app/manifests/1.0"]
    answers, seen = run(["r.example/team/app:1.0"], ResolutionCache(tmp_path))
    assert answers == {"r.example/team/app:1.0": ("ok", False)}
    assert seen[2:] == [
        f"GET /v2/team/app/manifests/{IMAGE.digest}",
        f"GET /v2/team/app/blobs/{IMAGE.config.digest}",
    ]
    _, seen = run(["r.example/team/app:1.0"], ResolutionCache(tmp_path))
    assert seen == []


def test_negative_answers_are_not_cached(tmp_path: Path) -> None:
    cache = ResolutionCache(tmp_path)
    run(["r.example/team/app:9.9"], cache)
    answers, seen = run(["r.example/team/app:9.9"], ResolutionCache(tmp_path))
    assert answers == {"r.example/team/app:9.9": ("tag-not-found", False)}
    assert "HEAD /v2/team/app/manifests/9.9" in seen


def test_cache_file_holds_no_secrets_and_only_answers(tmp_path: Path) -> None:
    run(["r.example/team/app:1.0"], ResolutionCache(tmp_path))
    data = json.loads((tmp_path / FILE_NAME).read_text())
    assert set(data) == {"version", "tags", "digests"}
    assert list(data["tags"]) == ["r.example/team/app:1.0"]
    assert set(data["tags"]["r.example/team/app:1.0"]) == {"digest", "at"}
    assert set(data["digests"][f"r.example/team/app@{IMAGE.digest}"]) == {
        "media_type",
        "platforms",
        "at",
    }
