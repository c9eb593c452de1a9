"""The container's image pull policy is not `Always` (opt-in).

## What it does
Reports containers whose effective `imagePullPolicy` is not `Always`: written as
`IfNotPresent` or `Never`, or left out for an image with a version tag or a digest (Kubernetes
then defaults it to `IfNotPresent`; it defaults to `Always` only for `:latest` or no tag).
Only sites where the pull policy is part of the object are checked (containers of pods, pod
templates and the custom resources that carry one); a kustomize `images:` entry or a Helm
values entry is not.

Opt-in, for teams moving from Polaris, kube-score or Checkov, which report this by default.

## Why is this bad?
With `IfNotPresent`, a node that already holds an image under a tag runs that copy, even when
the tag has since been pushed again: nodes can disagree about what a tag means, and an image
that should no longer be reachable (its pull secret was revoked) still starts.

Usually, pin a digest and keep `IfNotPresent` instead: a digest names exactly one image, so
every node runs the same bytes, `Always` would only add a registry round trip (and a registry
outage then stops pods from starting), and `pinned-image` (IMG005) with `imglint --pin` gets you
there. Turn this rule on when policy requires `Always` regardless.

## Example
```yaml
containers:
  - name: web
    image: nginx:1.27.2
    imagePullPolicy: IfNotPresent
```

## Use instead
```yaml
containers:
  - name: web
    image: nginx:1.27.2
    imagePullPolicy: Always
```
"""

from __future__ import annotations

from collections.abc import Iterator

from imglint.context import Context
from imglint.sites import ImageSite


def check(site: ImageSite, ctx: Context) -> Iterator[str]:
    ref = site.reference
    if ref is None or site.origin in ("kustomize", "helm-values"):
        return
    policy = site.pull_policy
    if policy is None:
        if site.origin != "pod":
            return  # the extractor does not say whether the resource has a pull policy
        if ref.digest is None and ref.tag in (None, "latest"):
            return  # Kubernetes defaults it to Always
        yield (
            f'image "{site.image}" has no imagePullPolicy, so Kubernetes uses IfNotPresent: '
            "set imagePullPolicy: Always"
        )
    elif policy != "Always":
        yield f'image "{site.image}" has imagePullPolicy {policy}: set imagePullPolicy: Always'
