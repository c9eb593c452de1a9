"""A pull Secret that the API server refuses or the kubelet cannot use.

## What it does
Reports `kubernetes.io/dockerconfigjson` and `kubernetes.io/dockercfg` Secrets whose content is
broken, at the offending value:

- the data key (`.dockerconfigjson` or `.dockercfg`) is missing from `data` and `stringData`,
  `data` is not base64, a `stringData` value is not a string, or the content is not a JSON
  object: the API server rejects the Secret when it is applied;
- an entry of the registry map is not an object, or its `auth` is not base64 of
  `username:password`: the API server accepts the Secret, but the kubelet fails to build its
  keyring and every pull of a pod that names the Secret fails, whatever the registry;
- a `.dockerconfigjson` without an `auths` map: accepted by both, it gives no credentials.

IMG006 and IMG103 say so too when a pod names such a Secret.

## Why is this bad?
A pull secret is written once, often by hand (`echo -n ... | base64` with a stray newline, JSON
with a trailing comma) and checked never: the mistake shows up as `ErrImagePull` on a private
image, and the `ImagePullBackOff` event names the image, not the Secret.

## Example
```yaml
apiVersion: v1
kind: Secret
metadata:
  name: regcred
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz",}}}'
```

## Use instead
Let kubectl write it:
```sh
kubectl create secret docker-registry regcred --docker-server=ghcr.io \
  --docker-username=USER --docker-password=TOKEN --dry-run=client -o yaml
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context, PullSecret


def check_pull_secret(secret: PullSecret, ctx: Context) -> Iterator[str]:
    if secret.error is not None:
        yield f'pull secret "{secret.name}" ({secret.type}) is unusable: {secret.error}'
