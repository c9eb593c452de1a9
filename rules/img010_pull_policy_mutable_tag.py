"""`imagePullPolicy: IfNotPresent` or `Never` on a mutable tag.

## What it does
Reports containers (and image volumes) whose pull policy is written as `IfNotPresent` or `Never`
while the image is `latest` or has no tag, and no digest. When the policy is not written,
Kubernetes defaults it to `Always` for exactly these images, so only an explicit policy is
reported. `nginx:latest@sha256:...` is pinned and not reported.

## Why is this bad?
With `IfNotPresent`, a node that pulled `latest` last month keeps running that image while a new
node pulls today's: the same manifest runs different code on different nodes, and a fix pushed
under `latest` never reaches old nodes. With `Never`, nodes that do not have the image fail with
`ErrImageNeverPull`.

Off by default because it only matters where mutable tags are already in use (see `latest-tag`
and `missing-tag`).

## Example
```yaml
containers:
  - name: worker
    image: ghcr.io/acme/worker:latest
    imagePullPolicy: IfNotPresent
```

## Use instead
```yaml
containers:
  - name: worker
    image: ghcr.io/acme/worker:3.2.0
    imagePullPolicy: IfNotPresent
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.sites import ImageSite

_CACHING_POLICIES = ("IfNotPresent", "Never")


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is None or site.pull_policy not in _CACHING_POLICIES or ref.digest is not None:
        return
    if ref.tag == "latest":
        what = 'the mutable tag "latest"'
    elif ref.tag is None:
        what = 'no tag (so "latest")'
    else:
        return
    yield (
        f'imagePullPolicy {site.pull_policy} on image "{site.image}" with {what}: '
        "nodes keep whichever image they pulled first"
    )
