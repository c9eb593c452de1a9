"""An image from a private registry has no pull secret.

## What it does
For images whose registry is listed in `private-registries` (host globs, optionally with a path
prefix: `registry.example.com`, `*.corp.example`, `docker.io/acme`), reports pods that get no
pull secret at all. The secrets a pod gets are emulated like the ServiceAccount admission
plugin: the pod's own `imagePullSecrets` if it lists any; otherwise those of its ServiceAccount
(`default` when `serviceAccountName` is unset), copied in, never merged.

A ServiceAccount that is not in the linted files contributes nothing: imglint cannot see its
secrets, and the finding says so. If your ServiceAccounts get their pull secrets outside these
manifests, lint them together, or suppress the rule for those objects.

The rule never fires for registries you did not list. That is deliberate: on managed clusters
the kubelet gets credentials for ECR (EKS), Artifact Registry/GCR (GKE) and ACR (AKS) from its
credential provider plugins, without any pull secret, so such images must not be listed here.
Whether a secret actually covers the registry is `pull-secret-registry-mismatch`'s job.

## Why is this bad?
Without credentials the registry refuses the pull (401/403 or a deliberate 404), the container
waits in `ErrImagePull`, then `ImagePullBackOff` with growing delays, and the rollout stalls.

## Example
```yaml
# .imglint.yaml: private-registries: [registry.example.com]
spec:
  containers:
    - name: api
      image: registry.example.com/team/api:2.1.0
```

## Use instead
```yaml
spec:
  imagePullSecrets:
    - name: registry-example-com
  containers:
    - name: api
      image: registry.example.com/team/api:2.1.0
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.patterns import matches_any
from imglint.rules._shared import reasons_text, unusable_secrets
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is None:
        return
    private = ctx.settings_for(site).private_registries
    if not private or not matches_any(private, ref):
        return
    secrets = ctx.objects.pod_secrets(site)
    unusable = unusable_secrets(secrets.names, site, ctx)
    if secrets.names and len(unusable) == len(secrets.names):
        where = f'"{ref.domain}"' if ref.domain else "the image's registry"
        yield (
            f"{where} is a private registry but every pull secret the pod has is unusable "
            f"(see IMG011): {reasons_text(unusable)}"
        )
        return
    if secrets.names or (not secrets.known and secrets.service_account is None):
        return  # listed, or the file does not say which pod pulls the image
    where = f'"{ref.domain}"' if ref.domain else "the image's registry"
    if not secrets.known:
        yield (
            f"{where} is a private registry but the pod lists no imagePullSecrets and its "
            f'ServiceAccount "{secrets.service_account}" is not in the linted files'
        )
    elif secrets.service_account is None:  # no ServiceAccount applies (Crossplane, KubeVirt)
        obj = site.obj
        yield (
            f"{where} is a private registry but {obj.kind} "
            f'"{obj.name or obj.generate_name or ""}" gives its image no pull secret'
        )
    else:
        yield (
            f"{where} is a private registry but neither the pod nor its "
            f'ServiceAccount "{secrets.service_account}" lists imagePullSecrets'
        )
