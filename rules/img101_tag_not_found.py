"""The image's tag does not exist in its repository.

## What it does
With the registry check (`--resolve`), reports images whose tag the registry does not know: a
`HEAD` of the manifest answers 404 while the repository exists. An image without tag or digest
pulls `latest`, so that is the tag asked for. When the registry lists the repository's tags, the
message names the closest ones.

## Why is this bad?
The kubelet cannot pull a tag that does not exist: the pod waits in `ErrImagePull`, then
`ImagePullBackOff`, retrying for ever with growing delays while the rollout stalls. The usual
causes are a typo (`1.2.3` for `v1.2.3`), a tag not pushed yet because the image build failed or
has not finished, or a tag the publisher deleted.

## Example
```yaml
containers:
  - name: web
    image: nginx:1.277
```

## Use instead
A tag the registry has:
```yaml
containers:
  - name: web
    image: nginx:1.27
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    result = ctx.answer_for(site)
    ref = site.reference
    if result is None or ref is None or result.status != "tag-not-found":
        return
    if ref.tag is None:
        message = (
            f'image "{site.image}" has no tag, so "latest" is pulled, '
            f'and {ref.name} has no tag "latest"'
        )
    else:
        message = f'image "{site.image}": {ref.name} has no tag "{ref.tag}"'
    if result.closest_tags:
        message += f" (closest tags: {', '.join(result.closest_tags)})"
    yield message
