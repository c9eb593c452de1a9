"""The registry refused to serve the image: no credentials, or they were refused.

## What it does
With the registry check (`--resolve`), reports images whose registry wants credentials that
imglint does not have, or refused the ones it used. imglint uses your own Docker or Podman
credentials (`~/.docker/config.json`, credential helpers, `REGISTRY_AUTH_FILE`, podman's
`auth.json`); with `--use-pull-secrets` it uses the pod's own pull secrets from the linted
manifests instead, matched as the kubelet matches them, which answers "would this pod pull?".
The message names who asked (anonymous access, or which user from which file or secret), never
a secret.

## Why is this bad?
A node without working credentials for a private registry cannot pull: the pod waits in
`ErrImagePull` with `401 Unauthorized` or `403 Forbidden`, then `ImagePullBackOff`. Typical
causes are a missing `imagePullSecrets` entry, a secret for another registry host, an expired
token (ECR tokens last 12 hours), or an account without pull access to that repository.

## Example
```yaml
spec:
  containers:
    - name: api
      image: registry.example.com/team/api:3.4.0   # private, and no pull secret
```

## Use instead
```yaml
spec:
  imagePullSecrets:
    - name: registry-example   # {"auths": {"registry.example.com": {...}}}
  containers:
    - name: api
      image: registry.example.com/team/api:3.4.0
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.rules._shared import reasons_text, unusable_secrets
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    result = ctx.answer_for(site)
    ref = site.reference
    if result is None or ref is None or result.status != "auth-failed":
        return
    host = result.registry or ref.domain
    message = f'image "{site.image}": {host} refused access to {ref.path}: {result.detail}'
    broken = unusable_secrets(ctx.objects.pod_secrets(site).names, site, ctx)
    if broken:
        message += f" (the pod's pull secrets are unusable, see IMG011: {reasons_text(broken)})"
    yield message
