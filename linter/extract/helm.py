"""Helm values: where they are read (the extractors imglint.extract lists).

- a chart's own values file: `values.yaml` (or `values.yml`) with a `Chart.yaml` beside it, and
  the files the `helm-values` configuration globs name (an environment's values, in a chart or
  kept elsewhere);
- Flux `HelmRelease` (`helm.toolkit.fluxcd.io`) `spec.values`;
- Argo CD `Application` (`argoproj.io`) `spec.source(s)[].helm.valuesObject` and `.values`;
- kustomize `helmCharts[].valuesInline` in kustomization files.

The work is in imglint.extract.helm_values (and the model, imglint.helm_values), imported only
when a file holds values: a run over plain manifests does not pay for it at start-up.
"""

from __future__ import annotations

import os

from yaml.nodes import MappingNode, Node, ScalarNode

from imglint.extract.sink import FileExtractor, FoundObject, ObjectExtractor, Sink
from imglint.sources import Source

VALUES_FILE_NAMES = ("values.yaml", "values.yml")
CHART_FILE = "Chart.yaml"
KUSTOMIZATION_FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def is_values_file(source: Source) -> bool:
    """A chart's own values file: `values.yaml` (or `.yml`) with a Chart.yaml beside it."""
    if source.file_path is None:
        return False  # stdin is rendered output, not values
    if os.path.basename(source.path) not in VALUES_FILE_NAMES:
        return False
    folder = os.path.dirname(os.path.abspath(source.file_path))
    return os.path.isfile(os.path.join(folder, CHART_FILE))


def _has_key(node: Node, key: str) -> bool:
    return isinstance(node, MappingNode) and any(
        isinstance(k, ScalarNode) and k.value == key for k, _v in node.value
    )


def _values_file(document: Node, sink: Sink) -> None:
    from imglint.extract.helm_values import extract_values_file

    extract_values_file(document, sink)


def _kustomization(document: Node, sink: Sink) -> None:
    if _has_key(document, "helmCharts"):
        from imglint.extract.helm_values import extract_kustomization

        extract_kustomization(document, sink)


def _flux(found: FoundObject, sink: Sink) -> None:
    if _has_key(found.keys.get("spec") or found.node, "values"):
        from imglint.extract.helm_values import extract_flux

        extract_flux(found, sink)


def _argo(found: FoundObject, sink: Sink) -> None:
    from imglint.extract.helm_values import extract_argo

    extract_argo(found, sink)


VALUES_FILES = FileExtractor(
    "Helm values files",
    is_values_file,
    _values_file,
    template_actions_are_data=True,
    selected_by="helm-values",
)
KUSTOMIZE_HELM_CHARTS = FileExtractor(
    "kustomize helmCharts values",
    lambda source: os.path.basename(source.path) in KUSTOMIZATION_FILE_NAMES,
    _kustomization,
)
FLUX_VALUES = ObjectExtractor(
    "Flux HelmRelease values", frozenset({("helm.toolkit.fluxcd.io", "HelmRelease")}), _flux
)
ARGO_VALUES = ObjectExtractor(
    "Argo CD Helm values", frozenset({("argoproj.io", "Application")}), _argo
)
