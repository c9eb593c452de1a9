"""A Docker Hub image is pulled without Docker Hub credentials.

## What it does
Reports Docker Hub images (explicit `docker.io/...` or implicit `nginx`) when none of the pull
secrets that apply to the pod has a key the kubelet would use for Docker Hub
(`https://index.docker.io/v1/`, `index.docker.io` or `docker.io`). The pod's secrets are its
`imagePullSecrets`, or its ServiceAccount's when it lists none; a ServiceAccount that is not in
the linted files counts as having none. A listed Secret that is not in the linted files might
hold Docker Hub credentials, so then nothing is reported.

Off by default: nodes often carry Docker Hub credentials or a pull-through mirror that
manifests cannot show.

## Why is this bad?
Anonymous Docker Hub pulls share a small per-IP rate limit (per IPv4 address or IPv6 /64, so a
whole NAT'ed cluster shares one budget). A rollout or a node replacement that pulls many images
at once gets `429 toomanyrequests`, and pods sit in `ErrImagePull` / `ImagePullBackOff` until the
window resets.

## Example
```yaml
spec:
  containers:
    - name: cache
      image: docker.io/library/redis:7.4
```

## Use instead
```yaml
spec:
  imagePullSecrets:
    - name: dockerhub   # {"auths": {"https://index.docker.io/v1/": {...}}}
  containers:
    - name: cache
      image: docker.io/library/redis:7.4
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.keyring import matching_keys
from imglint.rules._shared import secret_state
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is None or not ref.is_docker_hub:
        return
    secrets = ctx.objects.pod_secrets(site)
    for name in secrets.names:
        state = secret_state(name, site, ctx)
        if not state.known or matching_keys(list(state.keys), ref.name):
            return
    yield (
        f'Docker Hub image "{site.image}" is pulled anonymously: no pull secret from '
        f"{secrets.describe()} has Docker Hub credentials, and anonymous pulls share a "
        "per-IP rate limit"
    )
