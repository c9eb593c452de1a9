"""The image's digest does not exist in its repository.

## What it does
With the registry check (`--resolve`), reports images pinned to a digest (`name@sha256:...` or
`name:tag@sha256:...`) that the registry does not have. When the reference also names a tag that
still exists, the message says where the tag points now.

## Why is this bad?
The runtime pulls exactly the digest: if the registry does not have it, the pod waits in
`ErrImagePull`, then `ImagePullBackOff`. Digests go missing when a digest was copied from
another registry or repository (a mirror may store a different manifest for the same tag), when
it is the digest of a single-platform child copied from another index, or when the registry's
garbage collection removed an untagged manifest.

## Example
```yaml
containers:
  - name: web
    image: nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000
```

## Use instead
A digest the registry serves, e.g. from `imglint --pin`:
```yaml
containers:
  - name: web
    image: nginx:1.27@sha256:<the digest the registry answers for nginx:1.27>
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.rules._registry import short
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    result = ctx.answer_for(site)
    ref = site.reference
    if result is None or ref is None or ref.digest is None:
        return
    if result.status != "digest-not-found":
        return
    message = f'image "{site.image}": {ref.name} has no manifest {short(ref.digest)}'
    if ref.tag is not None and result.tag_digest is not None:
        message += f'; the tag "{ref.tag}" points to {short(result.tag_digest)}'
    yield message
