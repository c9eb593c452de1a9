"""What the custom-resource extractors share: walking a resource's own schema, emitting each
image field once, and following an image that is exactly a parameter reference to the value
that runs.

Every custom-resource extractor (`tekton`, `argo`, `kubevirt`, `crossplane`, `prometheus`, and
the `image-fields` of the configuration) reads the fields its resource's schema defines, by
name, and nothing else: a `withItems` entry with an `image:` key or a parameter called `IMAGE`
is not an image. It claims what it reads, so the generic pod-spec walker, which runs last, never
reports the same node again.

Parameters. Tekton and Argo Workflows substitute their own parameters into images
(`$(params.builder-image)`, `{{inputs.parameters.image}}`); such a value is a placeholder. Where
the image is *exactly* one parameter reference and the resource itself says what the parameter
holds (a value bound by the run, else the parameter's declared default), that value is the image
that runs unless the run is given another: it is linted where it is written, as a site of its
own whose label says which parameter it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from imglint.documents import STR_TAG, mapping_keys, scalar_text
from imglint.extract.sink import FoundObject, Sink, node_span
from imglint.placeholders import POD_IMAGE_SYNTAXES, Syntax, placeholder_kind
from imglint.records import dataclass
from imglint.sites import ImageSite, K8sObject, PullSecretHolder

TYPE_CHECKING = False  # (typing is not imported at run time: see imglint.sites)
if TYPE_CHECKING:
    from imglint.sites import Origin

ORIGIN: Origin = "resource-field"


def keys_of(node: Node | None) -> dict[str, Node]:
    """A mapping's string keys to value nodes; {} for anything else (absent, null, a list)."""
    return mapping_keys(node) if isinstance(node, MappingNode) else {}


def items_of(node: Node | None) -> Iterator[tuple[int, MappingNode]]:
    """The mappings of a list, with their index in it; nothing for anything else."""
    if isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            if isinstance(item, MappingNode):
                yield index, item


def object_words(obj: K8sObject) -> str:
    """`Task ci/kaniko` (as findings name pod objects: `namespace/name`), `TaskRun
    pull-private-image-*` (a generateName), `Provider` (no name at all)."""
    name = obj.name or (f"{obj.generate_name}*" if obj.generate_name else None)
    if name is None:
        return obj.kind
    return f"{obj.kind} {obj.namespace}/{name}" if obj.namespace else f"{obj.kind} {name}"


def holder(
    obj: K8sObject,
    node: Node,
    secrets: Sequence[str] = (),
    service_account: str | None = None,
    *,
    service_account_applies: bool = True,
    known: bool = True,
) -> PullSecretHolder:
    return PullSecretHolder(
        obj=obj,
        image_pull_secrets=tuple(secrets),
        service_account=service_account,
        line=node.start_mark.line + 1,
        service_account_applies=service_account_applies,
        known=known,
    )


def unknown_holder(obj: K8sObject, node: Node) -> PullSecretHolder:
    """For images whose pull secrets come from whatever runs the resource later (a Task's
    TaskRun): the pull-secret rules then say nothing rather than guess."""
    return holder(obj, node, known=False)


@dataclass(frozen=True)
class Declared:
    """A parameter's value or default node as written, and its path inside the object."""

    node: Node
    path: str


@dataclass(frozen=True)
class Parameters:
    """The parameters one level of a resource binds and declares (a TaskRun's `params` values
    and its task's declared defaults; an Argo template's inputs). `parent` is the level whose
    parameters propagate into this one (a PipelineRun's into its pipeline's inline tasks)."""

    values: Mapping[str, Declared]  # bound for the run (by the run, or by the caller)
    defaults: Mapping[str, Declared]  # declared defaults, used when nothing is bound
    parent: Parameters | None = None


NO_PARAMETERS = Parameters({}, {})


@dataclass(frozen=True)
class Resolved:
    """Where the image a parameter reference stands for is written."""

    name: str  # the parameter's name
    node: ScalarNode
    path: str
    how: str  # "default" or "value"


# Reads a value that is exactly one parameter reference, written at a level: the parameter's
# name and the level to look it up at (Argo's `{{workflow.parameters.x}}` reads the top level
# from anywhere), else None.
RefReader = Callable[[str, Parameters], tuple[str, Parameters] | None]


def resolve(name: str, params: Parameters, read_ref: RefReader) -> Resolved | None:
    """The value the parameter `name` holds at `params`' level, as the resource writes it.

    A value bound for the run wins over any default (Tekton: "the Parameter value provided at
    runtime would take precedence"); of several levels, the innermost wins. A value that is
    itself exactly a parameter reference is followed where it is written (a pipeline task's
    `value: $(params.image)` reads the pipeline's `image`). Anything else (no value anywhere,
    an array, more text around a reference) resolves to nothing.
    """
    return _resolve(name, params, read_ref, 0)


# Parameters that name each other in a loop must not hang the reader.
_MAX_HOPS = 8


