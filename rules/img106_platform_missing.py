"""The image is not built for a platform the cluster runs.

## What it does
With the registry check (`--resolve`), reports images that offer nothing for a platform their
pod may run on. A pod that says where it runs decides for itself: a `nodeSelector` on
`kubernetes.io/arch` or `kubernetes.io/os`, or a required node affinity on them (`In [amd64,
arm64]`, or several node selector terms: the pod may land on any, so the image must offer
every one). Other pods use the configured platforms (`platforms` or `--platform`, default
`linux/amd64`). The message says which it used. For a
multi-platform image it reads the image index (OCI image index or Docker manifest list) and
looks for an entry for each platform; for a single-platform image it reads the image's config
blob, which names the one `os`/`architecture`/`variant` it was built for. `linux/arm64` and
`linux/arm64/v8` are the same platform; on 32-bit arm the variant must match.

What this costs: one manifest GET per image, by digest (an index or a single image alike), and
one blob GET (at most 1 MiB, checked against its digest) per single-platform image. Docker Hub
counts each manifest GET as a pull against the rate limit; HEADs and blob GETs are not counted.
The platform of a digest never changes, so the cache keeps it: a warm run sends no GET. Disable
this rule (`ignore: [IMG106]`, or `--ignore IMG106`) to keep the registry check at HEADs only.
An index, manifest or config that cannot be read is reported by IMG107, never guessed.

## Why is this bad?
A node pulls the index entry for its own platform. When there is none, the pull fails with `no
match for platform in manifest`. A single-platform image of the wrong architecture (an
arm64-only image on amd64 nodes) is pulled, and its container dies at once with
`exec format error`: the pod loops in `CrashLoopBackOff`. Mixed clusters (Graviton or Ampere
arm64 pools next to amd64 ones) hit this the first time a pod lands on the other pool.

## Example
```yaml
# platforms: [linux/amd64, linux/arm64]
containers:
  - name: tool
    image: ghcr.io/acme/tool:1.0   # index with linux/amd64 only
  - name: agent
    image: ghcr.io/acme/agent:2.3  # single image built on an arm64 laptop: linux/arm64 only
```

A pod pinned to arm64 nodes needs an arm64 image, whatever `platforms` says:
```yaml
nodeSelector:
  kubernetes.io/arch: arm64
containers:
  - name: app
    image: ghcr.io/acme/app:1.0    # linux/amd64 only
```

## Use instead
Build and push the image for every platform (`docker buildx build --platform
linux/amd64,linux/arm64 ...`), or keep the pod off the other nodes with a `nodeSelector` on
`kubernetes.io/arch`.
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    result = ctx.answer_for(site)
    if result is None or result.status != "ok" or result.platforms is None:
        return
    # Only a run that asked the registries gets here: an offline run never loads them.
    from imglint.placement import platforms_for
    from imglint.registry import platform_available

    configured = ctx.settings_for(site).platforms
    placement = site.holder.placement
    wanted = configured if placement is None else platforms_for(placement, configured)
    missing = [p for p in wanted if not platform_available(p, result.platforms)]
    if not missing:
        return
    offered = ", ".join(result.platforms) or "no platforms"
    lacking = " or ".join(missing)
    if placement is not None:  # the pod's own platforms, from what it demands of its nodes
        where = f"this pod runs on {lacking} nodes (its {placement.source})"
        if result.single_image:
            yield (
                f'image "{site.image}" is built for {offered} only; {where}, where it fails '
                f"with exec format error"
            )
        else:
            yield (
                f'image "{site.image}" has no {lacking} image (it offers {offered}); {where} '
                f"and fails to pull it there"
            )
        return
    said = "checked for the configured platforms"
    if result.single_image:  # its one platform, from its config
        yield (
            f'image "{site.image}" is built for {offered} only; nodes running {lacking} fail '
            f"with exec format error ({said})"
        )
        return
    yield (
        f'image "{site.image}" has no {lacking} image (it offers {offered}): pods on such '
        f"nodes fail to pull it ({said})"
    )
