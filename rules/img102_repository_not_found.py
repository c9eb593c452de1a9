"""The image's repository does not exist (or, on Docker Hub, may be private).

## What it does
With the registry check (`--resolve`), reports images whose repository the registry does not
know. Most registries say so plainly (`NAME_UNKNOWN`). Docker Hub answers 401 for missing and
private repositories alike, by design, so it cannot tell a typo from a private repository that
the credentials in use cannot read: the message says so.

## Why is this bad?
Nothing can be pulled from a repository that does not exist: the pod waits in `ErrImagePull`,
then `ImagePullBackOff`. Usual causes are a misspelled image name (`ngnix`), a missing
organization (`myapp` for `myorg/myapp`, which means `library/myapp` on Docker Hub), the wrong
registry host, or a repository that was never pushed or was deleted.

## Example
```yaml
containers:
  - name: web
    image: ghcr.io/acme/shop-frontent:2.1.0
```

## Use instead
```yaml
containers:
  - name: web
    image: ghcr.io/acme/shop-frontend:2.1.0
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    result = ctx.answer_for(site)
    ref = site.reference
    if result is None or ref is None or result.status != "repository-not-found":
        return
    asked = result.hub_missing_or_private
    if asked is not None:
        yield (
            f'image "{site.image}": Docker Hub has no repository {ref.path} that can be read '
            f"({asked}); Docker Hub answers 401 for missing and private repositories alike, so "
            f"it is misspelled, or private and needs credentials that can read it"
        )
        return
    yield f'image "{site.image}": repository {ref.name} does not exist'
