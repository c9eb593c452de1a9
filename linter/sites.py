"""Image sites: where an image reference is written, in which object, pulled with which secrets.

The types every layer shares (the reader and the extractors make them; rules, the engine,
reports, the fixer, Helm remapping and baselines read them). This module imports no reader and
no YAML library, so a rule importing it costs nothing at start-up.

- `K8sObject`: the object a site belongs to (kind, group, name, namespace, annotations, where).
  A file that is not a Kubernetes object (a kustomization without `kind`, a Helm values file)
  gets one that describes the file, so every site has an object to name in findings.
- `PullSecretHolder`: where the kubelet takes the image's pull secrets from (a pod spec's
  `imagePullSecrets` and ServiceAccount, a TaskRun's pod template, a Provider's
  `packagePullSecrets`...). A site whose pull secrets the file cannot tell (a kustomization
  `images:` entry, a Helm value: the pod is elsewhere) has a holder with `known=False`, which
  the pull-secret rules treat as "not in the linted files": they never guess.
- `ImageSite`: one image reference as written. Pod sites (`origin="pod"`) are one scalar; other
  sites may be assembled from several scalars (Helm's `repository` + `tag`): `components` then
  places each part (`registry`, `repository`, `tag`, `digest`) so that a finding lands on the
  key it concerns (a rule module declares `CONCERNS = "tag"`; see `ImageSite.span_for`), and
  `rewrite` tells the fixer which scalars to change (see `Rewrite`).
- `NodePlacement`: the platforms a pod's nodeSelector and required node affinity allow (on the
  holder of a pod spec), for the platform check.
- `SiteIdentity` / `ImageSite.identity`: what baselines and SARIF fingerprints match a finding
  by, never its line. For pod sites it is (kind, namespace, object name, container name), as in
  every baseline and alert written so far.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from imglint import records
from imglint.findings import EMPTY, Span
from imglint.lazy_pattern import LazyPattern
from imglint.records import dataclass
from imglint.reference import InvalidReference, Reference, parse, parse_with_default_registry

# typing itself is not imported at run time: it is a large module the start-up path can skip.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    from imglint.sources import Source

    # Where a site was found: a pod spec (the generic walker), a field of a custom resource
    # (`spec.steps[].image`), a kustomization `images:` entry, a Helm values declaration.
    Origin = Literal["pod", "resource-field", "kustomize", "helm-values"]
    # The parts of a reference a site may place separately, and a rule may concern.
    Component = Literal["registry", "repository", "tag", "digest"]

# Where a finding about a component goes when the site does not place that component: an
# implicit-registry finding on `repository:` when there is no `registry:` key, a registry
# answer about the digest on `tag:` when the digest is not written separately.
# The list item of a pod-spec image's field path: `containers[1]` in `spec.containers[1].image`.
_POD_LIST_ITEM = LazyPattern(r"([A-Za-z]+\[\d+\])\.image(?:\.reference)?$")

_FALLBACKS: dict[str, tuple[str, ...]] = {
    "registry": ("registry", "repository"),
    "repository": ("repository",),
    "tag": ("tag",),
    "digest": ("digest", "tag"),
}


@dataclass(slots=True)
class K8sObject:
    kind: str
    api_version: str
    name: str | None
    namespace: str | None
    # (objects without annotations, most of them, share findings.EMPTY: 64 bytes each less)
    annotations: Mapping[str, str]
    path: str  # displayed path of the file it came from
    line: int  # line of the object's first key (1-based)
    generate_name: str | None = None  # metadata.generateName (a name the API server completes)

    @property
    def group(self) -> str:
        """The API group: `apps` for `apps/v1`, `tekton.dev` for `tekton.dev/v1`, "" for `v1`."""
        return self.api_version.rpartition("/")[0]

    @property
    def display_name(self) -> str | None:
        """The name, or for an object named by the API server `hello-world-*` (its
        generateName and a star): what findings, listings and identities call it."""
        if self.name is not None:
            return self.name
        if self.generate_name is not None:
            return f"{self.generate_name}*"
        return None


@dataclass(frozen=True, slots=True)
class PlatformTerm:
    """One way a pod may be placed, as far as the nodes' `kubernetes.io/os` and
    `kubernetes.io/arch` labels go: values allowed (`None`: any) and values excluded."""

    os_in: tuple[str, ...] | None = None
    os_not_in: tuple[str, ...] = ()
    arch_in: tuple[str, ...] | None = None
    arch_not_in: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NodePlacement:
    """The nodes a pod may run on, by platform: its `nodeSelector` and required node affinity
    on `kubernetes.io/os` / `kubernetes.io/arch`. The pod may land on a node matching any term
    (node selector terms are ORed; the nodeSelector is folded into each), so an image must
    offer every platform the terms allow. `imglint.placement` turns it into platforms."""

    terms: tuple[PlatformTerm, ...]
    source: str  # what said so, for messages: "nodeSelector kubernetes.io/arch: arm64"


# The lines of every file that can hold no suppression comment (no `imglint` in it): one empty
# list shared by all their sites and objects, never changed (suppressions look a file's lines
# up by their identity only when there are some).
NO_LINES: list[str] = []


@dataclass(slots=True)
class PullSecretHolder:
    """Where the kubelet takes the pull secrets for a site's image from.

    For a pod spec: its `imagePullSecrets`, else its ServiceAccount's (`default` when unnamed).
    """

    obj: K8sObject
    image_pull_secrets: Sequence[str]  # secret names listed for the image (a tuple, mostly ())
    service_account: str | None  # spec.serviceAccountName (or the deprecated serviceAccount)
    line: int
    # False: the listed names are all there is (Crossplane's packagePullSecrets, KubeVirt's
    # containerDisk.imagePullSecret); no ServiceAccount adds any.
    service_account_applies: bool = True
    # False: the file does not say which pod pulls the image (a kustomization entry, a Helm
    # value), so nothing is known about its pull secrets.
    known: bool = True
    # The pod's own platform demands (nodeSelector, required node affinity); None: it has none,
    # or the holder is not a pod spec, and the configured `platforms` apply.
    placement: NodePlacement | None = None

    # (one slot for these: most holders leave them at their defaults; see imglint.records)
    __seldom__ = ("service_account_applies", "known", "placement")


@dataclass(frozen=True, slots=True)
class SiteIdentity:
    """What a finding is about, without its line: baselines and SARIF fingerprints key on it."""

    kind: str | None
    namespace: str | None
    object: str | None
    part: str | None  # pod sites: the container (or volume) name; others: see ImageSite.key


@dataclass(frozen=True)
class ValueChange:
    """One scalar of the site's file to set to `value` (its span locates the scalar token).

    With `new_key`, a key to add instead: `new_key: value` becomes the last entry of the
    mapping whose node `span` locates (a kustomize entry gains `digest:`).
    """

    span: Span
    value: str
    new_key: str | None = None


class CannotRewrite(Exception):
    """A site's rewrite hook cannot write the new reference (the message says why)."""


