"""The image comes from a registry that is not on the allow-list.

## What it does
When `allowed-registries` is configured, reports images whose registry is not on it. Entries are
`host[:port][/path/prefix]`, matched against the normalized reference: exact host, or globs per
DNS label (`*.example.com` matches `eu.example.com`, not `example.com` nor `a.b.example.com`);
`ghcr.io` never matches `ghcr.io.evil.example`. Ports must be equal, so list
`registry.example.com:5000` explicitly. A path prefix matches whole components: `ghcr.io/acme`
allows `ghcr.io/acme/api`, not `ghcr.io/acme-evil/api`. `docker.io` covers Docker Hub, both
explicit (`docker.io/library/nginx`) and implicit (`nginx`) names. Hosts compare case-insensitively.

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
from imglint.findings import Severity
from imglint.patterns import matches_any
from imglint.sites import ImageSite

CODE = "IMG008"
NAME = "disallowed-registry"
SEVERITY = Severity.ERROR
DEFAULT_ENABLED = True
NEEDS_REGISTRY = False
CONCERNS = "registry"
# A supply-chain risk: the image comes from outside the trusted registries (a security alert,
# high).
SECURITY_SEVERITY = 7.5


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is None:
        return
    allowed = ctx.settings_for(site).allowed_registries
    if allowed is None or matches_any(allowed, ref):
        return
    source = f'registry "{ref.domain}"' if ref.domain else "no registry host"
    implicit = "" if ref.explicit_domain else " (implicitly Docker Hub)"
    yield f'image "{site.image}" comes from {source}{implicit}, which is not in allowed-registries'
