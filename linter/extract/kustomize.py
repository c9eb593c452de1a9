"""kustomize `images:` entries: where they are read (the extractors imglint.extract lists).

- kustomization files (`kustomization.yaml`, `kustomization.yml`, `Kustomization`) of kind
  `Kustomization` or `Component` of `kustomize.config.k8s.io`, or without a kind: `images:`
  (and the deprecated `imageTags:`, applied after them);
- Flux's `Kustomization` (`kustomize.toolkit.fluxcd.io`): `spec.images`, the same mappings;
- Argo CD's `Application` `spec.source.kustomize.images` and `spec.sources[].kustomize.images`,
  and an `ApplicationSet`'s `spec.template.spec.source(s)`: strings that Argo CD passes to
  `kustomize edit set image` (`[NAME=]NEWNAME[:TAG][@DIGEST]`).

The work is in imglint.extract.kustomize_entries (sites) and imglint.kustomize_sites (settled
against the bases once every file is read), imported only when a file holds entries: a run
over plain manifests does not pay for them at start-up.
"""

from __future__ import annotations

import os

from yaml.nodes import Node

from imglint.extract.sink import FileExtractor, FoundObject, ObjectExtractor, Sink

KUSTOMIZATION_FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
FLUX_GROUP = "kustomize.toolkit.fluxcd.io"
ARGO_GROUP = "argoproj.io"


def is_kustomization_path(path: str) -> bool:
    return os.path.basename(path) in KUSTOMIZATION_FILE_NAMES


def _kustomization(document: Node, sink: Sink) -> None:
    from imglint.extract.kustomize_entries import extract_kustomization

    extract_kustomization(document, sink)


def _flux(found: FoundObject, sink: Sink) -> None:
    from imglint.extract.kustomize_entries import extract_flux

    extract_flux(found, sink)


def _argo(found: FoundObject, sink: Sink) -> None:
    from imglint.extract.kustomize_entries import extract_argo

    extract_argo(found, sink)


KUSTOMIZATION_FILES = FileExtractor(
    "kustomization images", lambda source: is_kustomization_path(source.path), _kustomization
)
FLUX = ObjectExtractor(
    "Flux Kustomization images", frozenset({(FLUX_GROUP, "Kustomization")}), _flux
)
ARGO = ObjectExtractor(
    "Argo CD kustomize images",
    frozenset({(ARGO_GROUP, "Application"), (ARGO_GROUP, "ApplicationSet")}),
    _argo,
)
