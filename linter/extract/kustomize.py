"""kustomize `images:` entries: where they are read (the extractors imglint.extract lists).

- kustomization files (`kustomization.yaml`, `kustomization.yml`, `Kustomization`) of kind
  `Kustomization` or `Component` of `kustomize.config.k8s.io`, or without a kind: `images:`
  (and the deprecated `imageTags:`, applied after them);
- Flux's `Kustomization` (`kustomize.toolkit.fluxcd.io`): `spec.images`, the same mappings;
- Argo CD's `Application` `spec.source.kustomize.images` and `spec.sources[].kustomize.images`,
  and an `ApplicationSet`'s `spec.template.spec.source(s)`: strings that Argo CD passes to
  `kustomize edit set image` (`[NAME=]NEWNAME[:TAG][@DIGEST]`).

`imglint.extract` declares these extractors (the files and kinds they read) and imports this
module when one of them is first met; the work is in imglint.extract.kustomize_entries (sites)
and imglint.kustomize_sites (settled against the bases once every file is read), imported only
when a file holds entries: a run over plain manifests pays for neither at start-up.
"""

from __future__ import annotations

from yaml.nodes import Node

# (declared beside the file extractors, which tell a kustomization by its name without this
# module; re-exported for the kustomize readers)
from imglint.extract import KUSTOMIZATION_FILE_NAMES, is_kustomization_path
from imglint.extract.sink import FoundObject, Sink

__all__ = [
    "KUSTOMIZATION_FILE_NAMES",
    "argo_images",
    "flux_images",
    "is_kustomization_path",
    "kustomization_images",
]


def kustomization_images(document: Node, sink: Sink) -> None:
    from imglint.extract.kustomize_entries import extract_kustomization

    extract_kustomization(document, sink)


def flux_images(found: FoundObject, sink: Sink) -> None:
    from imglint.extract.kustomize_entries import extract_flux

    extract_flux(found, sink)


def argo_images(found: FoundObject, sink: Sink) -> None:
    from imglint.extract.kustomize_entries import extract_argo

    extract_argo(found, sink)
