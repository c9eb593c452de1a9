"""The image reference breaks the container runtime's reference grammar.

## What it does
Parses every image exactly as the kubelet does (`distribution/reference`, the normalizing parser)
and reports references it rejects, with the runtime's own reason: upper case in the repository
name, a tag longer than 128 characters or starting with `.` or `-`, a malformed or unsupported
digest, whitespace, an empty image, a 64-character hex string, and so on.

When a reference is invalid this is the only finding for it: the other rules need a parsed
reference to say anything true.

## Why is this bad?
The API server does not parse images, so `kubectl apply` succeeds; then the kubelet refuses the
image, the container waits with reason `InvalidImageName` (event: `Failed to apply default image
tag ... invalid reference format`) and the pod never starts. Nothing retries it into working.

## Example
```yaml
containers:
  - name: web
    image: Nginx:1.25
```

## Use instead
```yaml
containers:
  - name: web
    image: nginx:1.25
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.lazy_pattern import LazyPattern
from imglint.sites import ImageSite

# `$IMAGE`, `<your-image>`, `PROJECT_ID`: text meant to be replaced before apply.
_PLACEHOLDER = LazyPattern(r"[$<>{}]|(?:^|[/.:-])[A-Z][A-Z0-9]*_[A-Z0-9_]*(?:$|[/.:-])")


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    if site.error is None:
        return
    if not site.image.strip():
        yield "the image is empty: no pod can run it (a value that was never filled in?)"
        return
    hint = " - an unreplaced placeholder?" if _PLACEHOLDER.search(site.image) else ""
    yield (
        f'invalid image reference "{site.image}": {site.error} '
        f"(the kubelet reports InvalidImageName{hint})"
    )
