"""The image names no registry, so Docker Hub is used without saying so.

## What it does
Reports images whose first path component is not a registry host (`nginx`, `bitnami/nginx`,
`library/nginx`): the runtime silently pulls them from Docker Hub. The message names the
reference the runtime actually pulls, for example `docker.io/library/nginx:1.25`.

It also catches a classic slip: `localhost:5000` or `registry.example.com:5000` written without
a repository path is not a registry at all but the Docker Hub image `library/localhost` with the
tag `5000`.

A Crossplane package (`spec.package` of a Provider, Function or Configuration) without a registry
is pulled from Crossplane's default registry instead (`crossplane-registry`, `xpkg.crossplane.io`
by default), and the message names that; Crossplane 2 refuses such a package altogether. The
same holds for an `image-fields` entry with a `default-registry`.

## Why is this bad?
The registry is part of the image's identity. Without it, a mirror or a private registry the
author had in mind is not used, a same-named Docker Hub image is pulled instead, and anonymous
Docker Hub pulls hit a shared per-IP rate limit that turns into `ErrImagePull` and
`ImagePullBackOff` (`toomanyrequests`) during large rollouts. Writing `docker.io/` makes the
choice visible and lets registry allow-lists and mirrors work on exact names.

## Example
```yaml
containers:
  - name: web
    image: nginx:1.25
```

## Use instead
```yaml
containers:
  - name: web
    image: docker.io/library/nginx:1.25
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is None or ref.explicit_domain:
        return
    # A Crossplane package (or an image-fields entry) has a default registry of its own.
    registry = site.default_registry or "Docker Hub"
    message = f'image "{site.image}" names no registry, so it is pulled from {registry} as "{ref}"'
    if _looks_like_a_registry(site.image, ref.tag):
        host = site.image
        message += f' (a registry needs a repository path: "{host}/<repository>")'
    yield message


def _looks_like_a_registry(image: str, tag: str | None) -> bool:
    # `localhost:5000` / `registry.local:5000`: one component whose "tag" is a port number.
    name = image.split(":", 1)[0]
    return (
        "/" not in image
        and tag is not None
        and tag.isdigit()
        and (name == "localhost" or "." in name)
    )
