"""The image has neither a tag nor a digest, so the runtime pulls `latest`.

## What it does
Reports images without a tag and without a digest. The kubelet then pulls `:latest`. A registry
port is not a tag: `registry.example.com:5000/team/api` has no tag and is reported, while
`registry.example.com:5000/team/api:2.1` is fine.

## Why is this bad?
An untagged image is an implicit `latest`, with all its problems (see `latest-tag`) and one more:
nobody reading the manifest sees that a moving tag is used. Repositories that publish no `latest`
tag (common for versioned-only projects) make every such pod fail with `ErrImagePull`, then
`ImagePullBackOff`.

## Example
```yaml
containers:
  - name: api
    image: registry.example.com:5000/team/api
```

## Use instead
```yaml
containers:
  - name: api
    image: registry.example.com:5000/team/api:2.1.0
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is not None and ref.tag is None and ref.digest is None:
        yield (
            f'image "{site.image}" has no tag, so the runtime pulls "latest": '
            "pin a version tag or a digest"
        )
