"""Finding images: the extractors, listed explicitly (no import-time discovery).

Reading text into positioned documents and objects is `imglint.documents`'s; this package says
where the images are. `imglint.manifests.load` runs it per file:

1. file extractors whose `accepts(source)` is true get every document of the file (a
   kustomization's `images:`, a Helm values file), whether or not it is a Kubernetes object;
2. every Kubernetes object of the file (Lists flattened) is searched, unless `never_searched`
   says it must not be (policies, built-in data kinds): the object extractors listed for its
   (API group, kind) first, in list order, then the generic pod-spec walker (`pods`), which
   skips every node an earlier extractor claimed.

An extractor emits sites through the file's `Sink` (`imglint.extract.sink`): `scalar_site` for
one image scalar, `add` for a site it assembled itself; `claim(node)` keeps the pod-spec walker
out of a subtree it owns (`take_items(list_node)` gives out a list's mappings, claiming each).
To add one, write a module with its `extract` and declare it in OBJECT_EXTRACTORS below, with
the kinds it reads (the module is imported when an object of one of them is first met, so a run
loads only the extractors its files need, and the document filter knows the kinds without it):

    # linter/extract/tekton.py
    from yaml.nodes import MappingNode
    from imglint.documents import mapping_keys
    from imglint.extract.sink import FoundObject, Sink
    from imglint.sites import PullSecretHolder

    def extract(found: FoundObject, sink: Sink) -> None:
        spec = found.keys.get("spec")           # keys: documents.mapping_keys(node)
        holder = PullSecretHolder(found.obj, [], None, found.obj.line, known=False)
        steps = mapping_keys(spec).get("steps") if isinstance(spec, MappingNode) else None
        for index, step, keys in sink.take_items(steps):   # each step claimed as it is taken
            if "image" in keys:
                sink.scalar_site(keys["image"], holder, field="steps", origin="resource-field",
                                 field_path=f"spec.steps[{index}].image",
                                 label=f"Task {found.obj.name}, step {index}", key=...)

    # below, in OBJECT_EXTRACTORS
    ObjectExtractor("tekton", kinds_of("tekton.dev", "Task"), Deferred("tekton")),

A file extractor is the same with `FileExtractor(name, accepts, extract)`, where `accepts`
takes the Source and `extract(document_node, sink)` each document. A site that is not one
scalar sets `ImageSite.components` (where a finding about its tag, digest... goes) and
`ImageSite.rewrite` (the scalars --fix/--pin change): see `imglint.sites`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

from imglint.document_filter import DocumentFilter, DocumentHead

# pods runs on every object.
from imglint.extract import pods
from imglint.extract.sink import FileExtractor, FoundObject, ObjectExtractor, Sink
from imglint.image_fields import ResourceSettings
from imglint.pull_secrets import INDEXED_KINDS
from imglint.sites import K8sObject
from imglint.sources import Source

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from typing import Any


class Deferred:
    """A function of an extractor module (`imglint.extract.<module>`, `extract` unless named),
    imported the first time an object or file the extractor reads is met."""

    __slots__ = ("function", "loaded", "module")

    def __init__(self, module: str, function: str = "extract") -> None:
        self.module = f"imglint.extract.{module}"
        self.function = function
        self.loaded: Callable[..., None] | None = None

    def __call__(self, *arguments: Any) -> None:
        if self.loaded is None:
            __import__(self.module)
            self.loaded = getattr(sys.modules[self.module], self.function)
        self.loaded(*arguments)


def kinds_of(group: str, *kinds: str) -> frozenset[tuple[str, str]]:
    return frozenset((group, kind) for kind in kinds)


# The files the file extractors below read, by name (their modules, `kustomize` and `helm`,
# load when such a file is met: most runs meet none).
KUSTOMIZATION_FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
HELM_VALUES_FILE_NAMES = ("values.yaml", "values.yml")
HELM_CHART_FILE = "Chart.yaml"


def is_kustomization_path(path: str) -> bool:
    # (Asked of every file several times: the ending, in C, tells nearly all of them.)
    return path.endswith(KUSTOMIZATION_FILE_NAMES) and (
        os.path.basename(path) in KUSTOMIZATION_FILE_NAMES
    )


def is_values_file(source: Source) -> bool:
    """A chart's own values file: `values.yaml` (or `.yml`) with a Chart.yaml beside it."""
    if source.file_path is None:
        return False  # stdin is rendered output, not values
    path = source.path
    if not path.endswith(HELM_VALUES_FILE_NAMES) or (
        os.path.basename(path) not in HELM_VALUES_FILE_NAMES
    ):
        return False
    folder = os.path.dirname(os.path.abspath(source.file_path))
    return os.path.isfile(os.path.join(folder, HELM_CHART_FILE))


