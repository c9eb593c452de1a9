"""Kubernetes objects and the image sites inside them, read from YAML/JSON with positions.

Data flow: a Source's text is composed into YAML nodes (never constructed into Python objects, so
every scalar keeps its line and column); each document that is a Kubernetes object (has
`apiVersion` and `kind`) becomes a K8sObject; pod specs are found in it and every image scalar
becomes an ImageSite.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imglint.findings import Span
from imglint.reference import InvalidReference, Reference, parse


@dataclass
class K8sObject:
    kind: str
    api_version: str
    name: str | None
    namespace: str | None
    annotations: dict[str, str]
    path: str  # displayed path of the file it came from
    line: int  # line of the document/object start (1-based)
    data: dict[str, object] | None = None  # plain data, kept only for ServiceAccounts and Secrets


@dataclass
class PodSpec:
    """The parts of one pod spec that image rules need."""

    obj: K8sObject
    image_pull_secrets: list[str]  # secret names from spec.imagePullSecrets
    service_account: str | None  # spec.serviceAccountName (or deprecated serviceAccount)
    line: int


@dataclass
class ImageSite:
    """One image scalar: `containers[].image`, `initContainers[].image`,
    `ephemeralContainers[].image` or `volumes[].image.reference`."""

    path: str
    span: Span
    image: str  # exactly as written (the scalar's value)
    pod: PodSpec
    container: str | None  # container (or volume) name
    field: str  # "containers", "initContainers", "ephemeralContainers" or "volumes"
    pull_policy: str | None  # imagePullPolicy / volumes[].image.pullPolicy as written
    reference: Reference | None = None
    error: str | None = None  # why the reference is invalid, in the runtime's words
    # Lines of the source text, for suppression comments; shared by all sites of a file.
    source_lines: list[str] = field(default_factory=list, repr=False, compare=False)

    @property
    def obj(self) -> K8sObject:
        return self.pod.obj

    def parse_reference(self) -> None:
        try:
            self.reference = parse(self.image)
        except InvalidReference as exc:
            self.error = exc.reason
