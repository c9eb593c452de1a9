"""A kustomize `images:` entry matches no image of the resources it builds on.

## What it does
Reports an `images:` entry of a kustomization (or component) that matches no image in the
resources, bases and components of its build, as kustomize matches them: the entry's `name`
must equal the image's name as the base writes it, before any tag or digest (`redis` matches
`redis:7`, but not `docker.io/library/redis:7`), in the fields kustomize rewrites
(`containers`/`initContainers` anywhere, image volumes, and the fields `configurations:`
declares). The entry is checked only when every base of the build is among the linted files:
with a remote base, a base outside the linted set, Helm charts or plugins in the build, nothing
is concluded and `-v` says why (an entry that matches an image of a chart's `valuesInline` is
used: kustomize runs the entries over what the charts render). Where a base writes the same
repository under another name, the message names it.

## Why is this bad?
kustomize applies an entry that matches nothing without a word: the override silently does
nothing, and the overlay deploys the base's image instead of the tag the overlay pins. It
happens when a base image is renamed (a registry added, a repository moved) and the overlays
are not, and nothing fails until someone wonders why production runs the old version.

## Example
```yaml
# base/deployment.yaml:  image: docker.io/library/nginx:1.25
# overlays/prod/kustomization.yaml
images:
  - name: nginx
    newTag: "1.27"
```

## Use instead
The name exactly as the base writes it:
```yaml
images:
  - name: docker.io/library/nginx
    newTag: "1.27"
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    if site.unmatched is not None:
        yield site.unmatched
