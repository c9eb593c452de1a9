"""The pod's pull secrets have no credentials for the image's registry.

## What it does
Takes the pull secrets that apply to the pod (its `imagePullSecrets`, or its ServiceAccount's
when it lists none) and, when every one of them is a Secret of the linted files, checks their
registry keys the way the kubelet's keyring does: scheme and `/v1/` stripped, host matched label
by label with globs (`*.example.com`), ports equal, the key's path a prefix of the repository,
and `https://index.docker.io/v1/` standing in for Docker Hub.

An image no key matches is reported only when it evidently needs one of them:

* its registry is listed in `private-registries`, or
* a key was evidently written for its registry but the kubelet will not use it: the same host
  with another port (`registry.example.com` for `registry.example.com:5000/...`) or in other
  letter case (the kubelet compares hosts case-sensitively), a glob that misses its apex
  (`*.example.com` for `example.com/...`), or a Docker Hub host the kubelet does not know
  (`registry-1.docker.io`, `hub.docker.com` for a Docker Hub image).

A key for another path of the same registry (`ghcr.io/acme` for `ghcr.io/other/tool`) is no such
evidence: scoping a key to one organisation is deliberate, and the other image is usually public.
Public images are the reason for that restraint: a pod with a secret for its private registry
routinely runs public sidecars (`busybox`, `docker.io/envoyproxy/envoy`) that no key covers and
that pull fine anonymously; reporting every one of them would be noise.

To avoid false alarms it also stays silent when any applicable secret is not in the linted files
(it may hold the right key), when a secret's data cannot be decoded, and when the ServiceAccount
is unknown. A listed Secret of another type (say `Opaque`) gives the kubelet nothing, and the
message says so. Credentials the node gets from elsewhere (credential provider plugins for ECR,
Artifact Registry or ACR, a node-wide `config.json`) are invisible here.

## Why is this bad?
The kubelet sends only matching credentials: a key `registry.example.com` does nothing for
`registry.example.com:5000`, and a secret for `ghcr.io` does nothing for `registry.gitlab.com`.
The pull runs anonymously and fails with `ErrImagePull` (`unauthorized`, `denied` or a
deliberate `not found`), then `ImagePullBackOff`, although "the secret is right there".

## Example
```yaml
kind: Secret
type: kubernetes.io/dockerconfigjson
metadata: {name: regcred}
data: {.dockerconfigjson: ...}   # {"auths": {"registry.example.com": {...}}}
---
spec:
  imagePullSecrets: [{name: regcred}]
  containers:
    - name: api
      image: registry.example.com:5000/acme/api:2.1.0
```

## Use instead
Write the key exactly as the image names the registry, port included:
```yaml
data: {.dockerconfigjson: ...}   # {"auths": {"registry.example.com:5000": {...}}}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.keyring import matching_keys, normalize_key
from imglint.patterns import matches_any, split_domain
from imglint.reference import Reference
from imglint.rules._shared import quoted_list, secret_state
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is None or not (ctx.objects.secrets or ctx.objects.other_secrets):
        return  # without Secrets in the set every applicable secret is unknown
    secrets = ctx.objects.pod_secrets(site)
    if not secrets.known or not secrets.names:
        return
    states = [secret_state(name, site, ctx) for name in secrets.names]
    if not all(state.known for state in states):
        return
    image_name = ref.name
    keys = [key for state in states for key in state.keys]
    if matching_keys(keys, image_name):
        return
    private = matches_any(ctx.settings_for(site).private_registries, ref)
    if not private and not any(_meant_for(key, ref) for key in keys):
        return  # probably a public image: anonymous pulls work
    described = []
    for state in states:
        if state.other_type is not None:
            described.append(f'"{state.name}" (type {state.other_type}, ignored by the kubelet)')
        elif state.keys:
            described.append(f'"{state.name}" (keys {quoted_list(state.keys)})')
        else:
            described.append(f'"{state.name}" (no keys)')
    yield (
        f'no pull secret from {secrets.describe()} has credentials for "{image_name}": '
        + ", ".join(described)
    )


# Hosts people write for Docker Hub that the kubelet's keyring never applies to Hub images.
_HUB_LOOKALIKES = frozenset({"registry-1.docker.io", "hub.docker.com", "registry.hub.docker.com"})


def _meant_for(key: str, ref: Reference) -> bool:
    """Whether `key` was evidently written for the image's registry but misses it on port,
    letter case or glob (not on path: a key scoped to one organisation is deliberate)."""
    entry = normalize_key(key)
    if entry is None:
        return False
    host, port = split_domain(entry.partition("/")[0])
    if ref.is_docker_hub and host.lower() in _HUB_LOOKALIKES:
        return True
    if host.startswith("*.") and host[2:].lower() == ref.host.lower():
        return True
    return host.lower() == ref.host.lower() and (port != ref.port or host != ref.host)