# Extractors for particular (group, kind) pairs, in the order they run on an object.
OBJECT_EXTRACTORS: tuple[ObjectExtractor, ...] = (
    ObjectExtractor(
        "Flux Kustomization images",
        kinds_of("kustomize.toolkit.fluxcd.io", "Kustomization"),
        Deferred("kustomize", "flux_images"),
    ),
    ObjectExtractor(
        "Argo CD kustomize images",
        kinds_of("argoproj.io", "Application", "ApplicationSet"),
        Deferred("kustomize", "argo_images"),
    ),
    ObjectExtractor(
        "Flux HelmRelease values",
        kinds_of("helm.toolkit.fluxcd.io", "HelmRelease"),
        Deferred("helm", "flux_values"),
    ),
    ObjectExtractor(
        "Argo CD Helm values",
        kinds_of("argoproj.io", "Application"),
        Deferred("helm", "argo_values"),
    ),
    ObjectExtractor(
        "tekton",
        kinds_of(
            "tekton.dev", "Task", "ClusterTask", "TaskRun", "Pipeline", "PipelineRun", "StepAction"
        ),
        Deferred("tekton"),
    ),
    ObjectExtractor(
        "argo-workflows",
        kinds_of(
            "argoproj.io", "Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"
        ),
        Deferred("argo"),
    ),
    ObjectExtractor(
        "kubevirt",
        kinds_of(
            "kubevirt.io",
            "VirtualMachineInstance",
            "VirtualMachine",
            "VirtualMachineInstanceReplicaSet",
        )
        | kinds_of("pool.kubevirt.io", "VirtualMachinePool"),
        Deferred("kubevirt"),
    ),
    ObjectExtractor(
        "crossplane",
        kinds_of("pkg.crossplane.io", "Provider", "Function", "Configuration", "ControllerConfig"),
        Deferred("crossplane"),
    ),
    ObjectExtractor(
        "prometheus-operator",
        kinds_of(
            "monitoring.coreos.com", "Prometheus", "PrometheusAgent", "Alertmanager", "ThanosRuler"
        ),
        Deferred("prometheus"),
    ),
)
# Runs on every searched object, after the extractors above.
GENERIC_EXTRACTOR: ObjectExtractor = pods.EXTRACTOR
# Extractors for files by name or role, in the order they run on a file.
FILE_EXTRACTORS: tuple[FileExtractor, ...] = (
    FileExtractor(
        "kustomization images",
        lambda source: is_kustomization_path(source.path),
        Deferred("kustomize", "kustomization_images"),
    ),
    FileExtractor(
        "Helm values files",
        is_values_file,
        Deferred("helm", "values_file"),
        template_actions_are_data=True,
        selected_by="helm-values",
    ),
    FileExtractor(
        "kustomize helmCharts values",
        lambda source: is_kustomization_path(source.path),
        Deferred("helm", "kustomization_values"),
    ),
)

# Objects never searched for images. Policies hold `containers:` lists whose images are
# patterns, not workloads: every kind of these groups, and these (group, kind) pairs.
NEVER_SEARCHED_GROUPS: frozenset[str] = frozenset(
    {
        "kyverno.io",  # ClusterPolicy, Policy, PolicyException, CleanupPolicy...
        "policies.kyverno.io",  # ValidatingPolicy, ImageValidatingPolicy, MutatingPolicy...
        "templates.gatekeeper.sh",  # ConstraintTemplate
        "constraints.gatekeeper.sh",  # constraints: their kinds are the templates' own
    }
)
NEVER_SEARCHED_KINDS: frozenset[tuple[str, str]] = frozenset()
# Built-in kinds that never hold a pod spec but can be huge (schemas, data): not searched. Only
# when built in: a Knative `serving.knative.dev/v1` Service does hold one.
BUILTIN_DATA_KINDS = frozenset(
    {
        "CustomResourceDefinition",
        "ConfigMap",
        "Secret",
        "Service",
        "ServiceAccount",
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "Namespace",
        "Ingress",
        "NetworkPolicy",
        "PersistentVolumeClaim",
        "PersistentVolume",
        "StorageClass",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    }
)


def by_kind(
    extractors: tuple[ObjectExtractor, ...],
) -> dict[tuple[str, str], tuple[ObjectExtractor, ...]]:
    """The extractors of each (group, kind) pair, in list order."""
    table: dict[tuple[str, str], tuple[ObjectExtractor, ...]] = {}
    for extractor in extractors:
        for pair in extractor.kinds or ():
            table[pair] = (*table.get(pair, ()), extractor)
    return table