# The fixer's hook for a site that is not one scalar: given the site and the whole new
# reference the fixer wants it to hold (`docker.io/library/nginx:1.25@sha256:...`), the scalars
# to change. Raise CannotRewrite to leave the site as it is with a reason. Every change is a
# span replacement checked like any other (the file must read back the same except for them).
Rewrite = Callable[["ImageSite", str], Sequence[ValueChange]]


@dataclass(slots=True)
class ImageSite:
    """One image reference as written in a file, and what the rules need to know about it.

    Pod sites: `containers[].image`, `initContainers[].image`, `ephemeralContainers[].image` or
    `volumes[].image.reference` of a pod spec found anywhere in an object.
    """

    path: str
    span: Span  # the whole declaration: the scalar of a pod site
    image: str  # exactly as written (the scalar's value), or as assembled from its components
    holder: PullSecretHolder  # where the image's pull secrets come from
    container: str | None  # container (or volume) name
    field: str  # pod sites: "containers", "initContainers", "ephemeralContainers" or "volumes"
    pull_policy: str | None  # imagePullPolicy / volumes[].image.pullPolicy as written
    reference: Reference | None = None
    error: str | None = None  # why the reference is invalid, in the runtime's words
    placeholder: str | None = None  # set when the value is a template/variable, not a reference
    # Lines of the source text, for suppression comments; shared by all sites of a file (none
    # kept for a file without the word `imglint`, which can hold no suppression comment).
    source_lines: list[str] = records.field(default=NO_LINES, repr=False, compare=False)
    # The file it was read from, for --fix (which keeps every text) and for settling kustomize
    # and Helm values entries; None for the other sites of a run without --fix, which keeps
    # their files packed instead (`parallel.read_one`), and for sites not read from a source.
    source: Source | None = records.field(default=None, repr=False, compare=False)
    origin: Origin = "pod"
    # The path inside the object (or file): `spec.template.spec.containers[0].image`.
    field_path: str = ""
    # Human words for findings and listings ("Task build, step compile"); None: worded from the
    # object and container as for pods.
    label: str | None = None
    # The site's name inside its object for identity when it is not a pod site (for example
    # `step compile`); None: the field path.
    key: str | None = None
    # Where each written part of the reference sits, for sites assembled from several scalars.
    components: Mapping[str, Span] = records.field(default=EMPTY, repr=False)
    # The registry a reference without one is pulled from (Crossplane packages); None: Docker Hub.
    default_registry: str | None = None
    # None: --fix/--pin replace `span` with the new reference (one scalar).
    rewrite: Rewrite | None = records.field(default=None, repr=False, compare=False)
    # A kustomize `images:` entry that matches no image of the bases it builds on: what to say
    # about it (IMG015). None for every other site.
    unmatched: str | None = None
    # A placeholder that is exactly a parameter whose value the file gives (a default, a bound
    # value): where that value is written, checked as a site of its own. None for the others.
    value_checked_at: Span | None = None

    # One slot for the fields most sites leave at their defaults (see imglint.records): a run
    # keeps every site, and eleven slots of None were 88 bytes a site.
    __seldom__ = (
        "error",
        "placeholder",
        "source_lines",
        "origin",
        "label",
        "key",
        "components",
        "default_registry",
        "rewrite",
        "unmatched",
        "value_checked_at",
    )

    @property
    def unchecked_placeholder(self) -> bool:
        """A placeholder no rule checks, neither itself nor the value it stands for (the
        summary's "N images are placeholders, not checked")."""
        return (
            self.placeholder is not None
            and self.unmatched is None
            and (self.value_checked_at is None)
        )

    @property
    def obj(self) -> K8sObject:
        return self.holder.obj

    @property
    def identity(self) -> SiteIdentity:
        """The site's identity for baselines and fingerprints (unchanged for pod sites)."""
        obj = self.holder.obj
        part = self.container if self.origin == "pod" else (self.key or self.field_path)
        # Named objects keep the name (every baseline and alert written so far); an object
        # with only generateName is `hello-world-*`, which tells it apart from its neighbours.
        return SiteIdentity(obj.kind, obj.namespace, obj.display_name, part)

    @property
    def unnamed_container(self) -> str | None:
        """`containers[1]` for a pod-spec image whose container has no name (else None): what
        shows which container it is, since the identity cannot (a baseline keys it blank)."""
        if self.origin != "pod" or self.container is not None:
            return None
        found = _POD_LIST_ITEM.search(self.field_path)
        return found.group(1) if found else None

    def span_for(self, component: str | None) -> Span:
        """Where a finding about `component` goes: that part's own key when the site places it
        (falling back as _FALLBACKS says), else the whole site."""
        if component is not None and self.components:
            for name in _FALLBACKS.get(component, (component,)):
                found = self.components.get(name)
                if found is not None:
                    return found
        return self.span


def parse_image(site: ImageSite) -> None:
    """Fill site.reference or site.error (parse is cached, so repeated images cost nothing)."""
    try:
        if site.default_registry is None:
            site.reference = parse(site.image)
        else:
            site.reference = parse_with_default_registry(site.image, site.default_registry)
    except InvalidReference as exc:
        site.error = exc.reason
