"""Crossplane (`pkg.crossplane.io`): the packages a cluster installs.

`spec.package` of a Provider, Function and Configuration is an OCI reference that Crossplane's
package manager pulls itself, not the kubelet. It does not default to Docker Hub: a package that
names no registry is pulled from Crossplane's default registry, `xpkg.crossplane.io` since
Crossplane 1.20 (`xpkg.upbound.io` before; a cluster may set its own with `--registry`), and
Crossplane 2 refuses such a package altogether. The registry used here is the configuration's
`crossplane-registry` (default `xpkg.crossplane.io`); normalization, `implicit-registry`,
`--fix`/`--pin` and `--resolve` all use it. Its pull secrets are `spec.packagePullSecrets`, and
no ServiceAccount adds any.

The deprecated ControllerConfig's `spec.image` (`pkg.crossplane.io/v1alpha1`, removed in
Crossplane 2) is a pod's image: Docker Hub is its default, its pull secrets are
`spec.imagePullSecrets` and its `spec.serviceAccountName`'s. A DeploymentRuntimeConfig's
pod template is found by the generic pod-spec walker. An ImageConfig's `matchImages[].prefix`
and `rewriteImage.prefix` are prefixes, not references: not read.
"""

from __future__ import annotations

from yaml.nodes import MappingNode

from imglint.documents import scalar_text
from imglint.extract.resources import ResourceSites, holder, keys_of
from imglint.extract.sink import FoundObject, Sink
from imglint.pull_secrets import reference_names

DEFAULT_REGISTRY = "xpkg.crossplane.io"


def extract(found: FoundObject, sink: Sink) -> None:
    spec = found.keys.get("spec")
    if not isinstance(spec, MappingNode):
        return
    keys = keys_of(spec)
    if found.obj.kind == "ControllerConfig":
        pull = holder(
            found.obj,
            spec,
            reference_names(keys.get("imagePullSecrets")),
            scalar_text(keys.get("serviceAccountName")),
        )
        ResourceSites(found, sink).image(
            keys.get("image"),
            pull,
            path="spec.image",
            part="image",
            field="image",
            pull_policy=keys.get("imagePullPolicy"),
        )
        return
    pull = holder(
        found.obj,
        spec,
        reference_names(keys.get("packagePullSecrets")),
        None,
        service_account_applies=False,
    )
    ResourceSites(found, sink, default_registry=sink.settings.crossplane_registry).image(
        keys.get("package"),
        pull,
        path="spec.package",
        part="package",
        field="package",
        pull_policy=keys.get("packagePullPolicy"),
    )
