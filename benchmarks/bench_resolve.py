"""The registry check on a few hundred unique references against a local registry.

    python benchmarks/bench_resolve.py [--images 300] [--jobs 16] [--repeat 3] [--auth token]

Starts the CNCF distribution registry (`docker-registry`, as the tests do) on loopback, pushes
--images unique tags (a third of them two-platform OCI indexes, spread over repositories of ten
tags each, plus a tag and a repository that do not exist per 50), then measures `resolve_all`:
  cold   no cache file: one HEAD per unique tag, plus for the platform check one manifest GET
         per unique digest and one config blob GET per single-platform image, plus tags/list
         once per repository with a missing tag or that is missing, plus the ping (HTTPS, then
         plain HTTP on loopback) and, with token auth, one token per repository. With the
         defaults (every reference a distinct image): 312 HEADs, 300 manifest GETs, 200 blob
         GETs, 12 tags/list and 2 pings, 826 requests
  warm   the cache the cold run wrote: the found images are answered from it, but only found
         answers are cached, so each missing reference is asked again (its HEAD and its
         repository's tags/list) plus the ping: with the defaults 12 HEADs + 12 tags/list + 2
         pings = 26 requests, for the 12 missing references
  nocache  --no-cache with the platform check off: HEADs only
Each line gives the median wall time of --repeat runs, requests sent, and ms per reference.
Loopback has no network latency: the numbers measure imglint's own overhead and the registry's
answer time, not a real registry's round trips (with 30 ms RTT, 300 HEADs on 16 connections take
about 300 / 16 * 30 ms = 0.6 s more).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imglint.reference import Reference, parse
from imglint.registry import Answers, ResolveOptions, resolve_all
from imglint.registry.credentials import CredentialStore
from tests.regserver import PASSWORD, USERNAME, RegistryServer

TAGS_PER_REPOSITORY = 10


def push(server: RegistryServer, count: int) -> list[str]:
    """Push `count` tags; returns image references (plus some that do not exist)."""
    images: list[str] = []
    for n in range(count):
        repo = f"bench/app{n // TAGS_PER_REPOSITORY}"
        tag = f"1.{n % TAGS_PER_REPOSITORY}"
        if n % 3 == 0:
            server.push_index(repo, tag, label=f"{repo}:{tag}")
        else:
            server.push_image(repo, tag, label=f"{repo}:{tag}")
        images.append(f"{server.host}/{repo}:{tag}")
        if n % 50 == 49:
            images.append(f"{server.host}/{repo}:9.9")  # a missing tag
            images.append(f"{server.host}/bench/missing{n}:1.0")  # a missing repository
    return images


def store_for(server: RegistryServer, folder: Path) -> CredentialStore:
    if server.auth == "none":
        return CredentialStore(files=[])
    import base64
    import json

    config = folder / "config.json"
    auth = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    config.write_text(json.dumps({"auths": {server.host: {"auth": auth}}}))
    return CredentialStore(files=[config])


def measure(
    refs: list[Reference], options: ResolveOptions, store: CredentialStore, repeat: int
) -> tuple[float, Answers]:
    times = []
    answers = None
    for _ in range(repeat):
        started = time.perf_counter()
        answers = resolve_all(refs, options, credentials=store)
        times.append(time.perf_counter() - started)
    assert answers is not None
    return statistics.median(times), answers


def line(label: str, seconds: float, answers: Answers) -> str:
    stats = answers.stats
    per_ref = seconds / max(1, stats.references) * 1000
    return (
        f"{label:8} {seconds * 1000:8.0f} ms  {stats.references} refs  "
        f"{stats.requests:4} requests ({stats.manifest_requests} manifest)  "
        f"{stats.from_cache:4} from cache  {per_ref:.2f} ms/ref"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--auth", choices=["none", "token"], default="none")
    args = parser.parse_args()

    with RegistryServer(auth=args.auth) as server, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        images = push(server, args.images)
        print(f"pushed {args.images} tags in {time.perf_counter() - started:.1f} s")
        refs = [parse(i) for i in images]
        store = store_for(server, folder)

        statuses: dict[str, int] = {}
        cold_times = []
        cold = None
        for n in range(args.repeat):  # a fresh cache folder each time: always cold
            options = ResolveOptions(jobs=args.jobs, cache_dir=str(folder / f"cold{n}"))
            started = time.perf_counter()
            cold = resolve_all(refs, options, credentials=store)
            cold_times.append(time.perf_counter() - started)
        assert cold is not None
        for result in cold.values():
            statuses[result.status] = statuses.get(result.status, 0) + 1
        print(line("cold", statistics.median(cold_times), cold))

        warm_options = ResolveOptions(jobs=args.jobs, cache_dir=str(folder / "cold0"))
        seconds, warm = measure(refs, warm_options, store, args.repeat)
        print(line("warm", seconds, warm))

        heads_only = ResolveOptions(jobs=args.jobs, use_cache=False, check_platforms=False)
        seconds, plain = measure(refs, heads_only, store, args.repeat)
        print(line("nocache", seconds, plain))
        print("answers: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
        if server.token_service is not None:
            print(f"token requests in all runs: {len(server.token_service.requests)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
