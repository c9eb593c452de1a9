"""The multi-platform image has no entry for a platform the cluster runs.

## What it does
With the registry check (`--resolve`), reads the image index (OCI image index or Docker manifest
list) of each multi-platform image and reports images that offer none of the entries for a
configured platform (`platforms` in the configuration or `--platform`, default `linux/amd64`).
`linux/arm64` and `linux/arm64/v8` are the same platform; on 32-bit arm the variant must match.
Single-platform images are not checked (their platform is in the config blob, which would cost
another download).

Reading an index is a manifest GET, which Docker Hub counts as a pull against the rate limit
(a HEAD does not). Disable this rule (`ignore = ["IMG106"]`) to keep the check at HEADs only.

## Why is this bad?
A node pulls the index entry for its own platform. When there is none, the pull fails with `no
match for platform in manifest`; with a single-platform image of the wrong architecture, the
container starts and dies at once with `exec format error` and the pod loops in
`CrashLoopBackOff`. Mixed clusters (Graviton or Ampere arm64 pools next to amd64 ones) hit this
the first time a pod lands on the other pool.

## Example
```yaml
# platforms: [linux/amd64, linux/arm64]
containers:
  - name: tool
    image: ghcr.io/acme/tool:1.0   # index with linux/amd64 only
```

## Use instead
Build and push the image for every platform (`docker buildx build --platform
linux/amd64,linux/arm64 ...`), or keep the pod off the other nodes with a `nodeSelector` on
`kubernetes.io/arch`.
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.findings import Severity
from imglint.manifests import ImageSite
from imglint.registry.model import platform_available
from imglint.rules._registry import answer

CODE = "IMG106"
NAME = "platform-missing"
SEVERITY = Severity.WARNING
DEFAULT_ENABLED = True
NEEDS_REGISTRY = True


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    result = answer(site, ctx)
    if result is None or result.status != "ok" or result.platforms is None:
        return
    missing = [p for p in ctx.platforms if not platform_available(p, result.platforms)]
    if not missing:
        return
    offered = ", ".join(result.platforms) or "no platforms"
    yield (
        f'image "{site.image}" has no {" or ".join(missing)} image (it offers {offered}): '
        f"pods on such nodes fail to pull it"
    )