EXTRACTORS_BY_KIND = by_kind(OBJECT_EXTRACTORS)


def is_builtin(group: str) -> bool:
    """Whether an API group is Kubernetes' own (the core group "" or `*.k8s.io`)."""
    return not group or group.endswith(".k8s.io")


def never_searched(obj: K8sObject) -> bool:
    return _never_searched(obj.group, obj.kind)


def _never_searched(group: str, kind: str) -> bool:
    if kind in BUILTIN_DATA_KINDS and is_builtin(group):
        return True
    return group in NEVER_SEARCHED_GROUPS or (group, kind) in NEVER_SEARCHED_KINDS


def document_filter(
    settings: ResourceSettings | None = None,
    object_extractors: tuple[ObjectExtractor, ...] | None = None,
) -> DocumentFilter:
    """Which documents of a file that no file extractor reads must be composed, derived from
    what reading an object does (never a list of its own, so a new extractor cannot fall
    through): a List (its items are objects), a kind the object index records
    (`imglint.pull_secrets.INDEXED_KINDS`), and, unless `never_searched`, a (group, kind) an
    object extractor is listed for, an `image-fields` entry's kind, or an object holding a key
    the every-object extractors (the pod-spec walker) find images under; with -v, a kind no
    extractor knows that holds a key the survey looks at (`fields.SURVEY_KEY_NAMES`).
    `object_extractors`: OBJECT_EXTRACTORS unless given (tests register toy ones).
    """
    settings = settings or ResourceSettings()
    extractors = OBJECT_EXTRACTORS if object_extractors is None else object_extractors
    table = EXTRACTORS_BY_KIND if object_extractors is None else by_kind(object_extractors)
    every_object = [e for e in (*extractors, GENERIC_EXTRACTOR) if e.kinds is None]
    read_every_object = any(e.key_names is None for e in every_object)
    object_keys = frozenset().union(*(e.key_names or () for e in every_object))
    named = settings.image_fields
    survey = settings.survey
    survey_keys: frozenset[str] = frozenset()
    if survey:  # (the survey's module loads only for -v)
        from imglint.extract.fields import SURVEY_KEY_NAMES as survey_keys

    def wants(head: DocumentHead) -> bool:
        kind, group = head.kind, head.group
        if kind.endswith("List") or kind in INDEXED_KINDS:
            return True
        if _never_searched(group, kind):
            return False
        if (group, kind) in table or (group, "*") in table:
            return True
        if read_every_object or not object_keys.isdisjoint(head.key_names):
            return True
        if any(entry.matches(group, head.api_version, kind) for entry in named):
            return True
        return survey and not is_builtin(group) and not survey_keys.isdisjoint(head.key_names)

    return DocumentFilter(wants, object_keys | survey_keys)


def extract_object(found: FoundObject, sink: Sink) -> None:
    """Search one object with its extractors, then the generic pod-spec walker."""
    obj = found.obj
    if never_searched(obj):
        return
    sink.start_object()
    group = obj.group
    table = EXTRACTORS_BY_KIND
    known = table.get((group, obj.kind), ()) + table.get((group, "*"), ())
    for extractor in known:
        extractor.extract(found, sink)
    GENERIC_EXTRACTOR.extract(found, sink)
    named = sink.settings.image_fields
    if named:
        from imglint.extract import fields  # (loaded only when image-fields are configured)

        fields.extract(found, sink, named)
    if (
        sink.settings.survey
        and not known
        and not is_builtin(group)
        and not any(f.matches(group, obj.api_version, obj.kind) for f in named)
    ):
        from imglint.extract import fields  # (or for -v's survey)

        sink.verbose_notes.extend(fields.survey(found, sink))
    sink.finish_object(found.node)


def file_extractors_for(
    source: Source, selections: Mapping[str, Callable[[str], bool]] | None = None
) -> list[FileExtractor]:
    """The file extractors that read this source's documents: those that accept it, and those
    whose configuration key (`selected_by`) selects its file (`selections`: key -> the
    configuration's path test for it)."""
    found: list[FileExtractor] = []
    for extractor in FILE_EXTRACTORS:
        if extractor.accepts(source):
            found.append(extractor)
        elif selections and extractor.selected_by is not None and source.file_path is not None:
            selects = selections.get(extractor.selected_by)
            if selects is not None and selects(source.file_path):
                found.append(extractor)
    return found


__all__ = [
    "FILE_EXTRACTORS",
    "OBJECT_EXTRACTORS",
    "FileExtractor",
    "FoundObject",
    "ObjectExtractor",
    "Sink",
    "document_filter",
    "extract_object",
    "file_extractors_for",
    "never_searched",
]
