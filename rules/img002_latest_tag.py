"""The image names the tag `latest` explicitly.

## What it does
Reports images whose tag is `latest` and that carry no digest. A digest pins the image, so
`nginx:latest@sha256:...` is not reported.

## Why is this bad?
`latest` is just the tag pushed last: it moves. Two nodes, or one node before and after a
reschedule, can run different images under the same manifest, and a rollback to "the previous
version" redeploys whatever `latest` means today. When the repository stops publishing `latest`
(many do), new pods fail with `ErrImagePull` and then `ImagePullBackOff`, long after the manifest
was reviewed.

## Example
```yaml
containers:
  - name: web
    image: nginx:latest
```

## Use instead
A version tag, or better a digest:
```yaml
containers:
  - name: web
    image: nginx:1.27.2
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is not None and ref.tag == "latest" and ref.digest is None:
        yield (
            f'image "{site.image}" uses the tag "latest", which moves: '
            "pin a version tag or a digest"
        )
