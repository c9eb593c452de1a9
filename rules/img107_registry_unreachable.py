"""The registry could not be asked about the image.

## What it does
With the registry check (`--resolve`), reports images whose registry did not give an answer:
the host name does not resolve (DNS), the connection was refused or timed out, TLS failed (an
untrusted or misnamed certificate: pass the registry's CA with `--ca-file`), the registry kept
answering 5xx or 429 after retries, or the overall `--timeout` ran out. Also reported: an image
index, or a single image's manifest or config blob, that could not be read (or did not match
its digest) for the platform check (IMG106), though the tag was found. The message names the
cause. A warning by default, as the registry may be reachable from the cluster but not from
here; make it fail the gate with `--fail-on warning` or a severity override.

## Why is this bad?
Nothing is known about the image: it may not exist. And when the cluster cannot reach the
registry either (a private registry behind a VPN, an expired certificate, a registry down for
maintenance), every new pod using it waits in `ErrImagePull` / `ImagePullBackOff`.

## Example
```yaml
containers:
  - name: api
    image: registry.internal.example:5000/team/api:3.4.0
```

## Use instead
Make the registry reachable from where imglint runs (network, `--ca-file`, `insecure-registries`
for a plain-HTTP registry), or use an image from a registry the cluster and CI can both reach.
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    result = ctx.answer_for(site)
    ref = site.reference
    if result is None or ref is None:
        return
    host = result.registry or ref.domain or "the registry"
    if result.status == "unreachable":
        yield f'image "{site.image}": could not ask {host}: {result.detail}'
    elif result.status == "ok" and result.platform_error:
        # the tag exists, but IMG106 could not be checked: saying nothing would pass it
        yield f'image "{site.image}": the platform check failed on {host}: {result.platform_error}'
