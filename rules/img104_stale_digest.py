"""The image names a tag and a digest, and the tag now points elsewhere.

## What it does
With the registry check (`--resolve`), reports `name:tag@digest` images whose tag the registry
now resolves to another digest, or no longer has at all. The runtime pulls by digest and ignores
the tag, so the pinned image still runs: the tag in the manifest has become a label that lies.

## Why is this bad?
Readers trust the tag: `app:1.4.2@sha256:...` looks like version 1.4.2, while the digest is
another image: an older build (the tag was moved to a rebuilt image with a security fix), a
build of another branch, or one that is gone from the tag entirely. The registry says only that
they differ, not which is older, and the finding says no more. The pod keeps running what the
digest says, perhaps without the fix everyone thinks is deployed; and when the pinned digest is
garbage-collected from the registry, new pods fail with `ErrImagePull`.

## Example
```yaml
containers:
  - name: web
    image: nginx:1.27@sha256:aaaaaaaaaaaa...   # nginx:1.27 is now sha256:bbbbbbbbbbbb...
```

## Use instead
Re-pin to what the tag means now (`imglint --pin --repin`), or drop the tag if the old digest is
wanted on purpose:
```yaml
containers:
  - name: web
    image: nginx:1.27@sha256:bbbbbbbbbbbb...
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
    if result is None or ref is None or ref.tag is None or ref.digest is None:
        return
    if result.status != "ok" or result.tag_digest == ref.digest:
        return
    if result.tag_digest is None:
        yield (
            f'image "{site.image}": the tag "{ref.tag}" no longer exists; the pinned digest '
            f"{short(ref.digest)} still does, so the tag no longer says what runs"
        )
        return
    yield (
        f'image "{site.image}": the tag "{ref.tag}" now points to {short(result.tag_digest)}, '
        f"not the pinned {short(ref.digest)}: pods run the pinned image, not the one the tag "
        f"names now (re-pin with --pin --repin)"
    )
