"""The image comes from a registry that must not be used, or that moved.

## What it does
Reports images whose registry matches a `denied-registries` entry (`host[:port][/path]`,
matched as `allowed-registries` entries are: by host label and whole path components, so
`k8s.gcr.io` never matches `k8s.gcr.io.evil.example`). An entry may name where the images are
now (`denied-registries: {k8s.gcr.io: registry.k8s.io}`): the finding names the new reference,
and `imglint --fix` rewrites the image to it in place (the registry, and the path prefix the
entry names, replaced; the rest of the path, the tag and the digest kept; offline).

One entry is built in and on by default: `k8s.gcr.io` moved to `registry.k8s.io`. The Kubernetes
project froze `k8s.gcr.io` on 2023-04-03 and publishes new images only to `registry.k8s.io`
(https://kubernetes.io/blog/2023/02/06/k8s-gcr-io-freeze-announcement/). An entry of your own
for `k8s.gcr.io` replaces it; `ignore: [IMG013]` turns the rule off. Where a suppression
silences the finding (`# imglint: ignore[IMG013]`, the `imglint.dev/ignore` annotation),
`--fix` leaves the image as written too.

## Why is this bad?
A frozen registry has no new releases or security fixes, and a registry that is being shut
down fails pulls with `ErrImagePull` / `ImagePullBackOff` on the day it goes. A registry your
organisation banned (a retired mirror, a vendor's old host) is how unscanned images get in.

## Example
```yaml
containers:
  - name: pause
    image: k8s.gcr.io/pause:3.9
```

## Use instead
```yaml
containers:
  - name: pause
    image: registry.k8s.io/pause:3.9
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.patterns import denied_registry
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is None:
        return
    entry = denied_registry(ctx.settings_for(site).denied_registries, ref)
    if entry is None:
        return
    moved = entry.moved_name(ref)
    if moved is None:
        yield (
            f'image "{site.image}" comes from "{entry.pattern.text}", which is in denied-registries'
        )
        return
    suffix = (f":{ref.tag}" if ref.tag else "") + (f"@{ref.digest}" if ref.digest else "")
    why = f" ({entry.why})" if entry.why else ""
    yield (
        f'image "{site.image}" comes from "{entry.pattern.text}", which moved to '
        f'"{entry.replacement}"{why}: use "{moved}{suffix}" (imglint --fix rewrites it)'
    )
