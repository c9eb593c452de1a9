"""The image is not pinned by digest, so the tag can move under you.

## What it does
Reports every image without a `@sha256:...` digest, whatever its tag. It overlaps with
`latest-tag` and `missing-tag` on purpose: enabling it means "every image must be pinned".
imglint can look the digests up and pin them for you.

## Why is this bad?
Tags are mutable: a re-pushed `1.25` silently changes what new pods run, nodes that pulled
earlier keep the old image (`IfNotPresent`), and a deleted or re-pointed tag turns into
`ErrImagePull` / `ImagePullBackOff` for every new pod. A digest names exactly one image forever,
which is what reproducible rollouts and rollbacks need.

Off by default because many teams deliberately deploy version tags and pin elsewhere (admission
policies, image automation).

## Example
```yaml
containers:
  - name: web
    image: ghcr.io/acme/web:1.4.2
```

## Use instead
```yaml
containers:
  - name: web
    # 1.4.2, pinned
    image: ghcr.io/acme/web@sha256:4c2b3a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is not None and ref.digest is None:
        yield f'image "{site.image}" is not pinned by digest'
