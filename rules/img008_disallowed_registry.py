"""The image comes from a registry, or is an image, that is not on the allow-lists.

## What it does
When `allowed-registries` (or `allowed-images`) is configured, reports images that no entry
allows. `allowed-registries` entries are `host[:port][/path/prefix]`, matched against the
normalized reference: exact host, or globs per DNS label (`*.example.com` matches
`eu.example.com`, not `example.com` nor `a.b.example.com`); `ghcr.io` never matches
`ghcr.io.evil.example`. Ports must be equal, so list `registry.example.com:5000` explicitly. A
path prefix matches whole components: `ghcr.io/acme` allows `ghcr.io/acme/api`, not
`ghcr.io/acme-evil/api`. `docker.io` covers Docker Hub, both explicit
(`docker.io/library/nginx`) and implicit (`nginx`) names. Hosts compare case-insensitively.

`allowed-images` lists exact repositories (`ghcr.io/acme/api`: that repository, not its
sub-paths) and exact images (`ubuntu:20.04`, normalized as the runtime does, so it means
`docker.io/library/ubuntu:20.04`); `*` and `?` glob within one path component or the tag. When
either list is set, an image passes if an entry of either allows it (gatekeeper's v2 allow-list
semantics).

## Why is this bad?
Pulling from registries outside the ones your organisation mirrors, scans and trusts bypasses
that control; it is also how typo-squatted or lookalike images get in. Clusters that enforce the
same list at admission (Kyverno, Gatekeeper) reject the pod, and clusters whose nodes cannot reach
the registry fail with `ErrImagePull` / `ImagePullBackOff`. Catching it before deploy is cheaper.

## Example
```yaml
# .imglint.yaml: allowed-registries: [ghcr.io/acme, registry.example.com]
containers:
  - name: tool
    image: quay.io/someone/tool:1.0
```

## Use instead
```yaml
containers:
  - name: tool
    image: registry.example.com/mirror/someone/tool:1.0
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.patterns import matches_any
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is None:
        return
    settings = ctx.settings_for(site)
    registries, images = settings.allowed_registries, settings.allowed_images
    if registries is None and images is None:
        return
    if registries is not None and matches_any(registries, ref):
        return
    if images is not None and any(entry.matches(ref) for entry in images):
        return
    source = f'registry "{ref.domain}"' if ref.domain else "no registry host"
    implicit = "" if ref.explicit_domain else " (implicitly Docker Hub)"
    if images is None:
        yield (
            f'image "{site.image}" comes from {source}{implicit}, '
            "which is not in allowed-registries"
        )
    elif registries is None:
        yield f'image "{site.image}" ({ref.name}) is not in allowed-images'
    else:
        yield (
            f'image "{site.image}" comes from {source}{implicit}, which is not in '
            f"allowed-registries, and {ref.name} is not in allowed-images"
        )
