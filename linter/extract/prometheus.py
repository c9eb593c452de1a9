"""The Prometheus operator (`monitoring.coreos.com`): the images its workloads run.

`spec.image` of a Prometheus, PrometheusAgent, Alertmanager and ThanosRuler, and
`spec.thanos.image` of a Prometheus (the Thanos sidecar), as the Go types of
prometheus-operator/prometheus-operator define them. Left unset, the operator picks its own
default image: nothing is written, nothing is linted. Their `spec.containers` and
`spec.initContainers` are pod-spec-like and found by the generic pod-spec walker.

Pull secrets: the resource's `spec.imagePullSecrets`, else those of its `spec.serviceAccountName`
(`default` when unset), as for the pod the operator makes.
"""

from __future__ import annotations

from yaml.nodes import MappingNode

from imglint.documents import scalar_text
from imglint.extract.resources import ResourceSites, holder, keys_of
from imglint.extract.sink import FoundObject, Sink
from imglint.pull_secrets import reference_names


def extract(found: FoundObject, sink: Sink) -> None:
    spec = found.keys.get("spec")
    if not isinstance(spec, MappingNode):
        return
    keys = keys_of(spec)
    pull = holder(
        found.obj,
        spec,
        reference_names(keys.get("imagePullSecrets")),
        scalar_text(keys.get("serviceAccountName")),
    )
    sites = ResourceSites(found, sink)
    policy = keys.get("imagePullPolicy")
    sites.image(
        keys.get("image"), pull, path="spec.image", part="image", field="image", pull_policy=policy
    )
    if found.obj.kind == "Prometheus":
        thanos = keys_of(keys.get("thanos"))
        sites.image(
            thanos.get("image"),
            pull,
            path="spec.thanos.image",
            part="Thanos sidecar",
            field="thanos",
            pull_policy=policy,
        )