def _resolve(name: str, params: Parameters, read_ref: RefReader, hops: int) -> Resolved | None:
    if hops > _MAX_HOPS:
        return None
    for table, how in (("values", "value"), ("defaults", "default")):
        level: Parameters | None = params
        while level is not None:
            declared = getattr(level, table).get(name)
            if declared is not None:
                # A bound value is written by the level above (the caller); a default by its own.
                written_at = level.parent if how == "value" else level
                return _follow(name, declared, how, written_at, read_ref, hops)
            level = level.parent
    return None


def _follow(
    name: str,
    declared: Declared,
    how: str,
    written_at: Parameters | None,
    read_ref: RefReader,
    hops: int,
) -> Resolved | None:
    node = declared.node
    if not isinstance(node, ScalarNode) or node.tag != STR_TAG:
        return None
    inner = read_ref(node.value, written_at or NO_PARAMETERS)
    if inner is None:
        return Resolved(name, node, declared.path, how)
    if written_at is None:
        return None
    return _resolve(inner[0], inner[1], read_ref, hops + 1)


class ResourceSites:
    """Emits the image sites of one object: each scalar once, claimed from the walker."""

    def __init__(
        self,
        found: FoundObject,
        sink: Sink,
        *,
        syntaxes: Sequence[Syntax] = POD_IMAGE_SYNTAXES,
        read_ref: RefReader | None = None,
        default_registry: str | None = None,
    ) -> None:
        self.found = found
        self.obj = found.obj
        self.sink = sink
        self.words = object_words(found.obj)
        self.syntaxes = tuple(syntaxes)
        self.read_ref = read_ref
        self.default_registry = default_registry
        self._done: set[int] = set()

    def claim(self, node: Node | None) -> None:
        if node is not None:
            self.sink.claim(node)

    def image(
        self,
        node: Node | None,
        holder: PullSecretHolder,
        *,
        path: str,
        part: str,
        field: str,
        name: str | None = None,
        pull_policy: Node | None = None,
        params: Parameters | None = None,
    ) -> ImageSite | None:
        """The site of one image field; `part` names it inside the object ("step compile").

        With `params`, an image that is exactly a parameter reference also adds the site of
        the value that parameter holds (see `resolve`)."""
        if node is None or id(node) in self._done:
            return None
        self._done.add(id(node))
        self.sink.claim(node)
        site = self.sink.scalar_site(
            node,
            holder,
            field=field,
            field_path=path,
            container=name,
            pull_policy=scalar_text(pull_policy),
            origin=ORIGIN,
            label=f"{self.words}, {part}",
            key=part,
            default_registry=self.default_registry,
            placeholders=self.syntaxes,
        )
        if site is not None and site.placeholder is not None and params is not None:
            self._parameter(site, holder, part, field, name, pull_policy, params)
        return site

    def image_volumes(
        self, node: Node | None, path: str, prefix: str, pull: PullSecretHolder
    ) -> None:
        """`volumes[].image.reference`: Kubernetes image volumes in a resource's own volume list
        (`prefix` words the resource's part: "template main, ")."""
        for index, volume in items_of(node):
            source = keys_of(keys_of(volume).get("image"))
            name = scalar_text(keys_of(volume).get("name"))
            self.image(
                source.get("reference"),
                pull,
                path=f"{path}[{index}].image.reference",
                part=f"{prefix}volume {name or f'#{index}'}",
                field="volumes",
                name=name,
                pull_policy=source.get("pullPolicy"),
            )

    def _parameter(
        self,
        site: ImageSite,
        holder: PullSecretHolder,
        part: str,
        field: str,
        name: str | None,
        pull_policy: Node | None,
        params: Parameters,
    ) -> None:
        if self.read_ref is None:
            return
        reference = self.read_ref(site.image, params)
        if reference is None:
            return
        found = resolve(reference[0], reference[1], self.read_ref)
        if found is None:
            return
        value = found.node.value
        if not value.strip() or placeholder_kind(value, self.syntaxes) is not None:
            # An empty default means "the run must give one"; a default that is itself a
            # template is no more checkable than the image.
            return
        if id(found.node) in self._done:  # another image of the object uses it: checked there
            site.value_checked_at = node_span(found.node)
            return
        self._done.add(id(found.node))
        where = f"{found.how} of param {found.name}"
        value_site = self.sink.scalar_site(
            found.node,
            holder,
            field=field,
            field_path=found.path,
            container=name,
            pull_policy=scalar_text(pull_policy),
            origin=ORIGIN,
            label=f"{self.words}, {part} ({where})",
            key=f"{part} ({where})",
            default_registry=self.default_registry,
            placeholders=self.syntaxes,
        )
        if value_site is not None:
            site.value_checked_at = value_site.span


def named(node: Node | None, fallback: str) -> str:
    """A list entry's `name`, or the fallback words when it has none."""
    return scalar_text(keys_of(node).get("name")) or fallback
