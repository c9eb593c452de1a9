"""Helm values: where they are read (the extractors imglint.extract lists).

- a chart's own values file: `values.yaml` (or `values.yml`) with a `Chart.yaml` beside it, and
  the files the `helm-values` configuration globs name (an environment's values, in a chart or
  kept elsewhere);
- Flux `HelmRelease` (`helm.toolkit.fluxcd.io`) `spec.values`;
- Argo CD `Application` (`argoproj.io`) `spec.source(s)[].helm.valuesObject` and `.values`;
- kustomize `helmCharts[].valuesInline` in kustomization files.

`imglint.extract` declares these extractors (the files and kinds they read) and imports this
module when one of them is first met; the work is in imglint.extract.helm_values (and the model,
imglint.helm_values), imported only when a file holds values: a run over plain manifests pays
for neither at start-up.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode

from imglint.extract.sink import FoundObject, Sink


def _has_key(node: Node, key: str) -> bool:
    return isinstance(node, MappingNode) and any(
        isinstance(k, ScalarNode) and k.value == key for k, _v in node.value
    )


def values_file(document: Node, sink: Sink) -> None:
    from imglint.extract.helm_values import extract_values_file

    extract_values_file(document, sink)


def kustomization_values(document: Node, sink: Sink) -> None:
    if _has_key(document, "helmCharts"):
        from imglint.extract.helm_values import extract_kustomization

        extract_kustomization(document, sink)


def flux_values(found: FoundObject, sink: Sink) -> None:
    if _has_key(found.keys.get("spec") or found.node, "values"):
        from imglint.extract.helm_values import extract_flux

        extract_flux(found, sink)


def argo_values(found: FoundObject, sink: Sink) -> None:
    from imglint.extract.helm_values import extract_argo

    extract_argo(found, sink)
